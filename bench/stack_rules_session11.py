#!/usr/bin/env python3
"""Rules tried in session 11 for putting the age law into auto where the fitted runs say so
(docs/journal/session-11-auto.md), scored offline from the evidence files:

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . evidence.json \
      "momentum(cap=fit),mpl(warmup=reference),convex,age(q=0.7,prior=13),age(q=0.8,prior=13),age(q=0.7),age(q=0.8)"
  dotnet run -c Release --project bench/Anneal.Bench -- published-blend . published.json \
      "momentum(cap=fit),mpl(warmup=reference),convex,age(q=0.7,prior=13)"
  python3 bench/stack_rules_session11.py evidence.json published.json

StackFitter.ChooseWeights and the convex taper are recomputed as in bench/stack_rules_session9.py (the session-10 rule
reproduces docs/accuracy.md's `auto`: 0.603 % / 2.28 % pooled). The "best member" is fitted as the stack fits it (an
early-stopped member keeping its best evaluated point), not as `anneal accuracy` fits the law alone, so on the MPL splits it
is not docs/accuracy.md's best single law. Each rule prints, per corpus question, the mean / worst
final-loss error and what it chose; then the published split's whole-curve R^2 / PredE (mean of the six test curves).
Rules:
  base  session 10: momentum(cap=fit) 0.35, mpl(warmup=reference) 0.35, convex 0.3, tilted per fit;
  swap  the place of momentum(cap=fit) goes to the age law when, refitted on the past, it alone forecasts the future
        better (every member refittable), then the weights as before [margin: its error below m x the capped law's];
  stack the place goes to the age law when the stack chosen with it has the lower cross-validated error;
  after (adopted, StackFitter.ChooseMembers) the weights are chosen among the default members, then the age law takes the
        capped law's place at its weight when that lowers the weighted error, or all the weight when its error alone
        is below Alone x the stack's.
"""
import json, math, statistics, sys

from stack_replay import CAP, REF, CVX, ok, cvp, tails, err, allcv, choose

TAPER = 5
PRIOR = {CAP: 0.35, REF: 0.35, CVX: 0.3}
E = json.load(open(sys.argv[1]))
P = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else []
# Seed noise (docs/accuracy.md) and the best single law's mean error per question (of the laws `anneal accuracy` runs).
NOISE = {'engine-gpt-tiny-long': .210, 'engine-gpt-tiny': .203, 'engine-mlp-long': .185, 'engine-mlp': .423}


def finals(s, w):
    h, out = s['fit_horizon'], []
    for i, t in enumerate(s['tests']):
        ww = dict(w)
        if t['last'] > TAPER * h:
            for m in list(ww):
                if m == CVX and 0 < ww[m] < 1:
                    kept, rest = ww[m] * TAPER * h / t['last'], 1 - ww[m]
                    ww = {j: kept if j == m else ww[j] * (1 - kept) / rest for j in ww}
        out.append(sum(x * s['laws'][m]['finals'][i] for m, x in ww.items() if x > 0))
    return [abs(f / t['observed'] - 1) * 100 for f, t in zip(out, s['tests'])]


def base(s, age): return choose(s, PRIOR)


def swap(s, age, margin=1.0):
    first = CAP
    if allcv(s, [CAP, age, REF, CVX]) and ok(s, age) and err(s, {age: 1}) < margin * err(s, {CAP: 1}): first = age
    w, why = choose(s, {first: .35, REF: .35, CVX: .3})
    return w, ('[age] ' if first == age else '') + why


def stack(s, age):
    wc, yc = choose(s, PRIOR)
    if not allcv(s, [CAP, age, REF, CVX]): return wc, yc
    wa, ya = choose(s, {age: .35, REF: .35, CVX: .3})
    return (wa, '[age] ' + ya) if err(s, wa) < err(s, wc) else (wc, yc)


def after(s, age):
    w, why = choose(s, PRIOR)
    if not allcv(s, [CAP, age, REF, CVX]) or CAP not in w: return w, why
    w2 = {(age if m == CAP else m): x for m, x in w.items()}
    e1, e2 = err(s, w), err(s, w2)
    if e2 < e1: w, e1, why = w2, e2, f'[age in: {100 * e2:.3f} < {100 * e1:.3f} %] ' + why
    if err(s, {age: 1}) < ALONE * e1: return {age: 1.0}, '[age alone] ' + why
    return w, why


def best_single(s):
    laws = [m for m in s['laws'] if ok(s, m) and m != 'auto' and not m.startswith('age')]
    return min((statistics.mean(finals(s, {m: 1.0})), m) for m in laws)


def report(name, rule, age='age(q=0.7, prior=13)'):
    print(f'== {name}')
    pooled, cool = [], []
    for s in E:
        w, why = rule(s, age)
        e = finals(s, w); pooled += e
        if s['question'] == 'cooldowns': cool += e
        bm, bl = best_single(s)
        noise = NOISE.get(s['corpus'])
        flag = '' if statistics.mean(e) - bm <= (noise or 0) + 1e-9 else '  (worse than the best member by more than seed noise)' if noise else '  (worse than the best member; no seed pair)'
        print(f"  {s['corpus']:22s} {s['question']:10s} {statistics.mean(e):5.2f} / {max(e):5.2f} %  best member {bm:.2f} {bl}; {why}{flag}")
    print(f'  pooled {statistics.mean(pooled):.3f} / {max(pooled):.2f} % ({len(pooled)}); cooldowns question {statistics.mean(cool):.3f} / {max(cool):.2f} %')


def published(name, rule, age='age(q=0.7, prior=13)'):
    def score(s, w):
        r2, pe = [], []
        for i, t in enumerate(s['tests']):
            o = t['observed']; pred = [sum(x * s['members'][m]['curves'][i][j] for m, x in w.items() if x > 0) for j in range(len(o))]
            mu = sum(o) / len(o)
            r2.append(1 - sum((p - x) ** 2 for x, p in zip(o, pred)) / sum((x - mu) ** 2 for x in o)); pe.append(sum(abs(p - x) / x for x, p in zip(o, pred)) / len(o))
        return statistics.mean(r2), statistics.mean(pe)
    out = []
    for s in P:
        # The published split as an evidence record of the accuracy splits' shape (one cut, the default).
        rec = {'cuts': [{'name': 'default', 'tails': s['tails']}],
               'laws': {m: {'finals': [], 'cv': {'default': v['cv']}} for m, v in s['members'].items()}}
        w, why = rule(rec, age)
        r2, pe = score(s, w)
        out.append(f"{s['size']} {r2:.4f} / {pe:.5f} (table {s['published'][0]} / {s['published'][3]}; {why})")
    print(f'  published split {name}: ' + '; '.join(out))


for name, rule in [('base (session 10)', base), ('swap', swap), ('swap, margin 0.8', lambda s, a: swap(s, a, 0.8)),
                   ('swap, margin 0.7', lambda s, a: swap(s, a, 0.7)), ('stack', stack), ('after (adopted)', after)]:
    report(name, rule)
    if P: published(name, rule)
for age in ['age(q=0.8, prior=13)', 'age(q=0.7)']:
    report(f'swap with {age}', swap, age)
