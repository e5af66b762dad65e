build-prof/deepdive_extract.o: src/deepdive_extract.c \
 include/microbeat/csvtab.h include/microbeat/common.h \
 include/microbeat/emit.h include/microbeat/plot.h \
 include/microbeat/util.h src/deepdive_internal.h \
 include/microbeat/deepdive.h include/microbeat/select.h \
 include/microbeat/slice.h
include/microbeat/csvtab.h:
include/microbeat/common.h:
include/microbeat/emit.h:
include/microbeat/plot.h:
include/microbeat/util.h:
src/deepdive_internal.h:
include/microbeat/deepdive.h:
include/microbeat/select.h:
include/microbeat/slice.h:
