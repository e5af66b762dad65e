build-prof/ingest_agency.o: src/ingest_agency.c src/ingest_internal.h \
 include/microbeat/common.h include/microbeat/ingest.h \
 include/microbeat/store.h include/microbeat/record.h \
 include/microbeat/util.h include/microbeat/agencymap.h \
 include/microbeat/dict.h include/microbeat/geo.h
src/ingest_internal.h:
include/microbeat/common.h:
include/microbeat/ingest.h:
include/microbeat/store.h:
include/microbeat/record.h:
include/microbeat/util.h:
include/microbeat/agencymap.h:
include/microbeat/dict.h:
include/microbeat/geo.h:
