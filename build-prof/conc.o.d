build-prof/conc.o: src/conc.c include/microbeat/conc.h \
 include/microbeat/common.h include/microbeat/util.h
include/microbeat/conc.h:
include/microbeat/common.h:
include/microbeat/util.h:
