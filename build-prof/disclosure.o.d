build-prof/disclosure.o: src/disclosure.c include/microbeat/disclosure.h \
 include/microbeat/common.h
include/microbeat/disclosure.h:
include/microbeat/common.h:
