build-prof/cmd_deepdive.o: src/cmd_deepdive.c include/microbeat/areas.h \
 include/microbeat/common.h include/microbeat/cli.h \
 include/microbeat/context.h include/microbeat/conc.h \
 include/microbeat/csvtab.h include/microbeat/deepdive.h \
 include/microbeat/emit.h include/microbeat/outcomes.h \
 include/microbeat/plot.h include/microbeat/select.h \
 include/microbeat/slice.h include/microbeat/store.h \
 include/microbeat/record.h include/microbeat/trend.h \
 include/microbeat/util.h src/deepdive_internal.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/conc.h:
include/microbeat/csvtab.h:
include/microbeat/deepdive.h:
include/microbeat/emit.h:
include/microbeat/outcomes.h:
include/microbeat/plot.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/trend.h:
include/microbeat/util.h:
src/deepdive_internal.h:
