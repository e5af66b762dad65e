#!/bin/bash
# police.uk bulk zips are read directly (no unpacking); a truncated zip is reported and loses
# nothing already committed; a new release of a (force, month) replaces that partition and
# reports added / removed / changed crimes matched by Crime ID.
. "$(dirname "$0")/lib.sh"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
P=$T/demo/policeuk
(cd "$P" && zip -qr "$T/bulk.zip" 2024-01 2024-02 2024-03) || fail "zip"
want=$(cat "$P"/2024-0[123]/*.csv | grep -vc '^Crime ID')
mb --db "$T/z.db" import --no-progress "$T/bulk.zip" > "$T/out" 2>&1 || fail "zip import exit $?: $(cat "$T/out")"
eq "rows from the zip" "$(sqlite3 "$T/z.db" 'SELECT count(*) FROM event')" "$want"
grep -q "bulk.zip:2024-02/2024-02-cambridgeshire-street.csv: import #2" "$T/out" || fail "entry naming: $(cat "$T/out")"
# the same zip again: a no-op
mb --db "$T/z.db" import --no-progress "$T/bulk.zip" > "$T/out2" 2>&1 || fail "re-import exit $?"
eq "unchanged entries" "$(grep -c 'unchanged (same SHA-256' "$T/out2")" 3
# a truncated zip: whole entries before the cut stay, the cut one is rolled back, the error names the file
size=$(stat -c %s "$T/bulk.zip")
head -c $((size * 2 / 3)) "$T/bulk.zip" > "$T/cut.zip"
mb --db "$T/c.db" import --no-progress "$T/cut.zip" > "$T/out3" 2>&1; rc=$?
[ $rc = 3 ] || [ $rc = 4 ] || fail "truncated zip exit $rc: $(cat "$T/out3")"
grep -q "^microbeat: $T/cut.zip.*\(truncated\|corrupt\)" "$T/out3" || fail "truncated message: $(cat "$T/out3")"
eq "truncated: store holds whole files only" "$(sqlite3 "$T/c.db" 'SELECT count(*) FROM import WHERE rows_loaded <> (SELECT count(*) FROM event e WHERE e.import_id = import.id)')" 0
eq "truncated: integrity" "$(sqlite3 "$T/c.db" 'PRAGMA integrity_check')" ok

# partition replacement: a later release of 2024-01 with one crime removed, one added, one
# outcome changed, and one ASB row fewer
f=$P/2024-01/2024-01-cambridgeshire-street.csv
mb --db "$T/p.db" import --no-progress "$f" > /dev/null || fail "first release"
before=$(sqlite3 "$T/p.db" 'SELECT count(*) FROM event')
mkdir -p "$T/rel2/2024-01"
g=$T/rel2/2024-01/2024-01-cambridgeshire-street.csv
awk -F, 'BEGIN { OFS = "," }
  NR == 1 { print; next }
  $1 != "" && ++crime == 1 { next }                          # removed
  $1 != "" && crime == 2 { $11 = "Offender given a caution" } # changed outcome
  $1 == "" && ++asb == 1 { next }                             # one ASB row fewer
  { print }
  END { print "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff,2024-01,Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.1,52.2,On or near New Street,E01990001,South Cambridgeshire 001A,Burglary,Under investigation," }' "$f" > "$g"
mb --db "$T/p.db" import --no-progress "$g" > "$T/out4" 2>&1 || fail "second release exit $?: $(cat "$T/out4")"
grep -q "replaces import #1 for this partition: 1 crimes added, 1 removed, 1 changed" "$T/out4" || fail "diff report: $(cat "$T/out4")"
grep -q "rows without Crime ID: $(awk -F, 'NR > 1 && $1 == ""' "$f" | wc -l) before, $(awk -F, 'NR > 1 && $1 == ""' "$g" | wc -l) now" "$T/out4" || fail "ASB counts: $(cat "$T/out4")"
eq "events after replacement" "$(sqlite3 "$T/p.db" 'SELECT count(*) FROM event')" "$((before - 1))"
eq "only the new release remains" "$(sqlite3 "$T/p.db" 'SELECT group_concat(DISTINCT import_id) FROM event')" 2
eq "old import marked replaced" "$(sqlite3 "$T/p.db" 'SELECT replaced_by FROM import WHERE id = 1')" 2
check_stores "$T"
echo ok
