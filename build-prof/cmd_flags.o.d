build-prof/cmd_flags.o: src/cmd_flags.c include/microbeat/areas.h \
 include/microbeat/common.h include/microbeat/beats.h \
 include/microbeat/cli.h include/microbeat/context.h \
 include/microbeat/conc.h include/microbeat/emit.h \
 include/microbeat/flags.h include/microbeat/trend.h \
 include/microbeat/plot.h include/microbeat/report.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/weights.h \
 src/cmd_flags_internal.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/beats.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/conc.h:
include/microbeat/emit.h:
include/microbeat/flags.h:
include/microbeat/trend.h:
include/microbeat/plot.h:
include/microbeat/report.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/weights.h:
src/cmd_flags_internal.h:
