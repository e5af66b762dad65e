#!/bin/bash
# hot_streets.geojson, streamed feature by feature (emit_features_*), against hot_streets.csv: one
# Point feature per row with coordinates, its properties the row's in jansson's order, and a
# layer named like a property ("crimes") handled as a JSON object does: the key keeps its
# first place (after lsoa_name, where the layers go) and the value set last (the count) wins.
# The expected objects are built here from the CSV with Python dicts, which keep a key's first
# place and its last value the same way.
. "$(dirname "$0")/lib.sh"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
DB=$T/d.db
mb --db "$DB" import --quiet "$T/demo/policeuk" || fail "import"
# first one layer (the features streamed as they come), then a second named "crimes" too
for layer in parish crimes; do
  mb --db "$DB" areas --layer $layer --boundaries "$T/demo/parishes.geojson" --code-field PARCD \
    --name-field PARNM > /dev/null || fail "areas $layer exit $?"
  mb --db "$DB" concentration --fy 2025 --no-charts --out "$T/$layer" > /dev/null ||
    fail "conc exit $?"
done
/usr/bin/python3 - "$T/parish" "$T/crimes" <<'PY' || fail "GeoJSON and CSV disagree"
import csv, json, sys
def compare(d, want_layers):
  rows = list(csv.reader(open(f"{d}/hot_streets.csv", newline="")))
  head, rows = rows[0], rows[1:]
  layers = head[7:head.index("near_street")]
  assert layers == want_layers, layers
  tail = {name: i for i, name in enumerate(head) if i >= 7 + len(layers)}
  fc = json.load(open(f"{d}/hot_streets.geojson"), object_pairs_hook=lambda kv: kv)
  fc = dict(fc)
  assert list(dict(fc).keys()) == ["type", "features"] and fc["type"] == "FeatureCollection"
  feats = [dict(f) for f in fc["features"]]
  want_rows = [r for r in rows if r[tail["longitude"]] and r[tail["latitude"]]]
  assert len(feats) == len(want_rows) > 0, (len(feats), len(want_rows))
  def unquote(s):  # the CSV's spreadsheet guard: a leading apostrophe on formula-like text
      return s[1:] if s[:1] == "'" and s[1:2] in "=+-@\t\r\n" else s
  bad = 0
  for f, r in zip(feats, want_rows):
      geo = dict(f["geometry"])
      lon, lat = geo["coordinates"]
      ok = [k for k, _ in f.items()] == ["type", "geometry", "properties"] and \
          f["type"] == "Feature" and geo["type"] == "Point" and \
          f"{lon:.6f}" == r[tail["longitude"]] and f"{lat:.6f}" == r[tail["latitude"]]
      want = {}
      if r[0]:
          want["rank"] = int(r[0])
      want["street"] = unquote(r[1])
      want["label"] = unquote(r[2])
      want["kind"] = r[3]
      want["cutoff_tie"] = r[0] != "" and r[4] != ""
      want["lsoa"] = r[5]
      want["lsoa_name"] = unquote(r[6])
      for j, name in enumerate(layers):
          want[name] = unquote(r[7 + j]) if r[7 + j] else None
      want["crimes"] = int(r[tail["crimes"]])
      want["dominant_types"] = r[tail["dominant_types"]]
      got = f["properties"]
      ok = ok and [k for k, _ in got] == list(want) and dict(got) == want
      if not ok and bad < 3:
          print("row", r[:3], "\n got ", got, "\n want", list(want.items()))
      bad += not ok
  print(f"{d}: {len(feats)} features, {bad} differ")
  return bad
sys.exit(compare(sys.argv[1], ["parish"]) + compare(sys.argv[2], ["parish", "crimes"]) > 0)
PY
echo "ok"
