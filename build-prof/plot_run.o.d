build-prof/plot_run.o: src/plot_run.c include/microbeat/plot.h \
 include/microbeat/common.h include/microbeat/util.h src/plot_internal.h
include/microbeat/plot.h:
include/microbeat/common.h:
include/microbeat/util.h:
src/plot_internal.h:
