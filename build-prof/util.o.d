build-prof/util.o: src/util.c include/microbeat/util.h \
 include/microbeat/common.h
include/microbeat/util.h:
include/microbeat/common.h:
