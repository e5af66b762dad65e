#!/bin/bash
# Force extracts (issue 19): the demo's extract attaches its fields to the police.uk crimes it
# repeats (same Crime ID and month) and counts nothing twice; every stored field equals the
# generated CSV (recounted in Python); the planted split (Milton and Waterbeach: the violence
# rise is non-DA violence without injury, DA-flagged violence flat) is in the data; bad values
# are rejected with line:col and the counts add up; a re-export replaces its months.
. "$(dirname "$0")/lib.sh"
command -v python3 > /dev/null || skip "python3 is absent"
D="$T/demo"
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$D" 2> /dev/null || fail "gen_demo.py failed"
MAP="$MB_ROOT/scripts/demo_force_extract.ini"
X="$D/force/force_extract.csv"
mb --db "$T/a.db" import --quiet --no-progress "$D/policeuk" || fail "police.uk import"
q() { sqlite3 "$T/a.db" "$1"; }
events_before=$(q "SELECT count(*) FROM event")
trends() {
  rm -rf "$T/$1"
  mb --db "$T/a.db" trends --area "South Cambridgeshire" --theme violence-public-order \
    --from 2024-04 --to 2026-03 --by type --out "$T/$1" > /dev/null 2>&1 || fail "trends $1"
}
trends before

mb --db "$T/a.db" import --no-progress --map "$MAP" "$X" > "$T/out" 2> "$T/err" ||
  fail "extract import: $(cat "$T/err")"
n_csv=$(($(wc -l < "$X") - 1))
grep -q "rows read = $n_csv loaded + 0 duplicate + 0 rejected" "$T/out" || fail "counts: $(cat "$T/out")"
grep -q "force extract: $n_csv rows attach to police.uk crimes held (same Crime ID and month), 0 match none" \
  "$T/out" || fail "attach message: $(cat "$T/out")"
# no double counting: the extract made no event; the trends tables are unchanged
eq "events after the extract" "$(q "SELECT count(*) FROM event")" "$events_before"
eq "coverage rows of the extract" "$(q "SELECT count(*) FROM import_month m JOIN import i ON i.id = m.import_id WHERE i.format = 'extract'")" 0
trends after
for f in monthly.csv yoy.csv trend.csv; do
  cmp -s "$T/before/$f" "$T/after/$f" || fail "trends $f changed by the extract"
done

# every stored field equals the CSV; every extract row is a police.uk crime of its month
sqlite3 -separator $'\t' -nullvalue '<null>' "$T/a.db" "SELECT lower(hex(x.crime_id)), x.month, x.day, x.minute, x.ho_code, s.name, x.da, x.hate,
          h.name, x.street, x.parish
   FROM event_extra x LEFT JOIN offence_subgroup s ON s.id = x.subgroup_id
   LEFT JOIN hate_strand h ON h.id = x.hate_id" > "$T/stored"
python3 - "$X" "$T/stored" "$D/policeuk" <<'PY' || fail "stored fields differ from the CSV"
import csv, datetime, glob, os, sys
xfile, stored, pol = sys.argv[1:]
want = {}
for r in csv.DictReader(open(xfile, encoding="utf-8")):
    d = datetime.date.fromisoformat(r["date_committed"])
    t = r["time_committed"]
    minute = str(int(t[:2]) * 60 + int(t[3:])) if t else "<null>"
    hate = r["hate_crime"] == "Y"
    want[r["crime_ref"]] = [
        str((d.year - 2000) * 12 + d.month - 1), str((d - datetime.date(2000, 1, 1)).days), minute,
        r["ho_offence_code"] or "<null>", r["offence_subgroup"] or "<null>",
        "1" if r["domestic_abuse"] == "Y" else "0", "1" if hate else "0",
        (r["hate_strand"] or "Not stated") if hate else "<null>",
        r["street"] or "<null>", r["parish"]]
got = {}
for line in open(stored, encoding="utf-8"):
    f = line.rstrip("\n").split("\t")
    got[f[0]] = f[1:]
assert len(got) == len(want), (len(got), len(want))
bad = [k for k in want if got.get(k) != want[k]]
assert not bad, (len(bad), bad[0], got.get(bad[0]), want[bad[0]])
police = {}
for path in glob.glob(os.path.join(pol, "*", "*.csv")):
    for r in csv.reader(open(path, encoding="utf-8")):
        if r[0] and r[0] != "Crime ID":
            y, m = map(int, r[1].split("-"))
            police[r[0]] = str((y - 2000) * 12 + m - 1)
assert all(police.get(k) == v[0] for k, v in want.items()), "an extract row is not a police.uk crime"
assert len(police) == len(want), (len(police), len(want))
PY

# the planted pattern, recounted from the CSV as generated: in Milton and Waterbeach violence
# rose 2024/25 -> 2025/26 mostly through non-DA violence without injury, DA-flagged violence
# stayed flat; in Cambourne (planted, fixed mix) DA-flagged violence rose with the rest
python3 - "$X" <<'PY' || fail "planted DA/subgroup split not found"
import csv, sys
def fy(d):
    return int(d[:4]) - (int(d[5:7]) < 4)
c = {}
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    if r["police_uk_type"] != "Violence and sexual offences":
        continue
    g = "MW" if r["parish"] in ("Milton", "Waterbeach") else r["parish"]
    k = "DA" if r["domestic_abuse"] == "Y" else r["offence_subgroup"]
    c[(g, k, fy(r["date_committed"]))] = c.get((g, k, fy(r["date_committed"])), 0) + 1
tot = lambda g, y: sum(v for (gg, k, yy), v in c.items() if gg == g and yy == y)
rise = tot("MW", 2025) - tot("MW", 2024)
da = (c[("MW", "DA", 2024)], c[("MW", "DA", 2025)])
vwi = (c[("MW", "Violence without injury", 2024)], c[("MW", "Violence without injury", 2025)])
print(f"Milton+Waterbeach violence {tot('MW', 2024)} -> {tot('MW', 2025)}; DA {da}; non-DA without injury {vwi}")
assert rise > 150, rise
assert 0.85 < da[1] / da[0] < 1.15, da                 # DA flat
assert (vwi[1] - vwi[0]) / rise > 0.8, (vwi, rise)     # the rise is non-DA violence w/o injury
for sub in ("Violence with injury", "Stalking and harassment"):
    a, b = c[("MW", sub, 2024)], c[("MW", sub, 2025)]
    assert abs(b - a) < 0.3 * a + 5, (sub, a, b)       # other non-DA subgroups flat
cda = (c[("Cambourne", "DA", 2024)], c[("Cambourne", "DA", 2025)])
assert cda[1] / cda[0] > 1.15, cda                     # contrast: DA rises in Cambourne
PY

# bad values: rejected with line:col (a Crime ID is 64 characters + comma: the date starts at
# column 66, the time at 77, the DA flag at 113), every row accounted for
H="crime_ref,date_committed,time_committed,ho_offence_code,offence_subgroup,police_uk_type,domestic_abuse,hate_crime,hate_strand,street,parish"
ID=$(sed -n 2p "$X" | cut -d, -f1)
{
  echo "$H"
  echo "$ID,2024-02-30,10:00,VAP/01,Violence with injury,x,N,N,,High Street,Milton"
  echo "$ID,2024-02-03,25:10,VAP/01,Violence with injury,x,N,N,,High Street,Milton"
  echo "$ID,2024-02-03,10:00,VAP/01,Violence with injury,x,maybe,N,,High Street,Milton"
  echo "$ID,2024-02-03,10:00,VAP/01,Violence with injury,x,N,N,Race,High Street,Milton"
  echo "not-a-crime-id,2024-02-03,10:00,VAP/01,Violence with injury,x,N,N,,High Street,Milton"
  echo "$ID,2024-02-03,10:00,VAP 01;,Violence with injury,x,N,N,,High Street,Milton"
  echo "$ID,2024-02-03,,VAP/01,Violence with injury,x,Y,Y,,High Street,Milton"
  echo "$ID,2024-02-04,09:00,VAP/01,Violence with injury,x,Y,N,,High Street,Milton"
} > "$T/bad.csv"
mb --db "$T/b.db" import --no-progress --map "$MAP" "$T/bad.csv" > "$T/out" 2> "$T/err"; rc=$?
eq "exit (rows rejected)" "$rc" 3
grep -q "^microbeat: $T/bad.csv:2:66: date '2024-02-30': day out of range for the month" "$T/err" || fail "bad date: $(cat "$T/err")"
grep -q "^microbeat: $T/bad.csv:3:77: time '25:10': hour out of range 0..23" "$T/err" || fail "bad time"
grep -q "^microbeat: $T/bad.csv:4:113: domestic-abuse flag 'maybe' is not a yes value (Y) nor a no value (N)" "$T/err" || fail "bad DA flag"
grep -q "^microbeat: $T/bad.csv:5:[0-9]*: hate strand given but the hate-crime flag says no" "$T/err" || fail "strand without flag"
grep -q "^microbeat: $T/bad.csv:6:1: Crime ID 'not-a-crime-id' is not 64 hexadecimal characters" "$T/err" || fail "bad Crime ID"
grep -q "^microbeat: $T/bad.csv:7:[0-9]*: Home Office offence code 'VAP 01;'" "$T/err" || fail "bad offence code"
grep -q "^microbeat: $T/bad.csv:9:1: duplicate Crime ID (first at line 8)" "$T/err" || fail "duplicate: $(cat "$T/err")"
eq "counts add up" "$(sqlite3 "$T/b.db" "SELECT rows_read||' '||rows_loaded||' '||rows_duplicate||' '||rows_rejected FROM import")" "8 1 1 6"
eq "rejects kept" "$(sqlite3 "$T/b.db" "SELECT count(*) FROM reject")" 7
# the kept row: blank time unknown, flagged hate without strand = "Not stated"; no police.uk
# crime held: it waits (and attaches once the crime is loaded)
eq "kept row" "$(sqlite3 "$T/b.db" "SELECT coalesce(minute, 'null')||' '||da||' '||hate||' '||(SELECT name FROM hate_strand WHERE id = hate_id) FROM event_extra")" "null 1 1 Not stated"
grep -q "0 rows attach to police.uk crimes held (same Crime ID and month), 1 match none held yet" "$T/out" || fail "waiting row: $(cat "$T/out")"

# a re-export replaces its months: flip the DA flag of one crime; then one that drops most
# rows of a month is refused (--max-removed), the store unchanged
python3 - "$X" "$T/re.csv" "$T/cut.csv" <<'PY'
import sys
src, re_out, cut_out = sys.argv[1:]
lines = open(src, encoding="utf-8").read().splitlines(True)
head, rows = lines[0], lines[1:]
first = rows[0].split(",")
first[6] = "Y" if first[6] == "N" else "N"
open(re_out, "w", encoding="utf-8").write(head + ",".join(first) + "".join(rows[1:]))
month = rows[0].split(",")[1][:7]
keep = [r for i, r in enumerate(rows) if r.split(",")[1][:7] != month or i % 2 == 0]
open(cut_out, "w", encoding="utf-8").write(head + "".join(keep))
PY
mb --db "$T/a.db" import --no-progress --map "$MAP" "$T/re.csv" > "$T/out" 2> "$T/err" || fail "re-export: $(cat "$T/err")"
grep -q "replaces 36 month(s) of this extract held by earlier imports (import #[0-9]* first): 0 rows added, 0 removed, 1 changed, $((n_csv - 1)) unchanged by Crime ID" "$T/out" || fail "replace message: $(cat "$T/out")"
eq "rows after the re-export" "$(q "SELECT count(*) FROM event_extra")" "$n_csv"
eq "old import replaced" "$(q "SELECT count(*) FROM import WHERE format = 'extract' AND replaced_by IS NOT NULL")" 1
mb --db "$T/a.db" import --no-progress --map "$MAP" "$T/cut.csv" > "$T/out" 2> "$T/err"; rc=$?
eq "cut re-export refused" "$rc" 3
grep -q "force-extract rows" "$T/err" || fail "cut message: $(cat "$T/err")"
eq "rows after the refused cut" "$(q "SELECT count(*) FROM event_extra")" "$n_csv"
# a police.uk month re-released keeps its extract fields (keyed by Crime ID, not event id)
M=$(ls "$D/policeuk" | head -1)
sed '$d' "$D/policeuk/$M/$M-cambridgeshire-street.csv" > "$T/$M-cambridgeshire-street.csv"
mb --db "$T/a.db" import --quiet --no-progress "$T/$M-cambridgeshire-street.csv" || fail "police.uk re-release"
eq "extract rows after a police.uk re-release" "$(q "SELECT count(*) FROM event_extra")" "$n_csv"
echo "ok"
