build-prof/deepdive_report.o: src/deepdive_report.c \
 include/microbeat/emit.h include/microbeat/common.h \
 include/microbeat/plot.h include/microbeat/slice.h \
 include/microbeat/util.h src/deepdive_internal.h \
 include/microbeat/deepdive.h include/microbeat/select.h
include/microbeat/emit.h:
include/microbeat/common.h:
include/microbeat/plot.h:
include/microbeat/slice.h:
include/microbeat/util.h:
src/deepdive_internal.h:
include/microbeat/deepdive.h:
include/microbeat/select.h:
