#!/bin/bash
# Issue 16 §3 (charts for counts): a type with no crime in the period used to fail inside gnuplot
# ("Can't plot with an empty y range", exit 4); a 0/1 series gets whole-number steps; tiny counts
# are "too few to judge", left out of the FDR family and drawn without a bar. Synthetic
# police.uk files: 25 months; one robbery, in another area (so the area's robbery series is all
# zero); 0 or 1 bicycle theft a month; 30 burglaries a month.
. "$(dirname "$0")/lib.sh"
export MB_DATA=${MB_DATA:-$MB_ROOT/datasets}
for m in $(seq 0 24); do
  y=$((2023 + m / 12)); mo=$(printf %02d $((m % 12 + 1))); d="$T/p/$y-$mo"; mkdir -p "$d"
  f="$d/$y-$mo-testforce-street.csv"
  echo "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context" > "$f"
  row() { printf '%064x,%s,Test Police,Test Police,0.1,52.2,On or near High Street,%s,%s,,\n' "$1" "$y-$mo" "${3:-E01000001,Testshire 001A}" "$2" >> "$f"; }
  [ "$m" = 0 ] && row $((m * 100 + 99)) "Robbery" "E01000002,Othershire 001A"
  [ $((m % 3)) = 1 ] && row $((m * 100 + 98)) "Bicycle theft"
  for i in $(seq 1 30); do row $((m * 100 + i)) "Burglary"; done
done
mb --db "$T/t.db" import --quiet "$T/p" 2> "$T/ie" || fail "import exit $?"
mb --db "$T/t.db" trends --area Testshire --from 2023-02 --to 2025-01 --types "Burglary,Robbery,Bicycle theft" --by type \
  --out "$T/o" > "$T/s" 2> "$T/e" || fail "trends exit $?: $(cat "$T/e")"
grep -q "^  Robbery: Nothing recorded in either year; not tested" "$T/s" || fail "robbery: $(grep Robbery "$T/s")"
grep -q "^  Bicycle theft: Too few crimes to judge year on year: 4 against 4 the year before" "$T/s" || fail "bicycle theft: $(grep Bicycle "$T/s")"
grep -q "^1 series tested together" "$T/s" || fail "family: $(sed -n 2p "$T/s")"
if [ -f "$T/o/monthly_00.png" ]; then
  for k in 00 01 02 03; do [ -s "$T/o/monthly_$k.png" ] || fail "monthly_$k.png not drawn"; done
  grep -q "too few to judge: 4 vs 4" "$T/o/yoy.dat" || fail "yoy label"
  eq "bicycle theft bar" "$(awk '/Bicycle/ { print $2 }' "$T/o/yoy.dat")" NaN
fi
[ -n "${MB_KEEP:-}" ] && cp -r "$T/o" "$MB_KEEP"
echo ok
