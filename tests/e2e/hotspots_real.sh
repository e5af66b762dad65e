#!/bin/bash
# Real data: South Cambridgeshire, the 2024 hot list as the forecast for 2025 (issue 20 §4).
# forecast.csv agrees with an independent Python recount from the raw police.uk CSVs: micro-beats
# as in concentration_real.sh (a snap point keeps the street key of its latest month; places are
# their own micro-beat; the universe is every micro-beat of the district seen in any loaded month),
# counts of crimes (not ASB) per micro-beat in 2024 (prediction) and 2025 (observed), units
# ordered by the 2024 count, ties by the smaller 2025 count first (ptools' pai()), top
# k = ceil(p N / 100): hit rate n/N, PAI = (n/N)/(k/A), PEI = PAI / the best PAI with k units,
# RRI = predicted / observed in the top k. Also: every output file is written, the maps are drawn,
# Knox is refused with a clear message (police.uk has no dates). Gi*: every street micro-beat's
# position (mean of its snap points), neighbour count and z agree with an all-pairs Python
# evaluation on the local plane of docs/methods-hotspots.md §1 at the printed default band.
. "$(dirname "$0")/lib.sh"
need_shared
D=$MB_SHARED/datasets/policeuk/cambridgeshire
G=$MB_SHARED/datasets/geo/south-cambridgeshire/ward25.geojson
mb --db "$T/c.db" import --quiet "$D" || fail "import exit $?"
# Without an outline (the whole store before any boundary layer is loaded), the KDE's extent is the
# micro-beats' 0.5 %..99.5 % range each way widened by a tenth within the real extremes
# (methods-hotspots.md §5): the count printed beyond it equals a recount from gistar.csv's
# positions on the §1 plane (the ceil(q m)-th smallest of each axis). On these 37 months a few
# hundred lie beyond it, so an extent taken from the wrong values shows.
mb --db "$T/c.db" hotspots --year 2025 --out "$T/all" > "$T/all.out" || fail "hotspots (all) exit $?"
/usr/bin/python3 - "$T/all" "$T/all.out" <<'PY' || fail "KDE extent disagrees"
import csv, math, re, sys
d, out = sys.argv[1], open(sys.argv[2]).read()
m = re.search(r"local plane centred at (-?[\d.]+), (-?[\d.]+)", out)
lon0, lat0 = float(m.group(1)), float(m.group(2))
def mphi(p): p = math.radians(p); return 111132.92 - 559.82 * math.cos(2 * p) + 1.175 * math.cos(4 * p) - 0.0023 * math.cos(6 * p)
def mlam(p): p = math.radians(p); return 111412.84 * math.cos(p) - 93.5 * math.cos(3 * p) + 0.118 * math.cos(5 * p)
pts = [((float(r["lon"]) - lon0) * mlam(float(r["lat"])),
        (float(r["lat"]) - lat0) * mphi((float(r["lat"]) + lat0) / 2))
       for r in csv.DictReader(open(f"{d}/gistar.csv")) if r["lon"] and r["lat"]]
def q(v, p):
    v = sorted(v); k = math.ceil(p * len(v)); return v[k - 1 if k else 0]
xs, ys = [p[0] for p in pts], [p[1] for p in pts]
x0, x1, y0, y1 = q(xs, .005), q(xs, .995), q(ys, .005), q(ys, .995)
mx, my = .1 * (x1 - x0), .1 * (y1 - y0)
x0, x1 = max(x0 - mx, min(xs)), min(x1 + mx, max(xs))
y0, y1 = max(y0 - my, min(ys)), min(y1 + my, max(ys))
want = sum(1 for x, y in pts if x < x0 or x > x1 or y < y0 or y > y1)
m = re.search(r"(\d+) micro-beat\(s\) lie beyond the mapped extent", out)
got = int(m.group(1)) if m else 0
print(f"KDE extent: {len(pts)} micro-beats, {got} beyond it printed, {want} recounted")
sys.exit(0 if got == want and want > 0 else 1)
PY
mb --db "$T/c.db" areas --layer ward --boundaries "$G" --code-field WD25CD --name-field WD25NM \
  > /dev/null || fail "areas exit $?"
mb --db "$T/c.db" hotspots --area "South Cambridgeshire" --year 2025 --out "$T/out" > "$T/stdout" ||
  fail "hotspots exit $?"
grep -q "clipped to the units of layer 'ward' holding the area's micro-beats" "$T/stdout" ||
  fail "outline not taken from the ward layer"
# the outline drawn is the 26 wards' rings (the layer's file, every ward holds a snap point)
rings=$(awk '/^#/ { next } NF == 0 { n++ } END { print n }' "$T/out/hotspot_map-outline.dat")
[ "$rings" -ge 26 ] || fail "outline rings: $rings"
# --layer ward --area: the outline of exactly the chosen wards (their rings, vertex for vertex,
# in the file's order) over both maps, and every KDE cell inside one of them (even-odd rule)
mb --db "$T/c.db" hotspots --layer ward --area "Histon & Impington,Milton & Waterbeach,Girton" \
  --year 2025 --out "$T/wards" > "$T/wards.out" || fail "hotspots --layer ward exit $?"
grep -q "clipped to the 3 selected units of layer 'ward'" "$T/wards.out" || fail "ward outline: $(grep KDE "$T/wards.out")"
/usr/bin/python3 - "$G" "$T/wards" <<'PY' || fail "ward outline disagrees"
import csv, json, sys
geo, out = sys.argv[1], sys.argv[2]
want = {"Histon & Impington", "Milton & Waterbeach", "Girton"}
rings = []
for f in json.load(open(geo))["features"]:
    if f["properties"]["WD25NM"] in want:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            rings.extend(poly)
bad = 0
for m in ("hotspot_map", "hotspot_kde"):
    got, cur = [], []
    for line in open(f"{out}/{m}-outline.dat"):
        if line.startswith("#"):
            continue
        if not line.strip():
            got.append(cur); cur = []
        else:
            cur.append(line)
    if [len(r) for r in got] != [len(r) for r in rings]:
        print(f"{m}: rings of {[len(r) for r in got][:8]}..., want {[len(r) for r in rings][:8]}..."); bad += 1
def inside(x, y):
    c = False
    for r in rings:
        for (x1, y1), (x2, y2) in zip(r, r[1:] + r[:1]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                c = not c
    return c
cells = list(csv.DictReader(open(f"{out}/kde_grid.csv")))
# the cell centres are printed to 1e-6 degree (0.1 m): a centre that close to a ward edge may
# fall either side, hence the allowance of a few cells
outside = sum(not inside(float(c["lon"]), float(c["lat"])) for c in cells)
if not cells or outside > 3:
    print(f"{outside} of {len(cells)} KDE cells outside the chosen wards"); bad += 1
print(f"ward outline: {len(rings)} rings; {len(cells)} KDE cells, {outside} outside")
sys.exit(1 if bad else 0)
PY
for f in gistar.csv hotspot_classes.csv kde_grid.csv forecast.csv hotspots.geojson \
         hotspot_map.gp hotspot_map.dat hotspot_kde.gp hotspot_kde.dat; do
  [ -s "$T/out/$f" ] || fail "$f not written"
done
[ ! -e "$T/out/knox.csv" ] || fail "knox.csv written without dates"
grep -q "Knox near-repeat: not run: the events have no dates" "$T/stdout" || fail "knox absence not said"
grep -q "Gi\* band: [0-9]* m (default" "$T/stdout" || fail "default band not printed"
grep -q "cell [0-9]* m (default" "$T/stdout" || fail "default KDE cell not printed"
mb --db "$T/c.db" hotspots --area "South Cambridgeshire" --year 2025 --knox > /dev/null 2> "$T/err"
eq "--knox on police.uk exit" "$?" 2
grep -q "police.uk data gives the month only" "$T/err" || fail "knox refusal unclear: $(cat "$T/err")"
/usr/bin/python3 - "$D" "$T/out" <<'PY' || fail "recount disagrees"
import csv, glob, math, sys
data, out = sys.argv[1], sys.argv[2]
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
latest = {}
for row in rows:
    if row["Longitude"] != "":
        pt = (row["Longitude"], row["Latitude"])
        name = norm(row["Location"])
        key = ("place",) + pt if name in places else (name, row["LSOA code"])
        if pt not in latest or row["Month"] >= latest[pt][0]:
            latest[pt] = (row["Month"], key)
universe, c24, c25 = set(), {}, {}
for row in rows:
    if row["Longitude"] == "" or not row["LSOA name"].startswith("South Cambridgeshire"):
        continue
    key = latest[(row["Longitude"], row["Latitude"])][1]
    universe.add(key)
    if row["Crime type"] == "Anti-social behaviour":
        continue
    if row["Month"].startswith("2024-"):
        c24[key] = c24.get(key, 0) + 1
    elif row["Month"].startswith("2025-"):
        c25[key] = c25.get(key, 0) + 1
keys = sorted(universe)
A = len(keys)
obs = [c25.get(k, 0) for k in keys]
pred = [c24.get(k, 0) for k in keys]
N = sum(obs)
order = sorted(range(A), key=lambda i: (-pred[i], obs[i], i))
best = sorted(obs, reverse=True)
got = list(csv.DictReader(open(out + "/forecast.csv")))
assert len(got) == 5, got
bad = 0
for g in got:
    p = int(g["top_pct"]); k = (p * A + 99) // 100
    n = sum(obs[i] for i in order[:k]); pr = sum(pred[i] for i in order[:k])
    want = {"streets_listed": k, "streets": A, "crimes_in_list": n, "crimes": N,
            "hit_rate": n / N, "pai": (n / N) / (k / A),
            "pei": ((n / N) / (k / A)) / ((sum(best[:k]) / N) / (k / A)), "rri": pr / n}
    for name, w in want.items():
        v = float(g[name])
        if abs(v - w) > 1e-5 * max(1, abs(w)):
            print(f"top {p}%: {name} = {v}, want {w}"); bad += 1
gi = list(csv.DictReader(open(out + "/gistar.csv")))
if len(gi) != A:
    print(f"gistar.csv has {len(gi)} rows, want {A}"); bad += 1
if sum(int(r["crimes"]) for r in gi) != N:
    print("gistar.csv crimes do not add up to", N); bad += 1
# Gi*: positions (mean of each micro-beat's snap points), the local plane of
# docs/methods-hotspots.md §1, all-pairs neighbours within the printed band, Ord & Getis's z
import re
band = float(re.search(r"Gi\* band: (\d+) m", open(out + "/../stdout").read()).group(1))
sx, sy, sn = {}, {}, {}
for pt, (m, key) in latest.items():
    if key in universe:
        sx[key] = sx.get(key, 0) + float(pt[0]); sy[key] = sy.get(key, 0) + float(pt[1])
        sn[key] = sn.get(key, 0) + 1
lon = [sx[k] / sn[k] for k in keys]; lat = [sy[k] / sn[k] for k in keys]
lon0, lat0 = sum(lon) / A, sum(lat) / A
def mlat(d):
    f = math.radians(d)
    return 111132.92 - 559.82 * math.cos(2 * f) + 1.175 * math.cos(4 * f) - 0.0023 * math.cos(6 * f)
def mlon(d):
    f = math.radians(d)
    return 111412.84 * math.cos(f) - 93.5 * math.cos(3 * f) + 0.118 * math.cos(5 * f)
X = [(lon[i] - lon0) * mlon(lat[i]) for i in range(A)]
Y = [(lat[i] - lat0) * mlat((lat[i] + lat0) / 2) for i in range(A)]
xbar = N / A
S = math.sqrt(sum(v * v for v in obs) / A - xbar * xbar)
byname = {(r["street"], r["lsoa"], r["lon"], r["lat"]): r for r in gi}
checked = 0
for i in range(A):
    nb = [j for j in range(A) if (X[j] - X[i]) ** 2 + (Y[j] - Y[i]) ** 2 <= band * band]
    W = len(nb)
    key = keys[i]
    name = key[0] if key[0] != "place" else None
    r = byname.get((name, key[1], f"{lon[i]:.6f}", f"{lat[i]:.6f}")) if name else None
    if r is None:
        continue
    checked += 1
    if W == 1:
        if r["class"] != "isolated":
            print("not isolated:", key); bad += 1
        continue
    z = (sum(obs[j] for j in nb) - xbar * W) / (S * math.sqrt((A * W - W * W) / (A - 1)))
    if abs(float(r["gi_z"]) - z) > 1e-3 or int(r["neighbours"]) != W - 1:
        print(f"Gi* {key}: got z {r['gi_z']} nb {r['neighbours']}, want {z:.4f} {W - 1}"); bad += 1
if checked < A * 0.8:
    print(f"only {checked} of {A} Gi* rows matched by name"); bad += 1
print(f"Gi* recount: {checked} street micro-beats checked at band {band:.0f} m")
print(f"recount: N={A} micro-beats, {N} crimes in 2025, PAI at 1% {got[0]['pai']}")
sys.exit(1 if bad else 0)
PY
echo "ok"
