build-prof/store.o: src/store.c include/microbeat/dict.h \
 include/microbeat/store.h include/microbeat/common.h \
 include/microbeat/record.h include/microbeat/util.h src/store_internal.h
include/microbeat/dict.h:
include/microbeat/store.h:
include/microbeat/common.h:
include/microbeat/record.h:
include/microbeat/util.h:
src/store_internal.h:
