build-prof/assess_util.o: src/assess_util.c src/assess_internal.h \
 include/microbeat/assess.h include/microbeat/common.h \
 include/microbeat/context.h include/microbeat/csvtab.h \
 include/microbeat/emit.h
src/assess_internal.h:
include/microbeat/assess.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/csvtab.h:
include/microbeat/emit.h:
