build-prof/assess_appendix.o: src/assess_appendix.c src/assess_internal.h \
 include/microbeat/assess.h include/microbeat/common.h \
 include/microbeat/context.h include/microbeat/csvtab.h \
 include/microbeat/disclosure.h include/microbeat/emit.h \
 include/microbeat/util.h
src/assess_internal.h:
include/microbeat/assess.h:
include/microbeat/common.h:
include/microbeat/context.h:
include/microbeat/csvtab.h:
include/microbeat/disclosure.h:
include/microbeat/emit.h:
include/microbeat/util.h:
