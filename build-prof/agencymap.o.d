build-prof/agencymap.o: src/agencymap.c include/microbeat/agencymap.h \
 include/microbeat/common.h include/microbeat/csvtab.h \
 include/microbeat/util.h
include/microbeat/agencymap.h:
include/microbeat/common.h:
include/microbeat/csvtab.h:
include/microbeat/util.h:
