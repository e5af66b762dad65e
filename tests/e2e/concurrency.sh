#!/bin/bash
# Concurrent use of one store (WAL):
#  1. `info` (and `concentration` when it exists) run again and again while an import commits
#     86 files one by one: each run sees a whole state, old or new - the imports it lists hold
#     exactly the events it counts, never an import row without its events or the reverse.
#  2. three commands creating one new store at once (5 times): the schema is made once, no
#     "already exists". Two imports of different files into one store at once serialise: both
#     finish, the store holds every file once, whole, and integrity_check is ok.
#  3. a store locked by another writer for longer than the busy timeout (10 s): import exits 5
#     with a message naming the store and the lock, and changes nothing.
#  4. a read-only store (file 0444 in a 0555 folder, as an unprivileged user): import exits 5
#     with a short message naming the store; info and rejects read it (opened immutable, as no
#     -shm can be made); with changes left in its -wal, info refuses naming the store and log.
#   CC_ROWS rows generated, 12 months x 43 forces (default 150000; 60000 under sanitizers)
. "$(dirname "$0")/lib.sh"
GEN=$MB_SHARED/peers/gen_policeuk.py
[ -f "$GEN" ] || skip "$GEN is absent: concurrency test not run"
command -v sqlite3 >/dev/null || skip "sqlite3 shell missing"
rows=${CC_ROWS:-$([ -n "${MB_SANITIZED:-}${MB_WRAP:-}" ] && echo 60000 || echo 150000)}
python3 "$GEN" --preset national --rows "$rows" --months 12 --out "$T/gen" --procs 2 >/dev/null 2>&1 ||
  fail "generator failed"
months=$(ls "$T/gen")
m1=$(echo "$months" | head -n 1) m2=$(echo "$months" | tail -n 1)
files=$(ls "$T/gen"/*/*.csv | wc -l)
want=$(cat "$T/gen"/*/*.csv | wc -l); want=$((want - files))
q() { sqlite3 "$1" "$2"; }
schema=$(sed -n 's/^#define STORE_SCHEMA_VERSION //p' "$MB_ROOT/include/microbeat/store.h")

# --- 1. readers during an import ---
DB=$T/r.db
mb --db "$DB" import --no-progress --quiet "$T/gen/$m1" || fail "first month import exit $?"
base=$(q "$DB" 'SELECT count(*) FROM event')
mb --db "$DB" import --no-progress --quiet "$T/gen" & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
has_conc=0
"$MB_BIN" --help 2>&1 | grep -q '^  concentration ' && has_conc=1
n=0 states=""
while kill -0 $pid 2>/dev/null; do
  mb --db "$DB" info > "$T/info.txt" 2>"$T/info.err" || fail "info during import: exit $?: $(cat "$T/info.err")"
  # imports listed: "#N  kind  read = loaded + dup + rej  name"; events: "Events: N in ..."
  loaded=$(awk '/^  #[0-9]+ / { gsub(",", "", $5); s += $5 } END { print s + 0 }' "$T/info.txt")
  nimp=$(grep -c '^  #[0-9]* ' "$T/info.txt")
  events=$(sed -n 's/^Events: \([0-9,]*\) .*/\1/p' "$T/info.txt" | tr -d ,)
  cover=$(awk '/^    [0-9][0-9][0-9][0-9] / { for (i = 2; i <= NF; i++) if ($i != "-") s += $i } END { print s + 0 }' "$T/info.txt")
  # every read of a read-only command is one snapshot (formerly known bug 3: store_info()
  # ran its queries as separate autocommit statements, so a commit between them showed a mix)
  if [ "$loaded" != "$events" ] || [ "$cover" != "$events" ]; then
    fail "info run $n mixed two states: imports list $loaded rows loaded, coverage grid $cover, events $events ($nimp imports)"
  fi
  states="$states $nimp"
  if [ $has_conc = 1 ] && [ $((n % 4)) = 3 ]; then
    # --allow-gaps: the months still being imported are gaps at this point
    mb --db "$DB" concentration --no-charts --allow-gaps --format csv --from "$m1" --to "$m2" > "$T/conc.csv" 2>"$T/conc.err"; rc=$?
    [ $rc = 0 ] || fail "concentration during import: exit $rc: $(cat "$T/conc.err")"
  fi
  n=$((n + 1))
done
wait $pid || fail "import under readers: exit $?"
eq "events after the import under readers" "$(q "$DB" 'SELECT count(*) FROM event')" "$want"
seen=$(tr ' ' '\n' <<<"$states" | sort -un | wc -l)
echo "1. $n info runs during the import saw $seen distinct import counts, each one whole state (base $base events)"
[ $n -ge 2 ] || skip "the import finished before info could run twice: machine too fast for CC_ROWS=$rows"

# --- 2. two imports at once ---
# Commands creating a new store at once: one creates the schema, the others wait for its write
# lock and find it made (formerly known bug 5: migrate() read user_version outside the write
# transaction, so both created it and one failed with "table import already exists").
printf 'Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n' > "$T/h.csv"
for i in 1 2 3 4 5; do
  rm -f "$T/new.db" "$T/new.db-wal" "$T/new.db-shm"
  mb --db "$T/new.db" import --no-progress --quiet "$T/h.csv" 2>"$T/n1.err" & p1=$!
  mb --db "$T/new.db" import --no-progress --quiet "$T/h.csv" 2>"$T/n2.err" & p2=$!
  mb --db "$T/new.db" streets /dev/null 2>"$T/n3.err" & p3=$!
  wait $p1; r1=$?; wait $p2; r2=$?; wait $p3
  ! grep -q "already exists" "$T/n1.err" "$T/n2.err" "$T/n3.err" ||
    fail "commands creating one store race: $(cat "$T/n1.err" "$T/n2.err" "$T/n3.err")"
  eq "new store created at once, run $i: import exits ($(cat "$T/n1.err" "$T/n2.err"))" "$r1 $r2" "0 0"
  eq "new store created at once, run $i: schema" "$(q "$T/new.db" 'PRAGMA user_version')/$(q "$T/new.db" 'PRAGMA integrity_check')" "$schema/ok"
done
echo "2a. three commands creating one new store at once, 5 times: schema made once, imports exit 0"
DB=$T/two.db
# the store exists (one file of the first month loaded) before the two imports start
mkdir "$T/pre" && mv "$(ls "$T/gen/$m1"/*.csv | head -n 1)" "$T/pre/"
mb --db "$DB" import --no-progress --quiet "$T/pre" || fail "pre-import exit $?"
mb --db "$DB" import --no-progress --quiet "$T/gen/$m1" > "$T/a.out" 2>"$T/a.err" & pa=$!
mb --db "$DB" import --no-progress --quiet "$T/gen/$m2" > "$T/b.out" 2>"$T/b.err" & pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
mv "$T/pre/"*.csv "$T/gen/$m1/"
# Each import reloads its dimension dictionaries when another process committed since it last
# read them (PRAGMA data_version; formerly known bug 4: the second import reused ids the first
# had just committed and failed with "UNIQUE constraint failed: source.id"). Clean outcomes only:
# both load, or one waited past the busy timeout and says so naming the store.
for r in "$ra:$T/a.err" "$rb:$T/b.err"; do
  rc=${r%%:*} e=${r#*:}
  grep -q "constraint failed" "$e" && fail "concurrent import hit a constraint: $(head -c 300 "$e")"
  [ "$rc" = 0 ] && continue
  [ "$rc" = 5 ] && grep -q "$DB" "$e" && continue
  fail "concurrent import: exit $rc without a clear message naming the store: $(head -c 300 "$e")"
done
eq "two imports: integrity" "$(q "$DB" 'PRAGMA integrity_check')" ok
eq "two imports: whole files" "$(q "$DB" "SELECT count(*) FROM import i WHERE finished IS NULL OR rows_loaded !=
    (SELECT count(*) FROM event WHERE import_id = i.id)")" 0
if [ "$ra$rb" = 00 ]; then
  f2=$(ls "$T/gen/$m1"/*.csv "$T/gen/$m2"/*.csv | wc -l)
  w2=$(( $(cat "$T/gen/$m1"/*.csv "$T/gen/$m2"/*.csv | wc -l) - f2 ))
  eq "two imports serialised: every file once" "$(q "$DB" 'SELECT count(*) FROM import')/$(q "$DB" 'SELECT count(*) FROM event')" "$f2/$w2"
  echo "2. two imports at once serialised: $f2 files, $w2 rows"
else
  echo "2. two imports at once: exits $ra, $rb (one waited past the busy timeout); store whole"
fi

# --- 3. a writer holding the lock past the busy timeout ---
DB=$T/lock.db
mb --db "$DB" import --no-progress --quiet "$T/gen/$m1" || fail "lock store import exit $?"
before=$(q "$DB" 'SELECT count(*) FROM event')
python3 - "$DB" "$T/locked" <<'PY' & lp=$!
import sqlite3, sys, time, os
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(14)
c.execute("ROLLBACK")
PY
for i in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] || fail "could not take the lock"
t0=$(date +%s)
mb --db "$DB" import --no-progress --quiet "$T/gen/$m2" > "$T/l.out" 2>"$T/l.err"; rc=$?
waited=$(( $(date +%s) - t0 ))
wait $lp
eq "import against a held lock: exit" "$rc" 5
grep -q "$DB" "$T/l.err" || fail "lock message does not name the store: $(cat "$T/l.err")"
grep -Eqi "lock|busy" "$T/l.err" || fail "lock message does not say locked: $(cat "$T/l.err")"
[ "$(wc -l < "$T/l.err")" -le 3 ] || fail "lock message is not short: $(head -c 500 "$T/l.err")"
[ $waited -ge 9 ] || fail "import gave up after ${waited}s, before the 10 s busy timeout"
eq "locked store unchanged" "$(q "$DB" 'SELECT count(*) FROM event')" "$before"
echo "3. held lock: exit 5 after ${waited}s: $(head -n 1 "$T/l.err")"

# --- 4. read-only store ---
RO=$T/ro
mkdir -p "$RO"
mb --db "$RO/s.db" import --no-progress --quiet "$T/gen/$m1" || fail "ro store import exit $?"
before=$(q "$RO/s.db" 'SELECT count(*) FROM event')
chmod 444 "$RO/s.db"; rm -f "$RO/s.db-wal" "$RO/s.db-shm"; chmod 555 "$RO"
as=()
if [ "$(id -u)" = 0 ]; then   # root ignores permissions: run as nobody
  command -v setpriv >/dev/null || skip "root without setpriv: cannot test a read-only store"
  chmod 755 "$T"; chmod -R a+rX "$T/gen"
  # a temp folder nobody may write (valgrind keeps files there; /tmp may not be world-writable)
  mkdir -p "$T/nobody-tmp" && chmod 1777 "$T/nobody-tmp"
  as=(setpriv --reuid=nobody --regid=nogroup --clear-groups env TMPDIR="$T/nobody-tmp")
fi
"${as[@]}" ${MB_WRAP:-} "$MB_BIN" --db "$RO/s.db" import --no-progress --quiet "$T/gen/$m2" > "$T/ro.out" 2>"$T/ro.err"; rc=$?
eq "import into a read-only store: exit ($(cat "$T/ro.err"))" "$rc" 5
# the message names the store (formerly known bug 6: store_exec() formatted err->msg into
# itself, leaving only "microbeat:  (attempt to write a readonly database)")
grep -q "$RO/s.db" "$T/ro.err" || fail "read-only message does not name the store: $(cat "$T/ro.err")"
grep -q '^microbeat:  (' "$T/ro.err" && fail "read-only message lost its text: $(cat "$T/ro.err")"
grep -Eqi "read-only|readonly|permission|cannot" "$T/ro.err" || fail "read-only message unclear: $(cat "$T/ro.err")"
[ "$(wc -l < "$T/ro.err")" -le 3 ] || fail "read-only message is not short: $(head -c 500 "$T/ro.err")"
# info and rejects only read: they read the store (no -shm can be made in the folder, so it is
# opened immutable when its -wal is empty)
"${as[@]}" ${MB_WRAP:-} "$MB_BIN" --db "$RO/s.db" info > "$T/roi.out" 2>"$T/roi.err"; rc=$?
eq "info on a read-only store: exit ($(cat "$T/roi.err"))" "$rc" 0
want_ev=$(printf '%d' "$before" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta')
grep -q "^Events: $want_ev in " "$T/roi.out" ||
  fail "info on a read-only store: want 'Events: $want_ev', got: $(grep '^Events' "$T/roi.out")"
"${as[@]}" ${MB_WRAP:-} "$MB_BIN" --db "$RO/s.db" rejects > "$T/ror.out" 2>"$T/ror.err"; rc=$?
eq "rejects on a read-only store: exit ($(cat "$T/ror.err"))" "$rc" 0
ro_info="info and rejects read it"
# with changes left in its -wal and no -shm, the folder read-only: a clear refusal, not stale data
chmod 755 "$RO"; chmod 644 "$RO/s.db"
python3 - "$RO/s.db" <<'PY' || fail "could not leave a -wal behind"
import sqlite3, sys, shutil, os
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("BEGIN IMMEDIATE")   # pages written, contents unchanged
c.execute("INSERT INTO outcome(name) VALUES('wal probe')"); c.execute("DELETE FROM outcome WHERE name = 'wal probe'")
c.execute("COMMIT")
# copy the -wal while the connection still holds it (closing would checkpoint and delete it)
shutil.copyfile(sys.argv[1] + "-wal", sys.argv[1] + "-wal.keep")
c.close()
os.replace(sys.argv[1] + "-wal.keep", sys.argv[1] + "-wal")
PY
rm -f "$RO/s.db-shm"; chmod 444 "$RO/s.db" "$RO/s.db-wal"; chmod 555 "$RO"
[ -s "$RO/s.db-wal" ] || fail "the -wal left behind is empty"
"${as[@]}" ${MB_WRAP:-} "$MB_BIN" --db "$RO/s.db" info > "$T/row.out" 2>"$T/row.err"; rc=$?
eq "info on a read-only store with a -wal: exit ($(cat "$T/row.err"))" "$rc" 5
grep -q "$RO/s.db" "$T/row.err" && grep -q "write-ahead log" "$T/row.err" ||
  fail "info on a read-only store with a -wal: unclear message: $(cat "$T/row.err")"
chmod 755 "$RO"; chmod 644 "$RO/s.db" "$RO/s.db-wal"
eq "read-only store unchanged" "$(q "$RO/s.db" 'SELECT count(*) FROM event')" "$before"
echo "4. read-only store: import exit 5: $(head -n 1 "$T/ro.err"); $ro_info"
