#!/bin/bash
# Issue 19: `microbeat deepdive` on the demo district (parish layer with populations; police,
# fire and council ASB). Every figure checked here is recounted independently in Python over
# the demo's generated CSVs: crimes of Milton + Waterbeach by type for the period and the
# previous one (events placed in parishes by the LSOA -> parish lookup, which the demo's
# parishes nest), rates per 1,000 residents, the location quotients and their exact binomial
# tests (scipy.stats.binomtest) with BH (statsmodels), the monthly series, the power-few crime
# counts (name + LSOA of the snap point), the charge/summons rate and its Fisher test
# (scipy.stats.fisher_exact) from the street files' last outcomes (the demo has no outcomes
# files), the change by type and unit, and council ASB cases per parish by LSOA. On police.uk
# data the force-extract sections say why they are absent.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c "import scipy.stats, statsmodels" 2> /dev/null || skip "scipy/statsmodels are not installed for $PY"

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

mb --db "$DB" deepdive --layer parish --area "Milton,Waterbeach" --theme violence-public-order \
  --fy 2025 --out "$T/dd" > "$T/out.md" 2> "$T/err" || fail "deepdive exit $?: $(cat "$T/err")"
for f in deepdive.md counts_by_type_year.csv monthly.csv location_quotients.csv power_few.csv \
  outcomes.csv seasonality.csv change_by_type.csv change_by_unit.csv overlay_power_few.csv \
  overlay_units.csv monthly.png location_quotients.png seasonality.png; do
  [ -s "$T/dd/$f" ] || fail "missing $f"
done
# no partner event lies within 100 m of the demo's power few: no chart of empty bars, and why
[ -e "$T/dd/overlay.png" ] && fail "an overlay chart with no partner event in it"
grep -q "No overlay chart: no partner event within 100 metres" "$T/dd/deepdive.md" || fail "no reason for the missing overlay chart"
cmp -s "$T/out.md" "$T/dd/deepdive.md" || fail "standard output differs from deepdive.md"
grep -q "police.uk data only" "$T/dd/deepdive.md" || fail "the extract sections do not say why they are absent"
grep -q "not final" "$T/dd/deepdive.md" || fail "no censoring caution on outcomes"

$PY - "$T/demo" "$T/dd" <<'PYEOF' || fail "recount"
import csv, glob, math, sys
from collections import Counter, defaultdict
from scipy.stats import binomtest, fisher_exact
from statsmodels.stats.multitest import multipletests
demo, dd = sys.argv[1], sys.argv[2]
bad = []
def check(what, got, want, tol=0):
    ok = (abs(float(got) - float(want)) <= tol * max(1, abs(float(want)))) if tol else str(got) == str(want)
    if not ok:
        bad.append(f"{what}: got {got}, want {want}")
par = {r['lsoa_code']: r['parish_code'] for r in csv.DictReader(open(f"{demo}/lsoa_to_parish.csv"))}
pname = {r['parish_code']: r['parish_name'] for r in csv.DictReader(open(f"{demo}/parishes.csv"))}
pop = {r['parish_code']: float(r['population']) for r in csv.DictReader(open(f"{demo}/parishes.csv"))}
sel = {c for c, n in pname.items() if n in ("Milton", "Waterbeach")}
theme = {"Violence and sexual offences", "Public order"}
P = ("2025-04", "2026-03"); Q = ("2024-04", "2025-03")
def inp(m, p): return p[0] <= m <= p[1]
rows = []
for f in sorted(glob.glob(f"{demo}/policeuk/*/*-street.csv")):
    rows += list(csv.DictReader(open(f, encoding="utf-8-sig")))
rows = [r for r in rows if r["Longitude"] and r["LSOA code"] in par]
cur, prev, dcur = Counter(), Counter(), Counter()
for r in rows:
    t, m, s = r["Crime type"], r["Month"], par[r["LSOA code"]] in sel
    if inp(m, P):
        dcur[t] += 1
        if s: cur[t] += 1
    if inp(m, Q) and s: prev[t] += 1
# counts and rates
tab = {r["type"]: r for r in csv.DictReader(open(f"{dd}/counts_by_type_year.csv"))}
A = sum(cur[t] for t in theme); B = sum(prev[t] for t in theme)
check("period total", tab["All selected types"]["period"], A)
check("previous total", tab["All selected types"]["previous period"], B)
for t in theme:
    check(f"{t} period", tab[t]["period"], cur[t]); check(f"{t} previous", tab[t]["previous period"], prev[t])
ps = sum(pop[c] for c in sel); pr = sum(v for c, v in pop.items() if c not in sel)
check("rate per 1,000", tab["All selected types"]["per 1,000 residents"], round(1000 * A / ps, 2), 1e-9)
DA = sum(dcur[t] for t in theme)
check("rest rate per 1,000", tab["All selected types"]["rest of district per 1,000"], round(1000 * (DA - A) / pr, 2), 1e-9)
# location quotients over all police-recorded crime but ASB
types = sorted({t for t in dcur if t != "Anti-social behaviour"})
a = {t: cur[t] for t in types}; b = {t: dcur[t] - cur[t] for t in types}
SA, SB = sum(a.values()), sum(b.values())
lq = {r["type"]: r for r in csv.DictReader(open(f"{dd}/location_quotients.csv"))}
check("LQ types", sorted(lq), types)
tested = [t for t in types if a[t] + b[t] >= 10]
pv = {t: binomtest(a[t], a[t] + b[t], SA / (SA + SB)).pvalue for t in tested}
qv = dict(zip(tested, multipletests([pv[t] for t in tested], method="fdr_bh")[1]))
for t in types:
    check(f"LQ {t} a", lq[t]["selection"], a[t]); check(f"LQ {t} b", lq[t]["rest of district"], b[t])
    if b[t]:
        check(f"LQ {t}", lq[t]["LQ"], round((a[t] / SA) / (b[t] / SB), 2), 1e-9)
    if t in tested:
        check(f"LQ p {t}", lq[t]["p"], round(pv[t], 4), 1e-9)
        check(f"LQ q {t}", lq[t]["q (BH)"], round(qv[t], 4), 1e-9)
    else:
        check(f"LQ untested {t}", lq[t]["verdict"], "too few to test")
# monthly series
mon = Counter(r["Month"] for r in rows if par[r["LSOA code"]] in sel and r["Crime type"] in theme)
for r in csv.DictReader(open(f"{dd}/monthly.csv")):
    if r["loaded"] == "1":
        check(f"monthly {r['month']}", r["crimes"], mon[r["month"]])
# power few: crimes on each listed micro-beat (its name in its LSOA)
beat, beatp = Counter(), Counter()
for r in rows:
    if par[r["LSOA code"]] in sel and r["Crime type"] in theme:
        k = (r["Location"].upper().replace("ON OR NEAR ", "", 1), r["LSOA code"])
        if inp(r["Month"], P): beat[k] += 1
        if inp(r["Month"], Q): beatp[k] += 1
pf = list(csv.DictReader(open(f"{dd}/power_few.csv")))
if not pf: bad.append("no power-few micro-beat")
for r in pf:
    k = (r["micro-beat"], r["LSOA"])
    check(f"power few {k}", r["crimes"], beat[k]); check(f"power few prev {k}", r["previous period"], beatp[k])
# the classes: top ceil(3% of N) by count, ties at the cut kept, zeros left out (N as reported)
import re
md0 = open(f"{dd}/deepdive.md").read()
N = int(re.search(r"of the selection's (\d+) micro-beats", md0).group(1))
k = (N * 3 + 99) // 100
def hot(c):
    v = sorted((x for x in c.values() if x > 0), reverse=True)
    if not v: return set()
    cut = v[min(k, len(v)) - 1]
    return {b for b, x in c.items() if x >= cut}
hc, hp = hot(beat), hot(beatp)
want = {b: ("persistent" if b in hc and b in hp else "emerging" if b in hc else "former") for b in hc | hp}
got = {(r["micro-beat"], r["LSOA"]): r["class"] for r in pf}
check("power-few classes", sorted(got.items()), sorted(want.items()))
top = sorted(beat.values(), reverse=True)
persistent = [r for r in pf if r["class"] in ("persistent", "emerging")]
check("power few: the largest count first", persistent[0]["crimes"] if persistent else "", top[0])
# outcomes: the street files' last outcomes (no outcomes files in the demo)
court = {"Suspect charged", "Suspect charged as part of another case", "Awaiting court outcome",
         "Court result unavailable", "Court case unable to proceed", "Defendant found not guilty",
         "Defendant sent to Crown Court", "Offender sent to prison", "Offender given suspended prison sentence",
         "Offender fined", "Offender given community sentence", "Offender given conditional discharge",
         "Offender given absolute discharge", "Offender otherwise dealt with", "Offender deprived of property",
         "Offender ordered to pay compensation"}
oc = Counter(); n1 = d1 = n0 = d0 = 0
for r in rows:
    if par[r["LSOA code"]] in sel and r["Crime type"] in theme:
        o = r["Last outcome category"]
        if inp(r["Month"], P):
            n1 += 1; d1 += o in court; oc[o or "(none recorded)"] += 1
        if inp(r["Month"], Q):
            n0 += 1; d0 += o in court
out = {r["last outcome"]: r for r in csv.DictReader(open(f"{dd}/outcomes.csv"))}
for o, n in oc.items():
    check(f"outcome {o}", out[o]["crimes"], n)
md = open(f"{dd}/deepdive.md").read()
want = f"{100 * d1 / n1:.1f}% ({d1} of {n1}) in the period against {100 * d0 / n0:.1f}% ({d0} of {n0})"
if want not in md: bad.append(f"detection rate sentence: want '{want}'")
fp = fisher_exact([[d1, n1 - d1], [d0, n0 - d0]])[1]
if f"Fisher's exact test p = {fp:.3g}" not in md: bad.append(f"Fisher p {fp:.3g} not in the report")
# change by type and by unit
ct = {r["component"]: r for r in csv.DictReader(open(f"{dd}/change_by_type.csv"))}
for t in theme:
    check(f"change {t}", ct[t]["change"], cur[t] - prev[t])
    check(f"share {t}", ct[t]["share of total change %"], round(100 * (cur[t] - prev[t]) / (A - B), 1), 1e-9)
    check(f"change p {t}", ct[t]["p"], round(binomtest(cur[t], cur[t] + prev[t], 0.5).pvalue, 4), 1e-9)
cu = {r["component"]: r for r in csv.DictReader(open(f"{dd}/change_by_unit.csv"))}
for c in sel:
    l = sum(1 for r in rows if par[r["LSOA code"]] == c and r["Crime type"] in theme and inp(r["Month"], P))
    e = sum(1 for r in rows if par[r["LSOA code"]] == c and r["Crime type"] in theme and inp(r["Month"], Q))
    check(f"unit {pname[c]} period", cu[pname[c]]["period"], l); check(f"unit {pname[c]} previous", cu[pname[c]]["previous period"], e)
# harm-weighted change (datasets/harm_cchi.csv)
import os
w = {r["crime_type"]: float(r["cchi_days"]) for r in csv.DictReader(open(os.environ["MB_DATA"] + "/harm_cchi.csv"))}
hl = sum(w[t] * cur[t] for t in theme); he = sum(w[t] * prev[t] for t in theme)
if f"went from {he:.0f} to {hl:.0f} harm-days" not in md: bad.append(f"harm-days {he:.0f} -> {hl:.0f}")
# council ASB cases (LSOA only) in each power-few micro-beat's LSOA, in the period
ov = list(csv.DictReader(open(f"{dd}/overlay_power_few.csv")))
asb_rows = [r for r in csv.DictReader(open(f"{demo}/agency/council_asb.csv")) if inp(r["date"][:7], P)]
for p_, o_ in zip(pf, ov):
    check(f"council ASB in the LSOA of {p_['micro-beat']}",
          o_["South Cambridgeshire District Council (LSOA only: in the micro-beat's LSOA)"],
          sum(1 for r in asb_rows if r["lsoa_code"] == p_["LSOA"]))
# council ASB by LSOA -> parish, in the period
asb = Counter(par.get(r["lsoa_code"]) for r in csv.DictReader(open(f"{demo}/agency/council_asb.csv"))
              if inp(r["date"][:7], P))
ou = {r["unit"]: r for r in csv.DictReader(open(f"{dd}/overlay_units.csv"))}
for c in sel:
    check(f"council ASB {pname[c]}", ou[pname[c]]["South Cambridgeshire District Council (by LSOA or unit code)"], asb[c])
if bad:
    print("\n".join(bad)); sys.exit(1)
print(f"recount ok: {A} crimes, {len(types)} LQ types, {len(pf)} power-few micro-beats")
PYEOF

# a bigger overlay radius never finds fewer partner events
mb --db "$DB" deepdive --layer parish --area "Milton,Waterbeach" --theme violence-public-order \
  --fy 2025 --overlay-metres 1000 --no-charts --out "$T/dd2" > /dev/null || fail "deepdive --overlay-metres"
$PY - "$T/dd/overlay_power_few.csv" "$T/dd2/overlay_power_few.csv" <<'PYEOF' || fail "overlay radius"
import csv, sys
a = list(csv.DictReader(open(sys.argv[1]))); b = list(csv.DictReader(open(sys.argv[2])))
for x, y in zip(a, b):
    for k in x:
        if k not in ("micro-beat",) and int(y[k]) < int(x[k]): sys.exit(f"{k}: {y[k]} < {x[k]}")
PYEOF
ls "$T/dd2"/*.png > /dev/null 2>&1 && fail "--no-charts drew charts"
mb --db "$DB" deepdive --layer parish --area "Milton,Waterbeach" --theme violence-public-order \
  --fy 2025 --overlay-metres 1000 --out "$T/dd3" > /dev/null || fail "deepdive --overlay-metres (charts)"
[ -s "$T/dd3/overlay.png" ] || fail "no overlay chart with partner events within 1000 m"
# every chart's title says where and when before what it shows: the place, the theme, the
# period (a chart pasted alone into a report: "Crimes by subgroup and DA flag" said neither)
n=0
for m in "$T/dd3"/*-meta.dat; do
  n=$((n + 1))
  t=$(sed -n 2p "$m" | cut -d'"' -f2)
  case $t in "Milton, Waterbeach (parish), violence-public-order, FY 2025/26: "?*) ;;
    *) fail "$(basename "$m"): title '$t'" ;; esac
done
[ "$n" -ge 4 ] || fail "only $n deep-dive charts"
# the whole district (as assess's overlay step): a hundred power-few rows in the table, the
# chart draws the 25 busiest with the count in its title (more print on top of each other)
mb --db "$DB" deepdive --layer parish --area all --fy 2025 --out "$T/dd4" > /dev/null ||
  fail "deepdive --area all"
$PY - "$T/dd4" <<'PYEOF' || fail "overlay chart rows"
import csv, shlex, sys
d = sys.argv[1]
def dat(path):
    return [shlex.split(l) for l in open(path, encoding="utf-8") if l.strip() and l[0] != "#"]
rows = list(csv.DictReader(open(f"{d}/overlay_power_few.csv")))
pf = list(csv.DictReader(open(f"{d}/power_few.csv")))
meta, bars = dat(f"{d}/overlay-meta.dat")[0], dat(f"{d}/overlay.dat")
now = sorted((int(r["crimes"]) for r in pf if r["class"] != "former"), reverse=True)
assert len(rows) > 25 and len(now) >= 25 and int(meta[2]) == len(bars) == 25, (len(rows), meta)
assert meta[0].endswith(f"top 25 of {len(now)} power-few micro-beats"), meta[0]  # former ones not counted
assert [int(float(b[1])) for b in bars] == now[:25], "the chart's rows are not the 25 busiest"
for b, r in zip(bars, rows):
    assert b[3] == r["micro-beat"] and int(float(b[1])) == int(r["crimes"]), (b, r)
print(f"overlay chart: 25 of {len(rows)} rows")
PYEOF
# the location quotients read down: largest first
$PY - "$T/dd/location_quotients.csv" <<'PYEOF' || fail "location quotients not sorted"
import csv, sys
v = [float(r["LQ"]) for r in csv.DictReader(open(sys.argv[1])) if r["LQ"]]
assert v == sorted(v, reverse=True), v
PYEOF
# fire incidents within 1000 m of each power-few micro-beat: haversine over the stored
# coordinates (the BNG conversion is import_agency.sh's business) of the fire events of the
# period and of the micro-beat's snap points (its name in its LSOA; power_few.csv lists the
# micro-beats in the overlay's order)
$PY - "$DB" "$T/dd2/power_few.csv" "$T/dd2/overlay_power_few.csv" <<'PYEOF' || fail "overlay distance recount"
import csv, math, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def hav(a, b, c, d):
    p1, p2 = math.radians(b), math.radians(d)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(c - a) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(min(1, h)))
fires = db.execute("SELECT l.lon, l.lat FROM event e JOIN location l ON l.id = e.location_id JOIN source s"
                   " ON s.id = e.source_id WHERE s.name = 'Cambridgeshire Fire and Rescue' AND l.lon IS NOT NULL"
                   " AND e.month BETWEEN 303 AND 314").fetchall()
pf = list(csv.DictReader(open(sys.argv[2]))); ov = list(csv.DictReader(open(sys.argv[3])))
if [r["micro-beat"] for r in pf] != [r["micro-beat"] for r in ov]: sys.exit("power few and overlay rows differ")
bad = []
for p, r in zip(pf, ov):
    sps = db.execute("SELECT l.lon, l.lat FROM location l JOIN lsoa o ON o.id = l.lsoa_id WHERE"
                     " upper(l.name) = 'ON OR NEAR ' || ? AND o.code = ? AND l.lon IS NOT NULL",
                     (p["micro-beat"], p["LSOA"])).fetchall()
    want = sum(1 for f in fires if any(hav(x, y, f[0], f[1]) <= 1000 for x, y in sps))
    if not sps or int(r["Cambridgeshire Fire and Rescue"]) != want:
        bad.append(f"{p['micro-beat']}: {r['Cambridgeshire Fire and Rescue']} vs {want} ({len(sps)} snap points)")
if bad: print("\n".join(bad)); sys.exit(1)
print("overlay recount ok:", [r["Cambridgeshire Fire and Rescue"] for r in ov])
PYEOF
# a bad radius is a usage error
mb --db "$DB" deepdive --overlay-metres -5 > /dev/null 2>&1; eq "bad --overlay-metres exit" "$?" 2
echo "deepdive_demo: ok"
