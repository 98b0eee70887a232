#!/usr/bin/env python3
"""The rules tried for auto in session 8 and not adopted (docs/journal/session-08-auto-band.md), scored offline.

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . evidence.json "momentum(cap=fit),mpl(warmup=reference),convex"
  dotnet run -c Release --project bench/Anneal.Bench -- published-blend . published.json
  python3 bench/stack_rules_session8.py evidence.json published.json

Prints, with the weighting rule of StackFitter.ChooseWeights (as bench/stack_rules.py):
- gain-mixing: the convex member contributes only its annealing gain (its forecast minus its forecast of the schedule's
  constant counterpart, the rate's running maximum) and the annealing members carry the constant part;
- a "without convex" candidate among the tilts;
- a floor on the reference member's weight, on the benchmark (final-loss error) and on the published split (whole-curve
  R^2 and PredE, mean of curves, as docs/accuracy.md's last section).
"""
import json, math, statistics, sys
CAP, REF, CVX = 'momentum(cap=fit)', 'mpl(warmup=reference)', 'convex'
MEMBERS=(CAP,REF,CVX); TILT, MARGIN, ALONE = 0.9, 0.8, 0.5
def fix(o):
    if isinstance(o, dict): return {k: fix(v) for k, v in o.items()}
    if isinstance(o, list): return [fix(v) for v in o]
    return float('nan') if o == 'NaN' else o
E = fix(json.load(open(sys.argv[1])))
P = json.load(open(sys.argv[2]))
ok = lambda s, m: s['laws'][m]['finals'] is not None
def combine(w, F, C, mode):
    # F, C: member -> forecast of the run and of its constant counterpart
    if mode=='plain': return sum(w[m]*F[m] for m in w if w[m]>0)
    A=[m for m in w if m!=CVX and w[m]>0]; sa=sum(w[m] for m in A)
    if sa<=0: return sum(w[m]*F[m] for m in w if w[m]>0)
    return sum(w[m]/sa*C[m] for m in A) + sum(w[m]*(F[m]-C[m]) for m in w if w[m]>0)
def cv_error(s, w, mode, cut='default'):
    c = next((c for c in s['cuts'] if c['name'] == cut), None)
    if c is None: return None
    tot=0
    for i,t in enumerate(c['tails']):
        F={};C={}
        for m in w:
            if w[m]<=0: continue
            p=s['laws'][m]['cv'].get(cut); q=s['laws'][m]['cv'].get(cut+'/constant')
            if not isinstance(p,list): return None
            F[m]=p[i]; C[m]=q[i]
        tot+=abs(math.log(combine({m:w[m] for m in F},F,C,mode)/t['observed']))
    return tot/len(c['tails'])
def choose(s, prior, mode, floor=0.0):
    ms=[m for m in MEMBERS if ok(s,m)]
    tot=sum(prior[m] for m in ms); prior={m:prior[m]/tot for m in ms}
    if len(ms)==1: return prior
    def tilt(x):
        rest=1-prior[x]
        return {m: TILT if m==x else (1-TILT)*(prior[m]/rest if rest>1e-12 else 1/(len(ms)-1)) for m in ms}
    tl=[x for x in ms if x!=CVX]
    cands=[prior]+[tilt(x) for x in tl]
    errs=[cv_error(s,w,mode) for w in cands]
    if any(e is None for e in errs): return prior
    b=min(range(len(cands)), key=lambda i: errs[i])
    if b==0 or not errs[b] < MARGIN*errs[0]: return prior
    alone={m:1.0 if m==tl[b-1] else 0.0 for m in ms}
    return alone if cv_error(s,alone,mode) < ALONE*errs[b] else cands[b]
def forecasts(s, w, mode):
    out=[]
    for i,t in enumerate(s['tests']):
        F={m:s['laws'][m]['finals'][i] for m in w if w[m]>0}; C={m:s['laws'][m]['const_finals'][i] for m in w if w[m]>0}
        out.append(combine({m:w[m] for m in F},F,C,mode))
    return out
def errs(s,w,mode): return [abs(f-t['observed'])/t['observed'] for f,t in zip(forecasts(s,w,mode),s['tests'])]
def pooled(splits, p, mode):
    prior={CAP:(1-p)/2, REF:(1-p)/2, CVX:p}
    e=[x for s in splits for x in errs(s, choose(s,prior,mode), mode)]
    return 100*statistics.mean(e), 100*max(e)

def pooled(splits, p, mode):
    prior = {CAP: (1 - p) / 2, REF: (1 - p) / 2, CVX: p}
    e = [x for s in splits for x in errs(s, choose(s, prior, mode), mode)]
    return 100 * statistics.mean(e), 100 * max(e)


grid = [i / 20 for i in range(13)]
corpora = sorted({s['corpus'] for s in E})
for mode in ('plain', 'gain'):
    print(f'{mode}: prior weight of convex -> pooled mean / worst final error; chosen with each corpus left out')
    for p in grid: print('  %.2f: %.3f %% / %.2f %%' % ((p,) + pooled(E, p, mode)))
    print('  ' + ', '.join(f"without {c}: {min(grid, key=lambda p: (round(pooled([s for s in E if s['corpus'] != c], p, mode)[0], 4), p)):.2f}" for c in corpora))
