build-prof/gazetteer.o: src/gazetteer.c include/microbeat/csvtab.h \
 include/microbeat/common.h include/microbeat/gazetteer.h \
 include/microbeat/record.h include/microbeat/util.h
include/microbeat/csvtab.h:
include/microbeat/common.h:
include/microbeat/gazetteer.h:
include/microbeat/record.h:
include/microbeat/util.h:
