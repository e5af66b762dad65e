build-prof/assess_html.o: src/assess_html.c include/microbeat/assess.h \
 include/microbeat/common.h include/microbeat/emit.h \
 include/microbeat/util.h
include/microbeat/assess.h:
include/microbeat/common.h:
include/microbeat/emit.h:
include/microbeat/util.h:
