#!/bin/bash
# Issue 15 §1, §2, §4: one area selector for concentration, trends and flags; gaps and sources
# never silent.
# 1. Demo district (parish layer; police, fire and council ASB): agency events reach units --
#    council ASB rows (LSOA code only) through the LSOA -> parish lookup, counted independently
#    with awk over the raw CSVs; fire incidents (easting/northing) by point in polygon, counted
#    independently by ray casting in Python over the stored coordinates of each fire event
#    (the BNG conversion is import_agency.sh's business); concentration and trends count police
#    crimes only unless --source/--types; flags says when a requested category has no events.
# 2. Real data (skipped without ../shared), the 2025 wards loaded: `concentration|trends|flags
#    --layer ward --area "Milton & Waterbeach" --year 2025` agree with each other and with an
#    independent ray-casting count over the raw street files (boundary points: those on a ward
#    edge or in no/several wards by ray casting may go either way; the test counts and prints
#    them -- 0 on this data); several units, codes and any case; `--area Milton` is refused
#    (exit 6) naming Milton Keynes and Milton & Waterbeach; a period with a gap is refused (exit
#    2) naming the months, and with --allow-gaps analysed and stated; an empty period is always
#    an error; the force-wide unlocated figure says "force-wide"; trends --by ward and
#    concentration --by ward give one row per ward equal to the ray-casting counts.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c "import csv, json" || skip "python3 is not available"
command -v sqlite3 > /dev/null || skip "sqlite3 is not installed"

# ---- 1. demo district -----------------------------------------------------------------------
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
DB=$T/d.db
mb --db "$DB" import --quiet "$T/demo/policeuk" || fail "import police"
mb --db "$DB" import --quiet --map "$MB_ROOT/scripts/demo_agency_fire.ini" \
  "$T/demo/agency/fire_incidents.csv" || fail "import fire"
mb --db "$DB" import --quiet --map "$MB_ROOT/scripts/demo_agency_asb.ini" \
  "$T/demo/agency/council_asb.csv" || fail "import council ASB"
mb --db "$DB" areas --layer parish --boundaries "$T/demo/parishes.geojson" --code-field PARCD \
  --name-field PARNM --lookup "$T/demo/lsoa_to_parish.csv" --population "$T/demo/parishes.csv" \
  > /dev/null || fail "areas (demo)"

# police crimes by default: no fire incident or council case in concentration
mb --db "$DB" concentration --area "South Cambridgeshire" --fy 2025 --no-charts > "$T/c0" 2> "$T/c0e" ||
  fail "concentration (demo) exit $?"
grep -q "Events by source: Cambridgeshire Constabulary [0-9]* placed in the area, [0-9]* not placed\.$" "$T/c0" ||
  fail "sources line: $(grep Events "$T/c0")"
grep -q "Fire and Rescue\|District Council" "$T/c0" "$T/c0e" && fail "agency events in the default concentration: $(cat "$T/c0e")"
# --source brings them in, and says fire incidents (coordinates, no LSOA) cannot be placed in an
# authority (LSOA names): none is dropped silently
mb --db "$DB" concentration --area "South Cambridgeshire" --fy 2025 --no-charts \
  --source "Cambridgeshire Fire and Rescue" > "$T/c1" || fail "concentration --source exit $?"
nfire=$(awk -F, 'NR > 1 { split($2, d, "/"); ym = d[3] "-" d[2]; if (ym >= "2025-04" && ym <= "2026-03") n++ } END { print n + 0 }' \
  "$T/demo/agency/fire_incidents.csv")
grep -q "Events by source: Cambridgeshire Fire and Rescue 0 placed in the area, $nfire not placed" "$T/c1" ||
  fail "fire incidents by authority ($nfire): $(grep Events "$T/c1")"

# agency events reach a unit: Waterbeach, FY 2025/26
mb --db "$DB" trends --layer parish --area Waterbeach --fy 2025 --by type --no-charts \
  --types "Fly-tipping,Deliberate secondary fire" --out "$T/dt" > "$T/dts" || fail "trends (demo) exit $?"
wcode=$(awk -F, '$2 == "Waterbeach" { print $1 }' "$T/demo/parishes.csv")
fly=$(awk -F, -v p="$wcode" 'FNR == 1 { next } NR == FNR { par[$1] = $2; next }
  $3 == "Fly-tipping" && substr($2, 1, 7) >= "2025-04" && substr($2, 1, 7) <= "2026-03" && par[$4] == p { n++ }
  END { print n + 0 }' "$T/demo/lsoa_to_parish.csv" "$T/demo/agency/council_asb.csv")
eq "Waterbeach fly-tipping (council, by LSOA lookup)" \
  "$(awk -F, '$1 == "Fly-tipping" { print $2 }' "$T/dt/yoy.csv")" "$fly"
sqlite3 -separator , "$DB" "SELECT l.lon, l.lat FROM event e JOIN location l ON l.id = e.location_id
  JOIN category c ON c.id = e.category_id WHERE c.name = 'Deliberate secondary fire'
  AND e.month BETWEEN 303 AND 314 AND l.lon IS NOT NULL" > "$T/fires.csv"
fires=$(/usr/bin/python3 - "$T/demo/parishes.geojson" "$T/fires.csv" <<'PY'
import json, sys
feat = [f for f in json.load(open(sys.argv[1]))["features"] if f["properties"]["PARNM"] == "Waterbeach"][0]
rings = feat["geometry"]["coordinates"]
def inside(x, y):
    c = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                c = not c
    return c
print(sum(1 for line in open(sys.argv[2]) if inside(*map(float, line.split(",")))))
PY
)
eq "Waterbeach deliberate secondary fires (by point in polygon)" \
  "$(awk -F, '$1 == "Deliberate secondary fire" { print $2 }' "$T/dt/yoy.csv")" "$fires"
grep -q "Cambridgeshire Fire and Rescue $fires placed in the area" "$T/dts" ||
  fail "fire placed count: $(grep Events "$T/dts")"
# flags says when a requested category has no events in the selected units
mb --db "$DB" flags --layer parish --fy 2025 --categories "Chimney fire" --no-charts --out "$T/fc" > /dev/null ||
  fail "flags chimney"
none=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "observed") o = i; next }
  $o == 0 { print $2; exit }' "$T/fc/flags_matrix.csv")
[ -n "$none" ] || fail "no parish without a chimney fire in FY 2025/26"
mb --db "$DB" flags --layer parish --area "$none" --fy 2025 --no-charts \
  --categories "Chimney fire,Violence and sexual offences" > /dev/null 2> "$T/fce" || fail "flags $none exit $?"
grep -q "category 'Chimney fire' has no events in the named units of layer 'parish' in FY 2025/26 (analysed over the layer's units)" "$T/fce" ||
  fail "empty category not reported: $(cat "$T/fce")"
# a selection with no event of its types in a loaded period is zeros, not an error (the
# monthly chart of an all-zero series is not drawn: gnuplot refuses an empty range)
mb --db "$DB" trends --layer parish --area "$none" --types "Chimney fire" --fy 2025 --out "$T/tz" > /dev/null 2> "$T/tze" ||
  fail "trends on an all-zero selection: exit $?: $(cat "$T/tze")"
eq "all-zero series total" "$(awk -F, '$1 == "All selected crime" { print $2 }' "$T/tz/yoy.csv")" 0
# flags with named units: the statistics are the whole layer's, only the named rows are reported;
# each named parish's rows equal its rows in the --area all run (rank, priority and why too)
mb --db "$DB" flags --layer parish --area all --fy 2025 --no-charts --out "$T/fa" > /dev/null ||
  fail "flags --area all exit $?"
mb --db "$DB" flags --layer parish --area "waterbeach,Histon" --fy 2025 --no-charts --out "$T/fw" > "$T/fws" ||
  fail "flags --area waterbeach,Histon exit $?"
for f in flags_matrix.csv priorities.csv; do
  /usr/bin/python3 - "$T/fa/$f" "$T/fw/$f" <<'PY' || fail "flags named parishes: $f rows differ from the whole-layer run"
import csv, sys
whole = [r for r in csv.reader(open(sys.argv[1], newline=""))]
named = [r for r in csv.reader(open(sys.argv[2], newline=""))]
col = whole[0].index("unit_name")
assert whole[0] == named[0], "header"
want = [r for r in whole[1:] if r[col] in ("Waterbeach", "Histon")]
assert want and named[1:] == want, (len(named) - 1, len(want))
PY
done
eq "flags named: units reported" "$(($(wc -l < "$T/fw/priorities.csv") - 1))" 2
nall=$(($(wc -l < "$T/fa/priorities.csv") - 1))
grep -q "^waterbeach,Histon (parish), FY 2025/26: 2 of $nall units x" "$T/fws" ||
  fail "flags named: header $(head -1 "$T/fws")"
# chart titles carry the area (issue 16 §3): the named units and their layer
mb --db "$DB" flags --layer parish --area "Waterbeach" --fy 2025 --out "$T/fwc" > /dev/null ||
  fail "flags Waterbeach with charts exit $?"
if [ -f "$T/fwc/heatmap-meta.dat" ]; then
  for m in heatmap funnel; do
    grep -q '^"Waterbeach (parish): .*FY 2025/26' "$T/fwc/$m-meta.dat" || fail "$m title: $(tail -1 "$T/fwc/$m-meta.dat")"
  done
fi
# one parish alone is judged against the district: Waterbeach (planted) flags high
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "flags") f = i; next } $f ~ /H/ { n++ }
  END { exit !(n > 0) }' "$T/fw/flags_matrix.csv" || fail "Waterbeach alone flags nothing high"
echo "demo ok: fly-tipping $fly, fires $fires in Waterbeach; no chimney fire in $none"

# ---- 2. real data ---------------------------------------------------------------------------
need_shared
G=$MB_SHARED/datasets/geo/south-cambridgeshire
D=$MB_SHARED/datasets/policeuk/cambridgeshire
[ -f "$G/ward25.geojson" ] || skip "$G/ward25.geojson is absent"
DB=$T/real.db
mb --db "$DB" import --quiet "$D" || fail "import exit $?"
mb --db "$DB" areas --layer ward --boundaries "$G/ward25.geojson" --code-field WD25CD \
  --name-field WD25NM --population "$G/ward25_population_census2021.csv" > /dev/null ||
  fail "areas (wards) exit $?"

# independent counts: 2025 crimes (no ASB) by ray casting, per ward; unlocated force-wide
/usr/bin/python3 - "$D" "$G/ward25.geojson" > "$T/pip" <<'PY' || fail "ray casting"
import csv, glob, json, sys
data, gj = sys.argv[1], sys.argv[2]
def rings_of(g):
    polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
    return [ring for poly in polys for ring in poly]
def inside(x, y, rings):
    c = False
    for ring in rings:
        for i in range(len(ring) - 1):
            x1, y1 = ring[i][:2]; x2, y2 = ring[i + 1][:2]
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                c = not c
    return c
def on_edge(x, y, rings, eps=1e-9):
    for ring in rings:
        for i in range(len(ring) - 1):
            x1, y1 = ring[i][:2]; x2, y2 = ring[i + 1][:2]
            if min(x1, x2) - eps <= x <= max(x1, x2) + eps and min(y1, y2) - eps <= y <= max(y1, y2) + eps:
                if abs((x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)) <= eps * max(1.0, abs(x2 - x1) + abs(y2 - y1)):
                    return True
    return False
wards = []
for f in json.load(open(gj))["features"]:
    rings = rings_of(f["geometry"])
    xs = [p[0] for r in rings for p in r]; ys = [p[1] for r in rings for p in r]
    wards.append((f["properties"]["WD25NM"], rings, (min(xs), min(ys), max(xs), max(ys))))
count, amb, cache, unloc = {}, {}, {}, 0
for path in sorted(glob.glob(data + "/2025-*/*-street.csv")):
    for row in csv.DictReader(open(path, newline="", encoding="utf-8")):
        if row["Crime type"] == "Anti-social behaviour":
            continue
        if not row["Longitude"]:
            unloc += row["Reported by"] == "Cambridgeshire Constabulary"
            continue
        key = (row["Longitude"], row["Latitude"])
        if key not in cache:
            x, y = float(key[0]), float(key[1])
            hits = [n for n, r, b in wards if b[0] <= x <= b[2] and b[1] <= y <= b[3] and inside(x, y, r)]
            edge = [n for n, r, b in wards if b[0] - 1e-6 <= x <= b[2] + 1e-6 and b[1] - 1e-6 <= y <= b[3] + 1e-6 and on_edge(x, y, r)]
            cache[key] = (hits, edge)
        hits, edge = cache[key]
        if len(hits) == 1 and not edge:
            count[hits[0]] = count.get(hits[0], 0) + 1
        else:
            for n in set(hits) | set(edge):
                amb[n] = amb.get(n, 0) + 1
for n, _, _ in wards:
    print(f"{n}|{count.get(n, 0)}|{amb.get(n, 0)}")
print(f"__unlocated|{unloc}|0")
PY
pip() { awk -F'|' -v w="$1" '$1 == w { print $2 }' "$T/pip"; }
amb() { awk -F'|' -v w="$1" '$1 == w { print $3 }' "$T/pip"; }
# within: GOT lies in [count, count + boundary points of the ward]
within() {
  local what=$1 got=$2 want=$3 slack=$4
  [ "$got" -ge "$want" ] && [ "$got" -le $((want + slack)) ] ||
    fail "$what: microbeat $got, ray casting $want (+ up to $slack boundary points)"
}
MW="Milton & Waterbeach"; HI="Histon & Impington"
mw=$(pip "$MW"); hi=$(pip "$HI")
echo "ray casting 2025: $MW $mw (boundary points $(amb "$MW")), $HI $hi (boundary points $(amb "$HI"))"

mb --db "$DB" concentration --layer ward --area "$MW" --year 2025 --no-charts --out "$T/c" > "$T/cs" ||
  fail "concentration --layer ward --area '$MW' exit $?"
mb --db "$DB" trends --layer ward --area "$MW" --year 2025 --no-charts --out "$T/t" > "$T/ts" ||
  fail "trends --layer ward --area '$MW' exit $?"
mb --db "$DB" flags --layer ward --area "$MW" --year 2025 --no-charts --out "$T/f" > "$T/fs" ||
  fail "flags --layer ward --area '$MW' exit $?"
measure() { awk -F, -v m="$2" '$1 == m { print $2 }' "$1/concentration.csv"; }
c_crimes=$(($(measure "$T/c" crimes) + $(measure "$T/c" crimes_outside_universe_kind)))
t_crimes=$(awk -F, 'NR == 2 { print $2 }' "$T/t/yoy.csv")
f_crimes=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "observed") o = i; next }
  { s += $o } END { print s + 0 }' "$T/f/flags_matrix.csv")
within "concentration crimes in $MW" "$c_crimes" "$mw" "$(amb "$MW")"
eq "trends = concentration ($MW)" "$t_crimes" "$c_crimes"
eq "flags_matrix = concentration ($MW)" "$f_crimes" "$c_crimes"
grep -q "^Milton & Waterbeach (ward), 2025:" "$T/cs" || fail "scope not named: $(head -1 "$T/cs")"
unloc=$(awk -F'|' '$1 == "__unlocated" { print $2 }' "$T/pip")
grep -q "Force-wide, $unloc crimes had no location" "$T/cs" || fail "force-wide unlocated ($unloc): $(sed -n 2p "$T/cs")"
grep -q "Force-wide, $unloc crimes of the period had no location" "$T/ts" || fail "trends force-wide unlocated"
eq "crimes_unlocated" "$(measure "$T/c" crimes_unlocated)" "$unloc"
grep -q "Cambridgeshire Constabulary $c_crimes placed in the area, $unloc not placed" "$T/cs" ||
  fail "sources line: $(grep Events "$T/cs")"

# the ward's flags are its rows of the whole-layer run (rates over all 26 wards, not the ward
# alone): every column of flags_matrix.csv and priorities.csv
mb --db "$DB" flags --layer ward --area all --year 2025 --no-charts --out "$T/fall" > /dev/null ||
  fail "flags --layer ward --area all exit $?"
for f in flags_matrix.csv priorities.csv; do
  /usr/bin/python3 - "$T/fall/$f" "$T/f/$f" "$MW" <<'PY' || fail "flags $MW: $f rows differ from the whole-layer run"
import csv, sys
whole = list(csv.reader(open(sys.argv[1], newline="")))
named = list(csv.reader(open(sys.argv[2], newline="")))
col = whole[0].index("unit_name")
want = [r for r in whole[1:] if r[col] == sys.argv[3]]
assert want and named[1:] == want and named[0] == whole[0]
PY
done
grep -q "^  [0-9]* of 26\. $MW: \(a\|not a\) priority" "$T/fs" || fail "flags $MW: standing not printed"
echo "flags $MW: $(grep -o "^  [0-9]* of 26\. $MW: [a-z ]*priority" "$T/fs")"

# several units, by code and in any case
mb --db "$DB" concentration --layer ward --area "milton & waterbeach , E05011297" --year 2025 \
  --no-charts --out "$T/c2" > "$T/c2s" || fail "two units exit $?"
eq "two units = sum of each" $(($(measure "$T/c2" crimes) + $(measure "$T/c2" crimes_outside_universe_kind))) \
  $((c_crimes + $(pip "$HI")))
# one series per ward (FDR together) and one concentration row per ward
mb --db "$DB" trends --layer ward --area "$MW,$HI" --by ward --year 2025 --no-charts --out "$T/tb" > "$T/tbs" ||
  fail "trends --by ward exit $?"
grep -q "^2 series tested together" "$T/tbs" || fail "trends --by ward: FDR family not stated"
eq "trends --by ward: $HI" "$(awk -F, -v w="$HI" '$1 == w { print $2 }' "$T/tb/yoy.csv")" "$(pip "$HI")"
eq "trends --by ward: $MW" "$(awk -F, -v w="$MW" '$1 == w { print $2 }' "$T/tb/yoy.csv")" "$c_crimes"
mb --db "$DB" concentration --layer ward --area all --by ward --year 2025 --no-charts --out "$T/cb" > /dev/null ||
  fail "concentration --by ward exit $?"
eq "by_unit.csv rows (26 wards + the selection)" "$(($(wc -l < "$T/cb/by_unit.csv") - 1))" 27
/usr/bin/python3 - "$T/pip" "$T/cb/by_unit.csv" <<'PY' || fail "concentration --by ward disagrees with ray casting"
import csv, sys
pip = {}
for line in open(sys.argv[1]):
    n, c, a = line.rstrip("\n").split("|")
    pip[n] = (int(c), int(a))
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
bad = 0
for r in rows[1:]:
    c, a = pip[r["unit_name"]]
    if not c <= int(r["crimes"]) <= c + a:
        print(r["unit_name"], r["crimes"], c, a); bad += 1
assert int(rows[0]["crimes"]) == sum(int(r["crimes"]) for r in rows[1:]), "selection row != sum of wards"
sys.exit(bad)
PY

# --by area never mixes LSOA vintages: the store holds 2011- and 2021-coded months, and some
# LSOA codes were renumbered (E01018222 is "005B" in 2011 names, "022B" in 2021 names)
renum=$(/usr/bin/python3 - "$D" <<'PY'
import csv, glob, sys
names = {}
for path in glob.glob(sys.argv[1] + "/*/*-street.csv"):
    for row in csv.DictReader(open(path, newline="", encoding="utf-8")):
        if row["LSOA name"].startswith("South Cambridgeshire "):
            names.setdefault(row["LSOA code"], set()).add(row["LSOA name"][:-1])
print(sum(1 for v in names.values() if len(v) > 1))
PY
)
mb --db "$DB" trends --area "South Cambridgeshire" --year 2025 --by area --no-charts > /dev/null 2> "$T/ea"
eq "trends --by area on mixed vintages: exit" "$?" 2
grep -q "but $renum LSOAs of the area were renumbered between census vintages" "$T/ea" ||
  fail "--by area vintage refusal ($renum renumbered): $(cat "$T/ea")"

# --area Milton: no prefix match; the nearest names are offered
for layer in "" "--layer ward"; do
  mb --db "$DB" concentration $layer --area Milton --year 2025 > /dev/null 2> "$T/e6"
  eq "--area Milton $layer exit" "$?" 6
  grep -q "'Milton Keynes'" "$T/e6" && grep -q "'Milton & Waterbeach" "$T/e6" ||
    fail "--area Milton $layer candidates: $(cat "$T/e6")"
done
mb --db "$DB" trends --area Milton --year 2025 > /dev/null 2>&1; eq "trends --area Milton exit" "$?" 6
mb --db "$DB" flags --layer ward --area Milton --year 2025 > /dev/null 2>&1; eq "flags --area Milton exit" "$?" 6

# gaps: refused, named; --allow-gaps states the months; an empty period is always an error
sc=$(/usr/bin/python3 - "$D" <<'PY'
import csv, glob, sys
n = 0
for path in glob.glob(sys.argv[1] + "/2024-0[1-6]/*-street.csv"):
    for row in csv.DictReader(open(path, newline="", encoding="utf-8")):
        n += row["LSOA name"].startswith("South Cambridgeshire ") and row["Crime type"] != "Anti-social behaviour"
print(n)
PY
)
for cmd in concentration trends "flags --layer ward"; do
  mb --db "$DB" $cmd --area "South Cambridgeshire" --from 2023-07 --to 2024-06 --no-charts > /dev/null 2> "$T/eg"
  eq "$cmd with a gap: exit" "$?" 2
  grep -q "6 of the 12 months of 2023-07..2024-06 are not loaded (2023-07..2023-12)" "$T/eg" ||
    fail "$cmd gap message: $(cat "$T/eg")"
  mb --db "$DB" $cmd --area "South Cambridgeshire" --from 2023-07 --to 2024-06 --allow-gaps --no-charts \
    --out "$T/g" > "$T/gs" || fail "$cmd --allow-gaps exit $?"
  grep -q "Months used: 6 of 12 (not loaded: 2023-07..2023-12" "$T/gs" || fail "$cmd: months used not stated"
  mb --db "$DB" $cmd --area "South Cambridgeshire" --from 2023-01 --to 2023-12 --allow-gaps > /dev/null 2> "$T/ee"
  eq "$cmd on an empty period: exit" "$?" 2
  grep -q "no month of 2023-01..2023-12 is loaded" "$T/ee" || fail "$cmd empty period: $(cat "$T/ee")"
  case $cmd in
  concentration)
    eq "months_used" "$(measure "$T/g" months_used)" 6
    eq "crimes over the loaded months" $(($(measure "$T/g" crimes) + $(measure "$T/g" crimes_outside_universe_kind))) "$sc" ;;
  trends)
    eq "trends total over the loaded months" "$(awk -F, '$2 == "All selected crime" && $4 == 1 { s += $3 } END { print s }' "$T/g/monthly.csv")" "$sc" ;;
  esac
done
echo ok
