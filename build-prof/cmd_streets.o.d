build-prof/cmd_streets.o: src/cmd_streets.c include/microbeat/cli.h \
 include/microbeat/common.h include/microbeat/context.h \
 include/microbeat/gazetteer.h include/microbeat/slice.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/universe.h
include/microbeat/cli.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/gazetteer.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/universe.h:
