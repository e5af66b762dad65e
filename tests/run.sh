#!/bin/bash
# Test driver: runs the named cmocka unit-test binaries from $MB_BUILD/tests/, then every
# end-to-end script tests/e2e/*.sh (unless MB_E2E=0) against $MB_BIN. Each e2e script exits
# 0 (pass), 77 (skip, with its reason on stdout) or anything else (fail).
# MB_VALGRIND=1 runs every binary under valgrind (zero errors, zero leaks).
set -u
cd "$(dirname "$0")/.." || exit 2
build=${MB_BUILD:-build}
export MB_BIN=$(realpath "${MB_BIN:-./microbeat}")
export MB_ROOT=$PWD
export MB_SHARED=${MB_SHARED:-$PWD/../shared}
# the sanitized binary lives in build-san/: point it at the shipped data and chart scripts
export MB_DATA=${MB_DATA:-$PWD/datasets} MB_PLOTS=${MB_PLOTS:-$PWD/plots}
pass=0 fail=0 skip=0 failed=()
vg=()
if [ "${MB_VALGRIND:-0}" = 1 ]; then
  vg=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
      --errors-for-leak-kinds=definite,indirect,possible)
  export MB_WRAP="${vg[*]}"
fi
for t in "$@"; do
  log=$(mktemp)
  if "${vg[@]}" "$build/tests/$t" >"$log" 2>&1; then
    pass=$((pass + 1)); echo "PASS unit $t"
  else
    fail=$((fail + 1)); failed+=("unit $t"); echo "FAIL unit $t"; tail -n 40 "$log"
  fi
  rm -f "$log"
done
if [ "${MB_E2E:-1}" = 1 ]; then
  for s in tests/e2e/*.sh; do
    [ -e "$s" ] || continue
    name=$(basename "$s" .sh) log=$(mktemp)
    [ "$name" = lib ] && continue   # helpers sourced by the tests
    bash "$s" >"$log" 2>&1; rc=$?
    if [ $rc = 0 ]; then pass=$((pass + 1)); echo "PASS e2e $name"
    elif [ $rc = 77 ]; then skip=$((skip + 1)); echo "SKIP e2e $name: $(tail -n 1 "$log")"
    else fail=$((fail + 1)); failed+=("e2e $name"); echo "FAIL e2e $name (exit $rc)"; tail -n 40 "$log"; fi
    rm -f "$log"
  done
fi
label=tests
[ -n "${MB_SANITIZED:-}" ] && label=sanitized
[ "${MB_VALGRIND:-0}" = 1 ] && label=valgrind
echo "$label: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
