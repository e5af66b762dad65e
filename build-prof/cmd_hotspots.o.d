build-prof/cmd_hotspots.o: src/cmd_hotspots.c src/hotspot_internal.h \
 include/microbeat/hotspot.h include/microbeat/common.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/emit.h include/microbeat/cli.h \
 include/microbeat/context.h include/microbeat/plot.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h
src/hotspot_internal.h:
include/microbeat/hotspot.h:
include/microbeat/common.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/emit.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/plot.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
