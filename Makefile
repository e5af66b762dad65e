# microbeat — build, test, install.  See README.md.
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
PKGS     := sqlite3 gsl libarchive jansson geos proj inih libcrypto libcmark-gfm
SANITIZE ?=
BUILD    ?= build
# -Werror for developers and CI; packagers on a newer compiler (new warnings) build with WERROR=0
WERROR   ?= 1

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wvla -Wwrite-strings $(if $(filter-out 0,$(WERROR)),-Werror)
# each object depends on the headers it includes (the compiler writes X.d beside X.o)
DEPFLAGS  = -MMD -MP -MF $@.d -MT $@
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) \
            -Iinclude $(shell pkg-config --cflags $(PKGS))
LDLIBS   := $(shell pkg-config --libs $(PKGS)) -lcmark-gfm-extensions -lcsv -lpthread -lm
TESTLIBS := $(shell pkg-config --libs cmocka)
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
BUILD      := build-san
endif

SRC      := $(sort $(wildcard src/*.c))
LIBSRC   := $(filter-out src/main.c,$(SRC))
LIBOBJ   := $(LIBSRC:src/%.c=$(BUILD)/%.o)
TESTSRC  := $(sort $(wildcard tests/test_*.c))
TESTBIN  := $(TESTSRC:tests/%.c=$(BUILD)/tests/%)
BIN      := $(if $(SANITIZE),$(BUILD)/microbeat,microbeat)
DEPS     := $(LIBOBJ:=.d) $(BUILD)/main.o.d $(TESTBIN:=.d)

.PHONY: all check check-unit check-e2e check-san demo bench bench-scale install uninstall clean valgrind fuzz fuzz-build lint
all: $(BIN)

# A missing .d (a fresh tree, or objects from before dependency files) makes its target
# out of date, so it is rebuilt once and gets its .d.
$(BUILD)/%.o: src/%.c $(BUILD)/%.o.d | $(BUILD)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<
$(BUILD)/libmicrobeat.a: $(LIBOBJ)
	rm -f $@; $(AR) rcs $@ $^
$(BIN): $(BUILD)/main.o $(BUILD)/libmicrobeat.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/%: tests/%.c $(BUILD)/tests/%.d $(BUILD)/libmicrobeat.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(LDFLAGS) -Itests -Isrc -o $@ $< $(BUILD)/libmicrobeat.a $(LDLIBS) $(TESTLIBS)
$(BUILD) $(BUILD)/tests:
	mkdir -p $@
$(DEPS): ;
-include $(DEPS)

# The layer map of docs/internals.md against the #include lines (and calls) of src/ and include/
lint:
	@python3 scripts/lint_includes.py

# Unit tests (cmocka) then end-to-end tests (shell), then the same under ASan+UBSan.
check: lint all
	@MB_BIN=./microbeat MB_BUILD=$(BUILD) tests/run.sh $(TESTBIN:$(BUILD)/tests/%=%)
	@$(MAKE) --no-print-directory check-san
check-san:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all $(TESTSRC:tests/%.c=build-san/tests/%)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  MB_BIN=build-san/microbeat MB_BUILD=build-san MB_SANITIZED=1 tests/run.sh $(TESTSRC:tests/%.c=%)
check-unit: $(BIN) $(TESTBIN)
	@MB_BIN=./$(BIN) MB_BUILD=$(BUILD) MB_E2E=0 tests/run.sh $(TESTBIN:$(BUILD)/tests/%=%)
$(TESTBIN): $(BUILD)/libmicrobeat.a
check: $(TESTBIN)

valgrind: all $(TESTBIN)
	@MB_BIN=./microbeat MB_BUILD=$(BUILD) MB_VALGRIND=1 tests/run.sh $(TESTBIN:$(BUILD)/tests/%=%)

demo: all
	scripts/demo.sh

bench: all
	scripts/bench

bench-scale: all
	scripts/bench-scale

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# build the libFuzzer harnesses into build-fuzz/ without running them
fuzz-build:
	FUZZ_BUILD_ONLY=1 scripts/fuzz.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/microbeat
	install -m 0755 microbeat $(DESTDIR)$(PREFIX)/bin/microbeat
	install -m 0644 docs/microbeat.1 $(DESTDIR)$(PREFIX)/share/man/man1/microbeat.1
	cp -R plots $(DESTDIR)$(PREFIX)/share/microbeat/
	install -d $(DESTDIR)$(PREFIX)/share/microbeat/datasets
	install -m 0644 datasets/harm_cchi.csv datasets/themes.csv datasets/place_names.csv datasets/recording_sensitive.csv \
	  $(DESTDIR)$(PREFIX)/share/microbeat/datasets/
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/microbeat $(DESTDIR)$(PREFIX)/share/man/man1/microbeat.1
	rm -rf $(DESTDIR)$(PREFIX)/share/microbeat
clean:
	rm -rf build build-san microbeat
