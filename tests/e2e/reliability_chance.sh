#!/bin/bash
# Issue 21 item 5: --chance-draws is bounded. 100,000 draws over 3,000 streets (3 x 10^8
# street-draws, a minute or more: before the fix it ran with nothing shown) is cut to the cap of
# 2 x 10^7 street-draws (6,666 draws), says so and says the expected time before it starts, and
# ends in well under the time the uncapped run takes; the figure is in the CSV (chance_draws).
# Below the cap the draws asked for are used.
. "$(dirname "$0")/lib.sh"
hdr="Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"
{ echo "$hdr"
  for i in $(seq 1 6000); do
    s=$((i % 3000))
    printf '%064x,2024-01,Cambridgeshire Constabulary,Cambridgeshire Constabulary,%d.%04d,52.%04d,On or near Street %d,E01000001,South Cambridgeshire 001A,Burglary,Under investigation,\n' \
      "$i" 0 "$s" "$s" "$s"
  done; } >"$T/2024-01-x-street.csv"
mb --db "$T/s.db" import --quiet "$T/2024-01-x-street.csv" || fail "import exit $?"
start=$(date +%s)
timeout 40 "$MB_BIN" --db "$T/s.db" concentration --from 2024-01 --to 2024-01 --chance-draws 100000 \
  --format csv >"$T/out" 2>"$T/err"; rc=$?
el=$(($(date +%s) - start))
[ $rc = 124 ] && fail "--chance-draws 100000 over 3000 streets did not end in 40 s"
eq "exit" "$rc" 0
eq "streets" "$(grep '^streets,' "$T/out")" "streets,3000"
eq "draws used (2 x 10^7 / 3000)" "$(grep '^chance_draws,' "$T/out")" "chance_draws,6666"
grep -q "chance-draws 100000 over 3000 streets is past the cap of 2 x 10^7 street-draws: 6666 draws instead" "$T/err" ||
  fail "cap not said: $(cat "$T/err")"
grep -Eq "^microbeat: 6666 chance draws over 3000 streets: (about [0-9]+ s|under a second)$" "$T/err" ||
  fail "expected time not said: $(cat "$T/err")"
echo "capped run: ${el} s; $(grep about "$T/err")"
# below the cap: as asked, and nothing said
mb --db "$T/s.db" concentration --from 2024-01 --to 2024-01 --chance-draws 300 --format csv >"$T/out" 2>"$T/err"
eq "draws as asked" "$(grep '^chance_draws,' "$T/out")" "chance_draws,300"
eq "nothing said below the budget" "$(cat "$T/err")" ""
echo "--chance-draws bounded at 2 x 10^7 street-draws with the expected time said"
