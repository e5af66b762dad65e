#!/bin/bash
# Other agencies' CSVs through a column map: BNG eastings/northings converted with PROJ, LSOA
# codes, bad rows rejected with file:line:col, every row accounted for.
. "$(dirname "$0")/lib.sh"
cat > "$T/fire.ini" <<'INI'
[source]
name = Test Fire and Rescue
[columns]
id = ref
date = when
date_format = %d/%m/%Y
category = type
easting = e
northing = n
INI
{
  echo "ref,when,type,e,n"
  echo "F1,03/02/2024,Deliberate secondary fire,545000,258000"
  echo "F2,31/02/2024,Deliberate secondary fire,545000,258000"   # no 31 February
  echo "F3,04/02/2024,,545000,258000"                             # blank category
  echo "F4,05/02/2024,Vehicle fire,abc,258000"                    # not a number
  echo "F1,06/02/2024,Vehicle fire,545000,258000"                 # duplicate id
  echo "F5,07/03/2024,Vehicle fire,,"                             # no location: unlocated
} > "$T/fire.csv"
mb --db "$T/a.db" import --no-progress --map "$T/fire.ini" "$T/fire.csv" > "$T/out" 2> "$T/err"; rc=$?
eq "exit (rows rejected)" "$rc" 3
grep -q "^microbeat: $T/fire.csv:3:[0-9]*: date '31/02/2024'" "$T/err" || fail "bad date message: $(cat "$T/err")"
grep -q "^microbeat: $T/fire.csv:4:[0-9]*: category is blank" "$T/err" || fail "blank category message"
grep -q "^microbeat: $T/fire.csv:5:[0-9]*: easting/northing 'abc'" "$T/err" || fail "bad easting message"
grep -q "^microbeat: $T/fire.csv:6:1: duplicate id 'F1' (first at line 2)" "$T/err" || fail "duplicate message"
eq "counts" "$(sqlite3 "$T/a.db" "SELECT rows_read||' '||rows_loaded||' '||rows_duplicate||' '||rows_rejected FROM import")" "6 2 1 3"
eq "source" "$(sqlite3 "$T/a.db" "SELECT DISTINCT s.name FROM event e JOIN source s ON s.id = e.source_id")" "Test Fire and Rescue"
# E 545000 N 258000 is 0.1200 E, 52.2010 N (central Cambridge; the OS guide formulae give the same, see test_geo)
eq "converted point" "$(sqlite3 "$T/a.db" "SELECT printf('%.3f %.3f', l.lon, l.lat) FROM event e JOIN location l ON l.id = e.location_id WHERE e.flags = 0")" "0.120 52.201"
eq "unlocated row" "$(sqlite3 "$T/a.db" "SELECT count(*) FROM event WHERE flags & 1")" 1
eq "month" "$(sqlite3 "$T/a.db" "SELECT group_concat(month) FROM (SELECT month FROM event ORDER BY month)")" "289,290"

# LSOA-coded data (council ASB) keyed on the code, either vintage
cat > "$T/asb.ini" <<'INI'
[source]
name = Test Council
[columns]
id = case_id
date = date
date_format = %Y-%m-%d
category = category
lsoa = lsoa_code
INI
printf 'case_id,date,category,lsoa_code\nA1,2024-05-01,Fly-tipping,E01018218\nA2,2024-05-02,Noise,X123\n' > "$T/asb.csv"
mb --db "$T/a.db" import --no-progress --map "$T/asb.ini" "$T/asb.csv" > "$T/out" 2> "$T/err"
grep -q "asb.csv:3:[0-9]*: LSOA code 'X123'" "$T/err" || fail "bad LSOA message: $(cat "$T/err")"
eq "lsoa event" "$(sqlite3 "$T/a.db" "SELECT q.code FROM event e JOIN location l ON l.id = e.location_id JOIN lsoa q ON q.id = l.lsoa_id JOIN category c ON c.id = e.category_id WHERE c.name = 'Fly-tipping'")" "E01018218"

# real postcodes (OS Code-Point Open, BNG): every one converts and lands in the district's box
if [ -f "$MB_SHARED/datasets/geo/south-cambridgeshire/codepoint_open_2014_postcodes.csv" ]; then
  awk -F, 'NR > 1 { gsub(/"/, "", $1); print $1 ",01/06/2024,Postcode," $3 "," $4 }' \
    "$MB_SHARED/datasets/geo/south-cambridgeshire/codepoint_open_2014_postcodes.csv" |
    { echo "ref,when,type,e,n"; cat; } > "$T/pc.csv"
  want=$(($(wc -l < "$T/pc.csv") - 1))
  mb --db "$T/p.db" import --quiet --map "$T/fire.ini" "$T/pc.csv" || fail "postcode import exit $?"
  eq "postcodes loaded and located" "$(sqlite3 "$T/p.db" "SELECT count(*) FROM event e JOIN location l ON l.id = e.location_id WHERE l.lon BETWEEN -0.25 AND 0.55 AND l.lat BETWEEN 51.95 AND 52.45")" "$want"
fi
check_stores "$T"
echo ok
