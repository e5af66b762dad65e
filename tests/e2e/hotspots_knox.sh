#!/bin/bash
# Issue 20 §5 through the command: the Knox near-repeat test on a dated agency extract (no
# shared data). A synthetic fire-service file (British National Grid metres, dates DD/MM/YYYY,
# seeded): "Planted" = 200 incidents over 5 km x 5 km in 2025, 120 of them followed by a repeat
# 10-60 m away 1-6 days later; "Random" = 320 incidents, places and dates independent. Placed in
# the area by a one-polygon layer (agency points carry no LSOA). The agency points lie on no
# micro-beat, so 'hotspots' runs Knox alone and writes knox.csv. Checked against an independent
# Python recount of pairs by distance band x time band (BNG distances; a pair within 0.5 % of a
# band edge may fall either side, as the program measures on its own plane), the exact
# permutation expectation (pairs of places in the distance band x pairs of dates in the time
# band / all pairs: each place pair gets a uniformly random date pair) against the Monte Carlo
# mean, p = (#{sim >= obs} + 1) / (R + 1) on the grid k / (R + 1), the planted near cell detected
# (p = 1 / (R + 1)), the random set's near cell not (p > 0.05), and the same seed giving the same
# file.
. "$(dirname "$0")/lib.sh"
DB=$T/k.db
cat > "$T/fire.ini" <<'INI'
[source]
name = Test Fire and Rescue
[columns]
id = ref
date = when
date_format = %d/%m/%Y
category = type
easting = e
northing = n
INI
/usr/bin/python3 - "$T/fire.csv" <<'PY'
import datetime, random, sys
rng = random.Random(20)
rows = []
base = datetime.date(2025, 1, 1)
def add(kind, e, n, day):
    rows.append((kind, e, n, base + datetime.timedelta(days=day)))
for i in range(200):
    e, n, d = 540000 + rng.random() * 5000, 255000 + rng.random() * 5000, rng.randrange(0, 355)
    add("Planted", e, n, d)
    if i < 120:
        r, a = 10 + rng.random() * 50, rng.random() * 6.283185307
        import math
        add("Planted", e + r * math.cos(a), n + r * math.sin(a), d + rng.randrange(1, 7))
for i in range(320):
    add("Random", 540000 + rng.random() * 5000, 255000 + rng.random() * 5000, rng.randrange(0, 365))
with open(sys.argv[1], "w") as f:
    f.write("ref,when,type,e,n\n")
    for k, (kind, e, n, d) in enumerate(rows):
        f.write(f"F{k:04d},{d.strftime('%d/%m/%Y')},{kind},{e:.0f},{n:.0f}\n")
PY
cat > "$T/box.geojson" <<'JSON'
{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"CD":"B1","NM":"Box"},"geometry":{"type":"Polygon","coordinates":[[[-0.2,52.0],[0.4,52.0],[0.4,52.4],[-0.2,52.4],[-0.2,52.0]]]}}]}
JSON
mb --db "$DB" import --quiet --map "$T/fire.ini" "$T/fire.csv" || fail "import exit $?"
mb --db "$DB" areas --layer box --boundaries "$T/box.geojson" --code-field CD --name-field NM \
  > /dev/null || fail "areas exit $?"
for kind in Planted Random; do
  mb --db "$DB" hotspots --layer box --area Box --year 2025 --types "$kind" --out "$T/$kind" \
    > "$T/$kind.out" 2> "$T/$kind.err" || fail "$kind: hotspots exit $?: $(cat "$T/$kind.err")"
  grep -q "Gi\*, patterns, KDE and forecast: not run: 0 micro-beat(s)" "$T/$kind.out" ||
    fail "$kind: Knox-only mode not said: $(cat "$T/$kind.out")"
  grep -q "^Knox near-repeat ([0-9]* dated events" "$T/$kind.out" || fail "$kind: no Knox line"
  eq "$kind: files" "$(ls "$T/$kind" | tr '\n' ' ')" "knox.csv "
done
# the same seed, the same table; another R gives p on its own grid
mb --db "$DB" hotspots --layer box --area Box --year 2025 --types Planted --out "$T/again" \
  > /dev/null || fail "rerun exit $?"
cmp -s "$T/Planted/knox.csv" "$T/again/knox.csv" || fail "same seed, different knox.csv"
mb --db "$DB" hotspots --layer box --area Box --year 2025 --types Planted --knox-permutations 1999 \
  --out "$T/r1999" > /dev/null || fail "R 1999 exit $?"
/usr/bin/python3 - "$T/fire.csv" "$T" <<'PY' || fail "Knox recount disagrees"
import csv, datetime, math, sys
src, T = sys.argv[1], sys.argv[2]
D = [100, 200, 300, 400, 500]   # the default bands (docs/methods-hotspots.md §6)
S = [7, 14, 21, 28, 35]
def band(v, edges):
    for b, e in enumerate(edges):
        if v < e:
            return b
    return None
bad = 0
rows = list(csv.DictReader(open(src)))
for kind in ("Planted", "Random"):
    ev = [(float(r["e"]), float(r["n"]), datetime.datetime.strptime(r["when"], "%d/%m/%Y").toordinal())
          for r in rows if r["type"] == kind]
    n = len(ev)
    lo = [[0] * 5 for _ in D]; hi = [[0] * 5 for _ in D]
    place_pairs = [0] * 5; date_pairs = [0] * 5
    for i in range(n):
        for j in range(i + 1, n):
            d = math.hypot(ev[i][0] - ev[j][0], ev[i][1] - ev[j][1])
            g = abs(ev[i][2] - ev[j][2])
            tb = band(g, S)
            if tb is not None:
                date_pairs[tb] += 1
            b_lo, b_hi = band(d * 1.005, D), band(d / 1.005, D)   # the bands d may fall in
            if b_hi is not None:
                place_pairs[b_hi] += 1
            if tb is None:
                continue
            if b_lo is not None and b_lo == b_hi:
                lo[b_lo][tb] += 1
            for b in {x for x in (b_lo, b_hi) if x is not None}:
                hi[b][tb] += 1
    allp = n * (n - 1) / 2
    for perm_dir, R in ((kind, 999),) + ((("r1999", 1999),) if kind == "Planted" else ()):
        got = list(csv.DictReader(open(f"{T}/{perm_dir}/knox.csv")))
        if len(got) != 25:
            print(f"{perm_dir}: {len(got)} rows"); bad += 1; continue
        for g in got:
            a, b = D.index(float(g["distance_to_m"])), S.index(float(g["days_to"]))
            obs, exp, p = int(g["pairs_observed"]), float(g["pairs_expected"]), float(g["p"])
            if not lo[a][b] <= obs <= hi[a][b]:
                print(f"{perm_dir} cell {D[a]} m {S[b]} d: observed {obs}, recount {lo[a][b]}..{hi[a][b]}"); bad += 1
            exact = place_pairs[a] * date_pairs[b] / allp
            if abs(exp - exact) > 0.05 * exact + 0.1:
                print(f"{perm_dir} cell {D[a]} m {S[b]} d: expected {exp}, exact {exact:.3f}"); bad += 1
            k = p * (R + 1)
            if abs(k - round(k)) > 0.06 or not 1 <= round(k) <= R + 1:
                print(f"{perm_dir} cell {D[a]} m {S[b]} d: p {p} not k/(R+1) for R {R}"); bad += 1
            if obs == 0 and abs(p - 1) > 1e-9:
                print(f"{perm_dir}: p {p} for 0 observed pairs (every permutation >= 0: want 1)"); bad += 1
        near = got[0]
        assert near["distance_to_m"] == "100" and near["days_to"] == "7", near
        if kind == "Planted":
            if abs(float(near["p"]) - 1 / (R + 1)) > 1e-4 or float(near["knox_ratio"]) < 3:
                print(f"planted near-repeat not detected at R {R}: {near}"); bad += 1
            print(f"planted, R {R}: near cell {near['pairs_observed']} pairs, expected "
                  f"{near['pairs_expected']}, ratio {near['knox_ratio']}, p {near['p']}")
        else:
            if float(near["p"]) <= 0.05:
                print(f"random set detected: {near}"); bad += 1
            print(f"random: near cell {near['pairs_observed']} pairs, expected "
                  f"{near['pairs_expected']}, p {near['p']}")
sys.exit(1 if bad else 0)
PY
echo ok
