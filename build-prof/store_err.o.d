build-prof/store_err.o: src/store_err.c include/microbeat/common.h \
 src/store_internal.h include/microbeat/store.h \
 include/microbeat/record.h
include/microbeat/common.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
