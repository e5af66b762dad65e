#!/bin/bash
# Fuzz smoke: scripts/fuzz.sh builds every libFuzzer harness (tests/fuzz/fuzz_*.c: the seven
# end-to-end ones through a store and the three in-memory row harnesses fuzz_police_rows,
# fuzz_agency_rows, fuzz_row_fields) and runs each briefly (FUZZ_SMOKE_SECONDS, default 15 s;
# about 3 minutes with the build): their seed corpora, which include the regression inputs of
# fixed crashes, replay first, then new inputs from a fixed seed (FUZZ_SMOKE_SEED, default 1),
# so that a CI run repeats the search it was checked with; finding new crashes is the job of
# the campaigns (make fuzz, random seeds; docs/hardening.md).
# Fails on any crash, leak or sanitizer report. Skipped without clang's libFuzzer, and in the
# sanitized and valgrind passes of make check (the harnesses are sanitized already).
# MB_KNOWN_BUGS=1 also replays tests/fuzz/known/ (inputs of reported, unfixed bugs) without
# their suppressions and with the harnesses' known-mode checks on, and fails while any still
# crashes (tests/fuzz/known/README.md lists what is open; issue 21's items 3, 6 and 11 are
# fixed and their inputs are regression seeds corpus/*/regress-issue21-*, replayed above).
. "$(dirname "$0")/lib.sh"
[ -n "${MB_SANITIZED:-}" ] && skip "fuzz harnesses ran in the plain pass (they are sanitized)"
[ "${MB_VALGRIND:-0}" = 1 ] && skip "fuzz harnesses do not run under valgrind"
cd "$MB_ROOT" || fail "no project root"
secs=${FUZZ_SMOKE_SECONDS:-15}
FUZZ_SEED=${FUZZ_SMOKE_SEED:-1} scripts/fuzz.sh "$secs" > "$T/log" 2>&1; rc=$?
cat "$T/log"
[ $rc = 77 ] && skip "$(tail -n 1 "$T/log")"
[ $rc = 0 ] || fail "a fuzz harness crashed or did not build (exit $rc): see above"
n=$(grep -c ' ok$' "$T/log")
[ "$n" -ge 10 ] || fail "only $n harnesses ran"
for h in fuzz_police_rows fuzz_agency_rows fuzz_row_fields; do
  grep -q "^$h .* ok$" "$T/log" || fail "$h did not run"
done
if [ "${MB_KNOWN_BUGS:-0}" = 1 ]; then
  FUZZ_KNOWN=1 scripts/fuzz.sh > "$T/known" 2>&1 || fail "known bugs still crash: $(cat "$T/known")"
fi
