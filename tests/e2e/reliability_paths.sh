#!/bin/bash
# Issue 21 items 4 and 15: what import is pointed at, and the exit codes and messages around it.
# - a folder with two symbolic links back to its parent (a loop): each real folder is walked
#   once (device + inode), the loop is reported, the file is imported once, and the run ends
#   (before the fix it ran without end: 550k messages in 30 s);
# - a FIFO named *.csv is reported and never opened (opening it blocks for ever);
# - a missing input exits 4 "cannot open", the other inputs still imported;
# - a corrupt zip is reported once; a zip holding only a nested zip says nothing was imported;
# - --fy with --from, and --year with --fy, are refused (exit 2);
# - rejects --import N for an import that does not exist exits 6;
# - --db naming a folder says it is a folder.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
hdr="Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
mkfile() { # FILE MONTH N: N crimes of MONTH, ids unique to the month
  { echo "$hdr"
    for i in $(seq 1 "$3"); do
      printf '%064x,%s,Cambridgeshire Constabulary,Cambridgeshire Constabulary,0.1%02d,52.2,On or near Street %d,E01000001,South Cambridgeshire 001A,Burglary,Under investigation,\n' \
        "$((${2/-/} * 1000 + i))" "$2" "$((i % 50))" "$((i % 7))"
    done; } >"$1"
}
# 1. the symlink loop, a FIFO, a dangling link
mkdir -p "$T/d/a"
mkfile "$T/d/a/2024-01-cambridgeshire-street.csv" 2024-01 30
ln -s .. "$T/d/a/l1"; ln -s .. "$T/d/a/l2"
mkfifo "$T/d/a/2024-02-cambridgeshire-street.csv" || skip "cannot make a FIFO here"
timeout 20 "$MB_BIN" --db "$T/l.db" import --no-progress "$T/d" >"$T/out" 2>"$T/err"; rc=$?
[ $rc = 124 ] && fail "import of a folder with a symlink loop did not end in 20 s"
eq "loop + FIFO: exit (a file skipped)" "$rc" 3
eq "loop + FIFO: lines of messages" "$(wc -l <"$T/err")" 3
eq "loop reported for each link" "$(grep -c "folder already walked as '$T/d'" "$T/err")" 2
grep -q "2024-02-cambridgeshire-street.csv: a FIFO (named pipe), not a regular file; not opened" "$T/err" ||
  fail "FIFO not reported: $(cat "$T/err")"
eq "file imported once" "$(grep -c 'import #' "$T/out")" 1
eq "events stored" "$(sqlite3 "$T/l.db" "SELECT count(*) FROM event")" 30
# the FIFO given by name is not opened either (the import would block for ever)
timeout 20 "$MB_BIN" --db "$T/l.db" import --no-progress "$T/d/a/2024-02-cambridgeshire-street.csv" \
  >/dev/null 2>"$T/err"; rc=$?
[ $rc = 124 ] && fail "import of a FIFO by name did not end"
eq "FIFO by name: exit" "$rc" 3
# 2. a missing input: exit 4, the other input imported
mkfile "$T/2024-03-cambridgeshire-street.csv" 2024-03 20
mb --db "$T/m.db" import --no-progress "$T/nosuch.csv" "$T/2024-03-cambridgeshire-street.csv" >"$T/out" 2>"$T/err"
eq "missing input: exit" "$?" 4
eq "missing input: message" "$(cat "$T/err")" "microbeat: cannot open '$T/nosuch.csv': No such file or directory"
eq "the other input imported" "$(sqlite3 "$T/m.db" "SELECT count(*) FROM event")" 20
# 3. zips: corrupt (reported once), only a nested zip (said), cut short
python3 - "$T" <<'PY' || fail "zip fixtures"
import sys, zipfile, io
T = sys.argv[1]
data = open(T + "/2024-03-cambridgeshire-street.csv", "rb").read() * 20
zipfile.ZipFile(T + "/good.zip", "w", zipfile.ZIP_DEFLATED).writestr("2024-03-x-street.csv", data)
b = bytearray(open(T + "/good.zip", "rb").read())
for i in range(60, 90): b[i] ^= 0x55
open(T + "/corrupt.zip", "wb").write(b)
inner = io.BytesIO(); zipfile.ZipFile(inner, "w").writestr("2024-03-x-street.csv", data)
zipfile.ZipFile(T + "/outer.zip", "w").writestr("inner.zip", inner.getvalue())
PY
mb --db "$T/z.db" import --no-progress "$T/corrupt.zip" >/dev/null 2>"$T/err"
eq "corrupt zip: exit" "$?" 3
eq "corrupt zip: one message" "$(grep -c 'corrupt' "$T/err")" 1
mb --db "$T/z.db" import --no-progress "$T/outer.zip" >"$T/out" 2>"$T/err"
eq "nested zip only: exit" "$?" 3
grep -q "outer.zip:inner.zip: an archive inside the archive is not opened; ignored" "$T/err" ||
  fail "nested zip not named: $(cat "$T/err")"
grep -q "outer.zip: no .csv file in the archive (1 other entry ignored); nothing imported from it" "$T/err" ||
  fail "nothing imported not said: $(cat "$T/err")"
grep -q "0 files loaded, 0 unchanged, 1 skipped" "$T/out" || fail "nested zip: total $(cat "$T/out")"
# 4. period options given two ways
mb --db "$T/m.db" concentration --fy 2024 --from 2025-01 --no-charts >/dev/null 2>"$T/err"
eq "--fy with --from: exit" "$?" 2
grep -q "cannot be combined" "$T/err" || fail "--fy --from message: $(cat "$T/err")"
mb --db "$T/m.db" trends --to 2024-03 --fy 2023 --no-charts >/dev/null 2>"$T/err"
eq "--to with --fy: exit" "$?" 2
mb --db "$T/m.db" concentration --fy 2024 --year 2024 --no-charts >/dev/null 2>"$T/err"
eq "--fy with --year: exit" "$?" 2
# 5. rejects of an import that does not exist; the one that does
mb --db "$T/m.db" rejects --import 99999 >/dev/null 2>"$T/err"
eq "rejects --import 99999: exit" "$?" 6
grep -q "no import #99999" "$T/err" || fail "rejects message: $(cat "$T/err")"
mb --db "$T/m.db" rejects --import 1 >/dev/null || fail "rejects --import 1 exit $?"
# 6. --db naming a folder
mkdir "$T/dbdir"
mb --db "$T/dbdir" import --no-progress "$T/2024-03-cambridgeshire-street.csv" >/dev/null 2>"$T/err"
eq "--db folder: exit" "$?" 4
eq "--db folder: message" "$(cat "$T/err")" "microbeat: store '$T/dbdir' is a folder, not a file (give --db a file name)"
echo "symlink loops, FIFOs, missing inputs, bad zips, period conflicts, missing imports, folder stores: reported and bounded"
