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
