build-prof/places.o: src/places.c include/microbeat/places.h
include/microbeat/places.h:
