build-prof/hotspot_write.o: src/hotspot_write.c src/hotspot_internal.h \
 include/microbeat/hotspot.h include/microbeat/common.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/emit.h include/microbeat/plot_map.h \
 include/microbeat/util.h
src/hotspot_internal.h:
include/microbeat/hotspot.h:
include/microbeat/common.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/emit.h:
include/microbeat/plot_map.h:
include/microbeat/util.h:
