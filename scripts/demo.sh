#!/bin/bash
# The main job on the bundled demo district: generate it (deterministic), load it into a fresh
# store, and write the evidence to out/demo/: concentration (micro-beats, the power few),
# trends (is the rise real?), and, when the areas layer is available, the parish flags.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=./microbeat
DB=out/demo.db
OUT=out/demo
mkdir -p out
python3 scripts/gen_demo.py --out datasets/demo 2>/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm"
rm -rf "$OUT"
mkdir -p "$OUT"
run() { echo; echo "\$ microbeat $*"; $MB --db "$DB" "$@"; }
run import --quiet datasets/demo/policeuk
run import --quiet --map scripts/demo_agency_fire.ini datasets/demo/agency/fire_incidents.csv
run import --quiet --map scripts/demo_agency_asb.ini datasets/demo/agency/council_asb.csv
run import --quiet --map scripts/demo_force_extract.ini datasets/demo/force/force_extract.csv
run streets datasets/demo/gazetteer.csv
run info | sed -n '/^Coverage/,/^Events/p'
run concentration --area "South Cambridgeshire" --fy 2025 --compare-previous --harm \
  --out "$OUT/concentration"
run trends --area "South Cambridgeshire" --theme violence-public-order --from 2024-04 --to 2026-03 \
  --by type --out "$OUT/trends"
if $MB --help | grep -q '^  areas '; then
  run areas --layer parish --boundaries datasets/demo/parishes.geojson --code-field PARCD \
    --name-field PARNM --population datasets/demo/parishes.csv --pop-code-field parish_code \
    --pop-field population
  run flags --layer parish --area "South Cambridgeshire" --from 2024-04 --to 2026-03 --out "$OUT/flags"
fi
echo
echo "evidence written to $OUT/ (tables *.csv, charts *.png/*.svg with their .gp and .dat)"
