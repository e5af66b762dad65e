build-prof/store_gaz.o: src/store_gaz.c include/microbeat/dict.h \
 include/microbeat/gazetteer.h include/microbeat/common.h \
 include/microbeat/places.h include/microbeat/util.h src/store_internal.h \
 include/microbeat/store.h include/microbeat/record.h
include/microbeat/dict.h:
include/microbeat/gazetteer.h:
include/microbeat/common.h:
include/microbeat/places.h:
include/microbeat/util.h:
src/store_internal.h:
include/microbeat/store.h:
include/microbeat/record.h:
