build-prof/csvtab.o: src/csvtab.c include/microbeat/csvtab.h \
 include/microbeat/common.h include/microbeat/util.h
include/microbeat/csvtab.h:
include/microbeat/common.h:
include/microbeat/util.h:
