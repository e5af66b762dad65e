build-prof/areas_read.o: src/areas_read.c src/areas_internal.h \
 include/microbeat/areas.h include/microbeat/common.h \
 include/microbeat/csvtab.h include/microbeat/util.h
src/areas_internal.h:
include/microbeat/areas.h:
include/microbeat/common.h:
include/microbeat/csvtab.h:
include/microbeat/util.h:
