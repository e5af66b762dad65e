build-prof/store_scope.o: src/store_scope.c include/microbeat/util.h \
 include/microbeat/common.h src/store_scope.h src/store_internal.h \
 include/microbeat/store.h include/microbeat/record.h
include/microbeat/util.h:
include/microbeat/common.h:
src/store_scope.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
