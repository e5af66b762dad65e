build-prof/dict.o: src/dict.c include/microbeat/dict.h
include/microbeat/dict.h:
