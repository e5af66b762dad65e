build-prof/cmd_assess.o: src/cmd_assess.c include/microbeat/cli.h \
 include/microbeat/common.h include/microbeat/context.h \
 src/assess_internal.h include/microbeat/assess.h \
 include/microbeat/csvtab.h include/microbeat/emit.h \
 include/microbeat/plot.h include/microbeat/select.h \
 include/microbeat/util.h
include/microbeat/cli.h:
include/microbeat/common.h:
include/microbeat/context.h:
src/assess_internal.h:
include/microbeat/assess.h:
include/microbeat/csvtab.h:
include/microbeat/emit.h:
include/microbeat/plot.h:
include/microbeat/select.h:
include/microbeat/util.h:
