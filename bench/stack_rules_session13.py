#!/usr/bin/env python3
"""Session 13's rules for auto (docs/journal/session-13-auto.md), scored offline from the evidence files:

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . evidence.json \
      "momentum(cap=fit),mpl(warmup=reference),convex,age(q=0.7,prior=13),share,mpl,momentum"
  dotnet run -c Release --project bench/Anneal.Bench -- published-blend . published.json \
      "momentum(cap=fit),mpl(warmup=reference),convex,share,age(q=0.7,prior=13)"
  python3 bench/stack_rules_session13.py evidence.json published.json

The session-12 rule (StackFitter.ChooseWeights, then ChooseMembers with the alternate AutoLaw.Weighs picks: share where a
fitted run decays over more than half its length, the age law where none does) is replayed as in
bench/stack_rules_session11.py; it reproduces docs/accuracy.md's `auto` before this session (0.475 / 1.28 % pooled) and the
published split (25M 0.9989 / 0.00102, 100M 0.9985 / 0.00130, 400M 0.9979 / 0.00176). Then:
  1. the convex taper R (AutoLaw.ConvexTaper) on every corpus, and R chosen with each corpus left out (the lowest pooled
     mean among the R that worsen no remaining corpus question by more than its seed noise, nor the pooled mean or worst);
  2. the reference member's ramp (AutoLaw.ReferenceRamp): where the stack holds share at the prior weights, the reference
     member keeps f + (1 - f) clamp((r - r0) / (r1 - r0), 0, 1) of its weight on a schedule ending at r x the fitted
     horizon, the others sharing the rest; (f, r0, r1) on a grid, chosen with each corpus left out by the same criterion;
  3. per-split oracle: the best fixed three-member weights in hindsight (the floor of any weighting rule).
"""
import itertools, json, statistics, sys

from stack_replay import CAP, REF, CVX, ok, choose, place, scale, pooled, loco as loco_with

AGE, SHARE = 'age(q=0.7, prior=13)', 'share'
PRIOR = {CAP: 0.35, REF: 0.35, CVX: 0.3}
E = json.load(open(sys.argv[1]))
P = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else []
# Seed noise per corpus (docs/accuracy.md); corpora without seed pairs: 0.
NOISE = {'engine-gpt-tiny-long': .210, 'engine-gpt-tiny': .203, 'engine-mlp-long': .185, 'engine-mlp': .423}


def current(s):
    """Session 12: the weights, then the alternate AutoLaw.Weighs picks in the capped member's place (ChooseMembers)."""
    w, why = choose(s, PRIOR)
    return place(s, w, why, CAP, AGE if s.get('question') == 'cooldowns' else SHARE)


def finals(s, w, R, ramp=None, signed=False):
    """Final-loss errors (%) of weights w, the convex member tapered past R x the horizon, then the reference member ramped."""
    h, out = s['fit_horizon'], []
    for i, t in enumerate(s['tests']):
        ww, r = dict(w), t['last'] / h
        if r > R: ww = scale(ww, CVX, R / r)
        if ramp:
            f, r0, r1 = ramp
            ww = scale(ww, REF, f + (1 - f) * min(1, max(0, (r - r0) / (r1 - r0))) if r1 > r0 else (1.0 if r > r0 else f))
        out.append(sum(x * s['laws'][m]['finals'][i] for m, x in ww.items() if x > 0))
    return [(f / t['observed'] - 1) * 100 if signed else abs(f / t['observed'] - 1) * 100 for f, t in zip(out, s['tests'])]


def ramps(s, w, why): return SHARE in w and 0 < w[SHARE] < 1 and why.endswith('prior')


def per_question(R, ramp=None):
    d = {}
    for s in E:
        w, why = current(s)
        d[(s['corpus'], s['question'])] = finals(s, w, R, ramp if ramps(s, w, why) else None)
    return d


def loco(options, base, label): loco_with(options, base, label, NOISE, 'session 12')


def table(d, label):
    m, w = pooled(d)
    print(f'== {label}: pooled {m:.3f} / {w:.2f} %')
    for k, v in d.items(): print(f'   {k[0]:22s} {k[1]:10s} {statistics.mean(v):.2f} / {max(v):.2f} %')


base = per_question(5)
table(base, 'session 12 (R = 5, no ramp)')
taper = {R: per_question(R) for R in [2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 8]}
for R, d in taper.items(): print(f'  R = {R}: {pooled(d)[0]:.3f} / {pooled(d)[1]:.2f} %')
loco(taper, base, 'taper')
grid = [(f, r0, r1) for f in [0, 0.2, 0.4, 0.6] for r0 in [1, 1.5, 2, 3] for r1 in [r0, r0 + 0.5, r0 + 1, r0 + 2, r0 + 3]]
ramp_options = {g: per_question(4, g) for g in grid}
loco(ramp_options, taper[4], 'ramp (R = 4)')
table(ramp_options[(0, 1, 3)], 'adopted: R = 4, ramp f = 0, r0 = 1, r1 = 3')

# The published split: scored on whole curves from published-blend's member curves (no test schedule reaches 4x there).
for s in P:
    rec = {'question': 'schedules', 'cuts': [{'name': 'default', 'tails': s['tails']}],
           'laws': {m: {'finals': [], 'cv': {'default': v['cv']}} for m, v in s['members'].items()}}
    w, why = current(rec)
    r2, pe = [], []
    for i, t in enumerate(s['tests']):
        o = t['observed']; pred = [sum(x * s['members'][m]['curves'][i][j] for m, x in w.items() if x > 0) for j in range(len(o))]
        mu = sum(o) / len(o)
        r2.append(1 - sum((p - x) ** 2 for x, p in zip(o, pred)) / sum((x - mu) ** 2 for x in o)); pe.append(sum(abs(p - x) / x for x, p in zip(o, pred)) / len(o))
    print(f"published {s['size']}: {statistics.mean(r2):.4f} / {statistics.mean(pe):.5f} ({why}; ramp: {ramps(rec, w, why)})")

# The oracle: the best fixed weights in hindsight per split over three members (0.1 grid), convex tapered at R = 5.
orc = []
for s in E:
    L = [m for m in [CAP, SHARE, AGE, REF, CVX, 'mpl'] if ok(s, m)]
    F = {m: finals(s, {m: 1.0}, 5, signed=True) for m in L}
    best = min((statistics.mean(abs(sum(w[m] * F[m][i] for m in w)) for i in range(len(s['tests']))), i, w)
               for i, w in enumerate({c[0]: a / 10, c[1]: b / 10, c[2]: (10 - a - b) / 10} for c in itertools.combinations(L, 3) for a in range(11) for b in range(11 - a)))
    orc += [abs(sum(best[2][m] * F[m][i] for m in best[2])) for i in range(len(s['tests']))]
print(f'oracle (best fixed weights in hindsight, per split): pooled {statistics.mean(orc):.3f} / {max(orc):.2f} %')
