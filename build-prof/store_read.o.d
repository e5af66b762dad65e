build-prof/store_read.o: src/store_read.c include/microbeat/dict.h \
 include/microbeat/util.h include/microbeat/common.h src/store_internal.h \
 include/microbeat/store.h include/microbeat/record.h
include/microbeat/dict.h:
include/microbeat/util.h:
include/microbeat/common.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
