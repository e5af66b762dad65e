#!/bin/bash
# Issue 17: the layers of docs/internals.md are the include graph. scripts/lint_includes.py
# passes on this tree; on a temporary copy it catches each planted fault, and only it: an
# upward include, a ring between two modules, a ring between two files of one module, a
# private header used by another module, a file no row covers; a known violation listed in
# the table is a warning, and a listed one that is gone is named. Its cross-file references
# are checked against the linker's (nm of the built objects) when the objects are there.
. "$(dirname "$0")/lib.sh"
MB_ROOT=${MB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v python3 >/dev/null || skip "python3 is absent"
L=$MB_ROOT/scripts/lint_includes.py

out=$(python3 "$L" --root "$MB_ROOT") || fail "the tree does not pass: $out"
case $out in *" 0 error(s)"*) ;; *) fail "no '0 error(s)' summary: $out" ;; esac

# fresh copy of what the lint reads
copy() {
  rm -rf "$T/t"; mkdir -p "$T/t/docs"
  cp -R "$MB_ROOT/src" "$MB_ROOT/include" "$T/t/"
  cp "$MB_ROOT/docs/internals.md" "$T/t/docs/"
}
# expect KEY: the lint fails, names KEY, and reports exactly one more error than the tree
base_errors=0
expect() {
  local got rc
  got=$(python3 "$L" --root "$T/t"); rc=$?
  [ $rc = 1 ] || fail "planted '$1': exit $rc, want 1: $got"
  printf '%s\n' "$got" | grep -qF "lint_includes: $1:" || fail "planted '$1' not reported: $got"
  local n; n=$(printf '%s\n' "$got" | sed -n 's/.* \([0-9]*\) error(s).*/\1/p')
  eq "errors with '$1' planted" "$n" "$((base_errors + 1))"
}
plant_include() { sed -i "0,/^#include \"/s||#include \"$2\"\n#include \"|" "$T/t/src/$1"; }
# a row in the known-violations table, after its header and rule lines
plant_known() {
  awk -v row="| \`$1\` | planted |" '{ print } h && /^\|---/ { print row; h = 0 } /^\| key \(as the lint prints it\)/ { h = 1 }' \
    "$T/t/docs/internals.md" >"$T/doc" && mv "$T/doc" "$T/t/docs/internals.md"
}

copy
python3 "$L" --root "$T/t" >/dev/null || fail "the copy does not pass"

# 1. an upward include: the concentration maths (layer 2) including the store (layer 3)
copy; plant_include conc.c microbeat/store.h
expect "up conc.c -> store"

# 2. a ring between two base modules, through their headers only
copy; plant_include csvtab.c microbeat/dict.h; plant_include dict.c microbeat/csvtab.h
expect "cycle csvtab dict"

# 3. a ring between two files of the store module, through their functions only. First what is
# no reference: a struct tag, or a local variable without the function's declaration in
# sight, named like another file's function; a prototype with a function-pointer parameter
# still declares its function
copy
printf 'struct zz_one { int a; };\nint zz_one(int n);\nint zz_two(int (*fn)(int), int n);\n' >"$T/t/src/store_zz.h"
printf '#include "store_zz.h"\nint zz_one(int n)\n{\n\treturn n ? zz_two(zz_one, n - 1) : 0;\n}\n' >"$T/t/src/store_zz1.c"
printf '#include "store_zz.h"\nint zz_two(int (*fn)(int), int n)\n{\n\tstruct zz_one v = { n };\n\treturn fn ? v.a : 0;\n}\n' >"$T/t/src/store_zz2.c"
printf 'int zz_three(void);\nint zz_three(void)\n{\n\tint zz_one = 1;\n\treturn zz_one;\n}\n' >"$T/t/src/store_zz3.c"
got=$(python3 "$L" --root "$T/t") || fail "a struct tag or a local variable makes a ring: $got"
refs=$(cd "$T/t" && python3 "$L" --refs | grep zz_)
eq "references among the planted files" "$refs" "src/store_zz1.c src/store_zz2.c zz_two"
printf '#include "store_zz.h"\nint zz_two(int (*fn)(int), int n)\n{\n\treturn fn ? zz_one(n) : 1;\n}\n' >"$T/t/src/store_zz2.c"
expect "cycle store_zz1.c store_zz2.c"

# 4. a module's private header used by another module of the same layer
copy; plant_include select.c ingest_internal.h
expect "private select.c -> ingest_internal.h"

# 5. a file that no row of the table covers
copy; printf 'int newthing(void);\nint newthing(void)\n{\n\treturn 0;\n}\n' >"$T/t/src/newthing.c"
expect "nomodule src/newthing.c"

# 6. the known-violations table: a listed fault warns (exit 0), a listed one that is gone is named
copy; plant_include conc.c microbeat/store.h
plant_known "up conc.c -> store"
got=$(python3 "$L" --root "$T/t") || fail "a known violation fails the lint: $got"
printf '%s\n' "$got" | grep -qF "warning: known violation: up conc.c -> store" || fail "no warning: $got"
copy
plant_known "up conc.c -> nowhere"
got=$(python3 "$L" --root "$T/t") || fail "a stale known row fails the lint: $got"
printf '%s\n' "$got" | grep -qF "known violation 'up conc.c -> nowhere' is gone" || fail "stale row not named: $got"

# 7. the references the lint sees between files against the linker's (defined T/D/B/R/C, used U)
obj=$MB_ROOT/${MB_BUILD:-build}
: >"$T/fresh"
if command -v nm >/dev/null && ls "$obj"/*.o >/dev/null 2>&1; then
  for o in "$obj"/*.o; do
    f=src/$(basename "$o" .o).c
    # objects of removed files, or older than their source, say nothing about the source
    [ -e "$MB_ROOT/$f" ] && [ "$o" -nt "$MB_ROOT/$f" ] || continue
    echo "$f" >>"$T/fresh"
    nm "$o" | awk -v f="$f" 'NF == 3 && $2 ~ /^[TDBRC]$/ { print "D", f, $3 } NF == 2 && $1 == "U" { print "U", f, $2 }'
  done >"$T/nm"
fi
if [ -s "$T/fresh" ]; then
  awk '$1 == "D" { def[$3] = $2; next } { use[$2 " " $3] = 1 }
       END { for (k in use) { split(k, a, " "); if ((a[2] in def) && def[a[2]] != a[1]) print a[1], def[a[2]], a[2] } }' \
    "$T/nm" | sort >"$T/linker"
  (cd "$MB_ROOT" && python3 "$L" --refs) |
    awk 'NR == FNR { ok[$1] = 1; next } ($1 in ok) && ($2 in ok)' "$T/fresh" - | sort >"$T/lint"
  extra=$(comm -13 "$T/linker" "$T/lint")
  [ -z "$extra" ] || fail "references the linker does not see: $extra"
  # the linker also sees names reached only through a macro (MB_SHOWN -> mb_shown, GROW ->
  # mb_grow): those are not in the code's text (comments and directives dropped by the compiler)
  missed=$(comm -23 "$T/linker" "$T/lint" | while read -r f d n; do
    cc -fpreprocessed -dD -E -P "$MB_ROOT/$f" 2>/dev/null | grep -v '^[[:space:]]*#' |
      grep -qw "$n" && echo "$f $d $n"; done)
  [ -z "$missed" ] || fail "references the lint misses: $missed"
  [ -s "$T/lint" ] || fail "no references found"
  echo "references: $(wc -l <"$T/lint") agree with the linker's"
else
  echo "no up-to-date objects in $obj: the comparison with the linker is not run"
fi
echo "ok"
