build-prof/cmd_concentration.o: src/cmd_concentration.c \
 include/microbeat/beats.h include/microbeat/common.h \
 include/microbeat/cli.h include/microbeat/context.h \
 include/microbeat/conc.h include/microbeat/emit.h \
 include/microbeat/plot.h include/microbeat/report.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/universe.h \
 include/microbeat/weights.h src/cmd_concentration_internal.h
include/microbeat/beats.h:
include/microbeat/common.h:
include/microbeat/cli.h:
include/microbeat/context.h:
include/microbeat/conc.h:
include/microbeat/emit.h:
include/microbeat/plot.h:
include/microbeat/report.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/universe.h:
include/microbeat/weights.h:
src/cmd_concentration_internal.h:
