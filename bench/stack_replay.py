"""The replay of auto's per-fit weight choice from a stack-selection evidence file (bench/Anneal.Bench StackSelection), shared
by the offline rule scripts (bench/stack_rules_session11.py, bench/stack_rules_session13.py): StackFitter.ChooseWeights
recomputed from each candidate's forecasts of the fitted runs' own future (the default cut, StackFitter.FutureCut)."""
import json, math, statistics

CAP, REF, CVX = 'momentum(cap=fit)', 'mpl(warmup=reference)', 'convex'
# StackFitter.Tilt, Margin, Alone.
TILT, MARGIN, ALONE = 0.9, 0.8, 0.33


def load(files):
    """Stack-selection evidence files merged: the first file's splits, with every other file's laws added to each split."""
    E = json.load(open(files[0]))
    for f in files[1:]:
        for s, x in zip(E, json.load(open(f))):
            assert (s['corpus'], s['question']) == (x['corpus'], x['question']), f
            s['laws'].update(x['laws'])
    return E


def ok(s, m):
    """Whether law m could be fitted on split s."""
    return m in s['laws'] and s['laws'][m]['finals'] is not None


def cvp(s, m):
    """Law m refitted on the fitted runs' past: its forecasts of the last point of each future tail (None: not refittable)."""
    p = s['laws'][m]['cv'].get('default') if m in s['laws'] else None
    return p if isinstance(p, list) else None


def tails(s):
    c = next((c for c in s['cuts'] if c['name'] == 'default'), None)
    return c['tails'] if c else []


def err(s, w):
    """StackFitter.EndError: mean |ln(forecast / observed)| of the weighting w over the tails' last points."""
    ts = tails(s)
    return statistics.mean(abs(math.log(sum(x * cvp(s, m)[i] for m, x in w.items() if x > 0) / t['observed'])) for i, t in enumerate(ts))


def allcv(s, ms): return bool(tails(s)) and all(cvp(s, m) is not None for m in ms if ok(s, m))


def choose(s, prior):
    """StackFitter.ChooseWeights (with the prior standing where a member cannot be refitted)."""
    ms = [m for m in prior if ok(s, m)]
    tot = sum(prior[m] for m in ms); pr = {m: prior[m] / tot for m in ms}
    if len(ms) < 2: return pr, 'single'
    if not allcv(s, ms): return pr, 'prior (no cv)'
    cands = [(None, pr)]
    for m in ms:
        if m.startswith(CVX): continue   # any convex bound (convex, convex(area=fit)): never tilted to, as StackFitter's `is ConvexBoundLaw`
        rest = sum(pr[j] for j in ms if j != m)
        cands.append((m, {j: TILT if j == m else (1 - TILT) * pr[j] / rest for j in ms}))
    errs = [err(s, w) for _, w in cands]
    b = min(range(len(cands)), key=lambda i: errs[i])
    if b > 0 and errs[b] < MARGIN * errs[0]:
        m = cands[b][0]; al = {j: 1.0 if j == m else 0.0 for j in ms}
        if err(s, al) < ALONE * errs[b]: return al, f'{m} alone'
        return cands[b][1], f'{m} tilt'
    return pr, 'prior'


def place(s, w, why, holder, alt):
    """StackFitter.ChooseMembers: alt takes holder's place in the weights w (from choose) when that forecasts the fitted runs'
    future better, or all of it when alone it is below ALONE x the better of the two."""
    if why in ('prior (no cv)', 'single') or not (ok(s, alt) and cvp(s, alt) is not None and holder in w): return w, why
    now = err(s, w); w2 = {(alt if m == holder else m): x for m, x in w.items()}; wi = err(s, w2)
    if err(s, {alt: 1.0}) < ALONE * min(now, wi): return {alt: 1.0}, f'[{alt} alone] ' + why
    if wi < now: return w2, f'[{alt} in] ' + why
    return w, why


def scale(ww, m, factor):
    """AutoLaw.Scale: member m keeps factor of its weight, the others share the rest in proportion."""
    if m not in ww or not 0 < ww[m] < 1: return ww
    kept, rest = ww[m] * factor, 1 - ww[m]
    return {j: kept if j == m else ww[j] * (1 - kept) / rest for j in ww}


def stack_finals(s, w, ramp, ref, R=4, E=3):
    """The stack's forecast of each held-out final (AutoLaw.WeightsFor): weights w, the convex taper beyond R x the fitted
    horizon and, with ramp, the reference member ref's ramp from 0 at the horizon to its weight at E x it."""
    h, out = s['fit_horizon'], []
    for i, t in enumerate(s['tests']):
        ww, r = dict(w), t['last'] / h
        if r > R: ww = scale(ww, CVX, R / r)
        if ramp: ww = scale(ww, ref, min(1, max(0, (r - 1) / (E - 1))))
        out.append(sum(x * s['laws'][m]['finals'][i] for m, x in ww.items() if x > 0))
    return out


def pooled(d, keep=lambda c: True):
    """Mean and worst |error| (%) over the questions of d ((corpus, question) -> errors) whose corpus passes keep."""
    p = [x for k, v in d.items() if keep(k[0]) for x in v]
    return statistics.mean(p), max(p)


def loco(options, base, label, noise, base_name):
    """Each corpus left out: the option with the lowest pooled mean on the others among those that worsen no remaining
    question by more than its seed noise (noise: corpus -> %) nor the pooled mean or worst (against base); scored on the
    corpus left out."""
    corpora = sorted(set(k[0] for k in base))
    for c in corpora + [None]:
        keep = (lambda x: x != c)
        mb, wb = pooled(base, keep)
        adm = [o for o, d in options.items() if pooled(d, keep)[0] <= mb + 1e-9 and pooled(d, keep)[1] <= wb + 1e-9
               and all(statistics.mean(d[k]) - statistics.mean(base[k]) <= noise.get(k[0], 0) + 1e-9 for k in d if keep(k[0]))]
        o = min(adm, key=lambda o: pooled(options[o], keep)[0])
        held = (lambda x: x == c) if c else keep
        h, hb = pooled(options[o], held), pooled(base, held)
        print(f"  {label} without {str(c):22s}: chooses {o}; {'held out' if c else 'all'} {h[0]:.3f} / {h[1]:.2f} % ({base_name}: {hb[0]:.3f} / {hb[1]:.2f} %)")
