#!/bin/bash
# The main job on the bundled demo district: generate it (deterministic), load it into a fresh
# store, and produce the evidence. Output: out/demo.db and out/demo/ (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
MB=./microbeat
DB=out/demo.db
mkdir -p out
python3 scripts/gen_demo.py --out datasets/demo 2>/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm"
$MB --db "$DB" import --no-progress datasets/demo/policeuk
$MB --db "$DB" streets datasets/demo/gazetteer.csv
$MB --db "$DB" info
if $MB --help | grep -q '^  assess '; then
  $MB --db "$DB" assess --demo --out out/demo
fi
