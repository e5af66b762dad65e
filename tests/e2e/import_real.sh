#!/bin/bash
# Real data: all 37 Cambridgeshire months import; counts agree with an independent awk count;
# re-importing is a no-op; info names the 21-month gap.
. "$(dirname "$0")/lib.sh"
need_shared
D=$MB_SHARED/datasets/policeuk/cambridgeshire
DB=$T/real.db
mb --db "$DB" import --quiet "$D" || fail "import exit $?"
# independent counts with awk (a CSV-aware split: fields may be quoted and hold commas)
awk_csv='function split_csv(line, f,   n, i, c, q, cur) { n = 0; cur = ""; q = 0
  for (i = 1; i <= length(line); i++) { c = substr(line, i, 1)
    if (q) { if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 } else cur = cur c }
    else if (c == "\"") q = 1; else if (c == ",") { f[++n] = cur; cur = "" } else cur = cur c }
  f[++n] = cur; return n }'
for f in "$D"/*/*-street.csv; do tail -n +2 "$f"; done | tr -d '\r' > "$T/all.csv"
awk "$awk_csv"'{ split_csv($0, f); m[f[2]]++ } END { for (k in m) print k, m[k] }' "$T/all.csv" | sort > "$T/want_month"
sqlite3 "$DB" "SELECT printf('%04d-%02d', 2000 + month / 12, month % 12 + 1), count(*) FROM event GROUP BY month ORDER BY 1" | tr '|' ' ' > "$T/got_month"
diff "$T/want_month" "$T/got_month" > /dev/null || fail "rows per month differ: $(diff "$T/want_month" "$T/got_month" | head)"
eq "months" "$(wc -l < "$T/got_month")" 37
awk "$awk_csv"'{ split_csv($0, f); t[f[10]]++ } END { for (k in t) print k "|" t[k] }' "$T/all.csv" | sort > "$T/want_type"
sqlite3 "$DB" "SELECT c.name, count(*) FROM event e JOIN category c ON c.id = e.category_id GROUP BY 1 ORDER BY 1" > "$T/got_type"
diff "$T/want_type" "$T/got_type" > /dev/null || fail "rows per type differ: $(diff "$T/want_type" "$T/got_type" | head)"
want_sc=$(awk "$awk_csv"'{ split_csv($0, f); if (index(f[9], "South Cambridgeshire ") == 1) n++ } END { print n }' "$T/all.csv")
eq "South Cambridgeshire rows (README: 9,318 + 8,891 + 9,345)" "$want_sc" 27554
got_sc=$(sqlite3 "$DB" "SELECT count(*) FROM event e JOIN location l ON l.id = e.location_id
  JOIN lsoa q ON q.id = l.lsoa_id WHERE EXISTS (SELECT 1 FROM lsoa_name n WHERE n.lsoa_id = q.id
  AND n.name LIKE 'South Cambridgeshire %')")
eq "South Cambridgeshire rows in the store" "$got_sc" "$want_sc"
# the 2021 file uses an LSOA name that 2025 renumbers: one code, two names
eq "E01018221 names" "$(sqlite3 "$DB" "SELECT group_concat(n.name, ';') FROM (SELECT n.name FROM lsoa_name n JOIN lsoa l ON l.id = n.lsoa_id WHERE l.code = 'E01018221' ORDER BY n.name) n")" "South Cambridgeshire 005A;South Cambridgeshire 022A"
eq "blank Crime ID exactly on ASB rows" "$(sqlite3 "$DB" "SELECT count(*) FROM event e JOIN category c ON c.id = e.category_id WHERE (e.ext_id IS NULL) <> (c.name = 'Anti-social behaviour')")" 0
eq "sum check for every import" "$(sqlite3 "$DB" "SELECT count(*) FROM import WHERE rows_read <> rows_loaded + rows_duplicate + rows_rejected")" 0
eq "stop-and-search rows" "$(sqlite3 "$DB" "SELECT count(*) FROM stop_search")" 2855
# what the bulk writer's feed tables wrote (store_feed.c): a missing id is NULL, never 0;
# the "No location" rows (blank coordinates) share one snap point with no coordinates, LSOA
# or street; every other snap point has all three, one per distinct (LSOA, lon, lat, Location)
eq "no 0 ids" "$(sqlite3 "$DB" "SELECT count(*) FROM event WHERE outcome_id = 0 OR location_id = 0 OR falls_id = 0")" 0
want_nl=$(awk "$awk_csv"'{ split_csv($0, f); if (f[5] == "" && f[6] == "") n++ } END { print n + 0 }' "$T/all.csv")
eq "events at a snap point without coordinates = rows without them" "$(sqlite3 "$DB" "SELECT count(*) FROM event e JOIN location l ON l.id = e.location_id WHERE l.lon IS NULL")" "$want_nl"
eq "snap points without coordinates" "$(sqlite3 "$DB" "SELECT count(*) FROM location WHERE lon IS NULL OR lat IS NULL OR lsoa_id IS NULL OR street_id IS NULL; SELECT count(*) FROM location WHERE lon IS NULL AND lat IS NULL AND lsoa_id IS NULL AND street_id IS NULL")" "1
1"
want_no=$(awk "$awk_csv"'{ split_csv($0, f); if (f[11] == "") n++ } END { print n + 0 }' "$T/all.csv")
eq "events without an outcome = rows with a blank outcome" "$(sqlite3 "$DB" "SELECT count(*) FROM event WHERE outcome_id IS NULL")" "$want_no"
want_sp=$(awk "$awk_csv"'{ split_csv($0, f); if (f[5] != "") k[f[8] "|" sprintf("%.0f|%.0f", f[5] * 1e6, f[6] * 1e6) "|" f[7]] = 1 } END { print length(k) }' "$T/all.csv")
eq "snap points with coordinates = distinct (LSOA, lon, lat, Location)" "$(sqlite3 "$DB" "SELECT count(*) FROM location WHERE lon IS NOT NULL")" "$want_sp"
# outcome rows (the outcome feed): a file's first row of each (Crime ID, outcome type) is
# kept, a repeat is a duplicate; per outcome type, awk over every outcomes file
for f in "$D"/*/*-outcomes.csv; do tail -n +2 "$f" | tr -d '\r' | awk -v F="$f" 'NF { print F "," $0 }'; done > "$T/outc.csv"
awk "$awk_csv"'{ split_csv($0, f); if (!((f[1] SUBSEP f[2] SUBSEP f[11]) in seen)) { seen[f[1], f[2], f[11]] = 1; t[f[11]]++ } } END { for (k in t) print k "|" t[k] }' "$T/outc.csv" | LC_ALL=C sort > "$T/want_outc"
sqlite3 "$DB" "SELECT o.name, count(*) FROM outcome_row r JOIN outcome o ON o.id = r.outcome_id GROUP BY 1" | LC_ALL=C sort > "$T/got_outc"
diff "$T/want_outc" "$T/got_outc" > /dev/null || fail "outcome rows per type differ: $(diff "$T/want_outc" "$T/got_outc" | head)"
eq "outcome rows" "$(sqlite3 "$DB" "SELECT count(*) FROM outcome_row")" "$(awk -F'|' '{ n += $2 } END { print n }' "$T/want_outc")"
eq "nothing of the bulk writer in the schema" "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'mb_feed%'")" 0
# re-import: a no-op that says so
before=$(sqlite3 "$DB" "SELECT count(*) FROM event; SELECT count(*) FROM import")
mb --db "$DB" import --no-progress "$D" > "$T/again" 2>&1 || fail "re-import exit $?"
grep -q "2024-06-cambridgeshire-street.csv: unchanged (same SHA-256 as import #" "$T/again" || fail "no 'unchanged' message"
grep -q "total: 0 files loaded, 74 unchanged" "$T/again" || fail "re-import summary: $(tail -1 "$T/again")"
eq "store unchanged by re-import" "$(sqlite3 "$DB" "SELECT count(*) FROM event; SELECT count(*) FROM import")" "$before"
# the coverage grid names the gap
mb --db "$DB" info > "$T/info" || fail "info exit $?"
grep -q "2022-04..2023-12  GAP: 21 months missing" "$T/info" || fail "gap not reported: $(grep -A3 Coverage "$T/info")"
grep -q "Events: 257,642 in 37 months" "$T/info" || fail "event total: $(grep Events "$T/info")"
echo ok
