build-prof/plot.o: src/plot.c include/microbeat/emit.h \
 include/microbeat/common.h include/microbeat/plot.h src/plot_internal.h
include/microbeat/emit.h:
include/microbeat/common.h:
include/microbeat/plot.h:
src/plot_internal.h:
