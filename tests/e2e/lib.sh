# Shared helpers for end-to-end tests (sourced). Provides: mb (the binary, under valgrind when
# MB_VALGRIND=1), T (a fresh temporary folder removed on exit), fail, skip, need_shared.
set -u
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mb() { ${MB_WRAP:-} "$MB_BIN" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "skipped: $*"; exit 77; }
need_shared() {
  [ -d "$MB_SHARED/datasets/policeuk/cambridgeshire" ] ||
    skip "../shared/datasets is absent: real-data test not run"
}
# eq NAME GOT WANT: fail unless equal
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }
# same_from_blocks BLOCKS_DB ROWS_DB OUT_B OUT_R ARGS...: the analysis ARGS run on a store whose
# analyses read column/dimension blocks and on one read from its rows (into OUT_B, OUT_R and their
# .txt) exits 0 on both and gives the same folder and the same printed output
same_from_blocks() {
  local b=$1 r=$2 ob=$3 or=$4
  shift 4
  mb --db "$b" "$@" --out "$ob" > "$ob.txt" 2>&1 || fail "$* (blocks): exit $?: $(tail -n 3 "$ob.txt")"
  mb --db "$r" "$@" --out "$or" > "$or.txt" 2>&1 || fail "$* (rows): exit $?"
  diff -r "$ob" "$or" > "$T/diff" || fail "$*: blocks and rows differ: $(head -n 20 "$T/diff")"
  diff "$ob.txt" "$or.txt" > "$T/diff" || fail "$*: printed output differs: $(head -n 20 "$T/diff")"
}
# check_stores DIR...: every store (*.db) under the folders passes `microbeat check` (the column
# blocks the analyses read equal the event rows they copy, whatever the test did to the store)
check_stores() {
  local f
  for f in $(find "$@" -maxdepth 3 -name '*.db' -type f | sort); do
    sqlite3 "$f" 'select 1 from event_block limit 1' >/dev/null 2>&1 || continue
    mb --db "$f" check > "$T/.check" 2>&1 || fail "check $(basename "$f"): $(cat "$T/.check")"
  done
}
