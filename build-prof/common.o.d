build-prof/common.o: src/common.c include/microbeat/common.h
include/microbeat/common.h:
