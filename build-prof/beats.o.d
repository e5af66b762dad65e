build-prof/beats.o: src/beats.c include/microbeat/beats.h \
 include/microbeat/common.h include/microbeat/conc.h \
 include/microbeat/dict.h include/microbeat/emit.h \
 include/microbeat/slice.h
include/microbeat/beats.h:
include/microbeat/common.h:
include/microbeat/conc.h:
include/microbeat/dict.h:
include/microbeat/emit.h:
include/microbeat/slice.h:
