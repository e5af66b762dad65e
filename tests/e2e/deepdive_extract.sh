#!/bin/bash
# Issue 19: the deep dive FINDS the patterns planted in the demo's force extract
# (scripts/gen_demo.py, DA_FLAT): in Milton and Waterbeach the violence rise is non-DA violence
# without injury; DA-flagged violence stays flat. Every figure checked here is recounted in
# Python from the generated files (street files for the crimes and their LSOA -> parish, the
# extract for date, time, subgroup, DA flag and hate strand; the CCHI weights from the datasets
# files, multiplied out here): the DA/non-DA split with its exact tests (scipy.stats.binomtest,
# BH by statsmodels), the subgroup behind the rise, the two parishes each on their own, the
# recording-sensitive against high-harm split, the harm-weighted change by subgroup and by type,
# hate crime by strand (small counts shown, not tested) and the weekday x hour table. A contrast:
# in Cambourne (planted, fixed mix) DA-flagged violence rises with the rest. The subgroup
# weights file is checked against the shared CCHI table it was derived from.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c "import scipy.stats, statsmodels" 2> /dev/null || skip "scipy/statsmodels are not installed for $PY"

python3 "$MB_ROOT/scripts/gen_demo.py" --out "$T/demo" 2>/dev/null || fail "demo generator"
DB=$T/d.db
mb --db "$DB" import --quiet "$T/demo/policeuk" || fail "import police"
mb --db "$DB" import --quiet --map "$MB_ROOT/scripts/demo_force_extract.ini" \
  "$T/demo/force/force_extract.csv" || fail "import force extract"
mb --db "$DB" areas --layer parish --boundaries "$T/demo/parishes.geojson" --code-field PARCD \
  --name-field PARNM --lookup "$T/demo/lsoa_to_parish.csv" --population "$T/demo/parishes.csv" \
  > /dev/null || fail "areas (demo)"
dd() {  # dd OUT AREA [more options]
  local out=$1 area=$2; shift 2
  mb --db "$DB" deepdive --layer parish --area "$area" --theme violence-public-order --fy 2025 \
    --out "$T/$out" "$@" > /dev/null 2> "$T/err" || fail "deepdive $area: $(cat "$T/err")"
}
dd mw "Milton,Waterbeach"
dd milton Milton --no-charts
dd waterbeach Waterbeach --no-charts
dd cambourne Cambourne --no-charts
for f in change_by_da.csv change_by_subgroup.csv recording_vs_harm.csv harm_by_subgroup.csv \
  hate_by_strand.csv weekday_hour.csv weekday_hour.png change_by_subgroup.png; do
  [ -s "$T/mw/$f" ] || fail "missing $f"
done
# the chart's bars are labelled with the table's subgroups whole up to 72 bytes (the longest
# Home Office name, "... public fear, alarm or distress", lost its offence when cut at 40)
$PY - "$T/mw/change_by_subgroup.csv" "$T/mw/change_by_subgroup.dat" <<'PYEOF' || fail "subgroup chart labels"
import csv, shlex, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
col = "component"
names = {r[col] for r in rows}
labels = [shlex.split(l)[3] for l in open(sys.argv[2], encoding="utf-8") if l.strip() and not l.startswith("#")]
assert any(len(n.encode()) > 40 for n in names), "no long subgroup name: the test tests nothing"
for l in labels:
    assert l in names or (l.endswith("...") and len(l.encode()) <= 72), l
assert sum(l in names for l in labels) == len(labels), [l for l in labels if l not in names]
PYEOF

$PY - "$T/demo" "$T" "$MB_DATA" "${MB_SHARED:-}" <<'PYEOF' || fail "recount"
import csv, datetime, glob, os, re, sys
from collections import Counter, defaultdict
from scipy.stats import binomtest
from statsmodels.stats.multitest import multipletests
demo, T, data, shared = sys.argv[1:5]
bad = []
def check(what, got, want, tol=0):
    ok = abs(float(got) - float(want)) <= tol * max(1, abs(float(want))) if tol else str(got) == str(want)
    if not ok:
        bad.append(f"{what}: got {got}, want {want}")
par = {r['lsoa_code']: r['parish_code'] for r in csv.DictReader(open(f"{demo}/lsoa_to_parish.csv"))}
pname = {r['parish_code']: r['parish_name'] for r in csv.DictReader(open(f"{demo}/parishes.csv"))}
theme = {"Violence and sexual offences", "Public order"}
P = ("2025-04", "2026-03"); Q = ("2024-04", "2025-03")
# located police crimes of the theme, by Crime ID: (month, parish name)
crime = {}
for f in sorted(glob.glob(f"{demo}/policeuk/*/*-street.csv")):
    for r in csv.DictReader(open(f, encoding="utf-8-sig")):
        if r["Crime ID"] and r["Longitude"] and r["LSOA code"] in par and r["Crime type"] in theme:
            crime[r["Crime ID"]] = (r["Month"], pname[par[r["LSOA code"]]])
x = {r["crime_ref"]: r for r in csv.DictReader(open(f"{demo}/force/force_extract.csv", encoding="utf-8"))}
def rows(parishes):
    """(period: 1 later / 0 earlier, extract row) of the theme's crimes in the parishes."""
    out = []
    for cid, (m, p) in crime.items():
        if p in parishes and cid in x:
            if P[0] <= m <= P[1]: out.append((1, x[cid]))
            elif Q[0] <= m <= Q[1]: out.append((0, x[cid]))
    return out
def table(path, key="component"):
    return {r[key]: r for r in csv.DictReader(open(path))}
def changes(cnt, keys):
    """later, earlier, delta, share, p, q per key, as docs/methods-deepdive.md §6."""
    tot = sum(cnt[(k, 1)] - cnt[(k, 0)] for k in keys)
    tested = [k for k in keys if cnt[(k, 1)] + cnt[(k, 0)] >= 10]
    p = {k: binomtest(cnt[(k, 1)], cnt[(k, 1)] + cnt[(k, 0)], 0.5).pvalue for k in tested}
    q = dict(zip(tested, multipletests([p[k] for k in tested], method="fdr_bh")[1])) if tested else {}
    return {k: (cnt[(k, 1)], cnt[(k, 0)], cnt[(k, 1)] - cnt[(k, 0)],
                (cnt[(k, 1)] - cnt[(k, 0)]) / tot if tot else None, p.get(k), q.get(k)) for k in keys}, tot
def check_change(label, tab, ch):
    for k, (l, e, dl, sh, p, q) in ch.items():
        r = tab.get(k)
        if r is None:
            bad.append(f"{label}: no row {k}"); continue
        check(f"{label} {k} period", r["period"], l); check(f"{label} {k} previous", r["previous period"], e)
        if sh is not None:
            check(f"{label} {k} share", r["share of total change %"], round(100 * sh, 1), 1e-9)
        if p is None:
            check(f"{label} {k} untested", r["verdict"], "too few to test")
        else:
            check(f"{label} {k} p", r["p"], round(p, 4), 1e-9); check(f"{label} {k} q", r["q (BH)"], round(q, 4), 1e-9)
            check(f"{label} {k} verdict", r["verdict"], "no clear change" if q > 0.05 else "rose" if dl > 0 else "fell")

def da_of(r): return "DA-flagged" if r["domestic_abuse"] == "Y" else "non-DA"
MW = rows({"Milton", "Waterbeach"})
# 1. Is DA driving the rise? DA-flagged flat (not significant), non-DA rose (significant), most of it
cnt = Counter((da_of(r), w) for w, r in MW)
ch, tot = changes(cnt, ["non-DA", "DA-flagged"])
check_change("DA", table(f"{T}/mw/change_by_da.csv"), ch)
md = open(f"{T}/mw/deepdive.md").read()
l, e, dl, sh, p, q = ch["non-DA"]
want = f"Non-DA rose {100 * (l / e - 1):.0f}% ({e} to {l}; significant) and accounts for {100 * sh:.0f}% of the increase"
if want not in md: bad.append(f"DA sentence: want '{want}'")
if not (q <= 0.05 and sh > 0.8): bad.append(f"planted: non-DA not most of a significant rise ({ch['non-DA']})")
if not ch["DA-flagged"][5] > 0.05: bad.append(f"planted: DA-flagged change significant ({ch['DA-flagged']})")
print(f"DA split: non-DA {e} -> {l} ({100 * sh:.0f}% of +{tot}, q={q:.2g}); DA-flagged "
      f"{ch['DA-flagged'][1]} -> {ch['DA-flagged'][0]} (q={ch['DA-flagged'][5]:.2g})")
# 2. The offence subgroup behind it: non-DA violence without injury, the largest part
cnt = Counter((f"{da_of(r)} {r['offence_subgroup']}", w) for w, r in MW)
keys = sorted({k for k, _ in cnt})
ch, tot = changes(cnt, keys)
check_change("subgroup", table(f"{T}/mw/change_by_subgroup.csv"), ch)
big = max(keys, key=lambda k: abs(ch[k][2]))
check("largest subgroup", big, "non-DA Violence without injury")
l, e, dl, sh, p, q = ch[big]
want = f"The largest part: non-DA Violence without injury ({e} to {l}, +{100 * (l / e - 1):.0f}%, significant after FDR control), {100 * sh:.0f}% of the change."
if want not in md: bad.append(f"subgroup sentence: want '{want}'")
if sh < 0.6: bad.append(f"planted: violence without injury only {sh:.0%} of the rise")
print(f"subgroup: non-DA violence without injury {e} -> {l}, {100 * sh:.0f}% of +{tot} (q={q:.2g})")
# 3. The two parishes, each on its own: the same finding
for name in ("Milton", "Waterbeach"):
    R = rows({name})
    c1 = Counter((f"{da_of(r)} {r['offence_subgroup']}", w) for w, r in R)
    k1 = sorted({k for k, _ in c1})
    ch1, tot1 = changes(c1, k1)
    check_change(name, table(f"{T}/{name.lower()}/change_by_subgroup.csv"), ch1)
    b1 = max(k1, key=lambda k: abs(ch1[k][2]))
    check(f"{name}: largest subgroup", b1, "non-DA Violence without injury")
    if not (ch1[b1][5] <= 0.05 and ch1[b1][2] > 0): bad.append(f"{name}: rise not significant {ch1[b1]}")
    cd = Counter((da_of(r), w) for w, r in R)
    chd, _ = changes(cd, ["non-DA", "DA-flagged"])
    if chd["DA-flagged"][5] <= 0.05: bad.append(f"{name}: DA-flagged change significant {chd['DA-flagged']}")
    print(f"{name}: non-DA violence without injury {ch1[b1][1]} -> {ch1[b1][0]} of +{tot1}; DA {chd['DA-flagged'][1]} -> {chd['DA-flagged'][0]}")
# contrast: Cambourne's DA-flagged violence rises with the rest
C = rows({"Cambourne"})
cd = Counter((da_of(r), w) for w, r in C)
chd, _ = changes(cd, ["non-DA", "DA-flagged"])
check_change("Cambourne DA", table(f"{T}/cambourne/change_by_da.csv"), chd)
if not chd["DA-flagged"][2] > 0: bad.append(f"Cambourne: DA-flagged did not rise {chd['DA-flagged']}")
# 4. Real rise or better recording? kinds from the subgroup file's recording column
sw = {r["subgroup"].lower(): r for r in csv.DictReader(open(f"{data}/harm_cchi_subgroup.csv"))}
kind = {"recording-sensitive": "recording-sensitive subgroups", "high-harm": "high-harm subgroups", "other": "other subgroups"}
cnt = Counter((kind[sw[r["offence_subgroup"].lower()]["recording"]], w) for w, r in MW)
ch, _ = changes(cnt, sorted({k for k, _ in cnt}))
check_change("kind", table(f"{T}/mw/recording_vs_harm.csv"), ch)
if not (ch["recording-sensitive subgroups"][5] <= 0.05 and ch["high-harm subgroups"][5] > 0.05):
    bad.append(f"planted: recording-sensitive {ch['recording-sensitive subgroups']} high-harm {ch['high-harm subgroups']}")
# harm-weighted: each crime times its subgroup's CCHI days; the type-level weights beside
wt = {r["crime_type"]: float(r["cchi_days"]) for r in csv.DictReader(open(f"{data}/harm_cchi.csv"))}
hs, ht, n = Counter(), Counter(), Counter()
hsub = defaultdict(float)
for w, r in MW:
    hs[w] += float(sw[r["offence_subgroup"].lower()]["cchi_days"]); ht[w] += wt[r["police_uk_type"]]; n[w] += 1
    hsub[(r["offence_subgroup"], w)] += float(sw[r["offence_subgroup"].lower()]["cchi_days"])
want = (f"the crimes went from {hs[0]:.0f} to {hs[1]:.0f} harm-days ({100 * (hs[1] / hs[0] - 1):+.0f}%), while their"
        f" count went from {n[0]} to {n[1]} ({100 * (n[1] / n[0] - 1):+.0f}%). With one weight per police.uk type"
        f" (datasets/harm_cchi.csv) the same crimes give {ht[0]:.0f} to {ht[1]:.0f} harm-days ({100 * (ht[1] / ht[0] - 1):+.0f}%)")
if want not in md: bad.append(f"harm sentence: want '{want}'")
hb = table(f"{T}/mw/harm_by_subgroup.csv", "subgroup")
for s in {r["offence_subgroup"] for _, r in MW}:
    check(f"harm {s} period", hb[s]["period harm"], round(hsub[(s, 1)], 1), 1e-9)
    check(f"harm {s} previous", hb[s]["previous harm"], round(hsub[(s, 0)], 1), 1e-9)
    check(f"harm {s} share", hb[s]["share of harm change %"],
          round(100 * (hsub[(s, 1)] - hsub[(s, 0)]) / (hs[1] - hs[0]), 1), 1e-9)
if not (hs[1] / hs[0] - 1) < (n[1] / n[0] - 1) / 2: bad.append("planted: harm rose as fast as the count")
for s in ("the data fit better recording", "Weighted by harm the rise is much smaller than in count",
          "What the data cannot tell"):
    if s not in md: bad.append(f"reading: no '{s}'")
print(f"harm: subgroup-weighted {hs[0]:.0f} -> {hs[1]:.0f} ({100 * (hs[1] / hs[0] - 1):+.0f}%), type-weighted"
      f" {ht[0]:.0f} -> {ht[1]:.0f}, crimes {n[0]} -> {n[1]} ({100 * (n[1] / n[0] - 1):+.0f}%)")
# 5. Hate crime by strand: shown, tested only from 10 crimes in the two periods
cnt = Counter(((r["hate_strand"] or "Not stated"), w) for w, r in MW if r["hate_crime"] == "Y")
ch, _ = changes(cnt, sorted({k for k, _ in cnt}))
check_change("hate", table(f"{T}/mw/hate_by_strand.csv"), ch)
if not any(v[4] is None for v in ch.values()): bad.append("no small strand shown untested")
# 6. Weekday x hour of the period's crimes with a time
heat = Counter()
timed = 0
for w, r in MW:
    if w == 1 and r["time_committed"]:
        d = datetime.date.fromisoformat(r["date_committed"])
        heat[(d.strftime("%a"), int(r["time_committed"][:2]))] += 1; timed += 1
for r in csv.DictReader(open(f"{T}/mw/weekday_hour.csv")):
    check(f"heat {r['weekday']} {r['hour']}", r["crimes"], heat[(r["weekday"], int(r["hour"]))])
nl = sum(1 for w, _ in MW if w == 1)
if f"Crimes of the period with a recorded time: {100 * timed / nl:.1f}% ({timed} of {nl})" not in md:
    bad.append(f"timed share {timed} of {nl}")
# 7. the subgroup weights file: each published row as in the shared CCHI table, and the
# police.uk type weights are the national-count-weighted means of their subgroups'
src = f"{shared}/datasets/harm/cchi_subgroup_days.csv"
if shared and os.path.exists(src):
    S = list(csv.DictReader(open(src)))
    for r in S:
        got = sw.get(r["prc_subgroup"].lower())
        if not got or float(got["cchi_days"]) != float(r["cchi_days"]) or got["crime_type"] != r["category"]:
            bad.append(f"subgroup weight {r['prc_subgroup']}: {got} vs {r}")
    for t, w in wt.items():
        rs = [r for r in S if r["category"] == t]
        m = sum(float(r["cchi_days"]) * float(r["national_count_2024_25"]) for r in rs) / sum(float(r["national_count_2024_25"]) for r in rs)
        check(f"type weight {t} = mean of its subgroups", w, round(m, 2), 1e-9)
    sex = [r for r in S if r["prc_subgroup"] in ("Rape offences", "Other sexual offences")]
    m = sum(float(r["cchi_days"]) * float(r["national_count_2024_25"]) for r in sex) / sum(float(r["national_count_2024_25"]) for r in sex)
    check("Sexual offences weight", sw["sexual offences"]["cchi_days"], round(m, 2), 1e-9)
else:
    print("shared CCHI table absent: the weights file's derivation not checked")
if bad:
    print("\n".join(bad[:40])); sys.exit(1)
print("recount ok")
PYEOF

# police.uk data alone: the heat map and the extract questions are refused with the reason
mb --db "$T/p.db" import --quiet "$T/demo/policeuk" || fail "import police (alone)"
mb --db "$T/p.db" deepdive --area "South Cambridgeshire" --theme violence-public-order --fy 2025 \
  --no-charts --out "$T/pu" > /dev/null 2> "$T/err" || fail "deepdive on police.uk data: $(cat "$T/err")"
grep -q "police.uk gives the month" "$T/pu/deepdive.md" || fail "no reason for the missing heat map"
[ -e "$T/pu/weekday_hour.csv" ] && fail "a heat map table on police.uk data"
echo "deepdive_extract: ok"
