build-prof/trend.o: src/trend.c include/microbeat/trend.h \
 include/microbeat/common.h src/trend_internal.h
include/microbeat/trend.h:
include/microbeat/common.h:
src/trend_internal.h:
