build-prof/assess_report.o: src/assess_report.c src/assess_internal.h \
 include/microbeat/assess.h include/microbeat/common.h \
 include/microbeat/context.h include/microbeat/csvtab.h \
 include/microbeat/emit.h include/microbeat/select.h
src/assess_internal.h:
include/microbeat/assess.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/csvtab.h:
include/microbeat/emit.h:
include/microbeat/select.h:
