#!/bin/bash
# Points without an LSOA code (a fire service's incidents) in an authority named with a layer
# (docs/methods.md, "Area with --layer L"): such a point is in the authority when the layer's
# boundaries put it in a unit most of whose snap points with an LSOA code are the authority's.
# Two squares: WEST holds 4 Alpha snap points, EAST holds 3 Beta ones and 1 Alpha one (a border
# unit of another district). 'flags --layer sq --area Alpha' places the 5 incidents in WEST and
# leaves the 4 in EAST outside the area (one Alpha snap point in EAST once sufficed), and every
# police crime by its LSOA as before.
. "$(dirname "$0")/lib.sh"
D=$T/data; mkdir -p "$D/2025-01" "$D/2025-02"
/usr/bin/python3 - "$D" <<'PY'
import csv, hashlib, sys
d = sys.argv[1]
hdr = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
       "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
# (lon, lat, street, lsoa code, lsoa name): WEST is lon 0.00..0.01, EAST 0.01..0.02, lat 52.00..52.01
pts = [(0.002, 52.002, "A ROAD", "E01000001", "Alpha 001A"), (0.004, 52.004, "B ROAD", "E01000001", "Alpha 001A"),
       (0.006, 52.006, "C ROAD", "E01000001", "Alpha 001A"), (0.008, 52.008, "D ROAD", "E01000001", "Alpha 001A"),
       (0.012, 52.002, "E ROAD", "E01000002", "Beta 001A"), (0.014, 52.004, "F ROAD", "E01000002", "Beta 001A"),
       (0.016, 52.006, "G ROAD", "E01000002", "Beta 001A"), (0.011, 52.009, "H ROAD", "E01000001", "Alpha 001A")]
for m in ("2025-01", "2025-02"):
    with open(f"{d}/{m}/{m}-testshire-street.csv", "w", newline="") as f:
        w = csv.writer(f); w.writerow(hdr)
        for i, (lon, lat, st, code, name) in enumerate(pts):
            for k in range(3):
                w.writerow([hashlib.sha256(f"{m}{i}{k}".encode()).hexdigest(), m, "Testshire Police", "Testshire Police",
                            f"{lon:.6f}", f"{lat:.6f}", f"On or near {st}", code, name, "Burglary", "", ""])
with open(f"{d}/fire.csv", "w", newline="") as f:
    w = csv.writer(f); w.writerow(["ref", "date", "type", "lon", "lat"])
    for i, (lon, lat) in enumerate([(0.001, 52.001), (0.003, 52.007), (0.005, 52.005), (0.007, 52.002),
                                    (0.009, 52.009), (0.013, 52.003), (0.015, 52.008), (0.017, 52.005),
                                    (0.019, 52.001)]):
        w.writerow([f"F{i}", "15/02/2025", "Deliberate secondary fire", f"{lon:.6f}", f"{lat:.6f}"])
sq = lambda x0, x1: [[[x0, 52.0], [x1, 52.0], [x1, 52.01], [x0, 52.01], [x0, 52.0]]]
import json
json.dump({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"CODE": "W1", "NAME": "WEST"}, "geometry": {"type": "Polygon", "coordinates": sq(0.0, 0.01)}},
    {"type": "Feature", "properties": {"CODE": "E1", "NAME": "EAST"}, "geometry": {"type": "Polygon", "coordinates": sq(0.01, 0.02)}}]},
    open(f"{d}/sq.geojson", "w"))
PY
printf '[source]\nname = Test Fire\n[columns]\nid = ref\ndate = date\ndate_format = %%d/%%m/%%Y\ncategory = type\nlongitude = lon\nlatitude = lat\n' > "$D/fire.ini"
DB=$T/a.db
mb --db "$DB" import --quiet "$D/2025-01" "$D/2025-02" || fail "import police"
mb --db "$DB" import --quiet --map "$D/fire.ini" "$D/fire.csv" || fail "import fire"
mb --db "$DB" areas --layer sq --boundaries "$D/sq.geojson" --code-field CODE --name-field NAME \
  > /dev/null || fail "areas"
mb --db "$DB" flags --layer sq --area Alpha --from 2025-01 --to 2025-02 --no-charts --out "$T/f" \
  > "$T/out" 2> "$T/err" || fail "flags: $(cat "$T/err")"
grep -q "Test Fire 5 placed in the area, 0 not placed" "$T/out" ||
  fail "fire incidents: $(grep '^Events by source' "$T/out")"
grep -q "Testshire Police 30 placed in the area" "$T/out" ||
  fail "police crimes (15 Alpha snap-point crimes a month): $(grep '^Events by source' "$T/out")"
/usr/bin/python3 - "$T/f/flags_matrix.csv" <<'PY' || fail "flags matrix"
import csv, hashlib, sys
obs = {(r["unit_name"], r["category"]): int(r["observed"]) for r in csv.DictReader(open(sys.argv[1]))}
assert obs.get(("WEST", "Deliberate secondary fire")) == 5, obs
assert obs.get(("EAST", "Deliberate secondary fire"), 0) == 0, obs
assert obs.get(("WEST", "Burglary")) == 24 and obs.get(("EAST", "Burglary")) == 6, obs
PY
echo "ok: 5 of 9 incidents in the authority's unit, the border unit's 4 outside"
