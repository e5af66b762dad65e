build-prof/store_slice_units.o: src/store_slice_units.c \
 include/microbeat/areas.h include/microbeat/common.h \
 include/microbeat/slice.h include/microbeat/util.h src/store_internal.h \
 include/microbeat/store.h include/microbeat/record.h src/store_scope.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/slice.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
src/store_scope.h:
