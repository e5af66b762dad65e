build-prof/select.o: src/select.c include/microbeat/csvtab.h \
 include/microbeat/common.h include/microbeat/emit.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/store.h include/microbeat/record.h
include/microbeat/csvtab.h:
include/microbeat/common.h:
include/microbeat/emit.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/store.h:
include/microbeat/record.h:
