#!/bin/bash
# The demo-district generator (scripts/gen_demo.py): same seed -> same bytes, another seed ->
# other bytes; the files have the police.uk layout; the concentration, the share of
# "No Location" rows and the planted rise in violence/public order are where
# docs/demo-data.md says. Every figure is recomputed here with awk from the files, not taken
# from the generator's own report.
source "$(dirname "$0")/lib.sh"
root=${MB_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
gen=$root/scripts/gen_demo.py
command -v python3 >/dev/null || skip "python3 is absent: demo generator not run"

# ---- determinism
start=$SECONDS
python3 "$gen" --out "$T/a" --seed 1 2>"$T/report" || fail "generator failed: $(cat "$T/report")"
elapsed=$((SECONDS - start))
[ $elapsed -le 30 ] || fail "generator took ${elapsed}s, want a few seconds"
python3 "$gen" --out "$T/b" --seed 1 2>/dev/null || fail "second run failed"
python3 "$gen" --out "$T/c" --seed 2 2>/dev/null || fail "seed 2 run failed"
digest() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum) ; }
digest "$T/a" >"$T/a.sum"; digest "$T/b" >"$T/b.sum"; digest "$T/c" >"$T/c.sum"
cmp -s "$T/a.sum" "$T/b.sum" || fail "same seed, different bytes: $(diff "$T/a.sum" "$T/b.sum" | head -4)"
eq "file count" "$(wc -l <"$T/a.sum")" 44   # 36 months + 5 side files + 2 agency files + the force extract
# the geography (parishes, LSOAs, polygons) is the same for every seed; all the rest differs
same=$(join <(awk '{print $2, $1}' "$T/a.sum" | sort) <(awk '{print $2, $1}' "$T/c.sum" | sort) |
  awk '$2 == $3 { print $1 }' | tr '\n' ' ')
eq "files identical between seeds 1 and 2" "$same" \
  "./lsoa.csv ./lsoa_to_parish.csv ./parishes.csv ./parishes.geojson "

D=$T/a
cd "$D" || fail "no output folder"

# ---- the monthly files: names, header, CRLF, 12 fields, Crime ID blank exactly on ASB
months=$(ls policeuk | tr '\n' ' ')
want=$(awk 'BEGIN { for (i = 0; i < 36; i++) { m = 2023 * 12 + 3 + i;
  printf "%04d-%02d ", int(m / 12), m % 12 + 1 } }')
eq "months" "$months" "$want"
for m in $months; do [ -f "policeuk/$m/$m-cambridgeshire-street.csv" ] || fail "no file for $m"; done
awk -F, '
  FNR == 1 {
    files++
    if ($0 != "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\r")
      { print "bad header in " FILENAME; bad++ }
    split(FILENAME, parts, "/"); month = parts[2]; next }
  { if (substr($0, length($0)) != "\r") { print "no CR at " FILENAME ":" FNR; bad++; exit }
    sub(/\r$/, "") }
  NF != 12 { print "fields " NF " at " FILENAME ":" FNR; bad++ }
  $2 != month { print "month " $2 " in " FILENAME; bad++ }
  $3 != "Cambridgeshire Constabulary" || $4 != $3 { print "force at " FILENAME ":" FNR; bad++ }
  $7 == "No Location" { noloc++; if ($5 $6 $8 $9 != "") { print "No Location with a place at " FILENAME ":" FNR; bad++ } }
  $10 == "Anti-social behaviour" { asb++; if ($1 != "" || $11 != "") { print "ASB with id/outcome at " FILENAME ":" FNR; bad++ } ; next }
  { crimes++; types[$10] = 1
    if ($1 !~ /^[0-9a-f]+$/ || length($1) != 64) { print "bad Crime ID at " FILENAME ":" FNR; bad++ }
    if ($11 == "") { print "crime without outcome at " FILENAME ":" FNR; bad++ }
    if (seen[$1]++) { print "duplicate Crime ID " $1; bad++ } }
  $7 != "No Location" && ($7 !~ /^On or near / || $5 == "" || $8 !~ /^E0199/ || $9 !~ /^South Cambridgeshire [0-9][0-9][0-9][A-D]$/) {
    print "bad location at " FILENAME ":" FNR; bad++ }
  END {
    nt = 0; for (t in types) nt++
    share = noloc / (crimes + asb)
    printf "files %d crimes %d asb %d types %d no-location %.4f\n", files, crimes, asb, nt, share
    if (files != 36 || nt != 13 || crimes < 27000 || crimes > 39000 || asb < 5000 || asb > 9000 ||
        share < 0.01 || share > 0.03) bad++
    exit bad > 0 }' policeuk/*/*.csv || fail "monthly files"

# ---- side files
eq "gazetteer header" "$(head -1 gazetteer.csv)" "street_name,longitude,latitude,lsoa_code,area_code"
eq "parishes header" "$(head -1 parishes.csv)" "parish_code,parish_name,population"
eq "lsoa header" "$(head -1 lsoa.csv)" "lsoa_code,lsoa_name,population"
eq "lsoa_to_parish header" "$(head -1 lsoa_to_parish.csv)" "lsoa_code,parish_code"
eq "fire header" "$(head -1 agency/fire_incidents.csv)" "incident_ref,call_date,incident_type,easting,northing"
eq "council header" "$(head -1 agency/council_asb.csv)" "case_id,date,category,lsoa_code"
streets=$(($(wc -l <gazetteer.csv) - 1))
[ "$streets" -ge 2500 ] && [ "$streets" -le 2900 ] || fail "gazetteer streets: $streets"
parishes=$(($(wc -l <parishes.csv) - 1))
[ "$parishes" -ge 95 ] && [ "$parishes" -le 110 ] || fail "parishes: $parishes"
for p in Cambourne "Orchard Park" Northstowe Milton Waterbeach Sawston Histon Impington; do
  grep -q ",$p," parishes.csv || fail "parish $p missing"
done
# populations 200..12,000 summing to about 160k; 1-4 LSOAs a parish, LSOA populations add up
awk -F, 'NR == FNR { if (FNR > 1) { pop[$1] = $3; sum += $3; if ($3 < 200 || $3 > 12000) bad++ } ; next }
  FILENAME ~ /lsoa_to_parish/ { if (FNR > 1) { par[$1] = $2; n[$2]++ } ; next }
  FNR > 1 { lp[par[$1]] += $3; if (!($1 in par)) bad++ }
  END { for (p in pop) if (n[p] < 1 || n[p] > 4 || lp[p] != pop[p]) { print "parish " p; bad++ }
        if (sum < 150000 || sum > 170000) { print "population " sum; bad++ }
        exit bad > 0 }' parishes.csv lsoa_to_parish.csv lsoa.csv || fail "populations"
# every street lies inside its own parish rectangle in parishes.geojson (Polygon, CCW, closed)
awk -F, 'FILENAME ~ /geojson/ { if (match($0, /"PARCD":"E04[0-9]+"/)) {
      code = substr($0, RSTART + 9, 9); s = $0; sub(/.*"coordinates":/, "", s); gsub(/[][}]/, "", s); sub(/,$/, "", s)
      k = split(s, c, ","); if (k != 10 || c[1] != c[9] || c[2] != c[10]) { print "ring " code; bad++ }
      area = 0; for (i = 1; i < 9; i += 2) area += c[i] * c[i + 3] - c[i + 2] * c[i + 1]
      if (area <= 0) { print "clockwise " code; bad++ }
      w[code] = c[1]; s0[code] = c[2]; e[code] = c[3]; n[code] = c[6]; np++ } ; next }
  FILENAME ~ /lsoa_to_parish/ { par[$1] = $2; next }
  FNR > 1 { if (!($5 in w) || par[$4] != $5 || $2 <= w[$5] || $2 >= e[$5] || $3 <= s0[$5] || $3 >= n[$5]) {
      print "street outside its parish: " $0; bad++ }
    if (key[$4 "|" $1]++) { print "duplicate street " $0; bad++ } }
  END { if (np < 95) bad++; exit bad > 0 }' parishes.geojson lsoa_to_parish.csv gazetteer.csv ||
  fail "geometry"
# every located crime is a gazetteer street with the same coordinates; snap points exist
awk -F, 'NR == FNR { if (FNR > 1) at[$4 "|" $1] = $2 "," $3; next }
  FNR > 1 && $7 != "No Location" { sub(/\r$/, ""); k = $8 "|" substr($7, 12)
    if (at[k] != $5 "," $6) { print "not in gazetteer: " $0; bad++; exit } }
  END { exit bad > 0 }' gazetteer.csv policeuk/*/*.csv || fail "crimes off the gazetteer"
for p in Supermarket "Parking Area" "Petrol Station" "Sports/Recreation Area"; do
  grep -q "^$p," gazetteer.csv || fail "no '$p' snap point"
done
awk -F, 'NR == FNR { place[$1] = 1; next } FNR > 1 && $1 ~ /\// && !($1 in place) { print; bad++ }
  END { exit bad > 0 }' "$root/datasets/place_names.csv" gazetteer.csv || fail "unlisted place name"

# ---- concentration in the last financial year (2025-04 .. 2026-03), non-ASB, over the
# gazetteer (crime-free streets included); street key = (LSOA code, name)
awk -F, 'NR == FNR { if (FNR > 1) n[$4 "|" $1] = 0; next }
  FNR > 1 && $10 != "Anti-social behaviour" && $7 != "No Location" { n[$8 "|" substr($7, 12)]++ }
  END { for (k in n) print n[k] }' gazetteer.csv policeuk/2025-0[4-9]/*.csv policeuk/2025-1*/*.csv \
  policeuk/2026-0[1-3]/*.csv | sort -rn >"$T/counts"
awk '{ c[NR] = $1; tot += $1; zero += ($1 == 0) }
  END { top = int(NR * 3 / 100); if (top < NR * 3 / 100) top++
        for (i = 1; i <= top; i++) s += c[i]
        printf "streets %d top3%% (%d streets) share %.3f crime-free %.3f\n", NR, top, s / tot, zero / NR
        exit !(s / tot >= 0.20 && s / tot <= 0.40 && zero / NR >= 0.35 && zero / NR <= 0.65) }' \
  "$T/counts" || fail "concentration out of range"

# ---- planted rise: violence + public order, FY2025/26 over FY2024/25, by parish
awk -F, 'FILENAME ~ /parishes.csv/ { name[$1] = $2; next } FILENAME ~ /lsoa_to_parish/ { par[$1] = $2; next }
  FNR > 1 && ($10 == "Violence and sexual offences" || $10 == "Public order") && $8 != "" {
    y = substr($2, 1, 4) * 12 + substr($2, 6, 2) - (2024 * 12 + 4); if (y < 0) next
    fy = int(y / 12); p = name[par[$8]]
    if (p ~ /^(Cambourne|Orchard Park|Northstowe|Milton|Waterbeach)$/) c[p, fy]++; else rest[fy]++ }
  END { for (p in name) { q = name[p]; if (!((q, 0) in c)) continue
          r = c[q, 1] / c[q, 0]; printf "%s %d -> %d (x%.2f)\n", q, c[q, 0], c[q, 1], r; np++
          if (r < 1.15) bad++ }
        r = rest[1] / rest[0]; printf "elsewhere %d -> %d (x%.2f)\n", rest[0], rest[1], r
        exit bad > 0 || np != 5 || r < 0.9 || r > 1.1 }' parishes.csv lsoa_to_parish.csv \
  policeuk/202[456]-*/*.csv || fail "planted rise"

# ---- agency files
awk -F, 'NR > 1 { rows++
    if ($2 !~ /^[0-3][0-9]\/[01][0-9]\/20(23|24|25|26)$/ || $3 == "" || ids[$1]++) { print; bad++ }
    if ($4 < 536000 || $4 > 562000 || $5 < 240000 || $5 > 276000) { print "outside the district: " $0; bad++ }
    d = substr($2, 7, 4) substr($2, 4, 2); if (d < "202304" || d > "202603") { print; bad++ } }
  END { print "fire incidents " rows; exit bad > 0 || rows < 450 || rows > 750 }' agency/fire_incidents.csv ||
  fail "fire incidents"
awk -F, 'NR == FNR { code[$1] = 1; next }
  FNR > 1 { rows++; if ($2 !~ /^20(23|24|25|26)-[01][0-9]-[0-3][0-9]$/ || !($4 in code) || $3 == "") { print; bad++ } }
  END { print "council cases " rows; exit bad > 0 || rows < 600 || rows > 1000 }' lsoa.csv agency/council_asb.csv ||
  fail "council ASB"

# ---- the BNG conversion: against PROJ 9.1 (EPSG:4326 -> EPSG:27700, which uses the same OS
# Helmert transformation; computed with proj_create_crs_to_crs + proj_trans) and the OS
# guide's worked Transverse Mercator example (Annexe C.1: OSGB36 52d39m27.2531s N,
# 1d43m4.5177s E -> E 651409.903, N 313177.270)
check_bng() { # LON LAT WANT_E WANT_N TOL [--osgb36]
  got=$(python3 "$gen" --to-bng "$1" "$2" ${6:-}) || fail "--to-bng $1 $2"
  echo "$got" | awk -v e="$3" -v n="$4" -v tol="$5" '{ d = ($1 - e) ^ 2 + ($2 - n) ^ 2
    if (d > tol * tol) { print "bng " $0 " want " e " " n; exit 1 } }' || fail "BNG of $1 $2"
}
check_bng 0.1218 52.2053 545088.408 258462.956 1
check_bng 0.0 52.05 537242.196 240955.127 1
check_bng 0.35 52.35 560157.918 275035.735 1
check_bng 1.7179215833 52.6575703056 651409.903 313177.270 0.01 --osgb36
echo "ok: generator says: $(grep "FY2025/26: [0-9]* streets" "$T/report")"
