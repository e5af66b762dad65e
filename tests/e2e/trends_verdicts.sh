#!/bin/bash
# Issue 16 §2: verdicts that agree with their own numbers. For every trends run below (the demo,
# and the real Cambridgeshire data when present) an independent Python recount from monthly.csv
# (statsmodels GLM for the quasi-Poisson month-paired rate ratio, statsmodels' BH, the false
# coverage rate level of Benjamini & Yekutieli, a hand-written seasonal Kendall) must agree with
# yoy.csv and trend.csv, and a scan of trend.csv asserts that no verdict contradicts an interval
# printed beside it: "Rising"/"Falling" only when that interval excludes no change, "Within normal
# variation" only when it (and the long-run one, when judged) includes it, the printed
# percentages equal to the table's, the family named. Also: --primary, z blank for partial
# windows, the run rules in trend.csv and on the chart, the recording-sensitive note.
. "$(dirname "$0")/lib.sh"
/usr/bin/python3 -c "import statsmodels, scipy" 2>/dev/null || skip "python3-statsmodels is not installed"
export MB_DATA=${MB_DATA:-$MB_ROOT/datasets}

check() { # check OUTDIR LABEL: recount and scan
/usr/bin/python3 - "$1" "$2" <<'PY' || fail "$2: recount or scan disagrees"
import csv, math, re, sys
from collections import defaultdict, Counter
import numpy as np, statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
out, label = sys.argv[1], sys.argv[2]
ALPHA = 0.05
rows = list(csv.DictReader(open(out + "/monthly.csv", newline="")))
series = defaultdict(list)
for r in rows:
    series[r["series"]].append((r["month"], None if r["present"] == "0" else int(r["count"])))
yoy = {r["series"]: r for r in csv.DictReader(open(out + "/yoy.csv", newline=""))}
trend = {r["series"]: r for r in csv.DictReader(open(out + "/trend.csv", newline=""))}
bad = []
def close(a, b, tol=1e-7):
    return abs(a - b) <= tol * max(1.0, abs(b))
def f(x):
    return float(x) if x not in ("", None) else float("nan")

def qp(vals):
    later, earlier = vals[-12:], vals[-24:-12]
    pairs = [j for j in range(12) if later[j] is not None and earlier[j] is not None]
    a = sum(later[j] for j in pairs); b = sum(earlier[j] for j in pairs)
    if len(pairs) < 2 or a + b == 0 or a == 0 or b == 0:
        return None
    X, Y = [], []
    for i, j in enumerate(pairs):
        for w, v in ((1, later[j]), (0, earlier[j])):
            x = [0] * len(pairs); x[i] = 1; X.append(x + [w]); Y.append(v)
    X = np.array(X, float); Y = np.array(Y, float)
    m = sm.GLM(Y, X, family=sm.families.Poisson()).fit(tol=1e-13)
    mu = m.fittedvalues; df = len(Y) - X.shape[1]
    phi = float(np.sum(np.where(mu > 0, (Y - mu) ** 2 / np.where(mu > 0, mu, 1), 0)) / df)
    se = m.bse[-1] * math.sqrt(max(1.0, phi)); b1 = m.params[-1]
    return dict(rr=math.exp(b1), se=se, b=b1, df=df, phi=phi, p=2 * stats.t.sf(abs(b1 / se), df), n=a + b)

def interval(q, level):
    t = stats.t.ppf(1 - (1 - level) / 2, q["df"])
    return math.exp(q["b"] - t * q["se"]), math.exp(q["b"] + t * q["se"])

# the full series needs 24 months: monthly.csv holds the period only, so the
# year-on-year recount runs when the period is at least 24 months long
calc = {}
for name, pts in series.items():
    vals = [v for _, v in pts]
    if len(vals) >= 24:
        calc[name] = qp(vals)
        g = yoy[name]
        q = calc[name]
        if q is None:
            continue
        for col, want in (("od_rate_ratio", q["rr"]), ("od_p_value", q["p"]), ("phi", q["phi"])):
            if not close(f(g[col]), want, 1e-6):
                bad.append(f"{name}: {col} {g[col]} recount {want}")
        lo, hi = interval(q, 0.95)
        if not (close(f(g["od_ci_low"]), lo, 1e-6) and close(f(g["od_ci_high"]), hi, 1e-6)):
            bad.append(f"{name}: od CI {g['od_ci_low']}..{g['od_ci_high']} recount {lo}..{hi}")

# the family: BH over the members' quasi-Poisson p, FCR level 1 - R alpha / m
fam = [n for n, g in yoy.items() if g["family"].startswith("one of")]
if fam and all(calc.get(n) for n in fam):
    p = [calc[n]["p"] for n in fam]
    rej, q, _, _ = multipletests(p, alpha=ALPHA, method="fdr_bh")
    R = int(sum(rej)); level = 1 - max(R, 1) * ALPHA / len(fam)
    m = int(re.match(r"one of (\d+)", yoy[fam[0]]["family"]).group(1))
    if m != len(fam):
        bad.append(f"family says {m}, {len(fam)} rows in it")
    for n, qq, rj in zip(fam, q, rej):
        g = yoy[n]; lo, hi = interval(calc[n], level)
        if not close(f(g["q_value"]), qq, 1e-6) or not close(f(g["verdict_ci_level"]), level, 1e-7):
            bad.append(f"{n}: q {g['q_value']} level {g['verdict_ci_level']}; recount {qq} {level}")
        if not (close(f(g["verdict_ci_low"]), lo, 1e-6) and close(f(g["verdict_ci_high"]), hi, 1e-6)):
            bad.append(f"{n}: FCR CI {g['verdict_ci_low']}..{g['verdict_ci_high']} recount {lo}..{hi}")
        if bool(rj) != (lo > 1 or hi < 1):
            bad.append(f"{n}: BH and the FCR interval disagree")

# seasonal Kendall where 2 full years exist
for name, pts in series.items():
    t = trend[name]
    if t["mk_test"] != "seasonal Kendall":
        continue
    by = defaultdict(list)
    for i, (mon, v) in enumerate(pts):
        if v is not None:
            by[int(mon[5:7])].append((i, v))
    S = 0; V = 0.0; sl = []
    for k, xs in by.items():
        n = len(xs)
        S += sum(np.sign(xs[j][1] - xs[i][1]) for i in range(n) for j in range(i + 1, n))
        V += (n * (n - 1) * (2 * n + 5) - sum(g * (g - 1) * (2 * g + 5) for g in Counter(v for _, v in xs).values())) / 18
        sl += [(xs[j][1] - xs[i][1]) / ((xs[j][0] - xs[i][0]) / 12) for i in range(n) for j in range(i + 1, n)]
    z = (S - np.sign(S)) / math.sqrt(V) if V > 0 and S else 0.0
    if int(t["mk_s"]) != S or not close(f(t["mk_z"]), z, 1e-5) or not close(f(t["sen_slope"]), float(np.median(sl)) / 12, 1e-5):
        bad.append(f"{name}: seasonal Kendall S {t['mk_s']} z {t['mk_z']} slope {t['sen_slope']}; recount {S} {z} {np.median(sl)/12}")

# the scan: words against the intervals printed beside them
pct = r"([+-]?(?:\d+(?:\.\d+)?|infinity))%"
for name, t in trend.items():
    v = t["verdict"]
    head = v.split(":")[0]
    if head.startswith(("Too few", "Nothing", "No year")):
        continue
    lo, hi, pu = f(t["yoy_ci_low"]), f(t["yoy_ci_high"]), f(t["yoy_p_used"])
    excl = lo > 1 or hi < 1
    if excl != (pu <= ALPHA):
        bad.append(f"{name}: p used {pu} but interval {lo}..{hi}")
    m = re.search(r"year on year \((?:FCR-adjusted )?[\d.]+% CI " + pct + " to " + pct + r"\), (not significant|significant)", v)
    if m is None and "against 0 the year before" not in v:
        bad.append(f"{name}: no year-on-year interval in '{v}'"); continue
    if m:
        plo, phi_ = float(m.group(1)), float(m.group(2))
        if (plo > 0) != (lo > 1) or (phi_ < 0) != (hi < 1) or abs(plo - 100 * (lo - 1)) > 0.6 or abs(phi_ - 100 * (hi - 1)) > 0.6:
            bad.append(f"{name}: printed {plo}..{phi_}, table {lo}..{hi}")
        if (m.group(3) == "significant") != excl:
            bad.append(f"{name}: '{m.group(3)}' beside {plo}%..{phi_}%")
    tl, th = f(t["trend_ci_low"]), f(t["trend_ci_high"])
    judged = t["long_run_judged"] == "1" and "long-run trend" in v
    texcl = judged and (tl > 0 or th < 0)
    want = {"Rising": excl and f(t["yoy_rate_ratio"]) > 1, "Falling": excl and f(t["yoy_rate_ratio"]) < 1,
            "Rising over the period": not excl and texcl and th > 0,
            "Falling over the period": not excl and texcl and tl < 0,
            "Within normal variation": not excl and not texcl}
    if not want.get(head, False):
        bad.append(f"{name}: '{head}' with year-on-year {lo}..{hi}, long-run {tl}..{th} ({judged})")
    if t["long_run_judged"] == "1" and math.isfinite(tl) and "long-run trend" not in v:
        bad.append(f"{name}: long period without the long-run trend in the verdict")
    if not re.search(r"(tested alone|tested together \(FDR|not tested|primary question)", v):
        bad.append(f"{name}: the family is not named")
    if "Poisson exact test (secondary, unadjusted)" not in v:
        bad.append(f"{name}: the exact test is not shown as secondary")
print(f"{label}: {len(trend)} verdicts scanned, {len([n for n in calc if calc[n]])} recounted")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
}

# ---- the demo district ----------------------------------------------------------------------
python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
mb --db "$T/d.db" import --quiet "$T/demo/policeuk" || fail "import exit $?"
mb --db "$T/d.db" trends --area "South Cambridgeshire" --from 2024-04 --to 2026-03 --by type --out "$T/d1" > "$T/s1" || fail "trends exit $?"
check "$T/d1" "demo 2 years by type"
mb --db "$T/d.db" trends --area "South Cambridgeshire" --from 2023-04 --to 2026-03 --by type --out "$T/d2" --no-charts > "$T/s2" || fail "trends exit $?"
check "$T/d2" "demo 3 years by type"
eq "seasonal Kendall on 3 years" "$(awk -F, 'NR > 1 && /seasonal Kendall/' "$T/d2/trend.csv" | wc -l)" 14
# run rules: in trend.csv and under the chart
head -1 "$T/d1/trend.csv" | grep -q "longest_run,run_limit,crossings,crossing_limit,run_signal,crossing_signal" ||
  fail "run rules missing from trend.csv"
grep -q "Run rules (Anhoej 2014): longest run [0-9]* (signal above [0-9]*)" "$T/d1/monthly_00-note.dat" ||
  fail "run rules missing from the chart"
# the monthly charts draw every month the control chart uses: the baseline is the 24 months
# before the last 3 (2024-01..2025-12 for a period ending 2026-03, before the period's 2024-04),
# named in the centre line's key; the centre is the mean of the baseline's counts as drawn, the
# run rules count every
# month drawn off the centre, the marks and the key are the months beyond the limits, and the
# fitted trend is drawn over the period only
/usr/bin/python3 - "$T/d1" <<'PY' || fail "monthly chart and its control chart"
import glob, math, re, shlex, sys
d = sys.argv[1]
for dat in sorted(glob.glob(d + "/monthly_*[0-9].dat")):
    base = dat[:-4]
    rows = [shlex.split(l) for l in open(dat) if l.strip() and not l.startswith("#")]
    fit = [shlex.split(l) for l in open(base + "-fit.dat") if not l.startswith("#")]
    note, key = shlex.split(open(base + "-note.dat").read().split("\n")[1])[:2]
    meta = shlex.split(open(base + "-meta.dat").read().split("\n")[1])
    assert rows[0][0] == "2024-01" and rows[-1][0] == "2026-03" and len(rows) == 27, (dat, rows[0], len(rows))
    assert key == "Centre line (mean of 2024-01..2025-12)", (dat, key)
    m = re.match(r"Run rules .*; (\d+) useful points$", note)
    assert m, (dat, note)
    bl = [float(r[1]) for r in rows if "2024-01" <= r[0] <= "2025-12"]
    c = sum(bl) / len(bl)
    centre = float(fit[0][2])
    assert abs(centre - c) < 1e-9 * max(1, c), (dat, centre, c)
    ucl, lcl = c + 3 * math.sqrt(c), max(0.0, c - 3 * math.sqrt(c))
    assert abs(float(fit[0][3]) - ucl) < 1e-9 * max(1, ucl) and abs(float(fit[0][4]) - lcl) < 1e-9 * max(1, ucl), dat
    assert int(m.group(1)) == sum(1 for r in rows if float(r[1]) != c), (dat, note)
    above = sum(1 for r in rows if float(r[1]) > ucl)
    below = sum(1 for r in rows if float(r[1]) < lcl)
    assert [int(meta[6]), int(meta[7])] == [above, below], (dat, meta, above, below)
    assert all((f[1] == "NaN") == (f[0] < "2024-04") for f in fit), (dat, [f[:2] for f in fit[:4]])
PY
# the seasonal profile: per month of the year, the mean of the total over the period's loaded
# months (monthly.csv, 2024-04..2026-03), in the period's order from its first month (it once
# read past the period into memory it did not own)
seasonal() { # OUT FROM TO
/usr/bin/python3 - "$@" <<'PY'
import csv, shlex, sys
d, lo, hi = sys.argv[1:4]
sums, n = {}, {}
rows = list(csv.DictReader(open(d + "/monthly.csv")))
for r in rows:  # the total: the first series ("Total", or "All selected crime" alone)
    if r["series"] == rows[0]["series"] and lo <= r["month"] <= hi and r["present"] == "1":
        m = int(r["month"][5:])
        sums[m] = sums.get(m, 0) + float(r["count"]); n[m] = n.get(m, 0) + 1
rows = [shlex.split(l) for l in open(d + "/seasonal.dat") if l.strip() and not l.startswith("#")]
names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
assert [r[4] for r in rows] == names[3:] + names[:3], [r[4] for r in rows]
for r in rows:
    m = names.index(r[4]) + 1
    assert abs(float(r[1]) - sums[m] / n[m]) < 1e-9 * max(1, sums[m]), (r, sums[m] / n[m])
PY
}
seasonal "$T/d1" 2024-04 2026-03 || fail "seasonal profile (2 years)"
# the demo's first year (loaded from 2023-04): the 15 months before it that the baseline and
# the year on year would read are none loaded, so they are not drawn as gaps, and the key names
# the baseline's loaded months
mb --db "$T/d.db" trends --area "South Cambridgeshire" --from 2023-04 --to 2024-03 --out "$T/d0" > /dev/null ||
  fail "trends (first year) exit $?"
eq "first year's chart: first month, gap months, centre key" \
  "$(awk '!/^#/ && NF { print $1; exit }' "$T/d0/monthly_00.dat") $(awk '!/^#/ { g += $6 } END { print g + 0 }' "$T/d0/monthly_00-fit.dat") $(grep -o 'mean of [0-9-]*\.\.[0-9-]*' "$T/d0/monthly_00-note.dat")" \
  "2023-04 0 mean of 2023-04..2023-12"
seasonal "$T/d0" 2023-04 2024-03 || fail "seasonal profile (first year)"
# the year-on-year chart draws the verdict's figures: bar = its rate ratio, whiskers = its interval
# (cut at +300%), solid colour only when significant, grey otherwise (the legend's colours)
grep -q 'barcolour(pct, sig) = sig > 0 ? (pct > 0 ? 0xc0392b : 0x2166ac) : 0xbbbbbb' "$T/d1/yoy.gp" ||
  fail "yoy colours do not match the legend"
/usr/bin/python3 - "$T/d1" <<'PY' || fail "yoy chart figures"
import csv, shlex, sys
d = sys.argv[1]
rows = [r for r in csv.DictReader(open(d + "/trend.csv")) if r["yoy_rate_ratio"] != ""]
bars = [shlex.split(l) for l in open(d + "/yoy.dat") if not l.startswith("#") and l.strip()]
assert len(bars) == len(rows), (len(bars), len(rows))
for r, b in zip(rows, bars):
    pct, lo, hi, sig = float(b[1]), float(b[2]), float(b[3]), int(b[4])
    p = float(r["yoy_p_used"])
    assert sig == (p <= 0.05), (r["series"], sig, p)
    assert abs(pct - min(300, 100 * (float(r["yoy_rate_ratio"]) - 1))) < 1e-6, (r["series"], pct)
    assert abs(lo - 100 * (float(r["yoy_ci_low"]) - 1)) < 1e-6, (r["series"], lo)
    assert abs(hi - min(300, 100 * (float(r["yoy_ci_high"]) - 1))) < 1e-6, (r["series"], hi)
    assert not sig or lo > 0 or hi < 0, r["series"]
PY
# the demo's rise lies in violence and public order (planted): the total says so, with the other
# types' change beside it; an independent recount of the split from monthly.csv
/usr/bin/python3 - "$T/d1" <<'PY' || fail "recording-sensitive note"
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/monthly.csv")))
sens = {"Violence and sexual offences", "Public order"}
def ch(names):
    a = sum(int(r["count"]) for r in rows if r["series"] in names and r["month"] >= "2025-04")
    b = sum(int(r["count"]) for r in rows if r["series"] in names and r["month"] < "2025-04")
    return a - b
alltypes = {r["series"] for r in rows} - {"Total"}
s, t = ch(sens), ch(alltypes)
v = [r for r in csv.DictReader(open(sys.argv[1] + "/trend.csv")) if r["series"] == "Total"][0]["verdict"]
m = re.search(r"recording-sensitive types \(([^:]*): ([+-]\d+) of ([+-]\d+) crimes\)", v)
assert s >= 0.5 * t > 0, (s, t)
assert m and int(m.group(2)) == s and int(m.group(3)) == t, (v, s, t)
assert "the other types:" in v and "police.uk types cannot separate" in v, v
PY
# --primary: tested alone at 5%, the rest one fewer in the family
mb --db "$T/d.db" trends --area "South Cambridgeshire" --from 2024-04 --to 2026-03 --by type \
  --primary "Violence and sexual offences" --out "$T/d3" --no-charts > /dev/null || fail "trends --primary exit $?"
check "$T/d3" "demo with --primary"
/usr/bin/python3 - "$T/d1/yoy.csv" "$T/d3/yoy.csv" <<'PY' || fail "--primary"
import csv, sys
a = {r["series"]: r for r in csv.DictReader(open(sys.argv[1]))}
b = {r["series"]: r for r in csv.DictReader(open(sys.argv[2]))}
v = b["Violence and sexual offences"]
assert v["family"].startswith("the primary question, tested alone"), v["family"]
assert float(v["verdict_ci_level"]) == 0.95 and v["verdict_ci_low"] == v["od_ci_low"], v
m1 = int(a["Burglary"]["family"].split()[2]); m2 = int(b["Burglary"]["family"].split()[2])
assert m2 == m1 - 1, (m1, m2)
PY
mb --db "$T/d.db" trends --area "South Cambridgeshire" --from 2024-04 --to 2026-03 --by type --primary "No such type" \
  --no-charts > /dev/null 2>&1; eq "--primary unknown: exit" "$?" 6

# ---- the real data, when present ------------------------------------------------------------
if [ -d "$MB_SHARED/datasets/policeuk/cambridgeshire" ]; then
  D=$MB_SHARED/datasets/policeuk/cambridgeshire
  mb --db "$T/r.db" import --quiet "$D" || fail "import exit $?"
  mb --db "$T/r.db" trends --area "South Cambridgeshire" --from 2024-01 --to 2025-12 --by type --out "$T/r1" --no-charts > /dev/null || fail "trends exit $?"
  check "$T/r1" "real 2024-2025 by type"
  # the issue's cases: bicycle theft's verdict no longer contradicts its interval, the total's
  # over-dispersed test (phi 2.4) is not significant where the exact test was
  grep -q '^Bicycle theft,.*Within normal variation: +34% year on year (FCR-adjusted' "$T/r1/trend.csv" || fail "bicycle theft"
  grep -q '^Total,.*not significant (p = 0.11); quasi-Poisson rate ratio, phi = 2.41' "$T/r1/trend.csv" || fail "total"
  mb --db "$T/r.db" trends --area "South Cambridgeshire" --from 2021-03 --to 2025-12 --allow-gaps --theme violence-public-order --by type --out "$T/r2" --no-charts > /dev/null || fail "trends exit $?"
  check "$T/r2" "real 2021-2025 violence and public order"
  grep -q '^Public order,.*Falling over the period: .*long-run trend -10% a year' "$T/r2/trend.csv" || fail "public order's long-run fall"
  # z only for two full windows: blank where a window is partial (2022-04.. gap)
  mb --db "$T/r.db" trends --area "South Cambridgeshire" --from 2021-03 --to 2022-09 --allow-gaps --out "$T/r3" --no-charts > /dev/null || fail "trends exit $?"
  eq "z for a partial window" "$(awk -F, 'NR == 2 { print $11 }' "$T/r3/yoy.csv")" ""
fi
echo ok
