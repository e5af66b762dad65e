#!/bin/bash
# A store holding objects microbeat did not create is refused for writing, naming the object
# (issue 21 item 14, src/store.c:schema_check): tables and views named like the bulk writer's
# row feeds (mb_feed_*, src/store_feed.c; bug 16: before the check they were read instead of the
# feeds), a trigger that deletes every event as it is inserted (before the check an import
# reported "600 loaded", exit 0, with 0 rows stored), an extra table, and one of the store's
# own views with another definition. Each refused import exits 5, names the object, stores
# nothing and leaves the object alone; once the object is dropped, the import stores exactly
# what an import into a clean store does. The expected set is derived from the program's own
# schema, so a store it created (and migrated) passes.
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
events() { sqlite3 "$T/h.db" "SELECT count(*) FROM event"; }
before=$(events)
eq "events of April stored" "$before" "$(tail -n +2 "$A" | grep -c .)"
# refused IMPORT-ARGS... NAME KIND: the import into h.db exits 5, names KIND 'NAME', stores nothing
refused() {
  local kind=${@: -1} name=${@: -2:1} out rc
  out=$(mb --db "$T/h.db" import --no-progress "${@:1:$#-2}" 2>&1); rc=$?
  eq "import into a store with $kind $name: exit" "$rc" 5
  case $out in *"holds $kind '$name'"*) ;; *) fail "message does not name $kind '$name': $out" ;; esac
  case $out in *loaded*) fail "a refused import claims rows: $out" ;; esac
  eq "events after the refused import ($name)" "$(events)" "$before"
}
sqlite3 "$T/h.db" "
  CREATE TABLE mb_feed_event(a, b, c, d, e, f, g, h, i, j);
  INSERT INTO mb_feed_event VALUES(1, 1, NULL, 1, 1, NULL, NULL, 1, NULL, 0);
  CREATE VIEW mb_feed_street AS SELECT 999999, 'INJECTED', NULL;
  CREATE VIEW mb_feed_location AS SELECT 999999, 'INJECTED', 0.0, 0.0, NULL, NULL;
  CREATE VIEW mb_feed_outcome AS SELECT 1, 1, x'00', 1, 1;" || fail "could not plant the objects"
refused "$B" "$O" mb_feed_event table
eq "the store's objects left alone" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'mb_feed_%'; SELECT count(*) FROM mb_feed_event")" "4
1"
sqlite3 "$T/h.db" "DROP TABLE mb_feed_event" || fail "drop"
refused "$B" "$O" mb_feed_street view
sqlite3 "$T/h.db" "DROP VIEW mb_feed_street; DROP VIEW mb_feed_location; DROP VIEW mb_feed_outcome;
  CREATE TRIGGER t AFTER INSERT ON event BEGIN DELETE FROM event WHERE id = new.id; END;" || fail "plant trigger"
refused "$B" "$O" t trigger
sqlite3 "$T/h.db" "DROP TRIGGER t; CREATE TABLE notes(x);" || fail "plant table"
refused "$B" notes table
# one of the store's own views, redefined: "with a definition microbeat did not give it"
sqlite3 "$T/h.db" "DROP TABLE notes; DROP VIEW crime_outcome;
  CREATE VIEW crime_outcome AS SELECT crime_id, 0 AS outcome_id, month FROM outcome_row;" || fail "plant view"
out=$(mb --db "$T/h.db" import --no-progress "$B" 2>&1); rc=$?
eq "redefined view: exit" "$rc" 5
case $out in *"view 'crime_outcome' with a definition microbeat did not give it"*) ;; *) fail "redefined view: $out" ;; esac
sqlite3 "$T/h.db" "DROP VIEW crime_outcome;
  CREATE VIEW crime_outcome AS SELECT crime_id, outcome_id, max(month) AS month FROM outcome_row GROUP BY crime_id;" ||
  fail "restore view"
# the read-only commands still read it (info names what is there)
mb --db "$T/h.db" info >/dev/null || fail "info on the restored store exit $?"

mb --db "$T/h.db" import --quiet "$B" "$O" || fail "import B into the restored store exit $?"
for t in event location street outcome_row; do
  a=$(sqlite3 "$T/clean.db" "SELECT * FROM $t ORDER BY rowid" | md5sum)
  b=$(sqlite3 "$T/h.db" "SELECT * FROM $t ORDER BY rowid" | md5sum)
  eq "$t rows as in a clean store" "$b" "$a"
done
eq "events of May stored" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM event WHERE month = (2023 - 2000) * 12 + 4")" \
  "$(tail -n +2 "$B" | grep -c .)"
eq "outcome rows stored" "$(sqlite3 "$T/h.db" "SELECT count(*) FROM outcome_row")" 450

# The analyses hold an event's category id in 16 bits (struct slice): id 65,535 is read as
# itself; a store another program gave a larger id is refused, naming why, not read mangled.
cp "$T/clean.db" "$T/c.db" || fail "copy"
sqlite3 "$T/c.db" "INSERT INTO category(id, name) VALUES (65535, 'Edge type');
  UPDATE event SET category_id = 65535 WHERE id IN (SELECT id FROM event
    WHERE flags & 1 = 0 AND month = (2023 - 2000) * 12 + 4 ORDER BY id LIMIT 7);" ||
  fail "category 65535"
mb --db "$T/c.db" check --repair >/dev/null || fail "check --repair exit $?"
out=$(mb --db "$T/c.db" concentration --from 2023-05 --to 2023-05 --types "Edge type" --no-charts \
  --format csv) || fail "concentration of category id 65535 exit $?"
eq "crimes of category id 65535" "$(printf '%s\n' "$out" | awk -F, '$1 == "crimes" { print $2 }')" 7
sqlite3 "$T/c.db" "INSERT INTO category(id, name) VALUES (65536, 'Past type')" || fail "category 65536"
for cmd in concentration trends; do
  out=$(mb --db "$T/c.db" $cmd --from 2023-05 --to 2023-05 --no-charts 2>&1); rc=$?
  eq "$cmd on a store with category id 65536: exit" "$rc" 3
  case $out in *"category id above 65,535 (65536)"*) ;; *) fail "$cmd: message: $out" ;; esac
done
echo "stores with planted tables, views and a trigger: refused naming the object, nothing written; restored: as a clean store; category ids to 65,535 read, past it refused"
