build-prof/deepdive.o: src/deepdive.c include/microbeat/csvtab.h \
 include/microbeat/common.h include/microbeat/deepdive.h \
 include/microbeat/emit.h include/microbeat/plot.h \
 include/microbeat/slice.h include/microbeat/trend.h
include/microbeat/csvtab.h:
include/microbeat/common.h:
include/microbeat/deepdive.h:
include/microbeat/emit.h:
include/microbeat/plot.h:
include/microbeat/slice.h:
include/microbeat/trend.h:
