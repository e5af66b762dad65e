build-prof/trend_series.o: src/trend_series.c include/microbeat/store.h \
 include/microbeat/common.h include/microbeat/record.h \
 src/trends_internal.h include/microbeat/select.h \
 include/microbeat/slice.h include/microbeat/trend.h
include/microbeat/store.h:
include/microbeat/common.h:
include/microbeat/record.h:
src/trends_internal.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/trend.h:
