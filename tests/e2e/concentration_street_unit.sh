#!/bin/bash
# --street-unit LAYER keys a micro-beat on name + unit (here the demo parishes, given as an LSOA
# lookup) instead of name + LSOA code, a place keeping its one snap point; --kind and the gazetteer universe are checked against an
# independent Python recount from the demo files.
. "$(dirname "$0")/lib.sh"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
DB=$T/d.db
mb --db "$DB" import --quiet "$T/demo/policeuk" || fail "import"
mb --db "$DB" streets "$T/demo/gazetteer.csv" > /dev/null || fail "streets"
# the parish layer as an LSOA lookup, written straight into the store's tables
sqlite3 "$DB" "INSERT INTO layer(id, name, method) VALUES (1, 'parish', 'lookup');"
/usr/bin/python3 - "$T/demo" "$DB" <<'PY' || fail "layer setup"
import csv, sqlite3, sys
d, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
for r in csv.DictReader(open(d + "/parishes.csv")):
    con.execute("INSERT INTO unit(layer_id, code, name, population) VALUES (1, ?, ?, ?)",
                (r["parish_code"], r["parish_name"], float(r["population"])))
for r in csv.DictReader(open(d + "/lsoa_to_parish.csv")):
    uid = con.execute("SELECT id FROM unit WHERE code = ?", (r["parish_code"],)).fetchone()[0]
    con.execute("INSERT INTO lsoa_unit(lsoa_code, unit_id) VALUES (?, ?)", (r["lsoa_code"], uid))
con.commit()
PY
for kind in all street place; do
  mb --db "$DB" concentration --area "South Cambridgeshire" --fy 2025 --street-unit parish --kind $kind \
    --no-charts --format csv > "$T/$kind.csv" || fail "concentration --street-unit ($kind) exit $?"
done
/usr/bin/python3 - "$T/demo" "$T" <<'PY' || fail "recount disagrees"
import csv, glob, sys
d, t = sys.argv[1], sys.argv[2]
places = {r["place"].upper() for r in csv.DictReader(open("datasets/place_names.csv"))}
parish = {r["lsoa_code"]: r["parish_code"] for r in csv.DictReader(open(d + "/lsoa_to_parish.csv"))}
def norm(s):
    s = s[11:] if s.lower().startswith("on or near ") else s
    return " ".join(s.split()).upper()
keys, counts = set(), {}
for r in csv.DictReader(open(d + "/gazetteer.csv")):
    if norm(r["street_name"]) not in places:  # a place is a snap point, not a gazetteer row
        keys.add((norm(r["street_name"]), r["area_code"]))
for path in glob.glob(d + "/policeuk/*/*.csv"):
    for r in csv.DictReader(open(path, newline="")):
        if not r["Longitude"]:
            continue
        k = (norm(r["Location"]), parish[r["LSOA code"]])
        if k[0] in places:  # a place is one snap point whatever the unit (issue 15)
            k = (k[0], r["Longitude"], r["Latitude"])
        keys.add(k)
        m = r["Month"]
        if "2025-04" <= m <= "2026-03" and r["Crime type"] != "Anti-social behaviour":
            counts[k] = counts.get(k, 0) + 1
bad = 0
for kind in ("all", "street", "place"):
    ks = [k for k in keys if kind == "all" or (k[0] in places) == (kind == "place")]
    N, C = len(ks), sum(counts.get(k, 0) for k in ks)
    got = {r["measure"]: r["value"] for r in csv.DictReader(open(f"{t}/{kind}.csv"))}
    if int(got["streets"]) != N or int(got["crimes"]) != C:
        print(f"{kind}: microbeat N={got['streets']} C={got['crimes']}, recount N={N} C={C}")
        bad += 1
    else:
        print(f"{kind}: N={N} C={C} agree")
sys.exit(1 if bad else 0)
PY
echo ok
