build-prof/assess_sections.o: src/assess_sections.c src/assess_internal.h \
 include/microbeat/assess.h include/microbeat/common.h \
 include/microbeat/context.h include/microbeat/csvtab.h \
 include/microbeat/emit.h include/microbeat/plot.h
src/assess_internal.h:
include/microbeat/assess.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/csvtab.h:
include/microbeat/emit.h:
include/microbeat/plot.h:
