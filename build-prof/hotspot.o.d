build-prof/hotspot.o: src/hotspot.c include/microbeat/hotspot.h \
 include/microbeat/common.h include/microbeat/util.h
include/microbeat/hotspot.h:
include/microbeat/common.h:
include/microbeat/util.h:
