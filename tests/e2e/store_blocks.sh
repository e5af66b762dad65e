#!/bin/bash
# Column blocks (issue 18; docs/internals.md "Column blocks"): the per import x month BLOBs the
# analyses read hold exactly the event rows they copy, after every kind of write (police.uk
# months, a re-released month replacing its partition, an agency file spanning months with rows
# coded to a layer's units, its re-export replacing the months it covers, a force extract).
# Checked three ways:
#   1. an independent decoding in python3 of every BLOB (the documented format) against
#      `SELECT ... FROM event ORDER BY id` grouped by (import, month);
#   2. `microbeat check` says so (exit 0), and names a damaged or stale block (exit 5), which
#      an analysis refuses to read and `check --repair` rebuilds;
#   3. the analyses (and info) give byte-identical outputs from the blocks and from the row table (the
#      same store with its column and dimension blocks dropped and its schema set back to 2, as an
#      older store is read); a writing command migrates such a store and builds its blocks.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 shell not installed"
gen=$MB_ROOT/scripts/gen_demo.py
python3 "$gen" --out "$T/demo" >/dev/null 2>&1 || fail "gen_demo.py failed"
d=$T/demo db=$T/s.db
mb --db "$db" import --quiet "$d/policeuk" || fail "import police.uk: exit $?"
mb --db "$db" areas --layer parish --boundaries "$d/parishes.geojson" --code-field PARCD \
  --name-field PARNM >/dev/null || fail "areas: exit $?"
mb --db "$db" import --quiet --map "$MB_ROOT/scripts/demo_agency_fire.ini" "$d/agency/fire_incidents.csv" ||
  fail "import fire: exit $?"
mb --db "$db" import --quiet --map "$MB_ROOT/scripts/demo_force_extract.ini" "$d/force/force_extract.csv" ||
  fail "import force extract: exit $?"
# an agency file coded to parish units, its months interleaved (ids of one import span months)
cat > "$T/unit.ini" <<'INI'
[source]
name = Test Wardens
[columns]
id = ref
month = month
category = type
unit = parish
unit_layer = parish
INI
codes=$(cut -d, -f1 "$d/parishes.csv" | tail -n +2 | head -n 4 | tr '\n' ' ')
python3 - "$T/unit.csv" 0 $codes <<'PY'
import sys
out, extra, codes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = ["ref,month,type,parish"]
n = 0
for i in range(60 + extra):
    m = ["2024-01", "2024-03", "2024-02"][i % 3]
    rows.append(f"W{i},{m},{['Litter', 'Noise', 'Graffiti'][i % 3]},{codes[i % len(codes)]}")
open(out, "w").write("\n".join(rows) + "\n")
PY
mb --db "$db" import --quiet --map "$T/unit.ini" "$T/unit.csv" || fail "import unit-coded: exit $?"
# a re-released police.uk month (a few rows fewer, one more): replaces its partition
rel=$T/rel/2024-02
mkdir -p "$rel"
f=$d/policeuk/2024-02/2024-02-cambridgeshire-street.csv
newid=$(echo new | sha256sum | cut -c1-64)
{ head -n 1 "$f"; tail -n +2 "$f" | awk 'NR % 20 != 0'; tail -n 1 "$f" | sed "s/^[^,]*,/$newid,/"; } \
  > "$rel/2024-02-cambridgeshire-street.csv"
mb --db "$db" import --quiet "$T/rel" || fail "import re-release: exit $?"
# the agency re-export with 3 more rows: replaces the months it covers
python3 - "$T/unit2.csv" 3 $codes <<'PY'
import sys
out, extra, codes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = ["ref,month,type,parish"]
for i in range(60 + extra):
    m = ["2024-01", "2024-03", "2024-02"][i % 3]
    rows.append(f"W{i},{m},{['Litter', 'Noise', 'Graffiti'][i % 3]},{codes[i % len(codes)]}")