prior = {CAP: 0.35, REF: 0.35, CVX: 0.3}
print('per split at 0.35/0.35/0.3: mean / worst, plain and gain-mixed')
for s in E:
    ep = errs(s, choose(s, prior, 'plain'), 'plain'); eg = errs(s, choose(s, prior, 'gain'), 'gain')
    print(f"  {s['corpus']} {s['question']}: {100 * statistics.mean(ep):.2f} / {100 * max(ep):.2f} %  gain {100 * statistics.mean(eg):.2f} / {100 * max(eg):.2f} %")


def choose_nocvx(s, prior):
    ms = [m for m in MEMBERS if ok(s, m)]
    tot = sum(prior[m] for m in ms); prior = {m: prior[m] / tot for m in ms}
    if len(ms) == 1: return prior
    def tilt(x):
        rest = 1 - prior[x]
        return {m: TILT if m == x else (1 - TILT) * (prior[m] / rest if rest > 1e-12 else 1 / (len(ms) - 1)) for m in ms}
    tl = [x for x in ms if x != CVX]
    cands = [prior] + [tilt(x) for x in tl]
    if CVX in ms and len(tl) > 1:
        a = sum(prior[m] for m in tl); cands.append({m: (0 if m == CVX else prior[m] / a) for m in ms})
    es = [cv_error(s, w, 'plain') for w in cands]
    if any(e is None for e in es): return prior
    b = min(range(len(cands)), key=lambda i: es[i])
    if b == 0 or not es[b] < MARGIN * es[0]: return prior
    if b <= len(tl):
        alone = {m: 1.0 if m == tl[b - 1] else 0.0 for m in ms}
        return alone if cv_error(s, alone, 'plain') < ALONE * es[b] else cands[b]
    return cands[b]


e = [x for s in E for x in errs(s, choose_nocvx(s, prior), 'plain')]
print(f'with a "without convex" candidate: pooled {100 * statistics.mean(e):.3f} % / {100 * max(e):.2f} %; ' +
      ', '.join(f"{s['corpus']} {s['question']} {100 * statistics.mean(errs(s, choose_nocvx(s, prior), 'plain')):.2f} %" for s in E))


def floored(w, f, alone_too):
    if REF not in w or w[REF] >= f: return w
    if not alone_too and max(w.values()) == 1.0: return w
    rest = 1 - w[REF]
    return {m: (f if m == REF else w[m] * (1 - f) / rest) for m in w}


def pubscore(s, w):
    r2 = []; pe = []
    for i, t in enumerate(s['tests']):
        pred = [sum(w[m] * s['members'][m]['curves'][i][j] for m in w if w[m] > 0) for j in range(len(t['observed']))]
        o = t['observed']; mu = sum(o) / len(o)
        r2.append(1 - sum((p - x) ** 2 for x, p in zip(o, pred)) / sum((x - mu) ** 2 for x in o)); pe.append(sum(abs(p - x) / x for x, p in zip(o, pred)) / len(o))
    return statistics.mean(r2), statistics.mean(pe)


def pubchoose(s):
    ms = [CAP, REF, CVX]
    def cverr(w): return statistics.mean(abs(math.log(sum(w[m] * s['members'][m]['cv'][i] for m in ms) / t['observed'])) for i, t in enumerate(s['tails']))
    def tilt(x):
        rest = 1 - prior[x]; return {m: TILT if m == x else (1 - TILT) * prior[m] / rest for m in ms}
    cands = [prior, tilt(CAP), tilt(REF)]; es = [cverr(w) for w in cands]
    b = min(range(3), key=lambda i: es[i])
    if b == 0 or not es[b] < MARGIN * es[0]: return prior
    alone = {m: 1.0 if m == [CAP, REF][b - 1] else 0.0 for m in ms}
    return alone if cverr(alone) < ALONE * es[b] else cands[b]


print('published split, fixed weights cap/mpl/convex: R^2 / PredE (mean of curves)')
for s in P:
    print(f"  {s['size']} (table {s['published'][0]} / {s['published'][3]}): " + ', '.join(
        f"{w}: %.4f / %.5f" % pubscore(s, dict(zip((CAP, REF, CVX), w))) for w in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0.35, 0.35, 0.3), (0.9, 0.05, 0.05), (0.05, 0.9, 0.05), (0.5, 0.5, 0), (0.3, 0.7, 0)]))
print('floor on the reference member: pooled mean / worst | per split | published split R^2 / PredE')
for f in (0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
    for at in (False, True):
        per = []; e = []
        for s in E:
            x = errs(s, floored(choose(s, prior, 'plain'), f, at), 'plain'); e += x; per.append(f"{s['corpus']}/{s['question']} {100 * statistics.mean(x):.2f}")
        pub = '; '.join(f"{s['size']} %.4f / %.5f" % pubscore(s, floored(pubchoose(s), f, at)) for s in P)
        print(f"  {f} ({'also a member kept alone' if at else 'tilts only'}): {100 * statistics.mean(e):.3f} / {100 * max(e):.2f} % | {pub}")
        print('     ' + '; '.join(per))
