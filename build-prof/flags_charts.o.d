build-prof/flags_charts.o: src/flags_charts.c include/microbeat/plot.h \
 include/microbeat/common.h src/cmd_flags_internal.h \
 include/microbeat/areas.h include/microbeat/flags.h \
 include/microbeat/trend.h include/microbeat/select.h \
 include/microbeat/slice.h
include/microbeat/plot.h:
include/microbeat/common.h:
src/cmd_flags_internal.h:
include/microbeat/areas.h:
include/microbeat/flags.h:
include/microbeat/trend.h:
include/microbeat/select.h:
include/microbeat/slice.h:
