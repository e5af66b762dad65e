#!/bin/bash
# Real data: South Cambridgeshire, calendar 2024, default options. Every measure of
# concentration.csv agrees to 1e-9 with an independent Python recount from the raw CSVs,
# following the definitions of docs/methods-concentration.md (issue "Micro-beats"): a snap point
# (its coordinates) keeps the street, LSOA code and name, of its latest month across the 37 loaded
# months, and a place-kind snap point is a micro-beat of its own (issue 15 §3; this test keyed on
# the row's own LSOA code before, N = 2,586). The hot list holds n = ceil(3% N) streets plus those
# tied with the n-th (issue 15 §5).
. "$(dirname "$0")/lib.sh"
need_shared
D=$MB_SHARED/datasets/policeuk/cambridgeshire
mb --db "$T/c.db" import --quiet "$D" || fail "import exit $?"
mb --db "$T/c.db" concentration --area "South Cambridgeshire" --year 2024 --out "$T/out" --no-charts > "$T/stdout" || fail "concentration exit $?"
grep -q "observed universe, lower bound" "$T/stdout" || fail "universe not stated"
grep -q "crimes exclude Anti-social behaviour" "$T/stdout" || fail "ASB exclusion not stated"
/usr/bin/python3 - "$D" "$T/out/concentration.csv" "$T/listed" <<'PY' || fail "recount disagrees"
import csv, glob, math, re, sys
data, got_path = sys.argv[1], sys.argv[2]
def norm(loc):
    s = loc
    if s.lower().startswith("on or near "):
        s = s[11:]
    return " ".join(s.split()).upper()
places = {r["place"].upper() for r in csv.DictReader(open("datasets/place_names.csv"))}
rows = []
for path in sorted(glob.glob(data + "/*/*-street.csv")):
    with open(path, newline="", encoding="utf-8") as f:
        rows.extend(csv.DictReader(f))
latest = {}  # coordinates -> (month, street key) of the latest row there
for row in rows:
    if row["Longitude"] != "":
        pt = (row["Longitude"], row["Latitude"])
        name = norm(row["Location"])
        key = ("place",) + pt if name in places else (name, row["LSOA code"])
        if pt not in latest or row["Month"] >= latest[pt][0]:
            latest[pt] = (row["Month"], key)
universe, counts, unlocated = set(), {}, 0
if True:
    if True:
        for row in rows:
            located = row["Longitude"] != "" and row["Latitude"] != ""
            in_2024 = row["Month"].startswith("2024-")
            crime = row["Crime type"] != "Anti-social behaviour"
            if not located:
                if in_2024 and crime and row["Reported by"] == "Cambridgeshire Constabulary":
                    unlocated += 1
                continue
            if not row["LSOA name"].startswith("South Cambridgeshire"):
                continue
            key = latest[(row["Longitude"], row["Latitude"])][1]
            universe.add(key)
            if in_2024 and crime:
                counts[key] = counts.get(key, 0) + 1
x = sorted((counts.get(k, 0) for k in universe), reverse=True)
N, C = len(x), sum(x)
want = {"streets": N, "streets_active": sum(1 for v in x if v > 0), "crimes": C,
        "crimes_unlocated": unlocated}
for p in (1, 3, 5, 10, 20):
    n = (N * p + 99) // 100
    want[f"top{p}_share"] = sum(x[:n]) / C
want["crime_free_share"] = sum(1 for v in x if v == 0) / N
for q, name in ((0.25, "bandwidth25"), (0.5, "bandwidth50")):
    s = 0
    for k, v in enumerate(x, 1):
        s += v
        if s >= q * C:
            want[name] = k / N
            break
asc = sorted(x)
G = 2 * sum(i * v for i, v in enumerate(asc, 1)) / (N * C) - (N + 1) / N
Gp = max(1, N / C) * (G - 1) + 1
m = min(N, C)
want.update(gini=G, gini_generalized=Gp, gini_generalized_bias_corrected=Gp * m / (m - 1))
got = {}
with open(got_path, newline="") as f:
    for row in csv.DictReader(f):
        got[row["measure"]] = row["value"]
bad = 0
for k, v in want.items():
    g = float(got[k])
    if abs(g - v) > 1e-9:
        print(f"{k}: microbeat {g} recount {v}")
        bad += 1
print(f"{len(want)} measures compared; N={N} C={C} top3={want['top3_share']:.4f} gini={G:.4f}")
cut = x[(N * 3 + 99) // 100 - 1]
open(sys.argv[3], "w").write(str(sum(1 for v in x if v >= cut and v > 0)))
sys.exit(1 if bad else 0)
PY
for f in concentration.csv hot_streets.csv hot_streets.geojson; do [ -s "$T/out/$f" ] || fail "$f not written"; done
# the hot list: ceil(3% of N) streets with crime, ranked by crimes, and every street tied with
# the n-th (counted by the recount above)
rows=$(($(wc -l < "$T/out/hot_streets.csv") - 1))
eq "hot streets listed" "$rows" "$(cat "$T/listed")"
/usr/bin/python3 -c "import json,sys; d=json.load(open('$T/out/hot_streets.geojson')); assert d['type']=='FeatureCollection' and len(d['features'])==$rows" || fail "geojson"
echo ok
