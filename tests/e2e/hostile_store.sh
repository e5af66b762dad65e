#!/bin/bash
# A store holding tables and views named like the bulk writer's row feeds (mb_feed_event,
# mb_feed_street, mb_feed_location, mb_feed_outcome, src/store_feed.c), each giving an
# INJECTED row: an import into it stores exactly what an import into a clean store does
# (every row of event, location, street and outcome_row), none of the injected rows, and
# leaves the store's own objects alone. An unqualified feed name would read the store's
# objects first (SQLite looks in the schema before eponymous tables): the writer names its
# feeds temp.mb_feed_*.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 shell missing"
D=$MB_DATA/demo/policeuk
A=$D/2023-04/2023-04-cambridgeshire-street.csv B=$D/2023-05/2023-05-cambridgeshire-street.csv
[ -f "$A" ] && [ -f "$B" ] || fail "demo files missing: $A $B"
# an outcomes file for May's crimes (the first 500 with a Crime ID), written with Python's csv
python3 - "$B" "$T/2023-05-cambridgeshire-outcomes.csv" <<'PY' || fail "outcomes fixture"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], newline="")) if r["Crime ID"]][:500]
cols = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
        "LSOA code", "LSOA name", "Outcome type"]
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for i, r in enumerate(rows):
        w.writerow([r[c] for c in cols[:9]] + [["Local resolution", "Suspect charged"][i % 2]])
PY
O=$T/2023-05-cambridgeshire-outcomes.csv

mb --db "$T/clean.db" import --quiet "$A" || fail "clean import A exit $?"
mb --db "$T/clean.db" import --quiet "$B" "$O" || fail "clean import B exit $?"

mb --db "$T/h.db" import --quiet "$A" || fail "import A exit $?"
sqlite3 "$T/h.db" "
  CREATE TABLE mb_feed_event(a, b, c, d, e, f, g, h, i, j);
  INSERT INTO mb_feed_event VALUES(1, 1, NULL, 1, 1, NULL, NULL, 1, NULL, 0);
  CREATE VIEW mb_feed_street AS SELECT 999999, 'INJECTED', NULL;
  CREATE VIEW mb_feed_location AS SELECT 999999, 'INJECTED', 0.0, 0.0, NULL, NULL;
  CREATE VIEW mb_feed_outcome AS SELECT 1, 1, x'00', 1, 1;" || fail "could not plant the objects"
mb --db "$T/h.db" import --quiet "$B" "$O" || fail "import B into the planted store exit $?"

for t in event location street outcome_row; do
  a=$(sqlite3 "$T/clean.db" "SELECT * FROM $t ORDER BY rowid" | md5sum)
  b=$(sqlite3 "$T/h.db" "SELECT * FROM $t ORDER BY rowid" | md5sum)
  eq "$t rows as in a clean store" "$b" "$a"
done
eq "events of May stored" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM event WHERE month = (2023 - 2000) * 12 + 4")" \
  "$(tail -n +2 "$B" | grep -c .)"
eq "outcome rows stored" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM outcome_row")" 500
eq "no injected row" "$(sqlite3 "$T/h.db" "SELECT (SELECT count(*) FROM location WHERE name = 'INJECTED') + (SELECT count(*) FROM street WHERE name_norm = 'INJECTED') + (SELECT count(*) FROM outcome_row WHERE crime_id = x'00')")" 0
eq "the store's own objects left alone" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'mb_feed_%'; SELECT count(*) FROM mb_feed_event")" "4
1"
echo "a store with objects named like the feeds: import stores what a clean store gets, nothing injected"
