#!/bin/bash
# flags' hot streets (docs/methods-flags.md, "hot streets"): per category the area's top 3% of
# streets over the period (k = ceil(3 N / 100) of the N streets seen in any loaded month),
# streets tied with the first street left out left out too, at least --hot-min (3) crimes; and
# how many of them each unit holds. A generated district of 200 streets in 3 LSOAs, two units
# by an LSOA lookup, 12 months: Burglary has five leaders and three streets tied across the
# cut (left out), Vehicle crime five leaders over many streets tied at the cut, Robbery is rare
# (no street reaches 3 crimes). flags_matrix.csv's hot_streets equals an independent Python
# recount from the CSVs (a unit's hot streets counted once however many crimes they hold).
. "$(dirname "$0")/lib.sh"
cat > "$T/gen.py" <<'PY'
import csv, os, random, sys
out = sys.argv[1]
rng = random.Random(20261204)
lsoas = [("E01000001", "Testshire 001A"), ("E01000002", "Testshire 001B"), ("E01000003", "Testshire 002A")]
unit_of = {"E01000001": "U1", "E01000002": "U1", "E01000003": "U2"}
streets = [(f"Street {i:03d} Road", lsoas[i % 3], -0.1 + (i % 20) * 0.001, 52.0 + (i // 20) * 0.001)
           for i in range(200)]
# crimes a year per street: Burglary has five clear leaders, then three streets tied across
# the top-3% cut (k = 6 of 200: all three are left out), the rest 0-2; Vehicle crime is
# five leaders over a random 0-4 (the sixth of the top 3% is one of many 4s, left out); Robbery is rare (the top 3% hold 1-2 crimes each: none reaches --hot-min 3)
year = {}
for i in range(200):
    year[(i, "Burglary")] = {0: 20, 31: 19, 62: 18, 93: 17, 124: 16, 155: 12, 156: 12, 157: 12}.get(i, i % 3)
    year[(i, "Vehicle crime")] = {10: 15, 41: 14, 71: 13, 100: 9, 131: 9}.get(i, rng.choice([0, 0, 1, 1, 2, 3, 4]))
    year[(i, "Robbery")] = 2 if i in (5, 77) else (1 if i % 9 == 0 else 0)
events = {m: [] for m in range(1, 13)}
for (i, cat), n in sorted(year.items()):
    for j in range(n):
        events[1 + (i + j) % 12].append((i, cat))
n = 0
for m in range(1, 13):
    month = f"2024-{m:02d}"
    os.makedirs(f"{out}/police/{month}", exist_ok=True)
    with open(f"{out}/police/{month}/{month}-testshire-street.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                    "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"])
        for i, cat in events[m]:
            name, (code, lname), lon, lat = streets[i]
            n += 1
            w.writerow([f"{n:064x}", month, "Testshire Police", "Testshire Police", f"{lon:.6f}",
                        f"{lat:.6f}", f"On or near {name}", code, lname, cat, "", ""])
with open(f"{out}/lookup.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["lsoa_code", "unit_code", "unit_name"])
    for code, _ in lsoas:
        w.writerow([code, unit_of[code], "Unit " + unit_of[code]])
PY
python3 "$T/gen.py" "$T" || fail "generator"
mb --db "$T/s.db" import --quiet "$T/police" || fail "import exit $?"
mb --db "$T/s.db" areas --layer L --lookup "$T/lookup.csv" --name-field unit_name > /dev/null ||
  fail "areas exit $?"
mb --db "$T/s.db" flags --layer L --from 2024-01 --to 2024-12 --no-charts --out "$T/o" > /dev/null ||
  fail "flags exit $?"
/usr/bin/python3 - "$T" "$T/o/flags_matrix.csv" <<'PY' || fail "hot streets disagree"
import csv, glob, math, sys
from collections import Counter
d, matrix = sys.argv[1], sys.argv[2]
unit_of = {r["lsoa_code"]: r["unit_code"] for r in csv.DictReader(open(f"{d}/lookup.csv"))}
rows = [r for f in sorted(glob.glob(f"{d}/police/*/*.csv")) for r in csv.DictReader(open(f))]
key = lambda r: (r["Location"].upper(), r["LSOA code"])
universe = {key(r) for r in rows if r["LSOA code"] in unit_of}
N = len(universe); k = math.ceil(3 * N / 100)
want = {}
for cat in sorted({r["Crime type"] for r in rows}):
    cnt = Counter(key(r) for r in rows if r["Crime type"] == cat and r["Month"] >= "2024-01")
    desc = sorted((cnt[s] for s in universe), reverse=True)
    cut = desc[k] if k < N else 0
    hot = {s for s in universe if cnt[s] > cut and cnt[s] >= 3}
    tied = sum(1 for s in universe if cnt[s] == cut)
    print(f"{cat}: N={N} k={k} cut={cut} hot={len(hot)} (streets at the cut: {tied})")
    for u in sorted(set(unit_of.values())):
        want[(u, cat)] = sum(1 for s in hot if unit_of[s[1]] == u)
got = {(r["unit_code"], r["category"]): int(r["hot_streets"]) for r in csv.DictReader(open(matrix))}
bad = [(x, got.get(x), want[x]) for x in want if got.get(x) != want[x]]
print("hot streets per unit:", sorted(want.items()), "differ (unit, category, got, want):", bad)
sys.exit(1 if bad or not want or len(got) != len(want) else 0)
PY
echo ok
