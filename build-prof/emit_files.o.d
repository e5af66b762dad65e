build-prof/emit_files.o: src/emit_files.c include/microbeat/emit.h \
 include/microbeat/common.h
include/microbeat/emit.h:
include/microbeat/common.h:
