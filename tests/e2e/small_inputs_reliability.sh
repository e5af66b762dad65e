#!/bin/bash
# Issue 21 ("Reliability, round 2"), items 3 and 7-11 on the small inputs: populations, LSOA
# lookups, street gazetteers, harm weights, themes, INI column maps and boundary layers.
# Each case is a hand-made file with one planted fault; the test checks the exit code, the
# message's FILE:LINE:COL (the physical line of the offending row's first byte, counted by hand
# below, also after multi-line quoted fields and in CR-only files), and that the store is as it
# was (nothing half-loaded: sqlite3 counts). Every case loaded silently, or named a wrong line,
# before the shared reader (src/csvtab.c); run against the old binary they fail.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 > /dev/null || skip "sqlite3 is not available"
DB=$T/s.db
q() { sqlite3 "$DB" "$1"; }

# a tiny district: 6 crimes in two LSOAs of "Testshire" (police.uk street file, 2024-01)
mkdir -p "$T/p/2024-01"
{
  echo "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
  for i in 1 2 3 4 5 6; do
    id=$(printf 'crime%d' "$i" | sha256sum | cut -c1-64)
    if [ "$i" -le 4 ]; then lon=0.100000 lsoa=E01000001 name="Testshire 001A" street="High Street"
    else lon=0.300000 lsoa=E01000002 name="Testshire 001B" street="Mill Lane"; fi
    echo "$id,2024-01,Test Police,Test Police,$lon,52.100000,On or near $street,$lsoa,$name,Burglary,Under investigation,"
  done
} > "$T/p/2024-01/2024-01-test-street.csv"
mb --db "$DB" import --quiet "$T/p" || fail "import exit $?"
eq "events" "$(q 'SELECT count(*) FROM event')" 6

# run NAME WANT_RC WANT_MSG ARGS...: the exit code and the message (a fixed string in stderr)
run() {
  local name=$1 want_rc=$2 want=$3 rc=0
  shift 3
  mb --db "$DB" "$@" > "$T/out" 2> "$T/err" || rc=$?
  [ "$rc" = "$want_rc" ] || fail "$name: exit $rc, want $want_rc: $(head -c 300 "$T/err")"
  grep -qF -- "$want" "$T/err" || fail "$name: message '$(head -c 300 "$T/err")', want '$want'"
}

# ---- boundaries for a layer (valid), then populations (item 7, 11, 3) -----------------------
poly() { printf '{"type":"Feature","properties":{"code":"%s","name":"%s"},"geometry":{"type":"Polygon","coordinates":[[[%s,52],[%s,52],[%s,52.2],[%s,52.2],[%s,52]]]}}' "$1" "$2" "$3" "$4" "$4" "$3" "$3"; }
echo "{\"type\":\"FeatureCollection\",\"features\":[$(poly A Alpha 0.0 0.2),$(poly B Beta 0.2 0.4)]}" \
  > "$T/ok.geojson"
mb --db "$DB" areas --layer w --boundaries "$T/ok.geojson" --code-field code --name-field name \
  > /dev/null || fail "valid layer exit $?"
eq "units" "$(q "SELECT group_concat(code || '=' || ifnull(population, 'null'), ' ') FROM unit")" \
  "A=null B=null"
area_pop() { mb --db "$DB" areas --layer w --boundaries "$T/ok.geojson" --code-field code \
  --name-field name --population "$1"; }
printf 'code,population\nA,100\nB,1e308\n' > "$T/pop.csv"
run "population 1e308" 3 "pop.csv:3:3: population '1e308' is outside 1 .. 100000000" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --name-field name --population "$T/pop.csv"
printf 'code,population\nA,1e-300\nB,5\n' > "$T/pop.csv"
run "population 1e-300" 3 "pop.csv:2:3: population '1e-300' is outside" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --population "$T/pop.csv"
printf 'code,population\nA,0\nB,5\n' > "$T/pop.csv"
run "population 0" 3 "pop.csv:2:3: population '0' is outside" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --population "$T/pop.csv"
printf 'code,population\nA,100\nB,200\nA,300\n' > "$T/pop.csv"
run "duplicate code" 3 "pop.csv:4:1: unit code 'A' given twice (also on line 2)" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --population "$T/pop.csv"
# line 4 is the bad row: the quoted name spans lines 2-3 (records counted said line 3)
printf 'code,name,population\nA,"Alpha\nvillage",100\nB,Beta,abc\n' > "$T/pop.csv"
run "line after a multi-line field" 3 "pop.csv:4:8: population 'abc' is not a number" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --population "$T/pop.csv"
printf 'code,population\rA,100\rB,x\r' > "$T/pop.csv"
run "CR-only line" 3 "pop.csv:3:3: population 'x' is not a number" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --population "$T/pop.csv"
printf 'code,population\nA,100\nB,2\0000\n' > "$T/pop.csv"
run "NUL in a population" 3 "pop.csv:3:4: NUL byte" \
  areas --layer w --boundaries "$T/ok.geojson" --code-field code --population "$T/pop.csv"
eq "populations untouched by refused files" \
  "$(q "SELECT group_concat(ifnull(population, 'null'), ' ') FROM unit")" "null null"
printf '\xef\xbb\xbfcode,population\r\nA,100\r\nB,2000\r\n' > "$T/pop.csv"
area_pop "$T/pop.csv" > /dev/null || fail "good population (BOM, CRLF) exit $?"
eq "populations" "$(q "SELECT group_concat(code || '=' || population, ' ') FROM unit")" \
  "A=100.0 B=2000.0"

# ---- LSOA lookups (item 10, 3) --------------------------------------------------------------
lk() { mb --db "$DB" areas --layer lk --lookup "$T/lk.csv" --name-field unit_name; }
printf 'lsoa_code,unit_code,unit_name\nE01000001\nE01000002,U2,Two\n' > "$T/lk.csv"
run "short lookup row" 3 "lk.csv:2:1: this row has 1 fields, the header 3" \
  areas --layer lk --lookup "$T/lk.csv" --name-field unit_name
printf 'lsoa_code,unit_code,unit_name\nE01000001,U1,One\nE01000002,U2,Two\nE01000001,U2,Two\n' > "$T/lk.csv"
run "conflicting lookup rows" 3 \
  "lk.csv:4:1: LSOA 'E01000001' maps to unit 'U2' here and to unit 'U1' on line 2" \
  areas --layer lk --lookup "$T/lk.csv" --name-field unit_name
printf 'lsoa_code,unit_code,unit_name\nE01000001,U1,One\nNOTLSOA,U2,Two\n' > "$T/lk.csv"
run "invalid LSOA code" 3 "lk.csv:3:1: LSOA code 'NOTLSOA' is not a letter and 8 digits" \
  areas --layer lk --lookup "$T/lk.csv" --name-field unit_name
printf 'lsoa_code,unit_code,unit_name\nE01000001,U1,One\nE01000002,U2,T\xe9st\n' > "$T/lk.csv"
run "bad UTF-8 in a lookup" 3 "lk.csv:3:15: invalid UTF-8" \
  areas --layer lk --lookup "$T/lk.csv" --name-field unit_name
printf 'lsoa_code,unit_code,unit_name\nE01000001,U1,One\nE01000002,U\0002,Two\n' > "$T/lk.csv"
run "NUL in a lookup" 3 "lk.csv:3:12: NUL byte" \
  areas --layer lk --lookup "$T/lk.csv" --name-field unit_name
printf 'lsoa_code,unit_code,unit_name\nE01000001,U1,One\nE01000002,U2,\n' > "$T/lk.csv"
run "blank unit name" 3 "lk.csv:3:14: blank unit name" \
  areas --layer lk --lookup "$T/lk.csv" --name-field unit_name
eq "no lookup layer stored" "$(q "SELECT count(*) FROM layer WHERE name = 'lk'")" 0
printf 'lsoa_code,unit_code,unit_name\nE01000001,U1,One\nE01000002,U2,Two\nE01000001,U1,One\n' > "$T/lk.csv"
lk > /dev/null || fail "good lookup (a repeated identical row) exit $?"
eq "lookup units" "$(q "SELECT group_concat(u.code || '=' || u.name, ' ') FROM unit u JOIN layer l ON l.id = u.layer_id WHERE l.name = 'lk'")" "U1=One U2=Two"

# ---- boundaries (item 9) --------------------------------------------------------------------
bow='{"type":"Feature","properties":{"code":"X","name":"Bow"},"geometry":{"type":"Polygon","coordinates":[[[0.5,52],[0.6,52.1],[0.6,52],[0.5,52.1],[0.5,52]]]}}'
echo "{\"type\":\"FeatureCollection\",\"features\":[$(poly A Alpha 0.0 0.2),$bow]}" > "$T/bow.geojson"
run "bow-tie" 3 "bow.geojson: feature 2 (unit 'X'): invalid polygon: Self-intersection at (0.550000, 52.050000)" \
  areas --layer bad --boundaries "$T/bow.geojson" --code-field code --name-field name
echo "{\"type\":\"FeatureCollection\",\"features\":[$(poly A Alpha 0.0 0.2),$(poly '  ' Beta 0.2 0.4)]}" \
  > "$T/blank.geojson"
run "blank unit code" 3 "blank.geojson: feature 2: property 'code' is blank" \
  areas --layer bad --boundaries "$T/blank.geojson" --code-field code --name-field name
echo "{\"type\":\"FeatureCollection\",\"features\":[$(poly A Alpha 0.0 0.2),$(poly B '' 0.2 0.4)]}" \
  > "$T/blank.geojson"
run "blank unit name" 3 "blank.geojson: feature 2: property 'name' is blank" \
  areas --layer bad --boundaries "$T/blank.geojson" --code-field code --name-field name
eq "no invalid layer stored" "$(q "SELECT count(*) FROM layer WHERE name = 'bad'")" 0

# ---- gazetteer (item 8, 11, 3) --------------------------------------------------------------
printf 'street_name,longitude,latitude,lsoa_code\nHigh Street,0.1,52.1,E01000001\nMill Lane,0.3,52.1,E01000002\nQuiet Close,0.31,52.11,E01000002\n' > "$T/g.csv"
mb --db "$DB" streets "$T/g.csv" > /dev/null || fail "good gazetteer exit $?"
gz() { q 'SELECT count(*) FROM street WHERE gazetteer = 1'; }
eq "gazetteer streets" "$(gz)" 3
printf 'street_name,longitude,latitude,lsoa_code\n' > "$T/h.csv"
run "header-only gazetteer" 3 "h.csv: the gazetteer file holds no streets: the loaded gazetteer (3 streets) is kept" \
  streets "$T/h.csv"
eq "gazetteer kept" "$(gz)" 3
printf 'street_name,longitude,latitude,lsoa_code\nA Road,abc,52.1,E01000001\n' > "$T/b.csv"
run "longitude abc" 3 "b.csv:2:8: longitude 'abc' is not a number" streets "$T/b.csv"
printf 'street_name,longitude,latitude,lsoa_code\nA Road,0.1,-95,E01000001\n' > "$T/b.csv"
run "latitude -95" 3 "b.csv:2:12: latitude -95.000000 is outside the UK" streets "$T/b.csv"
printf 'street_name,longitude,latitude,lsoa_code\nA Road,0.1,52.1,NOTLSOA\n' > "$T/b.csv"
run "NOTLSOA" 3 "b.csv:2:17: LSOA code 'NOTLSOA' is not a letter and 8 digits" streets "$T/b.csv"
printf 'street_name,longitude,latitude,lsoa_code\n"A\nRoad",0.1,52.1,E01000001\nB Road,0x1,52.1,E01000001\n' > "$T/b.csv"
run "line after a multi-line field" 3 "b.csv:4:8: longitude '0x1' is not a number" streets "$T/b.csv"
printf 'street_name,longitude,latitude,lsoa_code\nA Road,0.1,52.1,E01000001\nViolence\0 Road,0.1,52.1,E01000001\n' > "$T/b.csv"
run "NUL in a street name" 3 "b.csv:3:9: NUL byte" streets "$T/b.csv"
printf 'street_name,longitude,latitude,lsoa_code\rA Road,0.1,52.1,E01000001\rB Road,0.1,,E01000001\r' > "$T/b.csv"
run "CR-only, one coordinate blank" 3 "b.csv:3:12: latitude is blank but longitude is not" \
  streets "$T/b.csv"
eq "gazetteer still kept" "$(gz)" 3
mb --db "$DB" streets --replace "$T/h.csv" > /dev/null || fail "--replace exit $?"
eq "gazetteer cleared with --replace" "$(gz)" 0

# ---- harm weights (item 10, 11, 3) ----------------------------------------------------------
conc() { mb --db "$DB" concentration --area Testshire --year 2024 --allow-gaps --harm="$T/w.csv"; }
printf 'crime_type,cchi_days\nBurglary,\n' > "$T/w.csv"
run "blank weight" 3 "w.csv:2:10: blank weight" concentration --area Testshire --year 2024 --allow-gaps --harm="$T/w.csv"
printf 'crime_type,cchi_days\nBurglary,10\nRobbery,5\nburglary,20\n' > "$T/w.csv"
run "duplicate category" 3 "w.csv:4:1: category 'burglary' is given twice (also on line 2)" \
  concentration --area Testshire --year 2024 --allow-gaps --harm="$T/w.csv"
printf 'crime_type,cchi_days\nBurglary,1e-320\n' > "$T/w.csv"
run "1e-320" 3 "w.csv:2:10: weight '1e-320' is outside 0 .. 1000000000 (or too small for a double)" \
  concentration --area Testshire --year 2024 --allow-gaps --harm="$T/w.csv"
grep -q "not a number" "$T/err" && fail "1e-320 is a number: $(cat "$T/err")"
printf 'crime_type,cchi_days\n"Rob\nbery",5\nBurglary,ten\n' > "$T/w.csv"
run "weight line after a multi-line field" 3 "w.csv:4:10: weight 'ten' is not a number" \
  concentration --area Testshire --year 2024 --allow-gaps --harm="$T/w.csv"
printf 'crime_type,cchi_days\nBurglary\0 and more,10\n' > "$T/w.csv"
run "NUL in a category" 3 "w.csv:2:9: NUL byte" concentration --area Testshire --year 2024 --allow-gaps --harm="$T/w.csv"
printf 'crime_type,cchi_days\nBurglary,2.5\n' > "$T/w.csv"
conc > "$T/conc" 2>&1 || fail "good weights exit $?: $(tail -3 "$T/conc")"

# ---- themes (item 10) -----------------------------------------------------------------------
mkdir -p "$T/data"
cp "$MB_DATA/harm_cchi.csv" "$T/data/"
pad=$(printf '%*s' 497 '')  # 'big,"Burglary,' + 497 = 511 bytes
# a quoted type list longer than 511 bytes: fgets cut it and its tail became a theme 'phantom'
printf 'theme,crime_type\nbig,"Burglary,%sphantom,Shoplifting"\nacq,Burglary\n' "$pad" > "$T/data/themes.csv"
MB_DATA=$T/data run "phantom theme" 6 "theme 'phantom' is not in" trends --area Testshire --theme phantom
MB_DATA=$T/data run "header row as a theme" 6 "theme 'theme' is not in" trends --area Testshire --theme theme
printf 'theme,crime_type\nacq,"Bur\0glary"\n' > "$T/data/themes.csv"
MB_DATA=$T/data run "NUL in themes.csv" 3 "themes.csv:2:9: NUL byte" trends --area Testshire --theme acq

# ---- INI column map (item 3) ----------------------------------------------------------------
printf 'case_id,month,category,lsoa_code\nC1,2024-01,Fly-tipping,E01000001\n' > "$T/agency.csv"
printf '[source]\nname = Council\n[columns]\nid = case_id\nmonth = month\ncategory = category\0junk\nlsoa = lsoa_code\n' > "$T/map.ini"
run "NUL in an INI map" 3 "map.ini:6:20: NUL byte in the column map" import --map "$T/map.ini" "$T/agency.csv"
eq "no agency rows" "$(q "SELECT count(*) FROM event")" 6
check_stores "$T"
echo "ok"
