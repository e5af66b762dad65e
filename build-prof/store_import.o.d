build-prof/store_import.o: src/store_import.c include/microbeat/store.h \
 include/microbeat/common.h include/microbeat/record.h \
 include/microbeat/util.h src/store_internal.h
include/microbeat/store.h:
include/microbeat/common.h:
include/microbeat/record.h:
include/microbeat/util.h:
src/store_internal.h:
