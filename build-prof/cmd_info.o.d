build-prof/cmd_info.o: src/cmd_info.c include/microbeat/areas.h \
 include/microbeat/common.h include/microbeat/cli.h \
 include/microbeat/context.h include/microbeat/emit.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/universe.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/emit.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/universe.h:
