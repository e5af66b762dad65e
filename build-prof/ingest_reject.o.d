build-prof/ingest_reject.o: src/ingest_reject.c src/ingest_internal.h \
 include/microbeat/common.h include/microbeat/ingest.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h
src/ingest_internal.h:
include/microbeat/common.h:
include/microbeat/ingest.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
