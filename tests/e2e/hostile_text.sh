#!/bin/bash
# Hostile text: every payload of tests/fixtures/hostile/payloads.json (shell back-quotes and
# gnuplot system(), SQL, spreadsheet formulas, path traversal, HTML, format strings, RTL and
# combining marks, a 10 KB name) is used as a street name, an LSOA name, a crime type, a parish
# name and an agency category, and as rejected raw text and a file name. Then every command that
# exists runs on it (import, import --map, areas, streets, info, rejects, concentration, trends,
# flags, with their files and charts). Asserts: the names round-trip byte for byte in the store;
# no marker file named by a payload is ever created (no shell, no gnuplot command ran); nothing
# is created outside the working folder and its output folders; every CSV cell that a
# spreadsheet would run as a formula is neutralised; GeoJSON output parses and keeps the names;
# Markdown output carries no raw <script>; the store's tables are all still there.
. "$(dirname "$0")/lib.sh"
PAY=$MB_ROOT/tests/fixtures/hostile/payloads.json
PY=/usr/bin/python3
command -v sqlite3 >/dev/null || skip "sqlite3 shell missing"
MARK_ABS=/tmp/mb-hostile-pwned
[ -e "$MARK_ABS" ] && fail "$MARK_ABS exists before the test: remove it"
W=$T/w/a/b        # working folder: everything the commands write must land in here
mkdir -p "$W" "$T/home" && cd "$W" || fail "cannot make $W"
export HOME=$T/home TMPDIR=$T/home
touch "$T/stamp"

# fixtures from the payloads: 24 monthly street files, an agency CSV and map, parish boundaries,
# a gazetteer, and the expected names (hex) for the round-trip checks
"$PY" - "$PAY" "$W" <<'PY' || fail "fixture generation failed"
import csv, hashlib, json, os, sys
pay = json.load(open(sys.argv[1]))["payloads"]; W = sys.argv[2]; n = len(pay)
hdr = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
       "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
force = "Cambridgeshire Constabulary"
def lon(i): return 0.005 + 0.01 * i
def lsoa(i): return "E01%06d" % (900000 + i)
os.makedirs(W + "/data")
names = []
for m in range(24):
    y, mo = 2023 + m // 12, m % 12 + 1
    month = "%04d-%02d" % (y, mo)
    fn = "%s-hostile-street.csv" % month
    if m == 0:
        fn = "=HYPERLINK(1)+cmd|x@SUM.csv"
    names.append(fn)
    with open(os.path.join(W, "data", fn), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(hdr)
        for i, p in enumerate(pay):
            # more crimes on some streets (hot streets), a rise in year two for even i
            k_max = 2 + (i % 5) + (2 if (m >= 12 and i % 2 == 0) else 0)
            for k in range(k_max):
                cid = hashlib.sha256(("%d-%d-%d" % (m, i, k)).encode()).hexdigest()
                ctype = p if k % 2 == 0 else "Burglary"
                w.writerow([cid, month, force, force, "%.6f" % lon(i), "52.005000",
                            "On or near " + p, lsoa(i), p + " 001A", ctype, "Under investigation", ""])
        # one rejected row per file whose raw text starts with a payload (bad Crime ID)
        w.writerow([pay[m % n], month, force, force, "0.1", "52.0", "On or near x", lsoa(0), "x 001A",
                    "Burglary", "", ""])
with open(W + "/agency.ini", "w") as f:
    f.write("[source]\nname = Hostile Agency\n[columns]\nid = ref\nmonth = month\n"
            "category = what\nlsoa = lsoa\n")
with open(W + "/agency.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["ref", "month", "what", "lsoa"])
    for i, p in enumerate(pay):
        w.writerow(["A%d" % i, "2024-06", p, lsoa(i)])
feats = []
for i, p in enumerate(pay):
    x0 = 0.01 * i
    ring = [[x0, 52.0], [x0 + 0.01, 52.0], [x0 + 0.01, 52.01], [x0, 52.01], [x0, 52.0]]
    feats.append({"type": "Feature", "properties": {"code": "P%02d" % i, "name": p},
                  "geometry": {"type": "Polygon", "coordinates": [ring]}})
json.dump({"type": "FeatureCollection", "features": feats}, open(W + "/parishes.geojson", "w"))
with open(W + "/gazetteer.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["street_name", "lsoa_code", "longitude", "latitude"])
    for i, p in enumerate(pay):
        w.writerow([p, lsoa(i), "%.6f" % lon(i), "52.005"])
hx = lambda s: s.encode().hex().upper()
with open(W + "/../want_category", "w") as f:
    f.write("\n".join(sorted(hx(p) for p in pay)) + "\n")
with open(W + "/../want_location", "w") as f:
    f.write("\n".join(sorted(hx("On or near " + p) for p in pay)) + "\n")
with open(W + "/../want_lsoa", "w") as f:
    f.write("\n".join(sorted(hx(p + " 001A") for p in pay)) + "\n")
with open(W + "/../want_unit", "w") as f:
    f.write("\n".join(sorted(hx(p) for p in pay)) + "\n")
with open(W + "/../want_import", "w") as f:
    f.write(hx(names[0]) + "\n")
PY
npay=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["payloads"]))' "$PAY")
DB=store.db
run() {  # run NAME ARGS...: run microbeat, keep stdout in out-NAME.txt; exit status in $rc
  local name=$1; shift
  mb --db "$DB" "$@" >"out-$name.txt" 2>"err-$name.txt"; rc=$?
}

# --- import: the data folder, then the file with the hostile name on its own (bare name) ---
mkdir -p first && mv "data/=HYPERLINK(1)+cmd|x@SUM.csv" first/
(cd first && mb --db ../$DB import --no-progress "=HYPERLINK(1)+cmd|x@SUM.csv") >out-import1.txt 2>err-import1.txt
eq "import of the hostile-named file (rows rejected)" "$?" 3
run import import --no-progress data
eq "import exit (one bad row per file)" "$rc" 3
eq "imports" "$(sqlite3 $DB 'SELECT count(*) FROM import')" 24
eq "rejected rows" "$(sqlite3 $DB 'SELECT count(*) FROM reject')" 24
run agency import --no-progress --map agency.ini agency.csv
eq "agency import exit" "$rc" 0
run streets streets gazetteer.csv
eq "streets exit" "$rc" 0
run areas areas --layer parish --boundaries parishes.geojson --code-field code --name-field name
eq "areas exit: $(head -c 300 err-areas.txt)" "$rc" 0

# --- round trip: names byte for byte (hex) in the store ---
h() { sqlite3 $DB "$1" | sort; }
diff <(h "SELECT hex(name) FROM category WHERE name != 'Burglary'") ../want_category >/dev/null ||
  fail "crime and agency categories do not round-trip: $(diff <(h "SELECT hex(name) FROM category WHERE name != 'Burglary'") ../want_category | head -c 400)"
# names longer than 4 KB (a 10 KB street) round-trip and keep their location (formerly known
# bug 2: the location key buffer was too small and such rows lost coordinates and LSOA)
want_loc=../want_location
diff <(h "SELECT hex(name) FROM location WHERE name NOT IN ('On or near x', '')") $want_loc >/dev/null ||
  fail "street names do not round-trip: $(diff <(h "SELECT hex(name) FROM location WHERE name NOT IN ('On or near x', '')") $want_loc | cut -c 1-80 | head)"
# one location and one street for the 10 KB name: the gazetteer's row and the crimes' rows
# meet on the whole name (a key cut short would make a second street or location)
eq "locations named by the 10 KB street" "$(sqlite3 $DB "SELECT count(*) FROM location WHERE name LIKE 'On or near Long xxx%'")" 1
eq "streets named by the 10 KB street" "$(sqlite3 $DB "SELECT count(*) FROM street WHERE name_norm LIKE 'LONG XXX%'")" 1
unloc=$(sqlite3 $DB "SELECT count(*) FROM event WHERE location_id IS NULL AND source_id =
  (SELECT id FROM source WHERE name = 'Cambridgeshire Constabulary')")
# every police row has coordinates, the 10 KB street's rows too
[ "$unloc" = 0 ] ||
  fail "police events without a location: $unloc"
diff <(h "SELECT hex(name) FROM lsoa_name WHERE name != 'x 001A'") ../want_lsoa >/dev/null ||
  fail "LSOA names do not round-trip"
diff <(h "SELECT hex(u.name) FROM unit u JOIN layer l ON l.id = u.layer_id WHERE l.name = 'parish'") ../want_unit >/dev/null ||
  fail "parish names do not round-trip"
eq "hostile file name kept" "$(sqlite3 $DB "SELECT hex(name) FROM import WHERE id = 1")" "$(cat ../want_import)"
eq "gazetteer streets" "$(sqlite3 $DB 'SELECT count(*) FROM street WHERE gazetteer = 1')" "$npay"
eq "agency source" "$(sqlite3 $DB "SELECT count(*) FROM event e JOIN source s ON s.id = e.source_id WHERE s.name = 'Hostile Agency'")" "$npay"
# every rejected row's raw text is kept whole: it starts with the payload given as Crime ID
eq "raw rejected rows keep the payloads" "$(sqlite3 $DB "SELECT count(*) FROM reject WHERE instr(raw, 'Cambridgeshire Constabulary') > 1")" 24

# --- reading and analysis commands that exist ---
run info info;                    eq "info exit" "$rc" 0
run rejects rejects;              eq "rejects exit" "$rc" 0
cmds=$("$MB_BIN" --help 2>&1)
has() { grep -q "^  $1 " <<<"$cmds"; }
ran="import streets areas info rejects"
if has concentration; then
  run conc concentration --from 2023-01 --to 2024-12 --out out-conc --top 20;  eq "concentration exit: $(head -c 300 err-conc.txt)" "$rc" 0
  run conc-csv concentration --from 2023-01 --to 2024-12 --format csv --top 50; eq "concentration csv exit" "$rc" 0
  run conc-md concentration --from 2023-01 --to 2024-12 --format md --top 50;   eq "concentration md exit" "$rc" 0
  run conc-unit concentration --from 2023-01 --to 2024-12 --street-unit parish --out out-conc-unit
  eq "concentration --street-unit exit: $(head -c 300 err-conc-unit.txt)" "$rc" 0
  # selectors carrying payloads select or fail cleanly (not found), never run SQL
  for p in "'); DROP TABLE event; --" "../../etc/x" '`touch pwned_backquote`'; do
    run sel concentration --area "$p" --no-charts --from 2023-01 --to 2024-12
    [ $rc = 0 ] || [ $rc = 6 ] || fail "concentration --area '$p': exit $rc: $(cat err-sel.txt)"
    run sel concentration --types "$p" --no-charts --from 2023-01 --to 2024-12
    [ $rc = 0 ] || [ $rc = 6 ] || fail "concentration --types '$p': exit $rc: $(cat err-sel.txt)"
  done
  ran="$ran concentration"
fi
if has trends; then
  run trends trends --from 2023-01 --to 2024-12 --by type --out out-trends; eq "trends --by type exit: $(head -c 300 err-trends.txt)" "$rc" 0
  run trends-area trends --from 2023-01 --to 2024-12 --by area --out out-trends-area; eq "trends --by area exit: $(head -c 300 err-trends-area.txt)" "$rc" 0
  run trends-csv trends --from 2023-01 --to 2024-12 --by type --format csv; eq "trends csv exit" "$rc" 0
  run trends-md trends --from 2023-01 --to 2024-12 --by type --format md; eq "trends md exit" "$rc" 0
  ran="$ran trends"
fi
if has flags; then
  run flags flags --layer parish --from 2023-01 --to 2024-12 --min-flags 1 --out out-flags; eq "flags exit: $(head -c 300 err-flags.txt)" "$rc" 0
  run flags-csv flags --layer parish --from 2023-01 --to 2024-12 --min-flags 1 --format csv; eq "flags csv exit" "$rc" 0
  run flags-md flags --layer parish --from 2023-01 --to 2024-12 --min-flags 1 --format md; eq "flags md exit" "$rc" 0
  ran="$ran flags"
fi
if has deepdive; then
  run deepdive-md deepdive --layer parish --area all --from 2023-01 --to 2024-12 --format md --out out-deepdive
  eq "deepdive exit: $(head -c 300 err-deepdive-md.txt)" "$rc" 0
  ran="$ran deepdive"
fi
run areas-list areas; eq "areas list exit" "$rc" 0
for t in event category location lsoa lsoa_name import reject unit layer; do
  sqlite3 $DB "SELECT count(*) FROM $t" >/dev/null 2>&1 || fail "table $t is gone"
done
eq "events after everything" "$(sqlite3 $DB 'SELECT count(*) FROM event')" "$(( $(sqlite3 $DB 'SELECT sum(rows_loaded) FROM import') ))"

# --- nothing ran, nothing escaped ---
found=$(find "$T" /tmp -maxdepth 8 \( -name 'pwned*' -o -name 'mb-hostile-pwned' \) 2>/dev/null)
[ -z "$found" ] || fail "a payload ran a command: $found"
[ ! -e /etc/x ] || fail "/etc/x exists"
out=$(find "$T" -newer "$T/stamp" ! -path "$W" ! -path "$W/*" ! -path "$T/w/a/want_*" ! -path "$T/w" ! -path "$T/w/a" ! -path "$T/home" -print)
[ -z "$out" ] || fail "files written outside the working folder: $out"
[ -z "$(ls -A "$T/home")" ] || fail "files written in HOME/TMPDIR: $(ls -A "$T/home")"
sub=$(find "$W" -mindepth 2 -type d ! -path "$W/data" ! -path "$W/first" ! -path "$W/out-*" -print; \
      find "$W"/out-* -mindepth 1 -type d -print 2>/dev/null)
[ -z "$sub" ] || fail "unexpected folders (a name became a path?): $sub"
[ -z "$(find "$T" -name x -o -name etc -o -name passwd)" ] || fail "a path-traversal name became a file: $(find "$T" -name x -o -name etc -o -name passwd)"

# --- CSV cells are neutralised; GeoJSON keeps names; Markdown has no raw <script> ---
csvs=(out-rejects.txt $(ls out-*/*.csv 2>/dev/null) $(ls out-*-csv.txt 2>/dev/null))
"$PY" - "${csvs[@]}" <<'PY' || fail "a CSV cell would run as a formula"
import csv, os, re, sys
num = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-?(inf|nan)$", re.I)
bad = 0; cells = 0; neutral = 0
for fn in sys.argv[1:]:
    for row in csv.reader(open(fn, newline="", encoding="utf-8")):
        for c in row:
            cells += 1
            if c.startswith("'"):
                neutral += 1
            # `rejects` too neutralises the full-width = + - @ (formerly known bug 9: its own
            # csv_field missed them; it now writes through emit_csv_field_n like the tables)
            # a plain signed number and a lone "-" (flags_matrix.csv's "no flag") are data, not
            # formulas (issue 15 §5: this check flagged the lone "-" before)
            if c[:1] in ("=", "@", "\t", "\r") or (c[:1] in ("-", "+") and not (num.match(c) or c == "-")) or \
               c[:1] in ("\uff1d", "\uff0b", "\uff20", "\uff0d"):
                bad += 1
                print("formula-like cell in %s: %r" % (fn, c[:80]))
print("%d CSV files, %d cells, %d neutralised" % (len(sys.argv) - 1, cells, neutral))
sys.exit(1 if bad or neutral == 0 else 0)
PY
for g in out-*/*.geojson; do
  [ -e "$g" ] || continue
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$g" || fail "$g does not parse"
done
if has concentration; then
  "$PY" - out-conc/hot_streets.geojson "$PAY" <<'PY' || fail "hot_streets.geojson lost a hostile name"
import json, sys
g = json.load(open(sys.argv[1])); pay = json.load(open(sys.argv[2]))["payloads"]
text = json.dumps(g, ensure_ascii=False)
hit = [p for p in pay if json.dumps(p, ensure_ascii=False)[1:-1] in text]
print("%d of %d payloads in hot_streets.geojson" % (len(hit), len(pay)))
sys.exit(0 if len(hit) >= 5 else 1)
PY
fi
# No raw <script> anywhere in the Markdown, tables or the lines before them (formerly known
# bug 10: `trends --format md` printed its verdict lines, series names, unescaped).
for m in out-*-md.txt; do
  [ -e "$m" ] || continue
  grep -q '<script>' "$m" && fail "$m carries a raw <script>: $(grep -m 1 '<script>' "$m" | head -c 200)"
  grep -q '\\<script\\>' "$m" || fail "$m: no escaped <script> (the payload did not reach the table?)"
done
if [ -e out-trends-md.txt ]; then
  # the verdict lines name the series: the payload must be there, escaped
  sed '/^|/,$d' out-trends-md.txt | grep -q '^  \\<script\\>alert(1)\\</script\\>: ' ||
    fail "trends md: no escaped verdict line for the <script> series: $(sed '/^|/,$d' out-trends-md.txt | head -c 600)"
fi
if [ -e out-trends.txt ]; then
  # and on the console they are cleaned like the tables: no bidi override, no control bytes
  sed '/^-\{3,\}/,$d' out-trends.txt | LC_ALL=C grep -q $'\xe2\x80\xae\|[\x01-\x08\x0b-\x1f]' &&
    fail "trends console: a verdict line carries a bidi override or a control character"
fi
imgs=$(ls out-*/*.png out-*/*.svg 2>/dev/null | wc -l)
if command -v gnuplot >/dev/null; then
  [ "$imgs" -gt 0 ] || fail "gnuplot is installed but no chart was drawn (the marker check would be vacuous)"
fi
echo "$npay payloads x (street, LSOA, type, parish, agency category, rejected raw) through: $ran; $imgs charts drawn"
