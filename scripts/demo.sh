#!/bin/bash
# The main job on the bundled demo district: generate it (deterministic), load it into a fresh
# store (police.uk files, the agency data, the street gazetteer, the parish layer with its
# populations), and write the strategic assessment pack to out/demo/ (microbeat assess with
# datasets/assess_demo.ini): report.md, a self-contained report.html, tables/, charts/.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=./microbeat
DB=out/demo.db
OUT=out/demo
mkdir -p out
python3 scripts/gen_demo.py --out datasets/demo 2>/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm"
rm -rf "$OUT"
run() { echo "\$ microbeat $*"; $MB --db "$DB" "$@"; }
run import --quiet datasets/demo/policeuk
if [ -d datasets/demo/extract ] && $MB --help | grep -q '^  import '; then
  # the force extract (date/time, offence subgroup, DA flag), when the generator writes one
  # and this build imports it
  run import --quiet datasets/demo/extract || echo "(force extract not imported by this build)"
fi
run import --quiet --map scripts/demo_agency_fire.ini datasets/demo/agency/fire_incidents.csv
run import --quiet --map scripts/demo_agency_asb.ini datasets/demo/agency/council_asb.csv
run import --quiet --map scripts/demo_force_extract.ini datasets/demo/force/force_extract.csv
run streets datasets/demo/gazetteer.csv
run areas --layer parish --boundaries datasets/demo/parishes.geojson --code-field PARCD \
  --lookup datasets/demo/lsoa_to_parish.csv \
  --name-field PARNM --population datasets/demo/parishes.csv --pop-code-field parish_code \
  --pop-field population >/dev/null
run assess --config datasets/assess_demo.ini --out "$OUT" 2> >(grep -v 'gives no harm weight' >&2) >/dev/null
echo
echo "the assessment pack is in $OUT/ (tables/*.csv, charts/, hot_streets.geojson); open:"
echo "$PWD/$OUT/report.html"
