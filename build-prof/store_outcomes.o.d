build-prof/store_outcomes.o: src/store_outcomes.c \
 include/microbeat/outcomes.h include/microbeat/common.h \
 include/microbeat/util.h src/store_internal.h include/microbeat/store.h \
 include/microbeat/record.h
include/microbeat/outcomes.h:
include/microbeat/common.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
