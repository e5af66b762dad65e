#!/bin/bash
# Issue 15 §5 on the demo district with its parish layer: the power-few list names each row's
# parish (checked against the generator's own parish of each LSOA), and its unit of a second
# layer loaded by the LSOA lookup alone (each LSOA's unit found once), --format md is paste-ready
# (plain names, shares as percentages with one decimal, each equal to the CSV's full-precision
# value), and the spreadsheet guard leaves flags_matrix.csv's "-" cells alone.
. "$(dirname "$0")/lib.sh"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
DB=$T/d.db
mb --db "$DB" import --quiet "$T/demo/policeuk" || fail "import"
mb --db "$DB" areas --layer parish --boundaries "$T/demo/parishes.geojson" --code-field PARCD \
  --name-field PARNM --lookup "$T/demo/lsoa_to_parish.csv" --population "$T/demo/parishes.csv" \
  > /dev/null || fail "areas exit $?"
mb --db "$DB" concentration --fy 2025 --no-charts --out "$T/out" > /dev/null || fail "conc exit $?"
mb --db "$DB" concentration --fy 2025 --format md > "$T/conc.md" || fail "conc --format md exit $?"
mb --db "$DB" flags --layer parish --fy 2025 --out "$T/flags" > /dev/null || fail "flags exit $?"
# one parish with no hot cluster (Over): the map has no named micro-beat, and gnuplot 5.4
# crashed on the NaN-only labels file that gave, failing the command and losing its folder
mb --db "$DB" hotspots --layer parish --area Over --fy 2025 --out "$T/hot1" > /dev/null ||
  fail "hotspots on one parish exit $?"
if command -v gnuplot > /dev/null; then
  [ -s "$T/hot1/hotspot_map.png" ] && [ -s "$T/hot1/hotspot_map.svg" ] || fail "no hotspot map drawn"
fi
# a second layer by the LSOA lookup alone: each snap point takes its LSOA's unit
python3 - "$T" <<'PY' || fail "lookup fixture"
import csv, sys
t = sys.argv[1]
names = {r["parish_code"]: r["parish_name"] for r in csv.DictReader(open(f"{t}/demo/parishes.csv"))}
with open(f"{t}/lk.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["lsoa_code", "unit_code", "unit_name"])
    for r in csv.DictReader(open(f"{t}/demo/lsoa_to_parish.csv")):
        w.writerow([r["lsoa_code"], r["parish_code"], names[r["parish_code"]]])
PY
mb --db "$DB" areas --layer bylookup --lookup "$T/lk.csv" --unit-field unit_code --name-field unit_name \
  > /dev/null || fail "areas --lookup exit $?"
mb --db "$DB" concentration --fy 2025 --no-charts --out "$T/out2" > /dev/null || fail "conc (two layers) exit $?"
/usr/bin/python3 - "$T" <<'PY' || fail "check disagrees"
import csv, math, sys
t = sys.argv[1]
bad = 0
def check(what, ok, detail=""):
    global bad
    bad += not ok
    print(f"{what}: {'ok' if ok else 'DIFFERS ' + str(detail)}")
# parish of each row: the generator's parish of the LSOA (lookup) or the boundary it lies in;
# the generator places every LSOA in one parish, so the two agree
lsoa_parish = {r["lsoa_code"]: r["parish_code"] for r in csv.DictReader(open(f"{t}/demo/lsoa_to_parish.csv"))}
names = {r["parish_code"]: r["parish_name"] for r in csv.DictReader(open(f"{t}/demo/parishes.csv"))}
hot = list(csv.DictReader(open(f"{t}/out/hot_streets.csv")))
wrong = [h for h in hot if h["parish"] != names[lsoa_parish[h["lsoa"]]]]
check(f"parish of {len(hot)} rows", not wrong, [(h["label"], h["parish"]) for h in wrong[:3]])
hot2 = list(csv.DictReader(open(f"{t}/out2/hot_streets.csv")))
wrong = [h for h in hot2 if h["bylookup"] != names[lsoa_parish[h["lsoa"]]]]
check(f"unit of {len(hot2)} rows in a layer by LSOA lookup alone", hot2 and not wrong,
      [(h["label"], h["bylookup"]) for h in wrong[:3]])
check("places are labelled 'Kind, near STREET'", all(h["label"] == h["street"][0] + h["street"][1:].lower()
      + (", near " + h["near_street"] if h["near_street"] else "") for h in hot if h["kind"] == "place"))
# md: plain names, percentages with one decimal equal to the CSV's shares
md = open(f"{t}/conc.md").read()
csvm = {r["measure"]: r["value"] for r in csv.DictReader(open(f"{t}/out/concentration.csv"))}
check("CSV keeps full precision", len(csvm["top3_share"].split(".")[1]) == 12, csvm["top3_share"])
for name, words in (("top3_share", "Share of crime on the top 3%"), ("crime_free_share", "Crime-free micro-beats"),
                    ("bandwidth50", "Micro-beats holding half of crime")):
    want = f"| {words} | {100 * float(csvm[name]):.1f}% |"
    check(f"md {name}", want in md.replace("\\%", "%"), want)
check("md has no machine names", "top3_share" not in md and "| rank |" not in md)
header = next(l for l in md.splitlines() if l.startswith("| Rank |"))
check("md list columns", header.startswith("| Rank | Where | Parish | LSOA |"), header)
# flags_matrix.csv: the "no flag" cell is "-", never "'-"
cells = [c for r in csv.reader(open(f"{t}/flags/flags_matrix.csv")) for c in r]
check("flags_matrix has '-' cells, none \"'-\"", "-" in cells and "'-" not in cells)
# Over's map: no hot class among its micro-beats, so no named label (the case that crashed)
cls = [r for r in csv.DictReader(open(f"{t}/hot1/hotspot_classes.csv"))]
check(f"Over: {len(cls)} micro-beats, none hot", cls and not any(r["gi_class_latest"].startswith("hot") for r in cls),
      sorted({r["gi_class_latest"] for r in cls}))
sys.exit(1 if bad else 0)
PY
echo ok
