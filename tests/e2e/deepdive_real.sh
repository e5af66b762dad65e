#!/bin/bash
# Issue 19 on the real Cambridgeshire data (skipped without ../shared): `deepdive --layer ward
# --area "Milton & Waterbeach" --theme violence-public-order --year 2025` builds, agrees with an
# independent recount by ray casting over the raw street files (the ward's violence and public
# order crimes of 2025 and 2024, its rate per 1,000 residents from the census file), its
# charge/summons rate agrees with a recount of the outcomes files (the latest month's outcome of
# each Crime ID, else the street file's last outcome), and the force-extract sections say why
# they are absent on police.uk data.
. "$(dirname "$0")/lib.sh"
need_shared
PY=/usr/bin/python3
$PY -c "import scipy.stats" 2> /dev/null || skip "scipy is not installed for $PY"
G=$MB_SHARED/datasets/geo/south-cambridgeshire
D=$MB_SHARED/datasets/policeuk/cambridgeshire
[ -f "$G/ward25.geojson" ] || skip "$G/ward25.geojson is absent"
DB=$T/real.db
mb --db "$DB" import --quiet "$D" || fail "import exit $?"
mb --db "$DB" areas --layer ward --boundaries "$G/ward25.geojson" --code-field WD25CD \
  --name-field WD25NM --population "$G/ward25_population_census2021.csv" > /dev/null ||
  fail "areas (wards) exit $?"
mb --db "$DB" deepdive --layer ward --area "Milton & Waterbeach" --theme violence-public-order \
  --year 2025 --out "$T/dd" > /dev/null 2> "$T/err" || fail "deepdive exit $?: $(cat "$T/err")"
for f in deepdive.md counts_by_type_year.csv monthly.png location_quotients.png outcomes.csv; do
  [ -s "$T/dd/$f" ] || fail "missing $f"
done
grep -q "police.uk data only" "$T/dd/deepdive.md" || fail "DA/times sections do not say why they are absent"
grep -q "No partner agency" "$T/dd/deepdive.md" || fail "the overlay does not say no partner data is loaded"

$PY - "$D" "$G" "$T/dd" <<'PY' || fail "recount"
import csv, glob, json, sys
from collections import defaultdict
from scipy.stats import fisher_exact
data, geo, dd = sys.argv[1:4]
f = [f for f in json.load(open(geo + "/ward25.geojson"))["features"] if f["properties"]["WD25NM"] == "Milton & Waterbeach"][0]
g = f["geometry"]
rings = [r for p in ([g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]) for r in p]
def inside(x, y):
    c = False
    for ring in rings:
        for i in range(len(ring) - 1):
            x1, y1 = ring[i][:2]; x2, y2 = ring[i + 1][:2]
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                c = not c
    return c
theme = {"Violence and sexual offences", "Public order"}
latest = {}
for p in sorted(glob.glob(data + "/*/*-outcomes.csv")):
    for r in csv.DictReader(open(p, newline="", encoding="utf-8")):
        cid, m = r["Crime ID"], r["Month"]
        if cid and (cid not in latest or m >= latest[cid][0]):
            latest[cid] = (m, r["Outcome type"])
court = {"Suspect charged", "Suspect charged as part of another case", "Awaiting court outcome",
         "Court result unavailable", "Court case unable to proceed", "Defendant found not guilty",
         "Defendant sent to Crown Court", "Offender sent to prison", "Offender given suspended prison sentence",
         "Offender fined", "Offender given community sentence", "Offender given conditional discharge",
         "Offender given absolute discharge", "Offender otherwise dealt with", "Offender deprived of property",
         "Offender ordered to pay compensation"}
n = defaultdict(int); det = defaultdict(int); cache = {}
for p in sorted(glob.glob(data + "/202[45]-*/*-street.csv")):
    for r in csv.DictReader(open(p, newline="", encoding="utf-8")):
        if r["Crime type"] not in theme or not r["Longitude"]:
            continue
        k = (r["Longitude"], r["Latitude"])
        if k not in cache:
            cache[k] = inside(float(k[0]), float(k[1]))
        if not cache[k]:
            continue
        y = r["Month"][:4]
        n[y] += 1
        o = latest[r["Crime ID"]][1] if r["Crime ID"] in latest else r["Last outcome category"]
        det[y] += o in court
tab = {r["type"]: r for r in csv.DictReader(open(dd + "/counts_by_type_year.csv"))}
bad = []
if tab["All selected types"]["period"] != str(n["2025"]): bad.append(f"2025: {tab['All selected types']['period']} vs {n['2025']}")
if tab["All selected types"]["previous period"] != str(n["2024"]): bad.append(f"2024: {tab['All selected types']['previous period']} vs {n['2024']}")
pop = [float(r["pop_census2021"]) for r in csv.DictReader(open(geo + "/ward25_population_census2021.csv")) if r["WD25NM"] == "Milton & Waterbeach"][0]
if abs(float(tab["All selected types"]["per 1,000 residents"]) - round(1000 * n["2025"] / pop, 2)) > 1e-9: bad.append("rate per 1,000")
md = open(dd + "/deepdive.md").read()
want = f"{100 * det['2025'] / n['2025']:.1f}% ({det['2025']} of {n['2025']}) in the period against {100 * det['2024'] / n['2024']:.1f}% ({det['2024']} of {n['2024']})"
if want not in md: bad.append("detection rate: want " + want)
p = fisher_exact([[det["2025"], n["2025"] - det["2025"]], [det["2024"], n["2024"] - det["2024"]]])[1]
if f"Fisher's exact test p = {p:.3g}" not in md: bad.append(f"Fisher p {p:.3g}")
if bad: print("\n".join(bad)); sys.exit(1)
print(f"real recount ok: {n['2025']} crimes in 2025, {n['2024']} in 2024; detection {det['2025']}/{n['2025']}")
PY
echo "deepdive_real: ok"
