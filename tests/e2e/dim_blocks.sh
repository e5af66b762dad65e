#!/bin/bash
# Dimension blocks (issue 18 item 2; docs/internals.md "Dimension blocks"): the BLOBs of street
# and snap-point columns the analyses read instead of 2 M rows hold exactly the rows they copy,
# after every kind of write, and are never read stale. Checked:
#   1. an independent decoding in python3 of every BLOB (the documented format) against
#      `SELECT ... FROM street/location`, and the blocks of each table covering ids 1..max(id)
#      without a gap: after imports (a block a file), a gazetteer load, a reload of the same
#      gazetteer (nothing rewritten), another gazetteer replacing it, and imports after those;
#   2. the analyses give byte-identical outputs from the blocks and from the rows;
#   3. another program's write (the sqlite3 shell renaming the top street) deletes that table's
#      blocks through the schema's triggers, so the next analysis prints the new name; the next
#      import builds them again; a store whose trigger was dropped is read from its rows;
#   4. `microbeat check` names a damaged or forged block (exit 5), an analysis refuses a damaged
#      one, `check --repair` rebuilds them; a schema-3 store is read from its rows and migrated
#      (saying so) by a writing command.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 shell not installed"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" >/dev/null 2>&1 || fail "gen_demo.py failed"
d=$T/demo db=$T/s.db
q() { sqlite3 "$db" "$1"; }
# decode DB: every dimension block of DB against its rows (exit 1 and a line each that differs)
decode() {
  python3 - "$1" <<'PY'
import math, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
def f(v):  # a REAL as the block holds it: NULL is NaN
    return float("nan") if v is None else float(v)
def same(a, b):
    return all((isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
               or x == y for x, y in zip(a, b)) and len(a) == len(b)
rows = {
    0: {r[0]: (r[1] or 0, r[2] or 0, f(r[3]), f(r[4])) for r in
        db.execute("SELECT id, lsoa_id, street_id, lon, lat FROM location")},
    1: {r[0]: (r[1] or 0, r[2], f(r[3]), f(r[4]), r[5], r[6] or "") for r in
        db.execute("SELECT id, lsoa_id, gazetteer, lon, lat, name_norm, area_code FROM street")},
}
bad = 0
for kind, table in ((0, "location"), (1, "street")):
    got, covered = {}, 0
    for first, last, data in db.execute("SELECT first_id, last_id, data FROM dim_block"
                                        " WHERE kind = ? ORDER BY first_id", (kind,)):
        assert first == covered + 1, f"{table}: block {first}..{last} after {covered}"
        covered = last
        n = last - first + 1
        assert data[:4] == b"MBD1", f"{table} {first}: magic"
        assert struct.unpack_from("<II", data, 4) == (kind, n), f"{table} {first}: header"
        rs = 24 if kind == 0 else 21
        p = 12 + n * rs
        if kind == 1:
            strs = data[p:].split(b"\0")
            assert len(strs) == 2 * n + 1 and strs[-1] == b"", f"{table} {first}: strings"
            names, areas = strs[:n], strs[n:2 * n]
        else:
            assert len(data) == p, f"{table} {first}: length"
        for i in range(n):
            o = 12 + i * rs
            lsoa = struct.unpack_from("<I", data, o)[0]
            if lsoa == 0xFFFFFFFF:
                continue
            if kind == 0:
                street, lon, lat = struct.unpack_from("<Idd", data, o + 4)
                got[first + i] = (lsoa, street, lon, lat)
            else:
                gaz = data[o + 4]
                lon, lat = struct.unpack_from("<dd", data, o + 5)
                got[first + i] = (lsoa, gaz, lon, lat, names[i].decode(), areas[i].decode())
    want = rows[kind]
    if got and covered != max(want):
        bad += 1
        print(f"{table}: blocks cover 1..{covered}, rows to {max(want)}")
    if got:
        for k in sorted(set(want) | set(got)):
            if k not in want or k not in got or not same(want[k], got[k]):
                bad += 1
                if bad < 5:
                    print(f"{table} {k}: row {want.get(k)}, block {got.get(k)}")
    print(f"{table}: {len(got)} rows in blocks, {len(want)} rows")
sys.exit(1 if bad else 0)
PY
}
nblocks() { sqlite3 "$1" "select count(*) from dim_block where kind = $2"; }

mb --db "$db" import --quiet "$d/policeuk" || fail "import police.uk: exit $?"
[ "$(nblocks "$db" 0)" -gt 1 ] || fail "an import of several files gives one location block"
decode "$db" > "$T/dec.out" || fail "after the import: $(cat "$T/dec.out")"
mb --db "$db" streets "$d/gazetteer.csv" >/dev/null || fail "streets: exit $?"
eq "one street block after a gazetteer" "$(nblocks "$db" 1)" 1
decode "$db" > "$T/dec.out" || fail "after the gazetteer: $(cat "$T/dec.out")"
grep -q "^street: [1-9]" "$T/dec.out" || fail "no street rows decoded: $(cat "$T/dec.out")"
h1=$(q "select hex(data) from dim_block order by kind, first_id" | sha256sum)
mb --db "$db" streets "$d/gazetteer.csv" >/dev/null || fail "streets again: exit $?"
eq "the same gazetteer again rewrites no block" "$(q "select hex(data) from dim_block order by kind, first_id" | sha256sum)" "$h1"
mb --db "$db" areas --layer parish --boundaries "$d/parishes.geojson" --code-field PARCD \
  --name-field PARNM >/dev/null || fail "areas: exit $?"
mb --db "$db" import --quiet --map "$MB_ROOT/scripts/demo_agency_fire.ini" "$d/agency/fire_incidents.csv" ||
  fail "import fire: exit $?"
decode "$db" > "$T/dec.out" || fail "after an agency import: $(cat "$T/dec.out")"
mb --db "$db" check > "$T/check.out" 2>&1 || fail "check: exit $?: $(cat "$T/check.out")"
grep -q "^dimension blocks: [1-9][0-9]* compared with the street and snap-point rows, 0 differ" "$T/check.out" ||
  fail "check: $(cat "$T/check.out")"

# 2. blocks and rows give the same analyses
cp "$db" "$T/rows.db"
sqlite3 "$T/rows.db" "delete from dim_block"
area=$(cut -d, -f2 "$d/parishes.csv" | sed -n 2p)
for n in 1 2 3 4 5 6; do
  case $n in
    1) a=(concentration --no-charts) ;;
    2) a=(concentration --layer parish --by parish --compare-previous --no-charts) ;;
    3) a=(concentration --kind place --no-charts) ;;
    4) a=(hotspots --no-charts) ;;
    5) a=(flags --layer parish --no-charts) ;;
    6) a=(deepdive --layer parish --area "$area" --no-charts) ;;
  esac
  same_from_blocks "$db" "$T/rows.db" "$T/b-$n" "$T/r-$n" "${a[@]}"
done

# 3. another program's write: the triggers drop the blocks, the next import rebuilds them
top=$(awk -F, 'NR == 2 { print $2 }' "$T/b-1/hot_streets.csv")
[ -n "$top" ] || fail "no top street in hot_streets.csv"
cp "$db" "$T/edit.db"
sqlite3 "$T/edit.db" "update street set name_norm = 'RENAMED BY HAND' where name_norm = '$top'"
eq "street blocks after a foreign update" "$(nblocks "$T/edit.db" 1)" 0
[ "$(nblocks "$T/edit.db" 0)" -gt 0 ] || fail "a street update dropped the snap-point blocks"
mb --db "$T/edit.db" concentration --no-charts --out "$T/e" >/dev/null 2>&1 || fail "concentration after the edit: exit $?"
grep -q "^1,RENAMED BY HAND," "$T/e/hot_streets.csv" || fail "the edit is not read: $(sed -n 2p "$T/e/hot_streets.csv")"
sqlite3 "$T/edit.db" "update location set lat = lat + 0.001 where id = 1"
eq "snap-point blocks after a foreign update" "$(nblocks "$T/edit.db" 0)" 0
mb --db "$T/edit.db" import --quiet --map "$MB_ROOT/scripts/demo_agency_asb.ini" "$d/agency/council_asb.csv" ||
  fail "import after the edit: exit $?"
[ "$(nblocks "$T/edit.db" 0)" -gt 0 ] && [ "$(nblocks "$T/edit.db" 1)" -gt 0 ] || fail "the import built no blocks again"
decode "$T/edit.db" > "$T/dec.out" || fail "rebuilt after the edit: $(cat "$T/dec.out")"
# a dropped trigger: the blocks may be stale, so they are not read
cp "$db" "$T/notrig.db"
sqlite3 "$T/notrig.db" "drop trigger street_dim_u; update street set name_norm = 'NO TRIGGER ROAD' where name_norm = '$top'"
eq "street blocks kept without the trigger" "$(nblocks "$T/notrig.db" 1)" 1
mb --db "$T/notrig.db" concentration --no-charts --out "$T/nt" >/dev/null 2>&1 || fail "concentration without a trigger: exit $?"
grep -q "^1,NO TRIGGER ROAD," "$T/nt/hot_streets.csv" || fail "stale blocks read: $(sed -n 2p "$T/nt/hot_streets.csv")"
mb --db "$T/notrig.db" check > "$T/check.out" 2>&1 && fail "check passes a stale block"
grep -q "the street block of ids 1\.\.[0-9]* differs from the street rows" "$T/check.out" || fail "check: $(cat "$T/check.out")"
rm -f "$T/notrig.db"

# 4. check names a damaged or forged block; an analysis refuses a damaged one; repair
cp "$db" "$T/bad.db"
sqlite3 "$T/bad.db" "update dim_block set data = zeroblob(length(data)) where kind = 1"
mb --db "$T/bad.db" concentration --no-charts > "$T/c.out" 2>&1 && fail "concentration read a damaged block"
grep -q "the street block of ids 1\.\.[0-9]* is damaged ('microbeat check --repair' rebuilds it)" "$T/c.out" ||
  fail "no damaged-block message: $(cat "$T/c.out")"
mb --db "$T/bad.db" check > "$T/check.out" 2>&1; rc=$?
eq "check exit on a damaged block" "$rc" 5
grep -q "the street block of ids 1\.\.[0-9]* differs from the street rows" "$T/check.out" || fail "check: $(cat "$T/check.out")"
rm -f "$T/bad.db"
cp "$db" "$T/forged.db"
# one snap point's latitude changed in its block only (a valid block, the wrong value)
sqlite3 "$T/forged.db" "update dim_block set data = substr(data, 1, 12 + 16) || x'0000000000000000' || substr(data, 12 + 25)
  where kind = 0 and first_id = 1"
mb --db "$T/forged.db" check > "$T/check.out" 2>&1 && fail "check passes a forged block"
grep -q "the location block of ids 1\.\.[0-9]* differs from the location rows" "$T/check.out" || fail "check: $(cat "$T/check.out")"
mb --db "$T/forged.db" check --repair > "$T/check.out" 2>&1 || fail "check --repair: exit $?: $(cat "$T/check.out")"
grep -q "dimension blocks: 2 compared with the street and snap-point rows, 0 differ" "$T/check.out" ||
  fail "repair: $(cat "$T/check.out")"
decode "$T/forged.db" > "$T/dec.out" || fail "after the repair: $(cat "$T/dec.out")"
# a schema-3 store: read from its rows as it is, migrated by a writing command
cp "$db" "$T/v3.db"
sqlite3 "$T/v3.db" "drop table dim_block; drop trigger location_dim_i; drop trigger location_dim_u;
  drop trigger location_dim_d; drop trigger street_dim_i; drop trigger street_dim_u; drop trigger street_dim_d;
  pragma user_version = 3"
mb --db "$T/v3.db" concentration --no-charts --out "$T/v3" > /dev/null 2>&1 || fail "concentration on a schema-3 store: exit $?"
diff -r "$T/b-1" "$T/v3" > "$T/diff" || fail "schema 3 read differently: $(head -n 20 "$T/diff")"
eq "a schema-3 store is read as it is" "$(sqlite3 "$T/v3.db" 'pragma user_version')" 3
mb --db "$T/v3.db" check > "$T/check.out" 2>&1 || fail "check on a schema-3 store: exit $?: $(cat "$T/check.out")"
grep -q "^dimension blocks: none in this store" "$T/check.out" || fail "check (schema 3): $(cat "$T/check.out")"
mb --db "$T/v3.db" streets "$d/gazetteer.csv" > "$T/mig.out" 2>&1 || fail "streets on a schema-3 store: exit $?"
grep -q "upgraded to schema 4: dimension blocks built for its streets and snap points" "$T/mig.out" ||
  fail "the migration says nothing: $(cat "$T/mig.out")"
eq "migrated" "$(sqlite3 "$T/v3.db" 'pragma user_version')" 4
decode "$T/v3.db" > "$T/dec.out" || fail "after the migration: $(cat "$T/dec.out")"
# another gazetteer (every other row) replacing the first
awk -F, 'NR == 1 || NR % 2 == 0' "$d/gazetteer.csv" > "$T/half.csv"
mb --db "$db" streets "$T/half.csv" >/dev/null || fail "streets (half): exit $?"
decode "$db" > "$T/dec.out" || fail "after a second gazetteer: $(cat "$T/dec.out")"
mb --db "$db" import --quiet --map "$MB_ROOT/scripts/demo_agency_asb.ini" "$d/agency/council_asb.csv" ||
  fail "import after the second gazetteer: exit $?"
decode "$db" > "$T/dec.out" || fail "after an import on the second gazetteer: $(cat "$T/dec.out")"
check_stores "$T"
echo "ok"
