build-prof/store_blocks.o: src/store_blocks.c include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/common.h src/store_internal.h \
 include/microbeat/store.h
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/common.h:
src/store_internal.h:
include/microbeat/store.h:
