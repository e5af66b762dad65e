build-prof/main.o: src/main.c include/microbeat/cli.h \
 include/microbeat/common.h include/microbeat/context.h
include/microbeat/cli.h:
include/microbeat/common.h:
include/microbeat/context.h:
