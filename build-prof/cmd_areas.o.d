build-prof/cmd_areas.o: src/cmd_areas.c src/areas_internal.h \
 include/microbeat/areas.h include/microbeat/common.h \
 include/microbeat/csvtab.h include/microbeat/cli.h \
 include/microbeat/context.h include/microbeat/geo.h \
 include/microbeat/store.h include/microbeat/record.h
src/areas_internal.h:
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/csvtab.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/geo.h:
include/microbeat/store.h:
include/microbeat/record.h:
