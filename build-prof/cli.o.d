build-prof/cli.o: src/cli.c include/microbeat/cli.h \
 include/microbeat/common.h include/microbeat/context.h \
 include/microbeat/select.h
include/microbeat/cli.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/select.h:
