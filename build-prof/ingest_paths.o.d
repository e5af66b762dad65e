build-prof/ingest_paths.o: src/ingest_paths.c src/ingest_internal.h \
 include/microbeat/common.h include/microbeat/ingest.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/progress.h
src/ingest_internal.h:
include/microbeat/common.h:
include/microbeat/ingest.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/progress.h:
