build-prof/plot_map.o: src/plot_map.c include/microbeat/hotspot.h \
 include/microbeat/common.h include/microbeat/plot.h \
 include/microbeat/plot_map.h
include/microbeat/hotspot.h:
include/microbeat/common.h:
include/microbeat/plot.h:
include/microbeat/plot_map.h:
