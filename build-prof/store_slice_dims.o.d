build-prof/store_slice_dims.o: src/store_slice_dims.c \
 include/microbeat/slice.h include/microbeat/common.h \
 include/microbeat/util.h src/store_internal.h include/microbeat/store.h \
 include/microbeat/record.h src/store_scope.h
include/microbeat/slice.h:
include/microbeat/common.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
src/store_scope.h:
