build-prof/assess_config.o: src/assess_config.c \
 include/microbeat/assess.h include/microbeat/common.h \
 include/microbeat/util.h
include/microbeat/assess.h:
include/microbeat/common.h:
include/microbeat/util.h:
