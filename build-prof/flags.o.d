build-prof/flags.o: src/flags.c include/microbeat/flags.h \
 include/microbeat/common.h include/microbeat/trend.h \
 include/microbeat/util.h
include/microbeat/flags.h:
include/microbeat/common.h:
include/microbeat/trend.h:
include/microbeat/util.h:
