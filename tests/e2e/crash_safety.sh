#!/bin/bash
# Crash safety: SIGKILL `microbeat import` at several points of a large import (fractions of the
# time an uninterrupted run takes, while a transaction's pages are being written at commit, and
# while the WAL is checkpointed after a commit). After every kill: PRAGMA integrity_check is ok,
# the store holds whole files only (every import row is finished and owns exactly rows_loaded
# events; no event belongs to an unfinished or missing import), and re-running the same import
# gives the same counts per month, per crime type and per force as an uninterrupted import,
# whose total is itself checked against a line count of the input.
#   CS_ROWS   rows to generate (default 1000000; 200000 under sanitizers)
#   CS_POINTS kill points in percent of the full run's time (default "10 30 50 70 90 97")
. "$(dirname "$0")/lib.sh"
[ "${MB_VALGRIND:-0}" = 1 ] && skip "kill timing is meaningless under valgrind"
GEN=$MB_SHARED/peers/gen_policeuk.py
[ -f "$GEN" ] || skip "$GEN is absent: crash-safety test not run"
command -v sqlite3 >/dev/null || skip "sqlite3 shell missing"
rows=${CS_ROWS:-$([ -n "${MB_SANITIZED:-}" ] && echo 200000 || echo 1000000)}
points=${CS_POINTS:-10 30 50 70 90 97}
D=$T/data
python3 "$GEN" --preset national --rows "$rows" --months 2 --out "$D" --procs 2 >/dev/null 2>&1 ||
  fail "generator failed"
files=$(find "$D" -name '*.csv' | wc -l)
want_rows=$(find "$D" -name '*.csv' -exec tail -q -n +2 {} + | wc -l)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
q() { sqlite3 "$1" "$2"; }
# signature of a store: events per month, per crime type, per force; imports and their totals
sig() {
  q "$1" "SELECT 'm', month, count(*) FROM event GROUP BY month ORDER BY 2"
  q "$1" "SELECT 'c', c.name, count(*) FROM event e JOIN category c ON c.id = e.category_id
          GROUP BY 2 ORDER BY 2"
  q "$1" "SELECT 's', s.name, count(*) FROM event e JOIN source s ON s.id = e.source_id
          GROUP BY 2 ORDER BY 2"
  q "$1" "SELECT 'i', count(*), sum(rows_read), sum(rows_loaded) FROM import"
}
# check_whole DB LABEL: integrity ok and whole files only; prints the number of imports
check_whole() {
  local db=$1 what=$2
  eq "$what: integrity_check" "$(q "$db" 'PRAGMA integrity_check')" ok
  eq "$what: unfinished or partial imports" "$(q "$db" "SELECT count(*) FROM import i LEFT JOIN
      (SELECT import_id, count(*) n FROM event GROUP BY import_id) e ON e.import_id = i.id
      WHERE i.finished IS NULL OR coalesce(e.n, 0) != i.rows_loaded
         OR i.rows_read != i.rows_loaded + i.rows_duplicate + i.rows_rejected")" 0
  eq "$what: events without a finished import" "$(q "$db" "SELECT count(*) FROM event
      WHERE import_id NOT IN (SELECT id FROM import WHERE finished IS NOT NULL)")" 0
  eq "$what: month rows without an import" "$(q "$db" "SELECT count(*) FROM import_month
      WHERE import_id NOT IN (SELECT id FROM import)")" 0
}

# the uninterrupted reference
t0=$(now_ms)
mb --db "$T/ref.db" import --no-progress --quiet "$D" || fail "reference import exit $?"
full=$(( $(now_ms) - t0 ))
check_whole "$T/ref.db" reference
eq "reference events = data lines" "$(q "$T/ref.db" 'SELECT count(*) FROM event')" "$want_rows"
eq "reference imports = files" "$(q "$T/ref.db" 'SELECT count(*) FROM import')" "$files"
sig "$T/ref.db" > "$T/ref.sig"
echo "reference: $want_rows rows in $files files, ${full} ms"

# rerun DB LABEL: import again and compare with the reference
rerun() {
  mb --db "$1" import --no-progress --quiet "$D" || fail "$2: re-run exit $?"
  check_whole "$1" "$2 re-run"
  sig "$1" > "$T/got.sig"
  diff "$T/ref.sig" "$T/got.sig" >/dev/null || fail "$2: re-run differs: $(diff "$T/ref.sig" "$T/got.sig" | head)"
}

for p in $points; do
  db=$T/kill$p.db
  "$MB_BIN" --db "$db" import --no-progress --quiet "$D" >/dev/null 2>&1 & pid=$!
  sleep "$(awk -v f="$full" -v p="$p" 'BEGIN { printf "%.3f", f * p / 100000 }')"
  kill -KILL $pid 2>/dev/null && killed=yes || killed="no (finished first)"
  wait $pid 2>/dev/null
  check_whole "$db" "kill at $p%"
  n=$(q "$db" 'SELECT count(*) FROM import')
  echo "kill at $p% of ${full} ms: killed $killed, $n of $files files committed"
  rerun "$db" "kill at $p%"
done

# One big file (every force's first month in one CSV): its pages are written at commit (they fit
# in the page cache until then), so WAL growth marks the commit, and growth of the main file
# after it marks the checkpoint.
first=$(ls "$D" | head -n 1)
{ head -n 1 "$(ls "$D/$first"/*.csv | head -n 1)"; for f in "$D/$first"/*.csv; do tail -n +2 "$f"; done; } > "$T/one.csv"
one_rows=$(( $(wc -l < "$T/one.csv") - 1 ))
# kill_when DB FILE BYTES: start importing one.csv into DB, kill it once FILE exceeds BYTES;
# prints yes when the kill landed
kill_when() {
  rm -f "$1" "$1-wal" "$1-shm"
  "$MB_BIN" --db "$1" import --no-progress --quiet "$T/one.csv" >/dev/null 2>&1 & local pid=$!
  while kill -0 $pid 2>/dev/null; do
    if [ "$(stat -c %s "$2" 2>/dev/null || echo 0)" -gt "$3" ]; then
      kill -KILL $pid 2>/dev/null && echo yes
      break
    fi
    sleep 0.002
  done
  wait $pid 2>/dev/null
}
for try in 1 2 3; do
  hit=$(kill_when "$T/c.db" "$T/c.db-wal" 2000000)
  [ "$hit" = yes ] && break
done
[ "$hit" = yes ] || fail "could not kill the import during its commit in 3 tries"
check_whole "$T/c.db" "kill during commit"
eq "kill during commit: nothing committed" "$(q "$T/c.db" 'SELECT count(*) FROM import')/$(q "$T/c.db" 'SELECT count(*) FROM event')" 0/0
for try in 1 2 3; do
  hit=$(kill_when "$T/k.db" "$T/k.db" 2000000)
  [ "$hit" = yes ] && break
done
[ "$hit" = yes ] || fail "could not kill the import during its checkpoint in 3 tries"
check_whole "$T/k.db" "kill during checkpoint"
eq "kill during checkpoint: the committed file is whole" "$(q "$T/k.db" 'SELECT count(*) FROM import')/$(q "$T/k.db" 'SELECT count(*) FROM event')" "1/$one_rows"
echo "commit and checkpoint kills ok ($one_rows rows in one file)"
