#!/bin/bash
# A gazetteer load is one transaction: SIGKILLed at several points of a run that replaces one
# gazetteer by another (while rows are matched, while the street table is written, during the
# commit's checkpoint), the store holds the old gazetteer or the new one, whole: PRAGMA
# integrity_check is ok and the street, lsoa and lsoa_name tables equal those of one of the two
# uninterrupted loads (compared row for row). The same load run again on a killed store then
# gives the new one. The two gazetteers share half their streets (the second moves and re-codes
# some, drops others, adds its own), so the kills land in deletes, unmarkings, in-place updates
# and inserts.
#   GC_ROWS   rows of each gazetteer (default 300000; 60000 under sanitizers)
#   GC_POINTS kill points in percent of the uninterrupted load's time (default "10 30 50"); then
#             from 60% on in steps of 8% until a load ends before its kill (up to 300%)
. "$(dirname "$0")/lib.sh"
[ "${MB_VALGRIND:-0}" = 1 ] && skip "kill timing is meaningless under valgrind"
command -v sqlite3 > /dev/null || skip "sqlite3 is not available"
command -v python3 > /dev/null || skip "python3 is not available"
rows=${GC_ROWS:-$([ -n "${MB_SANITIZED:-}" ] && echo 60000 || echo 300000)}
points=${GC_POINTS:-10 30 50}

# the crime store: 6 crimes on 3 streets, one snap point each
mkdir -p "$T/p/2024-01"
{
  echo "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
  for i in 1 2 3 4 5 6; do
    id=$(printf 'gc%d' "$i" | sha256sum | cut -c1-64)
    case $i in
      1|2) lon=0.100000 lsoa=E01000001 street="Street 1" ;;
      3|4) lon=0.200000 lsoa=E01000002 street="Street 2" ;;
      *) lon=0.300000 lsoa=E01000003 street="Street 3" ;;
    esac
    echo "$id,2024-01,Test Police,Test Police,$lon,52.100000,On or near $street,$lsoa,Testshire,Burglary,Under investigation,"
  done
} > "$T/p/2024-01/2024-01-test-street.csv"
mb --db "$T/base.db" import --quiet "$T/p" || fail "import exit $?"

# two gazetteers: street k in LSOA k % 2000; the second keeps the even streets (every fourth
# moved and re-coded), drops the odd ones and adds as many of its own
python3 - "$rows" "$T/g1.csv" "$T/g2.csv" << 'EOF' || fail "gazetteers not written"
import random, sys
n, r = int(sys.argv[1]), random.Random(7)
def row(k, moved=False):
    lon, lat = 0.05 + (k % 997) / 4000, 52.05 + (k % 991) / 9000
    if moved:
        lon += 0.001
    return 'Street %d,E0%07d,%s,%.6f,%.6f\n' % (k, 1000000 + k % 2000, 'B' if moved else 'A', lon, lat)
head = 'street_name,lsoa_code,area_code,longitude,latitude\n'
with open(sys.argv[2], 'w') as f:
    f.write(head + ''.join(row(k) for k in range(1, n + 1)))
keep = [row(k, k % 4 == 0) for k in range(2, n + 1, 2)]
new = [row(k) for k in range(n + 1, n + 1 + n // 2)]
with open(sys.argv[3], 'w') as f:
    f.write(head + ''.join(keep + new))
EOF

# tables DB: what a load writes, row for row
tables() {
  for t in street lsoa lsoa_name; do
    sqlite3 "$1" "SELECT * FROM $t ORDER BY 1, 2" | md5sum
  done
}
mb --db "$T/base.db" streets "$T/g1.csv" > /dev/null || fail "first gazetteer exit $?"
tables "$T/base.db" > "$T/old.sig"
cp "$T/base.db" "$T/ref.db"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(now_ms)
mb --db "$T/ref.db" streets "$T/g2.csv" > /dev/null || fail "second gazetteer exit $?"
full=$(( $(now_ms) - t0 ))
tables "$T/ref.db" > "$T/new.sig"
cmp -s "$T/old.sig" "$T/new.sig" && fail "the second gazetteer changed nothing"
# by construction: the crime data's 3 streets, the second gazetteer's rows less the one of them
# it names (Street 2), all marked but Streets 1 and 3, which it drops
eq "streets after the second gazetteer" "$(sqlite3 "$T/ref.db" 'SELECT count(*) FROM street')" \
  $((rows + 2))
eq "marked streets" "$(sqlite3 "$T/ref.db" 'SELECT count(*) FROM street WHERE gazetteer = 1')" "$rows"
eq "a crime street the second drops" "$(sqlite3 "$T/ref.db" "SELECT gazetteer || ':' ||
  coalesce(area_code, 'none') FROM street WHERE name_norm = 'STREET 1'")" "0:none"
# kill DELAY-MS: run the second load on a copy of the first's store, SIGKILL it after DELAY-MS,
# and check the store holds one gazetteer whole; sets finished (the load ended before the kill)
old=0 new=0 finished=0
kill_at() {
  local db=$T/kill.db state killed=yes
  rm -f "$db" "$db-wal" "$db-shm"
  cp "$T/base.db" "$db"
  "$MB_BIN" --db "$db" streets "$T/g2.csv" > /dev/null 2>&1 & pid=$!
  sleep "$(awk -v p="$1" 'BEGIN { printf "%.3f", p / 1000 }')"
  kill -KILL $pid 2> /dev/null || killed="no (finished first)"
  wait $pid 2> /dev/null
  [ "$killed" = yes ] || finished=1
  eq "kill at $1 ms: integrity_check" "$(sqlite3 "$db" 'PRAGMA integrity_check')" ok
  tables "$db" > "$T/got.sig"
  if cmp -s "$T/got.sig" "$T/old.sig"; then
    old=$((old + 1)) state=old
  elif cmp -s "$T/got.sig" "$T/new.sig"; then
    new=$((new + 1)) state=new
  else
    fail "kill at $1 ms (killed $killed): the store holds neither gazetteer whole"
  fi
  echo "kill at $1 of ${full} ms: killed $killed, the $state gazetteer"
}
echo "reference load: ${full} ms"
for p in $points; do
  kill_at $((full * p / 100))
done
# then later and later (the writes, the commit and its checkpoint come last) until a load
# ends before its kill
for i in $(seq 0 30); do
  [ $finished = 1 ] && break
  kill_at $((full * (60 + 8 * i) / 100))
done
[ $finished = 1 ] || fail "no load finished before its kill, even at $((full * 300 / 100)) ms"
echo "$old kills left the old gazetteer, $new the new one"
# a store killed early on, loaded again
kill_at $((full * 30 / 100))
mb --db "$T/kill.db" streets "$T/g2.csv" > /dev/null || fail "re-run exit $?"
tables "$T/kill.db" > "$T/got.sig"
cmp -s "$T/got.sig" "$T/new.sig" || fail "the re-run after a kill differs from the uninterrupted load"
echo ok
