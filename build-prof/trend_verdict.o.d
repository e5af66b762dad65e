build-prof/trend_verdict.o: src/trend_verdict.c include/microbeat/trend.h \
 include/microbeat/common.h src/trend_internal.h
include/microbeat/trend.h:
include/microbeat/common.h:
src/trend_internal.h:
