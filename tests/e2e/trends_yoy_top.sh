#!/bin/bash
# Issue 16 §3: a year-on-year chart with 100+ series (trends --by parish on the demo's 104
# parishes; --by area with 100+ MSOAs) was unreadable. The chart shows the total and the
# --yoy-top N series (default 25) with the largest absolute change in counts, largest first, and
# its title says how many are left out; yoy.csv keeps every series. The chosen series are
# recomputed here from yoy.csv (|last12 - prev12|, ties in file order).
. "$(dirname "$0")/lib.sh"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
DB=$T/d.db
mb --db "$DB" import --quiet "$T/demo/policeuk" || fail "import"
mb --db "$DB" areas --layer parish --boundaries "$T/demo/parishes.geojson" --code-field PARCD \
  --name-field PARNM --lookup "$T/demo/lsoa_to_parish.csv" --population "$T/demo/parishes.csv" \
  > /dev/null || fail "areas"
check() { # DIR N: yoy.dat holds the total and the top N of yoy.csv, in that order
  /usr/bin/python3 - "$1/yoy.csv" "$1/yoy.dat" "$1/yoy-meta.dat" "$2" <<'PY'
import csv, shlex, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
n = int(sys.argv[4])
comp = rows[1:]
top = sorted(comp, key=lambda r: -abs(int(r["last12"]) - int(r["prev12"])))
want = ["Total"] + [r["series"] for r in (top[:n] if n else comp)]
got = [shlex.split(l)[-1] for l in open(sys.argv[2]) if not l.startswith("#")]
got = [g.split(" (")[0] for g in got]
assert got == want, (got[:5], want[:5], len(got), len(want))
meta = open(sys.argv[3]).read()
if n and n < len(comp):
    assert f"the {n} of {len(comp)} series with the largest change in counts ({len(comp) - n} left out: all in yoy.csv)" in meta, meta
else:
    assert "left out" not in meta, meta
print(len(comp), "series,", len(got) - 1, "drawn")
PY
}
mb --db "$DB" trends --by parish --fy 2025 --out "$T/o" > /dev/null 2> "$T/e" || fail "trends --by parish: $(cat "$T/e")"
eq "yoy.csv rows (total + 104 parishes)" "$(($(wc -l < "$T/o/yoy.csv") - 1))" 105
[ -f "$T/o/yoy.dat" ] || skip "charts were not written (no gnuplot)"
check "$T/o" 25 || fail "default top 25"
mb --db "$DB" trends --by parish --fy 2025 --yoy-top 10 --out "$T/o10" > /dev/null || fail "--yoy-top 10"
check "$T/o10" 10 || fail "top 10"
mb --db "$DB" trends --by parish --fy 2025 --yoy-top 0 --out "$T/o0" > /dev/null || fail "--yoy-top 0"
check "$T/o0" 0 || fail "--yoy-top 0 draws all"
mb --db "$DB" trends --by parish --fy 2025 --yoy-top -1 > /dev/null 2>&1; eq "--yoy-top -1 exit" "$?" 2
[ -s "$T/o/yoy.png" ] || fail "yoy.png not drawn"
[ -n "${MB_KEEP:-}" ] && cp -r "$T/o" "$MB_KEEP"
echo ok
