#!/bin/bash
# Issue 20 on a hand-made district (no shared data): a 4 x 4 grid of streets 200 m apart in
# "Testshire", one crime each except a planted cluster of 30 in a 2 x 2 corner, and one street
# 20 km away; two months. Checks: the default band (99th percentile of nearest-neighbour
# distances: for 17 streets the largest, the remote street's), the corner hot and the far
# corner not at a 300 m band, the remote street then reported isolated (not crashed on), the
# forecast table's columns and a perfect forecast's PEI of 1, an outline file clipping the KDE, and bad options and police.uk Knox are refused with clear messages (exit 2).
. "$(dirname "$0")/lib.sh"
DB=$T/h.db
mkdir -p "$T/p"
hdr="Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
# 200 m at 52.1 N: 0.0018 degree of latitude, 0.00293 degree of longitude
for m in 2025-05 2025-06; do
  mkdir -p "$T/p/$m"
  {
    echo "$hdr"
    n=0
    for i in 0 1 2 3; do for j in 0 1 2 3; do
      lon=$(awk -v i=$i 'BEGIN { printf "%.6f", 0.1 + i * 0.00293 }')
      lat=$(awk -v j=$j 'BEGIN { printf "%.6f", 52.1 + j * 0.0018 }')
      k=1; [ $i -le 1 ] && [ $j -le 1 ] && k=30
      for c in $(seq 1 $k); do
        n=$((n + 1)); id=$(printf '%s-%d' "$m" "$n" | sha256sum | cut -c1-64)
        echo "$id,$m,Test Police,Test Police,$lon,$lat,On or near Street $i$j,E01000001,Testshire 001A,Burglary,Under investigation,"
      done
    done; done
    # a remote street 20 km east
    n=$((n + 1)); id=$(printf '%s-%d' "$m" "$n" | sha256sum | cut -c1-64)
    echo "$id,$m,Test Police,Test Police,0.400000,52.100000,On or near Far Lane,E01000001,Testshire 001A,Burglary,Under investigation,"
  } > "$T/p/$m/$m-test-street.csv"
done
mb --db "$DB" import --quiet "$T/p" || fail "import exit $?"
mb --db "$DB" hotspots --area Testshire --from 2025-06 --to 2025-06 --out "$T/o" --no-charts \
  > "$T/out" 2> "$T/err" || fail "hotspots exit $?: $(cat "$T/err")"
# the remote street's nearest neighbour: (0.4 - 0.10879) degree x 68526.5 m (metres per degree
# of longitude at 52.1 N, WGS84) = 19955.6 m -> rounded up to 10 m
grep -q "Gi\* band: 19960 m (default" "$T/out" || fail "default band: $(grep band "$T/out")"
eq "gistar rows" "$(($(wc -l < "$T/o/gistar.csv") - 1))" 17
# a 300 m band: the remote street has no neighbour -> isolated, not classed
mb --db "$DB" hotspots --area Testshire --from 2025-06 --to 2025-06 --band 300 --out "$T/o2" \
  --no-charts > "$T/out2" || fail "--band 300 exit $?"
grep -q "Gi\* band: 300 m (--band); 1 micro-beats isolated" "$T/out2" || fail "isolated: $(grep band "$T/out2")"
awk -F, 'NR > 1 && $1 == "STREET 00" { print $11 }' "$T/o2/gistar.csv" | grep -q "^hot" ||
  fail "planted corner not hot: $(grep 'STREET 00' "$T/o2/gistar.csv")"
awk -F, 'NR > 1 && $1 == "STREET 33" { print $11 }' "$T/o2/gistar.csv" | grep -qv "^hot" ||
  fail "far corner hot"
awk -F, 'NR > 1 && $1 == "FAR LANE" { print $7, $11 }' "$T/o2/gistar.csv" | grep -q "^0 isolated$" ||
  fail "far lane row: $(grep 'FAR LANE' "$T/o2/gistar.csv")"
head -1 "$T/o2/forecast.csv" | grep -q "top_pct,streets_listed,streets,crimes_in_list,crimes,hit_rate,pai,pei,rri" ||
  fail "forecast.csv header: $(head -1 "$T/o2/forecast.csv")"
# same counts both months: the 2025-05 list predicts 2025-06 perfectly -> PEI 1 at every k
awk -F, 'NR > 1 && ($8 + 0 < 0.999999 || $8 + 0 > 1.000001) { bad = 1 } END { exit bad }' "$T/o2/forecast.csv" ||
  fail "PEI not 1 for a perfect forecast: $(cat "$T/o2/forecast.csv")"
# the class map names the peak of each hot cluster: here one cluster (the planted corner, all
# within 1.5 km), so one name, that of the micro-beat with the highest Gi* z
mb --db "$DB" hotspots --area Testshire --from 2025-06 --to 2025-06 --band 300 --out "$T/o5" \
  > /dev/null || fail "--band 300 with maps exit $?"
peak=$(awk -F, 'NR > 1 && ($11 == "hot 99%" || $11 == "hot 95%") && (best == "" || $8 + 0 > best) { best = $8 + 0; name = $1 }
  END { print name }' "$T/o5/gistar.csv")
eq "map labels" "$(awk '/^#/ { next } match($0, /"[^"]*"/) { s = substr($0, RSTART + 1, RLENGTH - 2); if (s != "") print s }' "$T/o5/hotspot_map-labels.dat")" "$peak"
case "$peak" in "STREET 00"|"STREET 01"|"STREET 10"|"STREET 11") ;; *) fail "peak '$peak' not in the planted corner" ;; esac
# an outline around the grid only: KDE cells all inside it (lon 0.099..0.11, lat 52.099..52.106)
echo '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[0.099,52.099],[0.11,52.099],[0.11,52.106],[0.099,52.106],[0.099,52.099]]]}}]}' > "$T/o.geojson"
mb --db "$DB" hotspots --area Testshire --from 2025-06 --to 2025-06 --outline "$T/o.geojson" \
  --cell 50 --out "$T/o3" --no-charts > "$T/out3" || fail "--outline exit $?"
awk -F, 'NR > 1 && ($3 < 0.099 || $3 > 0.11 || $4 < 52.099 || $4 > 52.106) { bad = 1 } END { exit bad }' \
  "$T/o3/kde_grid.csv" || fail "KDE cells outside the outline"
# --layer L --area U: the outline is exactly the chosen units' rings (West, and Empty: a unit with
# no crime, so no micro-beat's snap point -- not East) and the KDE is clipped to them; the maps
# are drawn over them
cat > "$T/halves.geojson" <<'JSON'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"CD":"W1","NM":"West"},"geometry":{"type":"Polygon","coordinates":[[[0.098,52.098],[0.1044,52.098],[0.1044,52.108],[0.098,52.108],[0.098,52.098]]]}},
{"type":"Feature","properties":{"CD":"E1","NM":"East"},"geometry":{"type":"MultiPolygon","coordinates":[[[[0.1044,52.098],[0.112,52.098],[0.112,52.108],[0.1044,52.108],[0.1044,52.098]]],[[[0.2,52.0],[0.21,52.0],[0.21,52.01],[0.2,52.0]]]]}},
{"type":"Feature","properties":{"CD":"X1","NM":"Empty"},"geometry":{"type":"Polygon","coordinates":[[[0.3,52.2],[0.31,52.2],[0.31,52.21],[0.3,52.2]]]}}]}
JSON
mb --db "$DB" areas --layer half --boundaries "$T/halves.geojson" --code-field CD --name-field NM \
  > /dev/null || fail "areas exit $?"
mb --db "$DB" hotspots --layer half --area West,Empty --from 2025-06 --to 2025-06 --band 300 --cell 50 \
  --out "$T/o4" > "$T/out4" 2> "$T/err4" || fail "--layer half --area West exit $?: $(cat "$T/err4")"
grep -q "clipped to the 2 selected units of layer 'half'" "$T/out4" || fail "outline source: $(grep KDE "$T/out4")"
for m in hotspot_map hotspot_kde; do
  # West's ring of 5 vertices and Empty's of 4, none of East's 5 + 4
  eq "$m outline rings" "$(awk '/^#/ { next } NF == 0 { n++ } END { print n + 0 }' "$T/o4/$m-outline.dat")" 2
  eq "$m outline vertices" "$(awk '/^#/ { next } NF > 0 { n++ } END { print n }' "$T/o4/$m-outline.dat")" 9
done
# West's ring on the plane: 0.0064 degree of longitude wide at 52.098..52.108 N = 0.438..0.439 km
awk '/^#/ { next } NF == 0 { exit } { if (min == "" || $1 < min) min = $1; if (max == "" || $1 > max) max = $1 }
     END { w = max - min; exit !(w > 0.437 && w < 0.440) }' "$T/o4/hotspot_map-outline.dat" ||
  fail "outline width: $(cat "$T/o4/hotspot_map-outline.dat")"
awk -F, 'NR > 1 && ($3 < 0.098 || $3 > 0.1044 || $4 < 52.098 || $4 > 52.108) &&
  ($3 < 0.3 || $3 > 0.31 || $4 < 52.2 || $4 > 52.21 || $4 - 52.2 > $3 - 0.3) { bad = 1 } END { exit bad }' \
  "$T/o4/kde_grid.csv" || fail "KDE cells outside West and Empty"
eq "gistar rows (West's 8 streets; Empty has none)" "$(($(wc -l < "$T/o4/gistar.csv") - 1))" 8
# refusals
run() { local want=$1 rc=0; shift; mb --db "$DB" hotspots --area Testshire --from 2025-06 --to 2025-06 "$@" > /dev/null 2> "$T/e" || rc=$?
  eq "exit of $*" "$rc" 2; grep -qF -- "$want" "$T/e" || fail "message for $*: $(cat "$T/e")"; }
run "--band wants a positive number of metres" --band -5
run "--knox-distances wants up to 16 ascending" --knox-distances 200,100
run "police.uk data gives the month only" --knox
run "--knox-permutations wants 999..99999" --knox-permutations 10
echo ok
