#!/bin/bash
# Issue 21 item 12: names carrying terminal escapes reach no terminal. A file name with ESC and
# BEL, a zip entry name with ESC, a file name that is not UTF-8, an agency --source value with
# BEL, a crime type and a layer and unit name with an ESC sequence go through import, info,
# areas, flags (table and --format md) and concentration --format md; no output on stdout or
# stderr carries a C0 control byte other than newline (ESC, BEL ...), a C1 control, a bidi
# override or a byte sequence that is not UTF-8, and the names are shown escaped ("\x1b").
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
cd "$T" || fail "cd"
E=$'\e' B=$'\a'
python3 - "$T" <<'PY' || fail "fixtures"
import csv, hashlib, io, json, os, sys, zipfile
T = sys.argv[1]
hdr = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
       "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
f = "Cambridgeshire Constabulary"
def rows(month, n, ctype):
    out = io.StringIO(); w = csv.writer(out, lineterminator="\n"); w.writerow(hdr)
    for i in range(n):
        cid = hashlib.sha256(f"{month}-{i}".encode()).hexdigest()
        w.writerow([cid, month, f, f, "%.4f" % (0.005 + 0.001 * (i % 9)), "52.005",
                    "On or near Street %d" % (i % 9), "E01000001", "South Cambridgeshire 001A",
                    ctype if i % 2 else "Burglary", "Under investigation", ""])
    return out.getvalue().encode()
ctype = "Evil\x1b]0;pwned\x07\x1b[31m type"
os.makedirs(T + "/in")
open(T + "/in/2024-01-esc\x1b[2J\x07-street.csv", "wb").write(rows("2024-01", 40, ctype))
open(T.encode() + b"/in/2024-02-bad\xff\xfe-street.csv", "wb").write(rows("2024-02", 40, ctype))
with zipfile.ZipFile(T + "/in/z.zip", "w") as z:
    z.writestr("2024-03-zip\x1b[5m-street.csv", rows("2024-03", 40, ctype))
open(T + "/agency.ini", "w").write("[source]\nname = Agency\n[columns]\nid = ref\nmonth = month\n"
                                   "category = what\nlsoa = lsoa\n")
with open(T + "/agency.csv", "w", newline="") as g:
    w = csv.writer(g, lineterminator="\n"); w.writerow(["ref", "month", "what", "lsoa"])
    for i in range(5): w.writerow(["A%d" % i, "2024-03", "Fly-tipping", "E01000001"])
ring = [[0.0, 52.0], [0.02, 52.0], [0.02, 52.01], [0.0, 52.01], [0.0, 52.0]]
json.dump({"type": "FeatureCollection", "features": [{"type": "Feature",
  "properties": {"code": "P1", "name": "Unit\x1b[1m one\x9b"},
  "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, open(T + "/p.geojson", "w"))
PY
out() { "$MB_BIN" --db "$T/s.db" "$@" >>"$T/all.out" 2>&1; }
out import --no-progress in
out import --no-progress --map agency.ini --source "Agency${B}${E}[31m" agency.csv
out areas --layer "par${E}]0;x${B}ish" --boundaries p.geojson --code-field code --name-field name
out info
out areas
out flags --layer "par${E}]0;x${B}ish" --from 2024-01 --to 2024-03 --min-flags 1 --no-charts
out flags --layer "par${E}]0;x${B}ish" --from 2024-01 --to 2024-03 --min-flags 1 --format md
out concentration --from 2024-01 --to 2024-03 --format md --no-charts
# the harm weights name the type they lack
out concentration --from 2024-01 --to 2024-03 --harm --no-charts
out rejects --import 99
out --db "$T/s.db" "no${E}[2Jcommand"
[ "$(sqlite3 "$T/s.db" "SELECT count(*) FROM import")" = 4 ] || fail "imports: $(cat "$T/all.out")"
python3 - "$T/all.out" <<'PY' || fail "a control character or invalid UTF-8 reached the output"
import re, sys
b = open(sys.argv[1], "rb").read()
bad = [m.start() for m in re.finditer(rb"[\x00-\x09\x0b-\x1f\x7f]", b)]
try:
    t = b.decode("utf-8")
except UnicodeDecodeError as e:
    print("not UTF-8 at byte", e.start, b[max(0, e.start - 60):e.start + 20]); sys.exit(1)
bad += [m.start() for m in re.finditer("[\u0080-\u009f\u202a-\u202e\u2066-\u2069]", t)]
for i in bad[:5]:
    print("control at", i, repr(b[max(0, i - 60):i + 20]))
sys.exit(1 if bad else 0)
PY
for want in 'esc\x1b[2J\x07-street.csv' 'bad\xff\xfe-street.csv' 'zip\x1b[5m-street.csv' \
            'Agency\x07\x1b[31m' "no harm weight for 'Evil\\x1b]0;pwned\\x07\\x1b[31m type'" 'par\x1b]0;x\x07ish' 'no\x1b[2Jcommand'; do
  grep -qF -- "$want" "$T/all.out" || fail "'$want' not shown escaped: $(head -c 3000 "$T/all.out")"
done
# Markdown shows the backslash of an escape as text (\\x1b)
grep -qF -- 'Evil\\x1b\]0;pwned\\x07\\x1b\[31m type' "$T/all.out" ||
  fail "crime type not escaped in Markdown: $(grep -a Evil "$T/all.out" | head -c 600)"
grep -qF -- 'Unit\\x1b\[1m one\\u009b' "$T/all.out" ||
  fail "unit name not escaped in Markdown: $(grep -a Unit "$T/all.out" | head -c 600)"
echo "file, zip entry, source, layer, unit and type names with escapes: shown escaped everywhere"
