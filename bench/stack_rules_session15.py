#!/usr/bin/env python3
"""Session 15 (stack weights out of sample): weighting and member-selection rules for `auto`, replayed offline from one
evidence file and judged leave-one-corpus-out over the nine engine/MPL corpora and gpt100m-rope
(docs/journal/session-15-stack-weights.md).

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . evidence.json "$LAWS"
  ./anneal accuracy --corpus bench/corpora/gpt100m-rope.json --law auto --json accuracy.json
  python3 bench/stack_rules_session15.py --swap-repo /tmp/swaprepo .          # the seed-swap corpora (see below)
  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection /tmp/swaprepo evidence-seed2.json "$LAWS"
  python3 bench/stack_rules_session15.py evidence.json --accuracy accuracy.json --seed2 evidence-seed2.json

with LAWS="momentum(cap=fit),mpl(warmup=reference, drops=continuous),convex,age(q=0.7, prior=13),share,share(clock=level),momentum(lambda=fit)".
stack-selection reads the corpora BandCalibration.Corpora lists (gpt-rope-lion and gpt3-b32 among them since their
"held_out" flag was removed in session 15). With --accuracy, the replay of main's rule is checked against
`auto`'s finals forecast by forecast. --swap-repo writes a repository skeleton whose engine corpora are the repository's
with each seed pair's labels swapped (the seed-2 constant and cosine runs are the calibration, the seed-1 ones left out; the
cooldowns question dropped), the check "Session 13: auto" made by hand; --seed2 adds its splits to every corpus (leaving a
corpus out leaves out both of its calibrations).

The rule replayed as main's: StackFitter.Fit (members failed -> left out, renormalised), ChooseWeights (prior, or a member
tilted to 0.9 when its error on the fitted runs' own future is below 0.8 x the prior's, alone below 0.33 x the tilt's),
ChooseMembers (the age law on the WSD questions, share or share(clock=level) by the better objective elsewhere, in the
capped member's place when that lowers the future's error, alone below 0.33 x), the reference ramp where the share law sits
at the prior weights (0 at the fitted horizon to its prior at 3x) and the convex taper beyond 4x.
"""
import json, math, statistics, sys
from itertools import product

from stack_replay import stack_finals

CAP, REF, CVX = 'momentum(cap=fit)', 'mpl(warmup=reference, drops=continuous)', 'convex'
AGE, SHARE, SHAREL = 'age(q=0.7, prior=13)', 'share', 'share(clock=level)'
PRIOR = {CAP: 0.35, REF: 0.35, CVX: 0.3}
TILT, MARGIN, ALONE, TAPER, RAMP = 0.9, 0.8, 0.33, 4.0, 3.0

def _opt(name):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else None


E = json.load(open(sys.argv[1])) if len(sys.argv) > 1 and not sys.argv[1].startswith('--') else []
ACC = json.load(open(_opt('--accuracy'))) if _opt('--accuracy') else None
if _opt('--seed2'):
    # The seed-swap splits, each under its corpus's name (a leave-one-corpus-out fold leaves out both calibrations).
    for s2 in json.load(open(_opt('--seed2'))):
        if s2['corpus'].endswith('-seed2'):
            s2['corpus'] = s2['corpus'][:-len('-seed2')]; s2['question'] = 'schedules (seed-2 calibration)'; E.append(s2)
CORPORA = sorted(set(s['corpus'] for s in E))
# Seed noise per corpus (docs/accuracy.md, "auto against the best single law": RMS of the relative standard deviations).
NOISE = {'engine-gpt-tiny-long': .210, 'engine-gpt-tiny': .203, 'engine-mlp-long': .185, 'engine-mlp': .423,
         'engine-gpt-rope-lion': 2.951, 'engine-gpt3-b32': .378}


def ok(s, m): return m in s['laws'] and s['laws'][m]['finals'] is not None


def cvp(s, m, cut='default'):
    p = s['laws'][m]['cv'].get(cut) if m in s['laws'] else None
    return p if isinstance(p, list) else None


def cut_of(s, name='default'): return next((c for c in s['cuts'] if c['name'] == name), None)


def end_err(s, w, cut='default', loss='abs'):
    """StackFitter.EndError: mean |ln(forecast / observed)| of weighting w over the cut's tails' last points ('multi': the
    mean over the default, two-thirds and half cuts where every weighted law could be refitted at that cut)."""
    if cut == 'multi':
        cs = [c for c in ('default', 'two-thirds', 'half') if cut_of(s, c) and all(cvp(s, m, c) is not None for m, x in w.items() if x > 0)]
        return statistics.mean(end_err(s, w, c, loss) for c in cs)
    ts = cut_of(s, cut)['tails']
    e = [math.log(sum(x * cvp(s, m, cut)[i] for m, x in w.items() if x > 0) / t['observed']) for i, t in enumerate(ts)]
    if loss == 'abs': return statistics.mean(abs(v) for v in e)
    if loss == 'rms': return math.sqrt(statistics.mean(v * v for v in e))
    if loss == 'max': return max(abs(v) for v in e)
    raise ValueError(loss)


def renorm(w):
    t = sum(w.values()); return {m: x / t for m, x in w.items()}


def spans_long_decay(s): return not s['question'].startswith('cooldowns')   # ShareLaw.SpansLongDecay on the protocol's splits


class Rule:
    """main's rule, with knobs for the candidates (defaults: main)."""
    def __init__(self, name='main', tilt=TILT, margin=MARGIN, alone=ALONE, cut='default', loss='abs', prior=None,
                 shrink=None, min_tails=0, nocv_prior=None, nocv_question=None, nocv_alternate=None, nocv_ramp=False, drop_bound=False, swap_alone=ALONE, no_swap=False, swap_margin=1.0):
        self.__dict__.update(locals()); del self.__dict__['self']

    def prior_of(self, s):
        return self.prior(s) if callable(self.prior) else (self.prior or PRIOR)

    def weights(self, s):
        """Returns (weights, ramp, why)."""
        prior = self.prior_of(s)
        ms = [m for m in prior if ok(s, m)]
        if self.drop_bound:
            bound = [m for m in ms if m != CVX and any('sits on its bound' in x for x in s['laws'][m].get('warnings') or [])]
            if bound and len(bound) < len(ms): ms = [m for m in ms if m not in bound]
        pr = renorm({m: prior[m] for m in ms})
        if len(ms) < 2: return pr, False, 'single'
        c = cut_of(s, 'default' if self.cut == 'multi' else self.cut)
        if self.nocv_prior and (self.nocv_question is None or s['question'].startswith(self.nocv_question)) and (c is None or not c['tails'] or any(cvp(s, m, 'default' if self.cut == 'multi' else self.cut) is None for m in ms)):
            return renorm({m: self.nocv_prior[m] for m in ms}), False, 'prior (no cv)'
        if (c is None or not c['tails'] or any(cvp(s, m, 'default' if self.cut == 'multi' else self.cut) is None for m in ms)):
            if self.nocv_alternate and spans_long_decay(s) and CAP in pr:
                # helper far's open question: an alternate in the capped member's place where no cross-validation runs
                alt = min([a for a in (SHARE, SHAREL) if ok(s, a)], key=lambda a: s['laws'][a]['objective']) if self.nocv_alternate == 'share' else self.nocv_alternate
                w = {(alt if m == CAP else m): x for m, x in pr.items()}
                return w, self.nocv_ramp and w.get(REF, 0) > 0, 'prior (no cv)'
            return pr, False, 'prior (no cv)'
        if len(c['tails']) < self.min_tails: return pr, False, 'prior (few tails)'
        err = lambda w: end_err(s, w, self.cut, self.loss)
        cands = [(None, pr)]
        for m in ms:
            if m == CVX: continue
            rest = sum(pr[j] for j in ms if j != m)
            cands.append((m, {j: self.tilt if j == m else (1 - self.tilt) * (pr[j] / rest if rest > 0 else 1 / (len(ms) - 1)) for j in ms}))
        errs = [err(w) for _, w in cands]
        b = min(range(len(cands)), key=lambda i: errs[i])
        w, why = pr, 'prior'
        if b > 0 and errs[b] < self.margin * errs[0]:
            m = cands[b][0]; al = {j: 1.0 if j == m else 0.0 for j in ms}
            w, why = (al, f'{m} alone') if err(al) < self.alone * errs[b] else (cands[b][1], f'{m} tilt')
        # ChooseMembers: the capped member's alternates.
        holder = CAP
        alts = [AGE] if not spans_long_decay(s) else [SHARE, SHAREL]
        alts = [a for a in alts if ok(s, a)]
        if len(alts) == 2: alts = [min(alts, key=lambda a: s['laws'][a]['objective'])]
        if not self.no_swap:
            for alt in alts:
                if holder not in w or cvp(s, alt, 'default' if self.cut == 'multi' else self.cut) is None: continue
                now = err(w); w2 = {(alt if m == holder else m): x for m, x in w.items()}; wi = err(w2)
                al = {(alt if m == holder else m): (1.0 if m == holder else 0.0) for m in w}
                if err(al) < self.swap_alone * min(now, wi): w, holder, why = al, alt, f'[{alt} alone] ' + why
                elif wi < self.swap_margin * now: w, holder, why = w2, alt, f'[{alt} in] ' + why
        ramp = why.endswith('prior') and not why.startswith('prior (') and list(w.values()) == list(pr.values()) \
            and any(m in (SHARE, SHAREL) and x > 0 for m, x in w.items()) and w.get(REF, 0) > 0
        if self.shrink: w = self.shrink(s, w, pr)
        return w, ramp, why


def finals(s, w, ramp): return stack_finals(s, w, ramp, REF, TAPER, RAMP)


def spearman(a, b):
    def rank(v):
        o = sorted(range(len(v)), key=lambda i: v[i]); r = [0.0] * len(v)
        i = 0
        while i < len(o):
            j = i
            while j + 1 < len(o) and v[o[j + 1]] == v[o[i]]: j += 1
            for k in range(i, j + 1): r[o[k]] = (i + j) / 2
            i = j + 1
        return r
    ra, rb = rank(a), rank(b); ma, mb = statistics.mean(ra), statistics.mean(rb)
    sab = sum((x - ma) * (y - mb) for x, y in zip(ra, rb)); saa = sum((x - ma) ** 2 for x in ra); sbb = sum((y - mb) ** 2 for y in rb)
    return sab / math.sqrt(saa * sbb) if saa > 0 and sbb > 0 else float('nan')


def score(s, pred):
    """mean, worst |error| (%), Spearman, regret (%) of one split's forecasts."""
    obs = [t['observed'] for t in s['tests']]
    e = [abs(p / o - 1) * 100 for p, o in zip(pred, obs)]
    by = {}
    for i, t in enumerate(s['tests']): by.setdefault(t['horizon'], []).append(i)
    sp = [spearman([pred[i] for i in ix], [obs[i] for i in ix]) for ix in by.values() if len(ix) >= 3]
    rg = [(obs[min(ix, key=lambda i: pred[i])] / min(obs[i] for i in ix) - 1) * 100 for ix in by.values() if len(ix) >= 2]
    sp = [x for x in sp if not math.isnan(x)]
    return e, (statistics.mean(sp) if sp else None), (statistics.mean(rg) if rg else None)


def run(rule, splits=E):
    out = {}
    for s in splits:
        w, ramp, why = rule.weights(s)
        out[(s['corpus'], s['question'])] = (score(s, finals(s, w, ramp)), w, ramp, why, finals(s, w, ramp))
    return out


def check_against_accuracy():
    base = run(Rule())
    rows = {(r['corpus'], r['question']): r for r in ACC['rows'] if r['law'] == 'auto'}
    worst = 0
    for k, v in base.items():
        r = rows[k]
        pred = {f['run']: f['predicted'] for f in r['forecasts']}
        s = next(s for s in E if (s['corpus'], s['question']) == k)
        d = max(abs(p / pred[t['run']] - 1) for p, t in zip(v[4], s['tests']))
        worst = max(worst, d)
        if d > 1e-6: print(f'  replay differs on {k}: max rel {d:.2e}; why {v[3]}, w {v[1]}, ramp {v[2]}')
    print(f'replay of main against anneal accuracy: largest relative difference {worst:.1e}')


def summary(res, keep=lambda c: True):
    e = [x for k, v in res.items() if keep(k[0]) for x in v[0][0]]
    sp = [v[0][1] for k, v in res.items() if keep(k[0]) and v[0][1] is not None]
    rg = [v[0][2] for k, v in res.items() if keep(k[0]) and v[0][2] is not None]
    return statistics.mean(e), max(e), statistics.mean(sp), statistics.mean(rg)


def table(res, base, label):
    print(f'\n{label}')
    print('| corpus | question | main: mean / worst, Spearman, regret | rule | weights (rule) |')
    print('|---|---|---|---|---|')
    for k in sorted(res):
        (e, sp, rg), w, ramp, why, _ = res[k]; (eb, spb, rgb), *_ = base[k]
        f = lambda e, sp, rg: f"{statistics.mean(e):.3f} / {max(e):.2f} %, {'-' if sp is None else f'{sp:.2f}'}, {'-' if rg is None else f'{rg:.2f} %'}"
        ws = ' '.join(f'{m.split("(")[0]}{"" if "(" not in m else "(" + m.split("(")[1][:6]} {x:.2f}' for m, x in w.items() if x > 0) + (' ramp' if ramp else '')
        print(f'| {k[0]} | {k[1]} | {f(eb, spb, rgb)} | {f(e, sp, rg)} | {ws} |')


def diagnose():
    """Each law alone per split (mean |error| %), the main rule's reason, and the future's per-member end errors."""
    laws = [CAP, REF, CVX, AGE, SHARE, SHAREL, 'momentum(lambda=fit)']
    base = run(Rule())
    print('\n| split | why | ' + ' | '.join(l[:14] for l in laws) + ' | ntails |')
    for s in E:
        k = (s['corpus'], s['question'])
        alone = []
        for l in laws:
            if not ok(s, l): alone.append('-'); continue
            e = statistics.mean(abs(f / t['observed'] - 1) * 100 for f, t in zip(s['laws'][l]['finals'], s['tests']))
            c = cvp(s, l)
            fe = f"{end_err(s, {l: 1.0}) * 100:.2f}" if c is not None and cut_of(s) else 'x'
            alone.append(f'{e:.2f} ({fe})')
        print(f'| {k[0]} {k[1]} | {base[k][3]} | ' + ' | '.join(alone) + f" | {len(cut_of(s)['tails']) if cut_of(s) else 0} |")


def shrink_to_prior(lam, k=None):
    """Weights shrunk toward the prior: lam x chosen + (1 - lam) x prior (k: lam = n / (n + k), n the future's tails).
    The prior's places are mapped onto the chosen laws (an alternate in the capped member's place takes its prior)."""
    def f(s, w, pr):
        l = lam if k is None else len(cut_of(s)['tails']) / (len(cut_of(s)['tails']) + k)
        p = {}
        for m in w:
            src = m if m in pr else CAP
            p[m] = pr.get(src, 0)
        return renorm({m: l * w[m] + (1 - l) * p[m] for m in w})
    return f


def per_corpus(res):
    out = {}
    for k, v in res.items():
        out.setdefault(k[0], []).extend(v[0][0])
    return out


def loco_choose(family, base, crit='mean', tol=0.0):
    """family: {label: results}. For each corpus left out, the label with the lowest pooled mean |error| over the other
    corpora's forecasts (ties: the first, main's when it is in the family) is scored on the corpus left out. Returns
    {corpus: (label, its errors on the corpus)} and the left-out results assembled."""
    chosen, assembled = {}, {}
    for c in CORPORA:
        keep = lambda x: x != c
        def key(lbl):
            r = family[lbl]
            if crit == 'mean': return summary(r, keep)[0]
            if crit == 'corpus-mean': return statistics.mean(statistics.mean(v) for cc, v in per_corpus(r).items() if cc != c)
        cands = list(family)
        if crit == 'guarded':
            # the previous sessions' rule: among the options that worsen no remaining corpus by more than its seed noise
            # (0 where it has no seed pairs) nor the pooled mean or worst, the lowest pooled mean.
            mb, wb = summary(base, keep)[:2]; pb = per_corpus(base)
            def admissible(lbl):
                r = family[lbl]; pr = per_corpus(r); m, w = summary(r, keep)[:2]
                return m <= mb + 1e-9 and w <= wb + 1e-9 and all(statistics.mean(pr[x]) - statistics.mean(pb[x]) <= NOISE.get(x, tol) + 1e-9 for x in CORPORA if x != c)
            cands = [l for l in cands if admissible(l)] or [next(l for l in family if family[l] is base)]
            key = lambda lbl: summary(family[lbl], keep)[0]
        lbl = min(cands, key=key)
        chosen[c] = lbl
        for k, v in family[lbl].items():
            if k[0] == c: assembled[k] = v
    return chosen, assembled


def report_loco(name, family, base, crit='mean', tol=0.0):
    chosen, assembled = loco_choose(family, base, crit, tol)
    pb, pa = per_corpus(base), per_corpus(assembled)
    helps = sum(statistics.mean(pa[c]) < statistics.mean(pb[c]) - 1e-9 for c in CORPORA)
    hurts = sum(statistics.mean(pa[c]) > statistics.mean(pb[c]) + 1e-9 for c in CORPORA)
    beyond = [c for c in CORPORA if statistics.mean(pa[c]) - statistics.mean(pb[c]) > NOISE.get(c, 0) + 1e-9]
    sb, sa = summary(base), summary(assembled)
    print(f'\n## {name} (criterion: {crit}): pooled left-out {sa[0]:.3f} / {sa[1]:.2f} %, Spearman {sa[2]:.2f}, regret {sa[3]:.3f} %'
          f' (main {sb[0]:.3f} / {sb[1]:.2f} %, {sb[2]:.2f}, {sb[3]:.3f} %); helps {helps}, hurts {hurts}, worse than seed noise on {beyond or "none"}')
    for c in CORPORA:
        print(f'   {c:22s} chosen {chosen[c]:40s} {statistics.mean(pb[c]):.3f} / {max(pb[c]):.2f} -> {statistics.mean(pa[c]):.3f} / {max(pa[c]):.2f} %')
    # the label chosen with every corpus in
    allbest = min(family, key=lambda l: summary(family[l])[0])
    print(f'   in sample (all corpora) the family\'s best: {allbest}: {summary(family[allbest])[0]:.3f} / {summary(family[allbest])[1]:.2f} %')
    return assembled


def families():
    F = {}
    F['tilt/margin/alone'] = {f't{t} m{m} a{a} sa{sa}': run(Rule(tilt=t, margin=m, alone=a, swap_alone=sa))
                              for t, m, a, sa in product([0.6, 0.7, 0.8, 0.9], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0, 0.2, 0.33, 0.5], [0, 0.2, 0.33, 0.5])}
    F['shrink lam'] = {f'lam {l}': run(Rule(shrink=shrink_to_prior(l))) for l in [1.0, 0.8, 0.6, 0.5, 0.4, 0.2, 0.0]}
    F['shrink n/(n+k)'] = {f'k {k}': run(Rule(shrink=shrink_to_prior(None, k))) for k in [0, 0.25, 0.5, 1, 2, 4, 8]}
    F['cut'] = {c: run(Rule(cut=c)) for c in ['default', 'two-thirds', 'half']}
    F['loss'] = {l: run(Rule(loss=l)) for l in ['abs', 'rms', 'max']}
    F['min tails'] = {f'min {n}': run(Rule(min_tails=n)) for n in [0, 2]}
    F['drop at bound'] = {f'drop {d}': run(Rule(drop_bound=d)) for d in [False, True]}
    F['swap margin'] = {f'sm {m}': run(Rule(swap_margin=m)) for m in [1.0, 0.9, 0.8, 0.6]}
    return F


def main_loco():
    base = run(Rule())
    for name, fam in families().items():
        report_loco(name, fam, base)


def show_options(family, base, labels=None):
    pb = per_corpus(base)
    short = [c.replace('engine-', '')[:10] for c in CORPORA]
    print('| option | pooled mean / worst, Spearman, regret | ' + ' | '.join(short) + ' | better / worse (beyond noise) |')
    for lbl in labels or family:
        r = family[lbl]; pa = per_corpus(r); sa = summary(r)
        d = [statistics.mean(pa[c]) - statistics.mean(pb[c]) for c in CORPORA]
        better = sum(x < -1e-9 for x in d); worse = sum(x > 1e-9 for x in d); beyond = sum(x > NOISE.get(c, 0) + 1e-9 for x, c in zip(d, CORPORA))
        print(f'| {lbl} | {sa[0]:.3f} / {sa[1]:.2f} %, {sa[2]:.2f}, {sa[3]:.3f} % | ' + ' | '.join(f'{statistics.mean(pa[c]):.3f}' for c in CORPORA) + f' | {better} / {worse} ({beyond}) |')


def swap_repo(out, repo):
    """A repository skeleton at out: repo's MPL examples, and each engine corpus with its seed pairs' labels swapped."""
    import os
    os.makedirs(f'{out}/data/examples', exist_ok=True); os.makedirs(f'{out}/data/corpora', exist_ok=True)
    if not os.path.exists(f'{out}/data/examples/mpl'): os.symlink(os.path.abspath(f'{repo}/data/examples/mpl'), f'{out}/data/examples/mpl')
    for c in sorted(os.listdir(f'{repo}/data/corpora')):
        src = os.path.abspath(f'{repo}/data/corpora/{c}')
        if not os.path.exists(f'{src}/corpus.json'): continue
        d = json.load(open(f'{src}/corpus.json'))
        if d.get('held_out'): continue   # never a held-out corpus
        dst = f'{out}/data/corpora/{c}-seed2'; os.makedirs(dst, exist_ok=True)
        d.pop('cooldowns_fit', None); d['name'] += '-seed2'
        pairs = {r['file'].replace('_s2', '_s1') for r in d['runs'] if r.get('seed') == 2}
        for r in d['runs']:
            if r.get('seed') == 2: r['seed'] = 1
            elif r['file'] in pairs: r['seed'] = 2
        json.dump(d, open(f'{dst}/corpus.json', 'w'), indent=1)
        for f in os.listdir(src):
            if f.endswith('.csv') and not os.path.exists(f'{dst}/{f}'): os.symlink(f'{src}/{f}', f'{dst}/{f}')
    print(f'wrote {out}')


def convex_without_future(c):
    """The candidate measured and reverted: where the cross-validation cannot run and a fitted run decays over more than
    half its length (the schedules question), the prior with the convex member at c and the annealing members sharing the
    rest equally (AutoLaw.ConvexWithoutFuture in the session's reverted commit)."""
    return Rule(nocv_prior={CAP: (1 - c) / 2, REF: (1 - c) / 2, CVX: c}, nocv_question='schedules')


if __name__ == '__main__':
    if _opt('--swap-repo'):
        swap_repo(_opt('--swap-repo'), sys.argv[sys.argv.index('--swap-repo') + 2]); sys.exit()
    if ACC: check_against_accuracy()
    base = run(Rule())
    print('main pooled (mean / worst / Spearman / regret): %.3f / %.2f / %.2f / %.3f' % summary(base))
    table(base, base, 'main')
    knobs = {'main': base}
    for sa in [0.2, 0.5]: knobs[f'swap alone {sa}'] = run(Rule(swap_alone=sa))
    for t in [0.7, 0.8]: knobs[f'tilt {t}'] = run(Rule(tilt=t))
    for m in [0.7, 0.9, 1.0]: knobs[f'margin {m}'] = run(Rule(margin=m))
    for c in ['two-thirds', 'half', 'multi']: knobs[f'cut {c}'] = run(Rule(cut=c))
    for l in ['rms', 'max']: knobs[f'loss {l}'] = run(Rule(loss=l))
    knobs['min tails 2'] = run(Rule(min_tails=2))
    knobs['members at a bound left out'] = run(Rule(drop_bound=True))
    knobs['swap margin 0.9'] = run(Rule(swap_margin=0.9))
    for l in [0.8, 0.6]: knobs[f'shrink {l}'] = run(Rule(shrink=shrink_to_prior(l)))
    for k in [0.5, 2]: knobs[f'shrink n/(n+{k})'] = run(Rule(shrink=shrink_to_prior(None, k)))
    print(); show_options(knobs, base)
    for name, fam in families().items(): report_loco(name, fam, base)
    g = [i / 20 for i in range(21)]
    priors = {'main': base}
    for cw in g:
        for rw in g:
            v = round(1 - cw - rw, 4)
            if v < -1e-9 or (cw == 0 and rw == 0): continue
            priors[f'{cw:.2f}/{rw:.2f}/{v:.2f}'] = run(Rule(prior={CAP: max(cw, 1e-9), REF: rw, CVX: max(v, 0)}))
    report_loco('the prior weights (capped / reference / convex) on a 0.05 grid', priors, base)
    alt = {'main': base, 'share in place': run(Rule(nocv_alternate='share')), 'share in place, ramp': run(Rule(nocv_alternate='share', nocv_ramp=True)),
           'age in place': run(Rule(nocv_alternate=AGE))}
    print('\nan alternate in the capped member\'s place where the cross-validation cannot run (schedules question)'); show_options(alt, base)
    cvx = {'main': base, **{f'convex {c}': run(convex_without_future(c)) for c in [0.3, 0.25, 0.2, 0.15, 0.1]}}
    print(); show_options(cvx, base)
    report_loco('the convex prior where the cross-validation cannot run (schedules question)', cvx, base)
