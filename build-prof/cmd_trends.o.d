build-prof/cmd_trends.o: src/cmd_trends.c include/microbeat/cli.h \
 include/microbeat/common.h include/microbeat/context.h \
 include/microbeat/emit.h include/microbeat/plot.h \
 include/microbeat/report.h include/microbeat/select.h \
 include/microbeat/slice.h include/microbeat/store.h \
 include/microbeat/record.h include/microbeat/trend.h \
 src/trends_internal.h
include/microbeat/cli.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/emit.h:
include/microbeat/plot.h:
include/microbeat/report.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/trend.h:
src/trends_internal.h:
