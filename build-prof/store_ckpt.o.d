build-prof/store_ckpt.o: src/store_ckpt.c include/microbeat/store.h \
 include/microbeat/common.h include/microbeat/record.h \
 src/store_internal.h
include/microbeat/store.h:
include/microbeat/common.h:
include/microbeat/record.h:
src/store_internal.h:
