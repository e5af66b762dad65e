build-prof/cmd_check.o: src/cmd_check.c include/microbeat/cli.h \
 include/microbeat/common.h include/microbeat/context.h \
 include/microbeat/store.h include/microbeat/record.h
include/microbeat/cli.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/store.h:
include/microbeat/record.h:
