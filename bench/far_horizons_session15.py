#!/usr/bin/env python3
"""Session 15 (far horizons): which member carries `auto`'s error far past the fitted horizon, and what replacing a member's
constant-rate part does to the stack, scored offline from stack-selection evidence files
(docs/journal/session-15-far-horizons.md). The evidence (one file per set of laws; every split of the protocol, the
session-14 corpora included once their
"held_out" flag is gone):

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . ev-base.json \\
      "momentum(cap=fit),mpl(warmup=reference, drops=continuous),convex,age(q=0.7, prior=13),share"
  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . ev-prior.json \\
      "share(alpha_prior=0.5),age(q=0.7, prior=13, alpha_prior=0.5),momentum(cap=fit, alpha_prior=0.5)"
  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . ev-cvx.json "convex(area=fit)"
  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . ev-q.json "share(q=0.7),share(q=0.85)"
  python3 bench/far_horizons_session15.py ev-base.json ev-prior.json ev-cvx.json ev-q.json [--members] [--loco]

The rule replayed is main's: StackFitter.ChooseWeights among the default members (the convex bound never tilted to), then
the alternate AutoLaw.Weighs picks (the age law on the WSD questions, the share law elsewhere) in the capped member's place
(ChooseMembers), the convex taper beyond 4x and, where the stack holds the share law at the prior weights, the reference
member's ramp (0 at the fitted horizon to its prior at 3x). An option replaces members by other laws (OLD->NEW): the
default members, the alternates or the convex bound, each everywhere it appears. --members prints every forecast with each
member's signed error and the stack's weights; --loco chooses the option with each corpus left out (the lowest pooled mean
among the options that worsen no remaining question by more than its seed noise, nor the pooled mean or worst) and scores
it on the corpus left out.
"""
import itertools, statistics as st, sys
from collections import defaultdict

from stack_replay import CAP, CVX, choose, load, loco, place, scale

REF, AGE, SHARE = 'mpl(warmup=reference, drops=continuous)', 'age(q=0.7, prior=13)', 'share'
NOISE = {'engine-gpt-tiny-long': .210, 'engine-gpt-tiny': .203, 'engine-mlp-long': .185, 'engine-mlp': .423,
         'engine-gpt3-b32': .378, 'engine-gpt-rope-lion': 2.951}   # docs/accuracy.md, "The floor"
DEV14 = {'engine-gpt-rope-lion', 'engine-gpt3-b32'}   # held out in session 14, development corpora since


def replay(s, sub):
    """The stack's weights on split s (main's rule), with the members renamed by sub."""
    w, why = choose(s, {sub.get(CAP, CAP): .35, REF: .35, sub.get(CVX, CVX): .3})
    return place(s, w, why, sub.get(CAP, CAP), sub.get(AGE, AGE) if s['question'] == 'cooldowns' else sub.get(SHARE, SHARE))


def forecasts(E, sub, show=False):
    """(corpus, question) -> signed errors (%) of the stack; rows for the by-extrapolation table."""
    d, rows = defaultdict(list), []
    for s in E:
        w, why = replay(s, sub)
        laws = [m for m in s['laws'] if s['laws'][m]['finals'] is not None]
        ramp = why.endswith('prior') and any(m.startswith(SHARE) for m in w) and REF in w
        if show: print(f"\n== {s['corpus']} / {s['question']}: " + ' '.join(f'{m} {x:.2f}' for m, x in w.items()) + f' [{why}]' + (' (ramp)' if ramp else ''))
        for i, t in enumerate(s['tests']):
            r = t['last'] / s['fit_horizon']; ww = dict(w)
            for c in list(ww):
                if c.startswith(CVX) and r > 4: ww = scale(ww, c, 4 / r)
            if ramp: ww = scale(ww, REF, min(1, max(0, (r - 1) / 2)))
            e = 100 * (sum(x * s['laws'][m]['finals'][i] for m, x in ww.items() if x > 0) / t['observed'] - 1)
            each = {m: 100 * (s['laws'][m]['finals'][i] / t['observed'] - 1) for m in laws}
            d[(s['corpus'], s['question'])].append(e); rows.append((s['corpus'], r, e, each))
            if show: print(f"  {t['run']:22s} r={r:4.1f} stack {e:+6.2f} | " + ' '.join(f'{m} {v:+.2f}' for m, v in each.items()))
    return d, rows


def by_extrapolation(rows, title):
    print(f'--- {title}: mean signed error (%) by the held-out run\'s end over the fitted horizon, the stack and each law alone')
    laws = sorted({m for r in rows for m in r[3]})
    for lo, hi in [(0, 1), (1, 1.5), (1.5, 2), (2, 3), (3, 99)]:
        sel = [r for r in rows if lo < r[1] <= hi + 1e-9] if lo else [r for r in rows if r[1] <= hi + 1e-9]
        if sel: print(f'  {lo}-{hi}x ({len(sel)}): stack {st.mean(r[2] for r in sel):+.2f} | ' + ', '.join(f'{m} {st.mean(r[3][m] for r in sel if m in r[3]):+.2f}' for m in laws if any(m in r[3] for r in sel)))


files = [a for a in sys.argv[1:] if a.endswith('.json')]
E = load(files)
PRI = {SHARE: 'share(alpha_prior=0.5)', AGE: 'age(q=0.7, prior=13, alpha_prior=0.5)', CAP: 'momentum(cap=fit, alpha_prior=0.5)'}
options = {'main': {}}
for cv in [False, True]:
    for k in range(4):
        for members in itertools.combinations([SHARE, AGE, CAP], k):
            if not cv and not members: continue
            name = '+'.join((['convex(area=fit)'] if cv else []) + [PRI[m] for m in members])
            options[name] = ({CVX: 'convex(area=fit)'} if cv else {}) | {m: PRI[m] for m in members}
for q in ['share(q=0.7)', 'share(q=0.85)']: options[q] = {SHARE: q}
for alt in ['share', 'share(q=0.7)']: options[f'{alt} in the age law\'s place'] = {AGE: alt}
options = {k: v for k, v in options.items() if all(any(x in s['laws'] for s in E) for x in v.values())}

base, rows = forecasts(E, {}, show='--members' in sys.argv)
by_extrapolation([r for r in rows if r[0] not in DEV14], 'main, in-sample corpora')
by_extrapolation([r for r in rows if r[0] in DEV14], 'main, the session-14 corpora')
scored = {}
for name, sub in options.items():
    d, _ = forecasts(E, sub); scored[name] = {k: [abs(x) for x in v] for k, v in d.items()}
    m = lambda keep: st.mean(abs(x) for k, v in d.items() if keep(k[0]) for x in v)
    better = sum(st.mean(abs(x) for x in d[k]) < st.mean(abs(x) for x in base[k]) - .005 for k in d)
    worse = sum(st.mean(abs(x) for x in d[k]) > st.mean(abs(x) for x in base[k]) + .005 for k in d)
    wb = sum(max(abs(x) for x in d[k]) < max(abs(x) for x in base[k]) - .005 for k in d)
    ww = sum(max(abs(x) for x in d[k]) > max(abs(x) for x in base[k]) + .005 for k in d)
    print(f"{name:90s} all {m(lambda c: True):.3f} / {max(abs(x) for v in d.values() for x in v):.2f} %, in-sample {m(lambda c: c not in DEV14):.3f}, "
          f"session-14 {m(lambda c: c in DEV14):.3f}; questions better / worse: mean {better} / {worse}, worst {wb} / {ww} (of {len(d)})")
if '--loco' in sys.argv: loco(scored, scored['main'], 'option', NOISE, 'main')
