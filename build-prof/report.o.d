build-prof/report.o: src/report.c include/microbeat/emit.h \
 include/microbeat/common.h include/microbeat/plot.h \
 include/microbeat/report.h include/microbeat/select.h \
 include/microbeat/slice.h include/microbeat/store.h \
 include/microbeat/record.h
include/microbeat/emit.h:
include/microbeat/common.h:
include/microbeat/plot.h:
include/microbeat/report.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
