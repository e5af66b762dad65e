build-prof/store_feed.o: src/store_feed.c include/microbeat/store.h \
 include/microbeat/common.h include/microbeat/record.h \
 src/store_internal.h
include/microbeat/store.h:
include/microbeat/common.h:
include/microbeat/record.h:
src/store_internal.h:
