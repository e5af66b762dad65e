build-prof/deepdive_overlay.o: src/deepdive_overlay.c \
 include/microbeat/areas.h include/microbeat/common.h \
 include/microbeat/csvtab.h include/microbeat/emit.h \
 include/microbeat/outcomes.h include/microbeat/plot.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/trend.h src/deepdive_internal.h \
 include/microbeat/deepdive.h include/microbeat/select.h \
 include/microbeat/slice.h
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/csvtab.h:
include/microbeat/emit.h:
include/microbeat/outcomes.h:
include/microbeat/plot.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/trend.h:
src/deepdive_internal.h:
include/microbeat/deepdive.h:
include/microbeat/select.h:
include/microbeat/slice.h:
