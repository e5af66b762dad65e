build-prof/emit.o: src/emit.c include/microbeat/emit.h \
 include/microbeat/common.h include/microbeat/util.h
include/microbeat/emit.h:
include/microbeat/common.h:
include/microbeat/util.h:
