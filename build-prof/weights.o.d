build-prof/weights.o: src/weights.c include/microbeat/csvtab.h \
 include/microbeat/common.h include/microbeat/select.h \
 include/microbeat/slice.h include/microbeat/weights.h
include/microbeat/csvtab.h:
include/microbeat/common.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/weights.h:
