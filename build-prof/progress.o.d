build-prof/progress.o: src/progress.c include/microbeat/progress.h
include/microbeat/progress.h:
