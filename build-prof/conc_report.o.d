build-prof/conc_report.o: src/conc_report.c include/microbeat/emit.h \
 include/microbeat/common.h include/microbeat/util.h \
 src/cmd_concentration_internal.h include/microbeat/beats.h \
 include/microbeat/conc.h include/microbeat/report.h \
 include/microbeat/select.h include/microbeat/slice.h \
 include/microbeat/universe.h
include/microbeat/emit.h:
include/microbeat/common.h:
include/microbeat/util.h:
src/cmd_concentration_internal.h:
include/microbeat/beats.h:
include/microbeat/conc.h:
include/microbeat/report.h:
include/microbeat/select.h:
include/microbeat/slice.h:
include/microbeat/universe.h:
