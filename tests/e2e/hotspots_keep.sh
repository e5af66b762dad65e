#!/bin/bash
# 'hotspots' reads only the events of its periods and lists the snap points of the other
# loaded months (the observed universe needs nothing more of them). A hand-made district (no
# shared data): a 5 x 5 grid of streets 200 m apart, four months 2025-01..2025-04, seeded
# counts; the top row of streets has crimes in 2025-01 only, one street in 2025-02 only. For
# --from 2025-04 --to 2025-04 with --periods 1 (the other three months outside what is kept) and
# with --periods 3 (2025-02..2025-04 kept), checked against an awk recount of the CSV files: the
# micro-beats are every street seen in any month (the January-only ones with 0 crimes), each
# street's crimes of each period, the located crimes the report gives, and the period labels.
. "$(dirname "$0")/lib.sh"
DB=$T/k.db
mkdir -p "$T/p"
hdr="Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
for m in 2025-01 2025-02 2025-03 2025-04; do
  mkdir -p "$T/p/$m"
  awk -v m="$m" -v seed="${m#2025-}" 'BEGIN {
      srand(seed + 0)
      for (i = 0; i < 5; i++) for (j = 0; j < 5; j++) {
        k = int(rand() * 6)
        if (j == 4) k = (m == "2025-01") ? 3 : 0      # the top row: January only
        if (i == 2 && j == 2) k = (m == "2025-02") ? 2 : 0  # the centre: February only
        if (i <= 1 && j <= 1 && m == "2025-04") k += 12  # a planted corner in April
        for (c = 0; c < k; c++)
          printf "%s-%d-%d-%d,%s,Test Police,Test Police,%.6f,%.6f,On or near Street %d%d,E01000001,Testshire 001A,Burglary,Under investigation,\n",
            m, i, j, c, m, 0.1 + i * 0.00293, 52.1 + j * 0.0018, i, j
      }
    }' | while IFS= read -r line; do
      id=$(printf '%s' "${line%%,*}" | sha256sum | cut -c1-64)
      echo "$id,${line#*,}"
    done > "$T/rows-$m"
  { echo "$hdr"; cat "$T/rows-$m"; } > "$T/p/$m/$m-test-street.csv"
done
mb --db "$DB" import --quiet "$T/p" || fail "import exit $?"
# the recount: crimes by street name and month
cat "$T"/rows-* | awk -F, '{ sub(/^On or near /, "", $7); n[toupper($7) "," $2]++ }
  END { for (k in n) print k "," n[k] }' | sort > "$T/recount"
streets_all=$(cut -d, -f1 "$T/recount" | sort -u | wc -l)
[ "$streets_all" -eq 25 ] || fail "fixture: $streets_all streets seen, want 25"
for per in 1 3; do
  o=$T/o$per
  mb --db "$DB" hotspots --area Testshire --from 2025-04 --to 2025-04 --periods $per --band 300 \
    --no-charts --out "$o" > "$T/out$per" 2> "$T/err$per" ||
    fail "--periods $per: exit $?: $(cat "$T/err$per")"
  eq "--periods $per: micro-beats" "$(($(wc -l < "$o/gistar.csv") - 1))" "$streets_all"
  april=$(awk -F, '$2 == "2025-04" { s += $3 } END { print s + 0 }' "$T/recount")
  grep -q "^Micro-beats: 25 (observed universe: seen in any loaded month), $april crimes located" \
    "$T/out$per" || fail "--periods $per: report: $(grep '^Micro-beats' "$T/out$per")"
  # each street's April crimes (gistar.csv) against the recount, 0 for a street not seen then
  want=$(awk -F, '$2 == "2025-04" { print $1 "," $3 }' "$T/recount" | sort)
  got=$(awk -F, 'NR > 1 && $6 > 0 { print $1 "," $6 }' "$o/gistar.csv" | sort)
  eq "--periods $per: April crimes by street" "$got" "$want"
  for s in "STREET 04" "STREET 44" "STREET 22"; do
    awk -F, -v s="$s" 'NR > 1 && $1 == s && $6 == 0 { f = 1 } END { exit !f }' "$o/gistar.csv" ||
      fail "--periods $per: $s (seen outside April only) not a micro-beat with 0 crimes"
  done
done
# three periods: the hot flags of 2025-02, 2025-03 and 2025-04, a column each
eq "period columns" "$(head -1 "$T/o3/hotspot_classes.csv")" \
  "street,lsoa,hot 2025-02..2025-02,hot 2025-03..2025-03,hot 2025-04..2025-04,gi_class_latest,pattern"
grep -q "^Patterns over 3 periods, 2025-02..2025-02 to 2025-04..2025-04" "$T/out3" ||
  fail "patterns line: $(grep -A1 '^Patterns' "$T/out3")"
# the planted corner is hot in April
awk -F, 'NR > 1 && $1 == "STREET 00" { print $11 }' "$T/o1/gistar.csv" | grep -q "^hot" ||
  fail "planted corner not hot: $(grep 'STREET 00' "$T/o1/gistar.csv")"
echo "ok"
