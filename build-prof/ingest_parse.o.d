build-prof/ingest_parse.o: src/ingest_parse.c src/ingest_internal.h \
 include/microbeat/common.h include/microbeat/ingest.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/dict.h \
 include/microbeat/progress.h
src/ingest_internal.h:
include/microbeat/common.h:
include/microbeat/ingest.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/dict.h:
include/microbeat/progress.h:
