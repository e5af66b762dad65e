#!/bin/bash
# Issue 18 §3: the bulk gazetteer load (src/store_gaz.c: rows resolved in memory, one final row a
# street written through temp.mb_feed_gaz) against an independent recount. Python writes a
# gazetteer of 4,000 rows over a small crime store: repeated keys (the last coordinates given and
# the last row's area win), quoted names with commas and doubled quotes, "on or near" and odd
# spacing and case (one key after normalising), blank names (skipped, the first ten named),
# blank lines, CRLF and a byte-order mark, LSOAs the store lacks (added with the first name
# given), LSOA names (one lsoa_name row a pair). Python reads the CSV and the store as it was
# before, applies the documented rules (docs/methods-concentration.md, the universe N) and
# predicts the street, lsoa and lsoa_name tables and the summary line; a second gazetteer then
# replaces the first (its crime-free streets go, the rest are unmarked), is loaded again as it is
# and edited, the first comes back over it, and a third without an LSOA column matches by name
# within 1 km.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || skip "sqlite3 is not available"
command -v python3 > /dev/null || skip "python3 is not available"
DB=$T/g.db

# the crime store: 8 crimes, 4 streets in 3 LSOAs, one snap point each
mkdir -p "$T/p/2024-01"
{
  echo "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
  for i in 1 2 3 4 5 6 7 8; do
    id=$(printf 'gz%d' "$i" | sha256sum | cut -c1-64)
    case $i in
      1|2|3) lon=0.100000 lsoa=E01000001 name="Testshire 001A" street="High Street" ;;
      4|5) lon=0.300000 lsoa=E01000002 name="Testshire 001B" street="Mill Lane" ;;
      6) lon=0.200000 lsoa=E01000002 name="Testshire 001B" street="Church Road" ;;
      *) lon=0.250000 lsoa=E01000003 name="Testshire 001C" street="Parking Area" ;;
    esac
    echo "$id,2024-01,Test Police,Test Police,$lon,52.100000,On or near $street,$lsoa,$name,Burglary,Under investigation,"
  done
} > "$T/p/2024-01/2024-01-test-street.csv"
mb --db "$DB" import --quiet "$T/p" || fail "import exit $?"

# predict.py write SEED ROWS FILE [nolsoa] | predict.py edit FILE EDITED |
# predict.py check DB-BEFORE FILE OUT-EXPECTED
cat > "$T/predict.py" << 'EOF'
import csv, io, math, random, sqlite3, sys

def write(seed, n, path, nolsoa):
    r = random.Random(seed)
    names = ['High Street', 'Mill Lane', 'Church Road', 'on or near Church  Road', 'HIGH street',
             '  Station   Road ', '"Smith, John Way"', '"The ""Quoted"" Row"', 'Parking Area',
             'Ünïcode Row'] + ['Street %d' % k for k in range(40)]
    lsoas = ['E01000001', 'E01000002', 'E01000003', 'E01000007', 'W01000008', '']
    out = ['\ufeffstreet_name,longitude,latitude,area_code' + ('' if nolsoa else ',lsoa_code,lsoa_name')]
    for i in range(n):
        name = '' if r.random() < 0.01 else r.choice(names)
        lon = lat = ''
        if r.random() < 0.75:
            lon, lat = '%.6f' % r.uniform(0.09, 0.31), '%.6f' % r.uniform(52.095, 52.105)
        row = [name, lon, lat, r.choice(['AR1', 'AR2', ''])]
        if not nolsoa:
            row += [r.choice(lsoas), r.choice(['', 'Testshire 001A', 'Other Name'])]
        out.append(','.join(row))
        if r.random() < 0.02:
            out.append('')
    open(path, 'w', encoding='utf-8', newline='').write('\r\n'.join(out) + '\r\n')

def norm(s):
    if s[:11].lower() == 'on or near ':
        s = s[11:]
    return ' '.join(''.join(c.upper() if c < '\x80' else c for c in s).split())

def check(db, path, out):
    con = sqlite3.connect(db)
    lsoa = {code: i for i, code in con.execute('SELECT id, code FROM lsoa')}
    lname = {}
    for i, code, name in con.execute('SELECT id, code, name FROM lsoa'):
        lname[i] = (code, name)
    aliases = set(con.execute('SELECT lsoa_id, name FROM lsoa_name'))
    # a previous gazetteer: its crime-free streets go, the rest are unmarked (area dropped)
    used = {s for (s,) in con.execute('SELECT street_id FROM location WHERE street_id IS NOT NULL')}
    streets = {}
    for sid, nm, l, kind, gz, lon, lat, area in con.execute('SELECT * FROM street ORDER BY id'):
        if gz == 1 and sid not in used:
            continue
        streets[sid] = [nm, l, kind, 0, lon, lat, None if gz == 1 else area]
    points = {}
    for sid, lon, lat in con.execute('SELECT street_id, min(lon), min(lat) FROM location'
                                     ' WHERE street_id IS NOT NULL GROUP BY street_id'):
        points[sid] = (lon, lat)
    key = {}
    for sid, v in streets.items():
        key.setdefault((v[1] or 0, v[0]), sid)
    nxt_s = max(streets, default=0) + 1
    nxt_l = max(lname, default=0) + 1
    text = open(path, encoding='utf-8-sig', newline='').read()
    rows = [r for r in csv.reader(io.StringIO(text))]
    head = [h.strip(' \t') for h in rows[0]]
    has_lsoa = 'lsoa_code' in head
    col = {h: head.index(h) for h in head}
    nrows = matched = added = skipped = 0
    touched = set()
    for r in rows[1:]:
        if not r:
            continue
        f = [x.strip(' \t') for x in r]
        name = f[col['street_name']]
        if not name:
            skipped += 1
            continue
        nrows += 1
        lon = float(f[col['longitude']]) if f[col['longitude']] else None
        lat = float(f[col['latitude']]) if f[col['latitude']] else None
        area = f[col['area_code']] or None
        l = 0
        if has_lsoa and f[col['lsoa_code']]:
            code, ln = f[col['lsoa_code']], f[col['lsoa_name']]
            if code not in lsoa:
                lsoa[code] = nxt_l
                lname[nxt_l] = (code, ln)
                nxt_l += 1
            l = lsoa[code]
            if ln:
                aliases.add((l, ln))
        k = (l, norm(name))
        sid = key.get(k)
        if sid is None and not has_lsoa and lon is not None:
            best = 1000.0
            for cand, v in streets.items():
                if v[0] != k[1] or cand not in points:
                    continue
                plon, plat = points[cand]
                x = (plon - lon) * 111320.0 * math.cos((lat + plat) * math.pi / 360.0)
                d = math.sqrt(x * x + ((plat - lat) * 110574.0) ** 2)
                if d <= best:
                    best, sid = d, cand
        if sid is None:
            sid = nxt_s
            nxt_s += 1
            streets[sid] = [k[1], l or None, 'street', 1, lon, lat, area]
            key[k] = sid
            added += 1
        else:
            matched += 1
            v = streets[sid]
            v[3] = 1
            if lon is not None:
                v[4], v[5] = lon, lat
            v[6] = area
        touched.add(sid)
    fmt = lambda x: '' if x is None else ('%.6f' % x if isinstance(x, float) else str(x))
    with open(out, 'w') as o:
        for sid in sorted(streets):
            o.write('|'.join(fmt(x) for x in [sid] + streets[sid]) + '\n')
        o.write('--\n')
        for i in sorted(lname):
            o.write('%d|%s|%s\n' % (i, *lname[i]))
        o.write('--\n')
        for a in sorted(aliases):
            o.write('%d|%s\n' % a)
        o.write('--\n%d streets: %d match streets seen in crime data, %d crime-free added, %d repeat'
                ' a key\n%d skipped\n' % (nrows, matched, added, nrows - len(touched), skipped))

def edit(src, dst):
    # the same gazetteer with some rows changed: every 7th row's area, every 13th row's
    # coordinates (dropped when it has none... given when it has none), every 11th row gone
    rows = list(csv.reader(io.StringIO(open(src, encoding='utf-8-sig', newline='').read())))
    head = [h.strip(' \t') for h in rows[0]]
    lon, lat, area = head.index('longitude'), head.index('latitude'), head.index('area_code')
    out = []
    for i, r in enumerate(rows[1:], 1):
        if not r or i % 11 == 0:
            continue
        if i % 7 == 0:
            r[area] = 'AR9'
        if i % 13 == 0:
            r[lon], r[lat] = ('', '') if r[lon] else ('0.200000', '52.100000')
        out.append(r)
    with open(dst, 'w', encoding='utf-8', newline='') as f:
        w = csv.writer(f, lineterminator='\r\n')
        w.writerow(rows[0])
        w.writerows(out)

if sys.argv[1] == 'write':
    write(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], len(sys.argv) > 5)
elif sys.argv[1] == 'edit':
    edit(sys.argv[2], sys.argv[3])
else:
    check(sys.argv[2], sys.argv[3], sys.argv[4])
EOF

# got OUT LOG: the store's tables and the summary as predict.py writes them (printf makes
# 0.000000 of a NULL: a street without coordinates is tested for NULL first)
got() {
  {
    sqlite3 "$DB" "SELECT id, name_norm, coalesce(lsoa_id, ''), kind, gazetteer,
      iif(lon IS NULL, '', printf('%.6f', lon)), iif(lat IS NULL, '', printf('%.6f', lat)),
      coalesce(area_code, '')
      FROM street ORDER BY id"
    echo --; sqlite3 "$DB" "SELECT id, code, name FROM lsoa ORDER BY id"
    echo --; sqlite3 "$DB" "SELECT lsoa_id, name FROM lsoa_name ORDER BY lsoa_id, name"
    echo --; sed -n 's/^[^:]*: \([0-9]* streets: .* repeat a key\).*/\1/p' "$2"
    skipped=$(sed -n 's/.* \([0-9]*\) rows without a street name skipped/\1/p' "$2")
    echo "${skipped:-0} skipped"
  } > "$1"
}

# load NAME FILE: predict from the store as it is, load, compare
load() {
  cp "$DB" "$T/before.db"
  python3 "$T/predict.py" check "$T/before.db" "$2" "$T/$1.want" || fail "$1: predict.py"
  mb --db "$DB" streets "$2" > "$T/$1.log" 2>&1 || fail "$1: streets exit $?: $(cat "$T/$1.log")"
  got "$T/$1.got" "$T/$1.log"
  diff "$T/$1.want" "$T/$1.got" > "$T/$1.diff" || fail "$1: the store differs from the recount:
$(head -20 "$T/$1.diff")"
}

python3 "$T/predict.py" write 1 4000 "$T/g1.csv" || fail "write g1"
python3 "$T/predict.py" write 2 3000 "$T/g2.csv" || fail "write g2"
python3 "$T/predict.py" write 3 1500 "$T/g3.csv" nolsoa || fail "write g3"
load first "$T/g1.csv"
# the recount has every case in it
awk -F'|' '$5 == 1 && $2 == "HIGH STREET" && $3 == 1' "$T/first.got" | grep -q . ||
  fail "the crime data's High Street is not marked"
grep -q '|SMITH, JOHN WAY|' "$T/first.got" || fail "no quoted name with a comma"
grep -q '|THE "QUOTED" ROW|' "$T/first.got" || fail "no doubled quote"
grep -q '|STATION ROAD|' "$T/first.got" || fail "spacing not normalised"
grep -q '^[0-9]*|W01000008|' "$T/first.got" || fail "no LSOA added from the gazetteer"
[ "$(sed -n 's/ skipped//p' "$T/first.got")" -gt 10 ] || fail "too few blank names"
eq "blank names named" "$(grep -c 'blank street name; row skipped' "$T/first.log")" 10
load replaced "$T/g2.csv"
# loaded again, the same file (the load writes only rows that change: the tables must not move),
# then an edited copy (areas and coordinates changed, rows gone: their crime-free streets go, and
# new ones take their ids again with other names), then the first again over it
load again "$T/g2.csv"
cmp -s "$T/replaced.got" "$T/again.got" || fail "the same gazetteer loaded again changed the store"
python3 "$T/predict.py" edit "$T/g2.csv" "$T/g2e.csv" || fail "edit g2"
load edited "$T/g2e.csv"
load back "$T/g1.csv"
# a gazetteer of one street: the crime data's others are unmarked, every crime-free street goes
printf 'street_name,longitude,latitude,area_code,lsoa_code,lsoa_name\r\nMill Lane,,,AR5,E01000002,\r\n' \
  > "$T/one.csv"
load one "$T/one.csv"
eq "marked streets after the one-street gazetteer" \
  "$(sqlite3 "$DB" "SELECT group_concat(name_norm || ':' || area_code) FROM street WHERE gazetteer = 1")" \
  "MILL LANE:AR5"
eq "streets after the one-street gazetteer" "$(sqlite3 "$DB" "SELECT count(*) FROM street")" 4
load back2 "$T/g1.csv"
load nolsoa "$T/g3.csv"
grep -q "no LSOA column: matched by name within 1 km" "$T/nolsoa.log" || fail "no-LSOA summary"
# a refused file leaves the store as it was
cp "$DB" "$T/kept.db"
{ head -n 40 "$T/g1.csv"; printf 'X Road,0.1,52.1,AR1,E01000001\r\n'; } > "$T/bad.csv"
mb --db "$DB" streets "$T/bad.csv" > "$T/bad.log" 2>&1 && fail "a short row loaded"
grep -q "bad.csv:[0-9]*:[0-9]*: this row has 5 fields, the header 6" "$T/bad.log" ||
  fail "bad row message: $(cat "$T/bad.log")"
for t in street lsoa lsoa_name; do
  eq "$t kept" "$(sqlite3 "$DB" "SELECT * FROM $t ORDER BY 1, 2" | md5sum)" \
    "$(sqlite3 "$T/kept.db" "SELECT * FROM $t ORDER BY 1, 2" | md5sum)"
done
echo ok
