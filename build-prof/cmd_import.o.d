build-prof/cmd_import.o: src/cmd_import.c include/microbeat/areas.h \
 include/microbeat/common.h include/microbeat/cli.h \
 include/microbeat/context.h include/microbeat/ingest.h \
 include/microbeat/store.h include/microbeat/record.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/ingest.h:
include/microbeat/store.h:
include/microbeat/record.h:
