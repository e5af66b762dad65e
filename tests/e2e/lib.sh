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
# check_stores DIR...: every store (*.db) under the folders passes `microbeat check` (the column
# blocks the analyses read equal the event rows they copy, whatever the test did to the store)
check_stores() {
  local f
  for f in $(find "$@" -maxdepth 3 -name '*.db' -type f | sort); do
    sqlite3 "$f" 'select 1 from event_block limit 1' >/dev/null 2>&1 || continue
    mb --db "$f" check > "$T/.check" 2>&1 || fail "check $(basename "$f"): $(cat "$T/.check")"
  done
}
