#!/bin/bash
# Real data (issue "Trends"): South Cambridgeshire 2024-01..2025-12 by type: counts per type and
# year and the exact p-values agree with an independent scipy computation from the raw CSVs; the
# series 2021-03..2025-12 shows the 21-month gap as a gap, with no fitted point inside it.
. "$(dirname "$0")/lib.sh"
need_shared
/usr/bin/python3 -c "import scipy" 2>/dev/null || skip "python3-scipy is not installed"
D=$MB_SHARED/datasets/policeuk/cambridgeshire
mb --db "$T/t.db" import --quiet "$D" || fail "import exit $?"
mb --db "$T/t.db" trends --area "South Cambridgeshire" --from 2024-01 --to 2025-12 --by type --out "$T/o1" --no-charts > "$T/s1" || fail "trends exit $?"
/usr/bin/python3 - "$D" "$T/o1/yoy.csv" <<'PY' || fail "year-on-year recount disagrees"
import csv, glob, sys
from scipy.stats import binomtest
data, got_path = sys.argv[1], sys.argv[2]
a, b = {}, {}
for path in glob.glob(data + "/202[45]-*/*-street.csv"):
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row["LSOA name"].startswith("South Cambridgeshire") or row["Crime type"] == "Anti-social behaviour":
                continue
            d = a if row["Month"].startswith("2025-") else b
            d[row["Crime type"]] = d.get(row["Crime type"], 0) + 1
got = {r["series"]: r for r in csv.DictReader(open(got_path, newline=""))}
bad = 0
types = sorted(set(a) | set(b))
for t in types + ["Total"]:
    x = sum(a.values()) if t == "Total" else a.get(t, 0)
    y = sum(b.values()) if t == "Total" else b.get(t, 0)
    p = binomtest(x, x + y, 0.5).pvalue if x + y else 1.0
    g = got[t]
    if int(g["last12"]) != x or int(g["prev12"]) != y or abs(float(g["p_value"]) - p) > 1e-9 * max(1, p):
        print(f"{t}: microbeat {g['last12']} {g['prev12']} p={g['p_value']}; recount {x} {y} p={p}")
        bad += 1
print(f"{len(types)} types + total compared")
sys.exit(1 if bad else 0)
PY
grep -q "series tested together: p-values controlled for a false discovery rate" "$T/s1" || fail "FDR not stated"
# the gap: refused without --allow-gaps (exit 2, naming it); with it, stated
mb --db "$T/t.db" trends --area "South Cambridgeshire" --from 2021-03 --to 2025-12 --out "$T/o2" > /dev/null 2> "$T/e2"
eq "a period with a gap is refused" "$?" 2
grep -q "21 of the 58 months of 2021-03..2025-12 are not loaded (2022-04..2023-12)" "$T/e2" || fail "gap refusal: $(cat "$T/e2")"
mb --db "$T/t.db" trends --area "South Cambridgeshire" --from 2021-03 --to 2025-12 --allow-gaps --out "$T/o2" > "$T/s2" || fail "trends exit $?"
grep -q "Months used: 37 of 58 (not loaded: 2022-04..2023-12" "$T/s2" || fail "months used not stated: $(head -4 "$T/s2")"
grep -q "Gaps: 2022-04..2023-12 (21 months not loaded" "$T/s2" || fail "gap not named: $(head -3 "$T/s2")"
eq "gap months in monthly.csv" "$(awk -F, '$4 == 0 && $3 == ""' "$T/o2/monthly.csv" | wc -l)" 21
eq "first gap month" "$(awk -F, '$4 == 0 { print $1; exit }' "$T/o2/monthly.csv")" 2022-04
if [ -f "$T/o2/monthly_00-fit.dat" ]; then
  eq "fitted points inside the gap" "$(awk '$1 >= "2022-04" && $1 <= "2023-12" && $2 != "NaN"' "$T/o2/monthly_00-fit.dat" | wc -l)" 0
  eq "fitted points outside the gap" "$(awk '!/^#/ && ($1 < "2022-04" || $1 > "2023-12") && $2 != "NaN"' "$T/o2/monthly_00-fit.dat" | wc -l)" 37
fi
echo ok
