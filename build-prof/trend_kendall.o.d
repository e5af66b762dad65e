build-prof/trend_kendall.o: src/trend_kendall.c include/microbeat/trend.h \
 include/microbeat/common.h src/trend_internal.h
include/microbeat/trend.h:
include/microbeat/common.h:
src/trend_internal.h:
