build-prof/ingest_write.o: src/ingest_write.c src/ingest_internal.h \
 include/microbeat/common.h include/microbeat/ingest.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/agencymap.h \
 include/microbeat/dict.h include/microbeat/places.h \
 include/microbeat/progress.h
src/ingest_internal.h:
include/microbeat/common.h:
include/microbeat/ingest.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/agencymap.h:
include/microbeat/dict.h:
include/microbeat/places.h:
include/microbeat/progress.h:
