build-prof/store_areas.o: src/store_areas.c include/microbeat/areas.h \
 include/microbeat/common.h include/microbeat/geo.h \
 include/microbeat/slice.h include/microbeat/util.h src/store_internal.h \
 include/microbeat/store.h include/microbeat/record.h src/store_scope.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/geo.h:
include/microbeat/slice.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
src/store_scope.h:
