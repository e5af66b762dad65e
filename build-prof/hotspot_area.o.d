build-prof/hotspot_area.o: src/hotspot_area.c src/hotspot_internal.h \
 include/microbeat/hotspot.h include/microbeat/common.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/emit.h include/microbeat/areas.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h
src/hotspot_internal.h:
include/microbeat/hotspot.h:
include/microbeat/common.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/emit.h:
include/microbeat/areas.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
