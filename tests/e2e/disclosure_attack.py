#!/usr/bin/python3
# The publication table attacked from its published margins (tests/e2e/assess_demo.sh): for
# every hidden cell, two linear programmes (scipy linprog: min and max of the cell subject to
# every row and column total, shown cells fixed, "<5" cells in 1..4 and "x" cells >= 0); the
# cell is recovered when min == max. None may be. The shown cells and the totals are checked
# against flags_matrix.csv; "<5" marks exactly the counts 1..4.
# usage: disclosure_attack.py PUBLICATION_COUNTS.csv FLAGS_MATRIX.csv
import csv, sys
import numpy as np
from scipy.optimize import linprog
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
head, body, tot = rows[0], rows[1:-1], rows[-1]
assert head[0] == "unit" and head[-1] == "Total" and tot[0] == "Total"
cats = head[1:-1]
truth = {}
for r in csv.DictReader(open(sys.argv[2], encoding="utf-8")):
    truth[(r["unit_name"], r["category"])] = int(round(float(r["observed"])))
N = 5
cells, var = {}, []
for i, r in enumerate(body):
    for j, c in enumerate(cats):
        v = r[j + 1]; t = truth[(r[0], c)]
        if v == f"<{N}":
            assert 1 <= t < N, (r[0], c, t)
            var.append((i, j, 1, N - 1))
        elif v == "x":
            assert not (1 <= t < N)
            var.append((i, j, 0, None))
        else:
            assert int(v) == t, (r[0], c, v, t)
            assert not (1 <= t < N), f"small count {t} published"
            cells[(i, j)] = t
    assert int(r[-1]) == sum(truth[(r[0], c)] for c in cats), "row total"
for j, c in enumerate(cats):
    assert int(tot[j + 1]) == sum(truth[(r[0], c)] for r in body), "column total"
nr, nc, nv = len(body), len(cats), len(var)
assert nv > 0, "nothing suppressed: the test proves nothing"
A, b = [], []
for i in range(nr):
    A.append([1.0 if v[0] == i else 0.0 for v in var])
    b.append(int(body[i][-1]) - sum(x for (a, _), x in cells.items() if a == i))
for j in range(nc):
    A.append([1.0 if v[1] == j else 0.0 for v in var])
    b.append(int(tot[j + 1]) - sum(x for (_, a), x in cells.items() if a == j))
A, b = np.array(A), np.array(b, dtype=float)
bounds = [(lo, hi) for (_, _, lo, hi) in var]
recovered = []
for k, (i, j, _, _) in enumerate(var):
    c = np.zeros(nv); c[k] = 1
    lo = linprog(c, A_eq=A, b_eq=b, bounds=bounds, method="highs")
    hi = linprog(-c, A_eq=A, b_eq=b, bounds=bounds, method="highs")
    assert lo.status == 0 and hi.status == 0, "the published table is infeasible"
    if -hi.fun - lo.fun < 0.5:
        recovered.append((body[i][0], cats[j], lo.fun))
prim = sum(1 for v in var if v[2] == 1)
assert not recovered, f"{len(recovered)} hidden cells recovered from the margins: {recovered[:5]}"
print(f"disclosure: {prim} small counts and {nv - prim} secondary cells, none recoverable "
      f"from {nr} row and {nc} column totals")
