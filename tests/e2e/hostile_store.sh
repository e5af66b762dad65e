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
# two monthly street files (600 rows each over 40 streets, some ASB without a Crime ID, a few
# "No location" rows) and an outcomes file for May's first 500 crimes, made here
A=$T/2023-04-cambridgeshire-street.csv B=$T/2023-05-cambridgeshire-street.csv
O=$T/2023-05-cambridgeshire-outcomes.csv
python3 - "$T" <<'PY' || fail "fixture generation failed"
import csv, hashlib, os, sys
T = sys.argv[1]; force = "Cambridgeshire Constabulary"
types = ["Burglary", "Violence and sexual offences", "Anti-social behaviour", "Vehicle crime"]
hdr = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
       "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
may = []
for month in ("2023-04", "2023-05"):
    with open(os.path.join(T, month + "-cambridgeshire-street.csv"), "w", newline="") as f:
        w = csv.writer(f); w.writerow(hdr)
        for i in range(600):
            s = i % 40; t = types[i % 4]
            cid = "" if t == types[2] else hashlib.sha256(f"{month}-{i}".encode()).hexdigest()
            if i % 97 == 0:
                lon = lat = ""; loc = "No Location"; lsoa = lname = ""
            else:
                lon = f"{0.1 + s * 0.001:.6f}"; lat = f"{52.2 + s * 0.001:.6f}"
                loc = f"On or near Street {s}"; lsoa = f"E0100{1000 + s % 7}"
                lname = f"South Cambridgeshire {s % 7:03d}A"
            w.writerow([cid, month, force, force, lon, lat, loc, lsoa, lname, t,
                        "" if not cid else "Under investigation", ""])
            if month == "2023-05" and cid:
                may.append([cid, month, force, force, lon, lat, loc, lsoa, lname])
with open(os.path.join(T, "2023-05-cambridgeshire-outcomes.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(hdr[:9] + ["Outcome type"])
    for i, r in enumerate(may[:500] if len(may) >= 500 else may):
        w.writerow(r + [["Local resolution", "Suspect charged"][i % 2]])
PY
[ "$(tail -n +2 "$O" | grep -c .)" = 450 ] || fail "outcomes fixture: $(tail -n +2 "$O" | grep -c .) rows"

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
eq "outcome rows stored" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM outcome_row")" 450
eq "no injected row" "$(sqlite3 "$T/h.db" "SELECT (SELECT count(*) FROM location WHERE name = 'INJECTED') + (SELECT count(*) FROM street WHERE name_norm = 'INJECTED') + (SELECT count(*) FROM outcome_row WHERE crime_id = x'00')")" 0
eq "the store's own objects left alone" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'mb_feed_%'; SELECT count(*) FROM mb_feed_event")" "4
1"
echo "a store with objects named like the feeds: import stores what a clean store gets, nothing injected"
