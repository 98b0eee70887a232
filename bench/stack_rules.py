#!/usr/bin/env python3
"""Scores auto's weighting rule and band offline from `stack-selection` evidence
(docs/journal/session-07-auto-convex-member.md).

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . evidence.json \
      "momentum(cap=fit),mpl(warmup=reference),convex"
  python3 bench/stack_rules.py evidence.json

(docs/journal/session-08-auto-band.md, used the three members only.) A stack's forecast is the weighted sum of its
members' (each fitted alone), so the rule of StackFitter.ChooseWeights
(prior, each member tilted to 0.9, adopted below 0.8 x the prior's cross-validated error, kept alone below 0.33 x the
tilt's; session 9: the convex weight tapered as 5 H / T beyond 5x the fitted horizon H, AutoLaw.ConvexTaper) and the band of FittedLaw.PredictStack (k^2 (min own + disagreement) + (c D)^2, the disagreement of every fitted member
with the stack's forecast, equally weighted) are recomputed here from the evidence. Prints: the prior weight of convex swept, chosen with each corpus left out; per split auto's mean final
error and weights; the band's (k, c) by the narrowest-median rule, in sample and with each corpus left out.
"""
import json, math, statistics, sys

CAP, REF, CVX = 'momentum(cap=fit)', 'mpl(warmup=reference)', 'convex'
MEMBERS, TILT, MARGIN, ALONE, Z, TAPER = (CAP, REF, CVX), 0.9, 0.8, 0.33, 1.959963984540054, 5.0


def fix(o):
    if isinstance(o, dict): return {k: fix(v) for k, v in o.items()}
    if isinstance(o, list): return [fix(v) for v in o]
    return float('nan') if o == 'NaN' else o


E = fix(json.load(open(sys.argv[1])))
ok = lambda s, m: s['laws'][m]['finals'] is not None


def cv_error(s, w, cut='default'):
    c = next((c for c in s['cuts'] if c['name'] == cut), None)
    if c is None: return None
    tot = 0
    for i, t in enumerate(c['tails']):
        f = 0
        for m, wm in w.items():
            p = s['laws'][m]['cv'].get(cut) if wm > 0 else None
            if wm > 0 and not isinstance(p, list): return None
            f += wm * p[i] if wm > 0 else 0
        tot += abs(math.log(f / t['observed']))
    return tot / len(c['tails'])


def choose(s, prior):
    ms = [m for m in MEMBERS if ok(s, m)]
    total = sum(prior[m] for m in ms)
    prior = {m: prior[m] / total for m in ms}
    if len(ms) == 1: return prior
    def tilt(x):
        rest = 1 - prior[x]
        return {m: TILT if m == x else (1 - TILT) * (prior[m] / rest if rest > 1e-12 else 1 / (len(ms) - 1)) for m in ms}
    cands = [prior] + [tilt(x) for x in ms if x != CVX]   # never tilted to convex (StackFitter.ChooseWeights)
    errs = [cv_error(s, w) for w in cands]
    if any(e is None for e in errs): return prior
    b = min(range(len(cands)), key=lambda i: errs[i])
    if b == 0 or not errs[b] < MARGIN * errs[0]: return prior
    alone = {m: 1.0 if m == [x for x in ms if x != CVX][b - 1] else 0.0 for m in ms}
    return alone if cv_error(s, alone) < ALONE * errs[b] else cands[b]


def tapered(s, w, t):
    """The weights on held-out run t: the convex member's scaled by 5 H / T beyond 5x the fitted horizon (AutoLaw.WeightsFor)."""
    ratio = t['last'] / s['fit_horizon']
    if CVX not in w or not 0 < w[CVX] < 1 or ratio <= TAPER: return w
    kept = w[CVX] * TAPER / ratio
    return {m: (kept if m == CVX else v * (1 - kept) / (1 - w[CVX])) for m, v in w.items()}


def mean_error(s, w):
    return 100 * statistics.mean(abs(sum(v * s['laws'][m]['finals'][i] for m, v in tapered(s, w, t).items()) - t['observed']) / t['observed'] for i, t in enumerate(s['tests']))


def pooled(splits, p):
    prior = {CAP: (1 - p) / 2, REF: (1 - p) / 2, CVX: p}
    n = sum(len(s['tests']) for s in splits)
    return sum(mean_error(s, choose(s, prior)) * len(s['tests']) for s in splits) / n


grid = [i / 20 for i in range(13)]
print('prior weight of convex: pooled mean final error')
for p in grid: print(f'  {p:.2f}: {pooled(E, p):.3f} %')
corpora = sorted({s['corpus'] for s in E})
for c in corpora:
    rest = [s for s in E if s['corpus'] != c]
    print(f'  without {c}: {min(grid, key=lambda p: (round(pooled(rest, p), 4), p)):.2f}')
P = 0.3
prior = {CAP: 0.35, REF: 0.35, CVX: 0.3}
print('\nper split (prior 0.35/0.35/0.3): auto mean error, each candidate alone, weights')
for s in E:
    w = choose(s, prior)
    alone = {m: round(mean_error(s, {m: 1}), 2) for m in s['laws'] if ok(s, m)}
    print(f"  {s['corpus']} {s['question']}: {mean_error(s, w):.2f} %  {alone}  {({m: round(v, 3) for m, v in w.items()})}")

rows = []
for s in E:
    w = choose(s, prior)
    weighted = [m for m in w if w[m] > 0]
    carriers = [m for m in weighted if m != REF] or weighted
    w0 = w
    for i, t in enumerate(s['tests']):
        w = tapered(s, w0, t)
        f = {m: s['laws'][m]['finals'][i] for m in w}   # every fitted member, also those of weight 0
        L = sum(w[m] * f[m] for m in weighted)
        own = min(s['laws'][m]['own'][i] ** 2 for m in carriers)
        # the disagreement of every fitted member with the stack's forecast, equally weighted (session 8)
        dis = own if len(f) == 1 else sum(((f[m] - L) / L) ** 2 for m in f) / len(f)
        ah = [s['laws'][m]['at_horizon'][i] for m in weighted]
        D = abs(sum(w[m] * a for m, a in zip(weighted, ah)) - L) / L if all(a == a for a in ah) else 0.0
        rows.append((s['corpus'], s['question'], math.log(t['observed'] / L), own + dis, D))
half = lambda r, k, c: Z * math.sqrt(k * k * r[3] + (c * r[4]) ** 2)


def narrowest(rs):
    best = None
    for i in range(10, 301):
        for j in range(81):
            k, c = i / 100, j / 200
            if sum(abs(r[2]) <= half(r, k, c) for r in rs) < 0.95 * len(rs): continue
            med = statistics.median(half(r, k, c) for r in rs)
            if best is None or med < best[0] - 1e-12: best = (med, k, c)
    return best[1:]


k, c = narrowest(rows)
print(f'\nband: k = {k}, c = {c}: covers {sum(abs(r[2]) <= half(r, k, c) for r in rows)}/{len(rows)}, '
      f'median half-width {100 * statistics.median(math.sinh(half(r, k, c)) for r in rows):.2f} %')
held = 0
for corpus in corpora:
    kk, cc = narrowest([r for r in rows if r[0] != corpus])
    mine = [r for r in rows if r[0] == corpus]
    cov = sum(abs(r[2]) <= half(r, kk, cc) for r in mine)
    held += cov
    print(f'  without {corpus}: k = {kk}, c = {cc}; {corpus} covered {cov}/{len(mine)}')
print(f'  left out: {held}/{len(rows)}')
