build-prof/store_slice.o: src/store_slice.c include/microbeat/places.h \
 include/microbeat/slice.h include/microbeat/common.h \
 include/microbeat/util.h src/store_internal.h include/microbeat/store.h \
 include/microbeat/record.h src/store_scope.h
include/microbeat/places.h:
include/microbeat/slice.h:
include/microbeat/common.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
src/store_scope.h:
