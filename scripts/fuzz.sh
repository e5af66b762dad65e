#!/bin/bash
# Build every libFuzzer harness tests/fuzz/fuzz_*.c (clang, -fsanitize=fuzzer,address,undefined,
# linked with the project's src/*.c except src/main.c) into build-fuzz/, then run each for
# SECONDS (argument 1, else $FUZZ_SECONDS, else 20) with -max_total_time, one after another.
#
#   scripts/fuzz.sh [SECONDS]          make fuzz FUZZ_SECONDS=300
#   FUZZ_ONLY="fuzz_geojson" scripts/fuzz.sh 60    run only the named harnesses
#   FUZZ_KNOWN=1 scripts/fuzz.sh       replay tests/fuzz/known/<harness>/* (inputs of open bugs)
#                                      without the suppressions and with the harnesses' known-mode
#                                      checks on, instead of fuzzing (none open today: it says so)
#   FUZZ_BUILD_ONLY=1 scripts/fuzz.sh  build, do not run (make fuzz-build)
#   FUZZ_SEED=1 scripts/fuzz.sh 15     fixed libFuzzer seed (the smoke test's default: CI
#                                      replays the same search; campaigns leave it unset)
#   FUZZ_RUNS=10000000 FUZZ_ONLY=fuzz_police_rows scripts/fuzz.sh   a campaign: stop after
#                                      that many executions instead of SECONDS
#
# Two kinds of harness: the end-to-end ones import through a whole store (fuzz_police_csv,
# fuzz_agency_csv, ...: ~100 inputs a second), the row harnesses (fuzz_police_rows,
# fuzz_agency_rows, fuzz_row_fields) run the import's parser and validators in memory, hundreds
# of times faster. A harness that compiles a source file into itself to reach its static
# functions (#include "../../src/X.c") is linked without that file's object.
#
# Known, reported, not yet fixed bugs are suppressed through tests/fuzz/known.supp (UBSan), or a
# harness checks them only when FUZZ_KNOWN=1 (fuzz_common.h fuzz_known_mode()), so that fuzzing
# goes on past them; FUZZ_KNOWN=1 shows whether they are fixed (tests/fuzz/known/README.md).
#
# Seeds come from tests/fuzz/corpus/<harness>/ (read only; regression inputs live there too, so
# every run replays them first); inputs libFuzzer finds go to build-fuzz/corpus/<harness>/.
# Prints executions and coverage (cov:, ft: from libFuzzer's final stats) per harness and the
# total. Exit 0 when no harness crashed, 1 when one did (the input is kept as
# build-fuzz/crashes/<harness>-crash-*, with the log beside it), 2 on a build failure, 77 when
# clang or its libFuzzer runtime is missing.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:-${FUZZ_SECONDS:-20}}
[ -n "$secs" ] || secs=20
CC=${FUZZ_CC:-clang}
OUT=${FUZZ_OUT:-build-fuzz}   # FUZZ_OUT: another build folder (e.g. for a second run at once)
PKGS="sqlite3 gsl libarchive jansson geos proj inih libcrypto libcmark-gfm"
# UBSan stays recoverable so that known-bug suppressions work; halt_on_error=1 below makes every
# other report fatal all the same
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
CFLAGS="-std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Iinclude $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lcmark-gfm-extensions -lcsv -lpthread -lm"

command -v "$CC" >/dev/null || { echo "fuzz: $CC not found: harnesses not built"; exit 77; }
mkdir -p "$OUT/obj" "$OUT/crashes" || exit 2
probe=$OUT/probe
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
  > "$probe.c"
"$CC" -fsanitize=fuzzer -o "$probe" "$probe.c" 2>"$probe.log" ||
  { echo "fuzz: $CC cannot link -fsanitize=fuzzer (libFuzzer runtime missing): $(head -n 1 "$probe.log")"; exit 77; }

# library objects, rebuilt when the source or any header is newer
newest_h=$(ls -t include/microbeat/*.h src/*.h 2>/dev/null | head -n 1)
objs=()
for c in src/*.c; do
  [ "$c" = src/main.c ] && continue
  o=$OUT/obj/$(basename "$c" .c).o
  objs+=("$o")
  if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
    $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c -o "$o" "$c" || { echo "fuzz: cannot compile $c"; exit 2; }
  fi
done

harnesses=()
for h in tests/fuzz/fuzz_*.c; do
  name=$(basename "$h" .c)
  if [ -n "${FUZZ_ONLY:-}" ] && [[ " $FUZZ_ONLY " != *" $name "* ]]; then continue; fi
  # a harness that compiles a source file into itself (#include "../../src/X.c", to reach
  # its static functions) is linked without that file's object
  own=$(sed -n 's|^#include "\.\./\.\./src/\([a-z_]*\)\.c"$|\1|p' "$h" | tr "\n" " ")
  link=()
  for o in "${objs[@]}"; do
    [[ " $own " == *" $(basename "$o" .o) "* ]] || link+=("$o")
  done
  $CC $CFLAGS $SAN -fsanitize=fuzzer -o "$OUT/$name" "$h" "${link[@]}" $LIBS ||
    { echo "fuzz: cannot build $h"; exit 2; }
  harnesses+=("$name")
done
if [ "${FUZZ_BUILD_ONLY:-0}" = 1 ]; then
  echo "fuzz: built ${harnesses[*]} in $OUT/"
  exit 0
fi

crashed=0 total=0 nknown=0
limit="-max_total_time=$secs"
[ -n "${FUZZ_RUNS:-}" ] && limit="-runs=$FUZZ_RUNS"
[ "${FUZZ_KNOWN:-0}" = 1 ] ||
printf '%-22s %10s %8s %8s %8s %s\n' harness execs exec/s cov ft result
for name in "${harnesses[@]}"; do
  seeds=tests/fuzz/corpus/$name work=$OUT/corpus/$name log=$OUT/$name.log
  mkdir -p "$work" "$seeds"
  if [ "${FUZZ_KNOWN:-0}" = 1 ]; then
    known=(tests/fuzz/known/$name/*)
    [ -e "${known[0]}" ] || continue
    nknown=$((nknown + ${#known[@]}))
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$OUT/$name" "${known[@]}" >"$log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then echo "$name: ${#known[@]} known-bug inputs run clean (fixed: move them to the corpus)"
    else crashed=1; echo "$name: known bug still there:"; grep -E 'check failed|runtime error|ERROR: AddressSanitizer|deadly signal' "$log" | head -n 3; fi
    continue
  fi
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/fuzz/known.supp \
    "$OUT/$name" $limit ${FUZZ_SEED:+-seed=$FUZZ_SEED} -timeout=20 -rss_limit_mb=2048 -max_len=${FUZZ_MAX_LEN:-16384} \
      -print_final_stats=1 -artifact_prefix="$OUT/crashes/$name-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  if [ $rc = 0 ]; then result=ok
  else
    crashed=1
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    result="CRASH (exit $rc) input ${art:-?}, log $log"
    [ -n "$art" ] && cp "$log" "$art.log"
  fi
  total=$((total + ${execs:-0}))
  printf '%-22s %10s %8s %8s %8s %s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
  [ $rc = 0 ] || grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|    #[0-9] )' "$log" | head -n 20
done
[ "${FUZZ_KNOWN:-0}" = 1 ] && [ $nknown = 0 ] &&
  echo "fuzz: no known-bug inputs in tests/fuzz/known/ for ${harnesses[*]}: nothing open"
[ "${FUZZ_KNOWN:-0}" = 1 ] || echo "total executions: $total in ${#harnesses[@]} harnesses, ${FUZZ_RUNS:-${secs}s}${FUZZ_RUNS:+ runs} each"
exit $crashed
