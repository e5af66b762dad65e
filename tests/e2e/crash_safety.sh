#!/bin/bash
# Crash safety: SIGKILL `microbeat import` at several points of a large import (fractions of the
# time an uninterrupted run takes, while a transaction's pages are being written at commit, and
# while the WAL is checkpointed after a commit). After every kill: PRAGMA integrity_check is ok,
# the store holds whole files only (every import row is finished and owns exactly rows_loaded
# events; no event belongs to an unfinished or missing import), and re-running the same import
# gives the same counts per month, per crime type and per force as an uninterrupted import,
# whose total is itself checked against a line count of the input.
# Then the analysis packs (`concentration --out DIR`, `trends --out DIR`) on that store: SIGKILLed
# at several points and while gnuplot draws, into no DIR and over an earlier pack; a killed run
# must leave no DIR, or a whole pack (the earlier one, intact), never a half-written one.
#   CS_ROWS   rows to generate (default 1000000; 200000 under sanitizers)
#   CS_POINTS kill points in percent of the full run's time (default "10 30 50 70 90 97")
#   CS_PACK_POINTS     pack kill points in percent, no DIR before (default "10 30 50 70 90")
#   CS_PACK_OLD_POINTS pack kill points over an earlier pack (default "40 80")
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
# kill_during DB WATCHED WHAT: kill_when, up to 3 tries
kill_during() {
  local try
  for try in 1 2 3; do
    [ "$(kill_when "$1" "$2" 2000000)" = yes ] && return 0
  done
  fail "could not kill the import during its $3 in 3 tries"
}
kill_during "$T/c.db" "$T/c.db-wal" commit
check_whole "$T/c.db" "kill during commit"
eq "kill during commit: nothing committed" "$(q "$T/c.db" 'SELECT count(*) FROM import')/$(q "$T/c.db" 'SELECT count(*) FROM event')" 0/0
kill_during "$T/k.db" "$T/k.db" checkpoint
check_whole "$T/k.db" "kill during checkpoint"
eq "kill during checkpoint: the committed file is whole" "$(q "$T/k.db" 'SELECT count(*) FROM import')/$(q "$T/k.db" 'SELECT count(*) FROM event')" "1/$one_rows"
echo "commit and checkpoint kills ok ($one_rows rows in one file)"

# ---- analysis packs ----------------------------------------------------------------------------
# `concentration --out DIR` and `trends --out DIR` must never leave a half-written pack that looks
# complete: the pack is written into DIR.tmp.XXXXXX beside DIR and renamed to DIR at the end
# (src/emit.c emit_dir_begin / emit_dir_commit), an earlier pack in DIR being replaced whole.
# Each command runs twice to the end on the reference store: the reference pack, and the same bytes
# again (gnuplot's PNG and SVG embed no date: packs are compared byte for byte, charts too). Then
# microbeat alone is SIGKILLed (a crash: the gnuplot it started is orphaned, not killed) at
# CS_PACK_POINTS percent of the reference run's time and while its middle gnuplot runs, first with
# no DIR, then with an earlier, different pack in DIR (made by the command with other options).
# After every kill, once nothing of the killed run is left running: DIR is absent, or exactly the
# reference pack (the run had finished), or exactly the earlier pack; no file is truncated or
# missing; DIR did not change after microbeat died (an orphaned gnuplot must not write into it);
# nothing lies beside DIR but DIR.tmp.* / DIR.old.* folders. Then the command runs again to the
# end: exit 0 and exactly the reference pack. What becomes of stale DIR.tmp.* folders is reported.
# The commands write into DIR.tmp.XXXXXX beside DIR and rename it over DIR at the end
# (emit_dir_begin / emit_dir_finish; found by this test: they used to write into DIR file after
# file). The next run removes a killed run's DIR.tmp.* (its marker's flock died with it).
pack_bad() { fail "$*"; }
pack_points=${CS_PACK_POINTS:-10 30 50 70 90}
pack_old_points=${CS_PACK_OLD_POINTS:-40 80}
P=$T/packs
mkdir -p "$P"
stale_cleaned=0 stale_kept=0
# ls_pack DIR: every entry under DIR, dot files too: path, type (f, d, l...), size
ls_pack() { (cd "$1" && find . -mindepth 1 -printf '%P %y %s\n' | LC_ALL=C sort); }
# same A B: the two folders hold the same names with the same bytes
same() { [ -d "$1" ] && [ ! -L "$1" ] && diff -r -q "$1" "$2" >/dev/null 2>&1; }
# cut6 LIST: the first six words of LIST and how many more
cut6() { echo "$1" | awk '{ for (i = 1; i <= NF && i <= 6; i++) printf " %s", $i; if (NF > 6) printf " (+%d)", NF - 6 }'; }
# what_is DIR REF [OLD]: what DIR holds, file by file, against the reference pack (and the earlier
# one), one line: as new / as earlier (same bytes), missing, not in the new pack, truncated, other
what_is() {
  local d=$1 r=$2 o=${3:-} f ty sz rsz new=0 old=0 miss="" extra="" trunc="" other="" n=0
  while read -r f ty sz; do
    n=$((n + 1))
    rsz=$(stat -c %s "$r/$f" 2>/dev/null || echo -1)
    if [ "$ty" != f ]; then other="$other $f($ty)"
    elif [ "$rsz" != -1 ] && cmp -s "$d/$f" "$r/$f"; then new=$((new + 1))
    elif [ -n "$o" ] && cmp -s "$d/$f" "$o/$f" 2>/dev/null; then
      old=$((old + 1))
      [ "$rsz" != -1 ] || extra="$extra $f"
    elif [ "$rsz" = -1 ]; then extra="$extra $f"
    elif [ "$sz" -lt "$rsz" ]; then trunc="$trunc $f($sz<$rsz)"
    else other="$other $f"
    fi
  done < <(ls_pack "$d")
  while read -r f ty sz; do [ -e "$d/$f" ] || miss="$miss $f"; done < <(ls_pack "$r")
  echo "$n entries, $new as in the new pack$([ -z "$o" ] || echo ", $old as in the earlier pack");" \
    "missing:$(cut6 "$miss"); not in the new pack:$(cut6 "$extra"); truncated:$(cut6 "$trunc"); other:$(cut6 "$other")"
}
# beside DIR LABEL: nothing lies beside DIR but DIR.tmp.* and DIR.old.* folders (so a leftover is
# never taken for the pack); prints how many of each
beside() {
  local d=$1 b e ntmp=0 nold=0
  b=$(basename "$d")
  for e in "$(dirname "$d")"/* "$(dirname "$d")"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    case $(basename "$e") in
      "$b") ;;
      "$b".tmp.??????) [ -d "$e" ] && [ ! -L "$e" ] || fail "$2: $e is not a folder"; ntmp=$((ntmp + 1)) ;;
      "$b".old.??????) [ -d "$e" ] && [ ! -L "$e" ] || fail "$2: $e is not a folder"; nold=$((nold + 1)) ;;
      *) fail "$2: unexpected '$(basename "$e")' beside the pack" ;;
    esac
  done
  echo "$ntmp $nold"
}
# alive PGID: a live (not zombie) process is left in the process group
alive() { ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'; }
# kill_run DIR EARLIER WHEN ARGS: make DIR absent (EARLIER empty) or a copy of EARLIER, start
# `microbeat ARGS --out DIR` in its own process group and SIGKILL microbeat after WHEN percent of
# the reference time, or (WHEN=gnuplot) once its gp_mid-th gnuplot is running (3 tries, the last
# on the first gnuplot). Then wait for the rest of the group (an orphaned gnuplot) to end. Sets
# killed, orphan (yes: something of the group ran on) and moved (yes: DIR changed meanwhile).
kill_run() {
  local d=$1 old=$2 when=$3 try k n g seen snap i
  local -n args=$4
  for try in 1 2 3; do
    rm -rf "$d"
    [ -z "$old" ] || cp -a "$old" "$d"
    set -m
    "$MB_BIN" --db "$T/ref.db" "${args[@]}" --out "$d" </dev/null >/dev/null 2>&1 & pid=$!
    set +m
    killed="no (finished first)"
    if [ "$when" = gnuplot ]; then
      k=$([ $try = 3 ] && echo 1 || echo "$gp_mid") n=0 seen=" "
      while kill -0 $pid 2>/dev/null; do
        g=$(pgrep -P $pid | head -n 1)   # microbeat's only children are gnuplot runs
        if [ -n "$g" ] && [[ "$seen" != *" $g "* ]]; then
          seen="$seen$g " n=$((n + 1))
          if [ $n -ge "$k" ]; then
            kill -KILL $pid 2>/dev/null && killed="yes, in gnuplot run $n of $gp_runs"
            break
          fi
        fi
        sleep 0.003
      done
    else
      sleep "$(awk -v f="$took" -v p="$when" 'BEGIN { printf "%.3f", f * p / 100000 }')"
      kill -KILL $pid 2>/dev/null && killed=yes
    fi
    wait $pid 2>/dev/null
    snap=$(ls_pack "$d" 2>/dev/null)
    orphan=no i=0
    while alive $pid; do
      orphan=yes i=$((i + 1))
      if [ $i -gt 400 ]; then
        kill -KILL -- -$pid 2>/dev/null
        fail "a process started by the killed run (gnuplot) still runs 20 s later"
      fi
      sleep 0.05
    done
    moved=no
    [ "$(ls_pack "$d" 2>/dev/null)" = "$snap" ] || moved=yes
    [ "$when" != gnuplot ] || [ "${killed%%,*}" = yes ] && return 0
  done
  fail "could not kill $name while gnuplot ran in 3 tries"
}
# check_kill LABEL DIR REF [EARLIER]: the state the kill left
check_kill() {
  local label=$1 d=$2 r=$3 o=${4:-} state n
  if [ ! -e "$d" ] && [ ! -L "$d" ]; then
    state="no DIR"
    [ -z "$o" ] || pack_bad "$label: the earlier pack is gone: nothing at DIR"
  elif same "$d" "$r"; then
    state="DIR is the whole new pack"
  elif [ -n "$o" ] && same "$d" "$o"; then
    state="DIR is the earlier pack, whole"
  else
    state="DIR HALF-WRITTEN"
    pack_bad "$label: DIR is neither absent nor a whole pack: $(what_is "$d" "$r" "$o")"
  fi
  [ "$moved" = no ] || pack_bad "$label: DIR changed after microbeat was killed (orphaned gnuplot)"
  n=$(beside "$d" "$label") || { echo "$n"; exit 1; }
  echo "  $label: killed $killed; $state; ${n% *} DIR.tmp.* and ${n#* } DIR.old.* beside it$(
    [ "$orphan" = no ] || echo "; an orphaned gnuplot ran on")"
}
# rerun_pack LABEL DIR REF ARGS [EARLIER]: run again to the end: exit 0, exactly the reference pack;
# counts whether the DIR.tmp.* folders killed runs left are removed
rerun_pack() {
  local label=$1 d=$2 r=$3 o=${5:-} n0 n1
  local -n args=$4
  n0=$(beside "$d" "$label") || { echo "$n0"; exit 1; }
  mb --db "$T/ref.db" "${args[@]}" --out "$d" </dev/null >/dev/null 2>"$P/err" ||
    fail "$label: re-run exit $?: $(head -c 300 "$P/err")"
  if ! same "$d" "$r"; then
    if [ -n "$o" ]; then
      pack_bad "$label: the re-run over the earlier pack is not the reference pack: $(what_is "$d" "$r" "$o")"
    else
      fail "$label: the re-run is not the reference pack: $(what_is "$d" "$r")"
    fi
  fi
  n1=$(beside "$d" "$label re-run") || { echo "$n1"; exit 1; }
  eq "$label: DIR.old.* left by a successful re-run" "${n1#* }" "${n0#* }"
  if [ "${n0% *}" -gt 0 ]; then
    if [ "${n1% *}" = 0 ]; then stale_cleaned=$((stale_cleaned + 1)); else stale_kept=$((stale_kept + 1)); fi
  fi
}
# pack_cmd NAME REF_ARGS EARLIER_ARGS WANT: the whole test of one command (args: array names)
pack_cmd() {
  name=$1
  local -n ra=$2 oa=$3
  local want=$4 ref=$P/$1/ref/pack e=$P/$1/earlier/pack d f t0 p l bad ngp npng nsvg
  mkdir -p "$P/$1/ref" "$P/$1/earlier" "$P/$1/fresh" "$P/$1/over"
  t0=$(now_ms)
  mb --db "$T/ref.db" "${ra[@]}" --out "$ref" </dev/null >/dev/null 2>"$P/err" ||
    fail "$name: reference run exit $?: $(head -c 300 "$P/err")"
  took=$(( $(now_ms) - t0 ))
  [ -d "$ref" ] || fail "$name: reference run made no $ref"
  # a second uninterrupted run: the same bytes (so packs compare byte for byte, charts too);
  # the shorter of the two times is the one the kill points are fractions of
  t0=$(now_ms)
  mb --db "$T/ref.db" "${ra[@]}" --out "$P/$1/ref2" </dev/null >/dev/null 2>"$P/err" ||
    fail "$name: second reference run exit $?: $(head -c 300 "$P/err")"
  t0=$(( $(now_ms) - t0 ))
  [ "$t0" -lt "$took" ] && took=$t0
  same "$P/$1/ref2" "$ref" || fail "$name: two uninterrupted runs differ: $(what_is "$P/$1/ref2" "$ref")"
  rm -rf "$P/$1/ref2"
  for f in $want; do [ -s "$ref/$f" ] || fail "$name: reference pack lacks $f"; done
  bad=$(ls_pack "$ref" | awk '$2 != "f" || $3 == 0 || $1 ~ /\.tmp$/')
  [ -z "$bad" ] || fail "$name: reference pack holds empty, temporary or odd entries: $bad"
  eq "$name: entries beside the reference pack" "$(beside "$ref" "$name reference")" "0 0"
  ngp=$(ls "$ref" | grep -c '\.gp$') npng=$(ls "$ref" | grep -c '\.png$') nsvg=$(ls "$ref" | grep -c '\.svg$')
  [ "$ngp" -gt 0 ] || fail "$name: no chart script (.gp) in the reference pack"
  if command -v gnuplot >/dev/null; then
    eq "$name: charts drawn (png/svg per .gp)" "$npng/$nsvg" "$ngp/$ngp"
  fi
  gp_runs=$((npng + nsvg)) gp_mid=$(( (npng + nsvg + 1) / 2 ))
  echo "$name: reference pack $(ls_pack "$ref" | wc -l) files, $ngp charts ($gp_runs gnuplot runs), ${took} ms"
  gp_kill=gnuplot
  [ "$gp_runs" -gt 0 ] && command -v pgrep >/dev/null ||
    { gp_kill=""; echo "  no charts drawn (no gnuplot) or no pgrep: no kill in gnuplot"; }
  p_list="$pack_points $gp_kill"
  d=$P/$1/fresh/pack
  for p in $p_list; do
    l="kill $([ "$p" = gnuplot ] && echo "in gnuplot" || echo "at $p%"), no DIR before"
    kill_run "$d" "" "$p" ra
    check_kill "$l" "$d" "$ref"
    rerun_pack "$name $l" "$d" "$ref" ra
  done
  # an earlier, different pack in DIR: after a kill it must be there whole, or the new one whole
  mb --db "$T/ref.db" "${oa[@]}" --out "$e" </dev/null >/dev/null 2>"$P/err" ||
    fail "$name: earlier-pack run exit $?: $(head -c 300 "$P/err")"
  same "$e" "$ref" && fail "$name: the earlier pack equals the reference: a mix would not show"
  p_list="$pack_old_points $gp_kill"
  d=$P/$1/over/pack
  for p in $p_list; do
    l="kill $([ "$p" = gnuplot ] && echo "in gnuplot" || echo "at $p%") over an earlier pack"
    kill_run "$d" "$e" "$p" ra
    check_kill "$l" "$d" "$ref" "$e"
    rerun_pack "$name $l" "$d" "$ref" ra "$e"
  done
}
t_pack=$(now_ms)
conc_args=(concentration --allow-gaps)
conc_old=(concentration --allow-gaps --top 5)
pack_cmd concentration conc_args conc_old "concentration.csv hot_streets.csv hot_streets.geojson"
# four series (total and three types); the earlier pack has one more: a re-run must not keep it
trends_args=(trends --allow-gaps --by type --types "Burglary,Drugs,Robbery")
trends_old=(trends --allow-gaps --by type --types "Burglary,Drugs,Robbery,Shoplifting")
pack_cmd trends trends_args trends_old "monthly.csv yoy.csv trend.csv"
if [ $((stale_cleaned + stale_kept)) = 0 ]; then
  echo "no kill left a DIR.tmp.* folder"
elif [ $stale_kept = 0 ]; then
  echo "stale DIR.tmp.* folders: every successful re-run removed them ($stale_cleaned times)"
else
  [ $stale_kept = 0 ] || fail "stale DIR.tmp.* folders of killed runs kept by $stale_kept successful re-runs (removed by $stale_cleaned)"
  echo "stale DIR.tmp.* folders: every successful re-run removed them ($stale_cleaned times)"
fi
echo "analysis pack kills done in $(( $(now_ms) - t_pack )) ms"
