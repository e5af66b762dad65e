build-prof/hotspot_prep.o: src/hotspot_prep.c src/hotspot_internal.h \
 include/microbeat/hotspot.h include/microbeat/common.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/emit.h include/microbeat/util.h
src/hotspot_internal.h:
include/microbeat/hotspot.h:
include/microbeat/common.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/emit.h:
include/microbeat/util.h:
