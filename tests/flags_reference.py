import numpy as np, math
from scipy import stats
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
NU, NC, NM, PF = 6, 2, 27, 15
pop = np.array([1000, 2000, 3000, 1500, 2500, 4000.0])
harm = np.array([10.0, 1.0])
rng = np.random.default_rng(20261203)
cnt = np.zeros((NU, NC, NM))
for u in range(NU):
    for c in range(NC):
        lam = (2.0 if c == 0 else 1.0) * pop[u] / 1000 * rng.gamma(4, 0.25)
        for m in range(NM):
            l = lam
            if u == 0 and c == 0 and m >= 15: l = lam * 3      # a rise
            if u == 5 and c == 1 and m == 26: l = lam * 6      # a recent spike
            cnt[u, c, m] = rng.poisson(l * rng.gamma(5, 0.2))  # over-dispersed months
O = cnt[:, :, PF:].sum(2)
E = O.sum(0) / pop.sum() * pop[:, None]
# Spiegelhalter: z, 10% winsorised phi (floor(0.1 n) each end), floor 1
z = (O - E) / np.sqrt(E)
phi = []
for c in range(NC):
    s = np.sort(z[:, c]); k = NU // 10
    w = np.clip(s, s[k], s[NU - 1 - k]); phi.append(max(1.0, (w ** 2).mean()))
def od_sf(k, mu, ph):
    if k == 0: return 1.0
    if ph <= 1: return stats.poisson.sf(k - 1, mu)
    return stats.nbinom.sf(k - 1, mu / (ph - 1), 1 / ph)
ph_ = np.array([[od_sf(int(O[u, c]), E[u, c], phi[c]) for c in range(NC)] for u in range(NU)])
qh = multipletests(ph_.ravel(), method='fdr_bh')[1].reshape(NU, NC)
# EB (Marshall 1991)
m_, v_, rr, lo, hi, pt, p1 = [], [], np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC))
for c in range(NC):
    m = O[:, c].sum() / E[:, c].sum(); r = O[:, c] / E[:, c]
    s2 = (E[:, c] * (r - m) ** 2).sum() / E[:, c].sum(); v = max(0, s2 - m / E[:, c].mean())
    m_.append(m); v_.append(v)
    a = m * m / v + O[:, c]; b = m / v + E[:, c]
    rr[:, c] = a / b; lo[:, c] = stats.gamma.ppf(0.025, a, scale=1 / b); hi[:, c] = stats.gamma.ppf(0.975, a, scale=1 / b)
    pt[:, c] = stats.gamma.sf(1.2, a, scale=1 / b); p1[:, c] = stats.gamma.sf(1.0, a, scale=1 / b)
# rise: months 3..26, later = 15..26; exact binomial and statsmodels quasi-Poisson
pe, pq, pr, rphi = np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC))
for u in range(NU):
    for c in range(NC):
        y = cnt[u, c, 3:27]; x = sm.add_constant((np.arange(24) >= 12).astype(float))
        a, b = int(y[12:].sum()), int(y[:12].sum())
        pe[u, c] = stats.binomtest(a, a + b, 0.5).pvalue
        res = sm.GLM(y, x, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
        ph = res.pearson_chi2 / res.df_resid; rphi[u, c] = ph
        t = res.params[1] / (res.bse[1] * math.sqrt(max(1.0, ph)))
        pq[u, c] = 2 * stats.t.sf(abs(t), res.df_resid)
        pr[u, c] = max(pe[u, c], pq[u, c])
qr = multipletests(pr.ravel(), method='fdr_bh')[1].reshape(NU, NC)
# Laney chart: baseline months 0..23, recent 24..26
cc_c, cc_s, cc_u, cc_p = np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC)), np.zeros((NU, NC))
for u in range(NU):
    for c in range(NC):
        base = cnt[u, c, :24]; cb = base.mean(); zz = (base - cb) / math.sqrt(cb)
        sz = max(1.0, np.abs(np.diff(zz)).mean() / 1.128)
        mx = int(cnt[u, c, 24:].max())
        pm = od_sf(mx, cb, sz * sz)
        cc_c[u, c], cc_s[u, c], cc_u[u, c], cc_p[u, c] = cb, sz, cb + 3 * math.sqrt(cb) * sz, 1 - (1 - pm) ** 3
cc_p[cc_c < 1] = np.nan
ok = ~np.isnan(cc_p.ravel()); qc = np.full(NU * NC, np.nan)
qc[ok] = multipletests(cc_p.ravel()[ok], method='fdr_bh')[1]; qc = qc.reshape(NU, NC)
# unit harm totals, moment-matched gamma; and a Monte Carlo check of the approximation
hx, hp, mc = [], [], []
g = np.random.default_rng(5)
for u in range(NU):
    he = (harm * E[u]).sum(); M = (harm * E[u] * rr[u]).sum()
    V = sum((harm[c] * E[u, c]) ** 2 * rr[u, c] / (m_[c] / v_[c] + E[u, c]) for c in range(NC))
    hx.append(M - he); hp.append(stats.gamma.sf(he, M * M / V, scale=V / M))
    draws = sum(harm[c] * E[u, c] * g.gamma(m_[c] ** 2 / v_[c] + O[u, c], 1 / (m_[c] / v_[c] + E[u, c]), 200000) for c in range(NC))
    mc.append((draws > he).mean())
def arr(name, a, fmt="%.17g"):
    a = np.asarray(a).ravel()
    print("static const double %s[] = {" % name)
    for i in range(0, len(a), 4): print("\t" + ", ".join(fmt % v for v in a[i:i + 4]) + ",")
    print("};")
arr("ref_count", cnt.ravel(), "%.0f")
for n, a in [("want_E", E), ("want_phi", phi), ("want_phigh", ph_), ("want_qhigh", qh), ("want_m", m_), ("want_v", v_),
             ("want_rr", rr), ("want_rrlo", lo), ("want_rrhi", hi), ("want_prt", pt), ("want_pr1", p1),
             ("want_rise_exact", pe), ("want_rise_qp", pq), ("want_rise_phi", rphi), ("want_qrise", qr),
             ("want_cc_centre", cc_c), ("want_cc_sz", cc_s), ("want_cc_ucl", cc_u), ("want_cc_p", cc_p), ("want_qcc", qc),
             ("want_harm_excess", hx), ("want_harm_p", hp)]:
    arr(n, a)
print("/* Monte Carlo P(harm RR > 1), 200000 draws:", " ".join("%.4f" % v for v in mc), "*/")
print("/* O:", O.ravel().tolist(), "*/")
