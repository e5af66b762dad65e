build-prof/geo.o: src/geo.c include/microbeat/geo.h \
 include/microbeat/common.h
include/microbeat/geo.h:
include/microbeat/common.h:
