build-prof/store_universe.o: src/store_universe.c \
 include/microbeat/slice.h include/microbeat/common.h \
 include/microbeat/universe.h include/microbeat/util.h \
 src/store_internal.h include/microbeat/store.h \
 include/microbeat/record.h
include/microbeat/slice.h:
include/microbeat/common.h:
include/microbeat/universe.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