open(out, "w").write("\n".join(rows) + "\n")
PY
mb --db "$db" import --quiet --map "$T/unit.ini" "$T/unit2.csv" || fail "import re-export: exit $?"
q() { sqlite3 "$db" "$1"; }
[ "$(q 'select count(*) from event where flags & 1')" -gt 0 ] || fail "no unit-coded events: the test does not test them"
[ "$(q 'select count(*) from import where replaced_by is not null')" -ge 2 ] || fail "no replaced imports"

# 1. an independent decoding of every block against the event rows
python3 - "$db" <<'PY' || fail "the blocks differ from the event rows (above)"
import sqlite3, sys
from collections import defaultdict
db = sqlite3.connect(sys.argv[1])
want = defaultdict(list)
for row in db.execute("SELECT import_id, month, id, category_id, coalesce(location_id, 0),"
                      " source_id, flags FROM event ORDER BY id"):
    want[(row[0], row[1])].append(row[2:])
got = {}
for imp, month, first, last, n, data in db.execute(
        "SELECT import_id, month, first_id, last_id, n, data FROM event_block"):
    assert data[0] == 1, f"block {imp},{month}: version {data[0]}"
    w = list(data[1:6])
    assert len(data) == 8 + sum(w) * n, f"block {imp},{month}: {len(data)} bytes for {n} rows"
    cols, p = [], 8
    for k, width in enumerate(w):
        vals = []
        for i in range(n):
            vals.append(int.from_bytes(data[p:p + width], "little") if width else (i if k == 0 else 0))
            p += width
        cols.append(vals)
    ids = [first + d for d in cols[0]]
    assert ids[0] == first and ids[-1] == last, f"block {imp},{month}: id range"
    got[(imp, month)] = [tuple([ids[i]] + [c[i] for c in cols[1:]]) for i in range(n)]
bad = 0
for key in sorted(set(want) | set(got)):
    if want.get(key) != got.get(key):
        bad += 1
        print(f"import {key[0]} month {key[1]}: rows {len(want.get(key, []))}, block {len(got.get(key, []))}")
print(f"{len(got)} blocks, {sum(map(len, want.values()))} events, {bad} differ")
sys.exit(1 if bad or not got else 0)
PY

# 2. microbeat check: clean, then a damaged block, then a stale one
mb --db "$db" check > "$T/check.out" 2>&1 || fail "check on a clean store: exit $?: $(cat "$T/check.out")"
grep -q ', 0 differ' "$T/check.out" || fail "check: $(cat "$T/check.out")"
cp "$db" "$T/bad.db"
victim=$(sqlite3 "$T/bad.db" "select import_id || ' ' || month from event_block order by n desc limit 1")
read -r vimp vmonth <<< "$victim"
sqlite3 "$T/bad.db" "update event_block set data = zeroblob(length(data)) where import_id = $vimp and month = $vmonth"
mb --db "$T/bad.db" check > "$T/check.out" 2>&1; rc=$?
eq "check exit on a damaged block" "$rc" 5
ym=$(printf '%04d-%02d' $((2000 + vmonth / 12)) $((vmonth % 12 + 1)))
grep -q "import #$vimp, $ym: the column block differs" "$T/check.out" ||
  fail "check does not name the damaged block: $(cat "$T/check.out")"
mb --db "$T/bad.db" concentration --no-charts > "$T/conc.out" 2>&1 && fail "concentration read a damaged block"
grep -q "damaged: run 'microbeat check --repair'" "$T/conc.out" || fail "no damaged-block message: $(cat "$T/conc.out")"
cp "$db" "$T/badn.db"
sqlite3 "$T/badn.db" "update event_block set n = n * 1000 where import_id = $vimp and month = $vmonth"
mb --db "$T/badn.db" trends --no-charts > "$T/tr.out" 2>&1 && fail "trends read a block with a wrong count"
grep -q "damaged: run 'microbeat check --repair'" "$T/tr.out" || fail "no damaged-block message: $(cat "$T/tr.out")"
mb --db "$T/badn.db" check > "$T/check.out" 2>&1 && fail "check passes a block with a wrong count"
grep -q "import #$vimp, $ym: the column block differs" "$T/check.out" || fail "check: $(cat "$T/check.out")"
sqlite3 "$T/bad.db" "delete from event where id = (select max(id) from event where import_id = $vimp and month = $vmonth)"
mb --db "$T/bad.db" check --repair > "$T/check.out" 2>&1 || fail "check --repair: exit $?: $(cat "$T/check.out")"
grep -q ', 0 differ' "$T/check.out" || fail "check --repair: $(cat "$T/check.out")"
grep -q "events name\|belong to no import" "$T/check.out" && fail "repair: $(cat "$T/check.out")"
sqlite3 "$T/bad.db" "delete from import where id = $vimp"
mb --db "$T/bad.db" check > "$T/check.out" 2>&1; rc=$?
eq "check exit on orphan events" "$rc" 5
grep -q "events belong to no import" "$T/check.out" || fail "check misses orphan events: $(cat "$T/check.out")"

# 3. blocks and rows give the same analyses; an older store is migrated by a writing command
cp "$db" "$T/old.db"
sqlite3 "$T/old.db" "drop table event_block; drop table dim_block; drop trigger location_dim_i;
  drop trigger location_dim_u; drop trigger location_dim_d; drop trigger street_dim_i;
  drop trigger street_dim_u; drop trigger street_dim_d; pragma user_version = 2"
# (the unit-coded agency rows enter with their source: their unit is looked up per event)
wardens=(--source "Test Wardens" --source "Cambridgeshire Constabulary")
for n in 1 2 3 4 5 6 7; do
  case $n in
    1) a=(concentration --no-charts) ;;
    2) a=(concentration --layer parish --no-charts) ;;
    3) a=(trends --by type --no-charts) ;;
    4) a=(flags --layer parish --no-charts) ;;
    5) a=(flags --layer parish --no-charts "${wardens[@]}") ;;
    6) a=(trends --layer parish --area "$(cut -d, -f2 "$d/parishes.csv" | sed -n 2p)" --by type --no-charts "${wardens[@]}") ;;
    7) a=(deepdive --layer parish --area "$(cut -d, -f2 "$d/parishes.csv" | sed -n 2p)" --no-charts) ;;
  esac
  same_from_blocks "$db" "$T/old.db" "$T/new-$n" "$T/old-$n" "${a[@]}"
done
# info counts events, unlocated ones, months and LSOA codes a year from the blocks
mb --db "$db" info 2>&1 | tail -n +2 > "$T/info-new.txt" || fail "info (blocks): exit $?"
mb --db "$T/old.db" info 2>&1 | tail -n +2 > "$T/info-old.txt" || fail "info (rows): exit $?"
grep -q "LSOA codes seen per year" "$T/info-new.txt" || fail "info prints no LSOA vintages: $(cat "$T/info-new.txt")"
diff "$T/info-new.txt" "$T/info-old.txt" > "$T/diff" || fail "info: blocks and rows differ: $(head -n 20 "$T/diff")"
eq "an older store is read as it is" "$(sqlite3 "$T/old.db" 'pragma user_version')" 2
mb --db "$T/old.db" check > "$T/check.out" 2>&1 || fail "check on a schema-2 store: exit $?: $(cat "$T/check.out")"
grep -q "^column blocks: none in this store" "$T/check.out" || fail "check (schema 2): $(cat "$T/check.out")"
mb --db "$T/old.db" check --repair > "$T/mig.out" 2>&1 || fail "migration: exit $?: $(cat "$T/mig.out")"
grep -q "upgraded to schema 4: column blocks built for" "$T/mig.out" || fail "the migration says nothing: $(cat "$T/mig.out")"
eq "migrated" "$(sqlite3 "$T/old.db" 'pragma user_version')" 4
eq "same blocks after migration" "$(sqlite3 "$T/old.db" 'select hex(group_concat(data)) from (select data from event_block order by import_id, month)' | sha256sum)" \
  "$(q 'select hex(group_concat(data)) from (select data from event_block order by import_id, month)' | sha256sum)"
echo "ok"
