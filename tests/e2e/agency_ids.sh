#!/bin/bash
# Agency ids are stored as given (docs/hardening.md bug register: row_agency copied the id with
# the category's length). A row whose mapped id is blank has no id (ext_id NULL), not an id of
# NUL bytes stored as ''; an id keeps its own length whether its column comes before or after
# the category, and a long category after a short id in the last column is read within the row.
. "$(dirname "$0")/lib.sh"
cat > "$T/first.ini" <<'INI'
[source]
name = Test Fire
[columns]
id = ref
date = when
date_format = %d/%m/%Y
category = type
longitude = lon
latitude = lat
INI
cat > "$T/last.ini" <<'INI'
[source]
name = Test Council
[columns]
category = type
month = month
lsoa = lsoa
id = ref
INI
{
  echo 'ref,when,type,lon,lat'
  echo 'F1,03/02/2024,Deliberate secondary fire,0.12,52.2'
  echo ',04/02/2024,Vehicle fire,0.1,52.1'
  echo ',05/02/2024,Vehicle fire,0.1,52.1'
  echo 'LONG-ID-0001,06/02/2024,Fly,0.1,52.1'
} > "$T/first.csv"
long=$(printf 'A%.0s' $(seq 1 6000))
{
  echo 'type,month,lsoa,ref'
  echo "$long,2024-02,E01018218,C7"
  echo "Noise,2024-02,E01018218,"
} > "$T/last.csv"
db=$T/t.db
mb --db "$db" import --quiet --map "$T/first.ini" "$T/first.csv" || fail "import first.csv: exit $?"
mb --db "$db" import --quiet --map "$T/last.ini" "$T/last.csv" || fail "import last.csv: exit $?"
q() { sqlite3 "$db" "$1"; }
eq "events" "$(q 'select count(*) from event')" 6
eq "ids as given" "$(q "select group_concat(ext_id, '|') from (select ext_id from event where ext_id is not null order by ext_id)")" 'C7|F1|LONG-ID-0001'
eq "blank ids are NULL" "$(q 'select count(*) from event where ext_id is null')" 3
eq "no id holds a NUL or is empty" "$(q "select count(*) from event where ext_id = '' or instr(cast(ext_id as blob), x'00') > 0")" 0
check_stores "$T"
echo "ok"
