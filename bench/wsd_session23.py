#!/usr/bin/env python3
"""Session 23 (the WSD question with two Muon corpora, gpt-erlang and mlp-muon, both forecast too high): which part of
auto's cooldowns error is the constant run's extrapolation and which the cooldown's gain, and how the predicted gain grows
with the branch point against the observed one; then offline readings of the same fits with the gain's growth past the
fitted horizon changed (docs/journal/session-23-wsd.md).

  dotnet run -c Release --project bench/Anneal.Bench -- wsd-diagnosis $(ls -d data/corpora/*/) > wsd.tsv 2> wsd.err
  ./anneal accuracy --json acc.json ...   (for the seed noise: its seed_floor table)
  python3 bench/wsd_session23.py wsd.tsv acc.json data/corpora wsd.err
  python3 bench/wsd_session23.py wsd.tsv acc.json data/corpora wsd.err main=wsd.tsv x0.5=wsd-05.tsv x1=wsd-1.tsv
      (section 5: wsd-diagnosis run on builds with StackFitter.NoiseLead = 0 (main), 0.5 and 1)

Every number is of held-out branches past the fitted horizon (ratio > 1) unless said. "In regime" leaves out gpt-jargon and
gpt-perldoc (the regime check fires on their fits). Parts against the constant run's mean within 5 % of the branch's end
(wsd-diagnosis's smoothed columns): final = constant part + gain part; gain part > 0: the predicted gain too small.
"""
import collections, csv, glob, json, math, os, sys

REGIME = {'engine-gpt-jargon', 'engine-gpt-perldoc'}
EXPONENTS = ['0.3', '0.4', '0.5', '0.6', '0.8']


def load(path):
    rows = []
    for line in open(path):
        r = line.rstrip('\n').split('\t')
        if r[0] == 'corpus':
            continue
        obs = float(r[6]); final = float(r[7]); const = float(r[8]); og = float(r[10])
        obs_c = obs * (1 + og / 100)
        pc = obs_c + const / 100 * obs            # the forecaster's constant run at the branch's end
        pw = obs * (1 + final / 100)              # its forecast of the branch
        rows.append(dict(corpus=r[0], fit=r[1], fc=r[2], w=float(r[3]), branch=r[4], ratio=float(r[5]), obs=obs,
                         final=final, const_s=float(r[11]), gain_s=float(r[12]), obs_c=obs_c, pc=pc, pw=pw))
    return rows


def mean(v):
    return sum(v) / len(v)


def mw(v):
    return f"{mean([abs(x) for x in v]):5.2f} / {max(abs(x) for x in v):5.2f}"


def series(rows, fit, fc):
    """Per corpus: the forecaster's rows on every branch (fitted and held out), by ratio."""
    by = collections.defaultdict(list)
    for r in rows:
        if r['fit'] == fit and r['fc'] == fc:
            by[r['corpus']].append(r)
    return {c: sorted(v, key=lambda r: r['ratio']) for c, v in by.items()}


def growth(v, gain):
    """The least-squares slope of ln(gain) on ln(T/H) over every branch (fitted and held out) whose gain is positive:
    the exponent g of a gain growing as (T/H)^g."""
    pts = [(math.log(r['ratio']), math.log(gain(r))) for r in v if gain(r) > 1e-4]
    if len(pts) < 3:
        return 'n/a'
    mx = mean([x for x, _ in pts]); my = mean([y for _, y in pts])
    return f"{sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts):.2f}"


def decomposition(rows, fit):
    print(f"\n## (1) auto's error past the fitted horizon, split (fit: {fit}); signed means, %\n")
    print("| corpus | branches | final signed / mean abs | constant part | gain part | carried by | observed gain at 1x -> last | "
          "gain's growth exponent, predicted / observed |")
    print("|---|---|---|---|---|---|---|---|")
    s = series(rows, fit, 'auto')
    for c, v in s.items():
        held = [r for r in v if r['ratio'] > 1.0001]
        h1 = [r for r in v if abs(r['ratio'] - 1) < 1e-4][0]
        last = held[-1]
        go = lambda r: (r['obs_c'] - r['obs']) / r['obs_c']
        gp = lambda r: (r['pc'] - r['pw']) / r['pc']
        cs, gs = mean([r['const_s'] for r in held]), mean([r['gain_s'] for r in held])
        carried = 'constant' if abs(cs) > 2 * abs(gs) else 'gain' if abs(gs) > 2 * abs(cs) else 'both'
        print(f"| {c[7:]} | {len(held)} | {mean([r['final'] for r in held]):+.2f} / {mean([abs(r['final']) for r in held]):.2f} | "
              f"{cs:+.2f} | {gs:+.2f} | {carried} | {100 * go(h1):.1f} -> {100 * go(last):.1f} ({last['ratio']:.2f}x) | "
              f"{growth(v, gp)} / {growth(v, go)} |")


def reading(rows, fit, fc, g, mode):
    """Finals past H (% signed) per corpus with the gain past the fitted horizon changed.
    mode 'on': the forecaster's own gain times (T/H)^g past H (its own trend kept, a growth added).
    mode 'anchor': the forecaster's gain at the last fitted branch (1x) grown as (T/H)^g (its own trend replaced).
    The constant part is the forecaster's as fitted in both."""
    out = {}
    for c, v in series(rows, fit, fc).items():
        h1 = [r for r in v if abs(r['ratio'] - 1) < 1e-4][0]
        g1 = (h1['pc'] - h1['pw']) / h1['pc']        # relative gain at 1x
        res = []
        for r in v:
            if r['ratio'] <= 1.0001:
                continue
            gain = r['pc'] - r['pw']
            if mode == 'on':
                gain *= r['ratio'] ** g
            else:
                gain = r['pc'] * g1 * r['ratio'] ** g
            res.append(100 * ((r['pc'] - gain) / r['obs'] - 1))
        out[c] = res
    return out


def loco(opts, base, noise, inreg, label):
    """Leave one corpus out: the option with the lowest pooled mean on the others, among those that worsen no other corpus
    beyond its seed noise and not the pooled mean (session 16's rule); also the plain lowest pooled mean."""
    m = lambda o, c: mean([abs(x) for x in opts[o][c]])
    picks, picks_plain, main, lo, lo_plain = [], [], [], [], []
    for c in inreg:
        others = [k for k in inreg if k != c]
        pooled = lambda o: mean([abs(x) for k in others for x in opts[o][k]])
        ok = [o for o in opts if o == base or (all(m(o, k) - m(base, k) <= noise.get(k, 0) for k in others) and pooled(o) <= pooled(base))]
        best = min(ok, key=pooled)
        plain = min(opts, key=pooled)
        picks.append(best); picks_plain.append(plain)
        main += opts[base][c]; lo += opts[best][c]; lo_plain += opts[plain][c]
    print(f"{label}: LOCO by the seed-noise rule picks {dict(collections.Counter(picks))}, on the corpus left out {mw(main)} -> {mw(lo)}; "
          f"by the lowest pooled mean picks {dict(collections.Counter(picks_plain))}, {mw(main)} -> {mw(lo_plain)}")


def growth_table(rows, fit, noise, mode, gs):
    print(f"\n## (2) The gain's growth past the fitted horizon, mode '{mode}', fit: {fit}: mean / worst |error| % per corpus\n")
    base = 0.0 if mode == 'on' else None
    opts = {g: reading(rows, fit, 'auto', g, mode) for g in gs}
    opts['main'] = reading(rows, fit, 'auto', 0.0, 'on')
    keys = ['main'] + list(gs)
    print('corpus'.ljust(16) + ''.join((k if k == 'main' else f"g = {k}").ljust(15) for k in keys))
    for c in opts['main']:
        print(c[7:].ljust(16) + ''.join(mw(opts[k][c]).ljust(15) for k in keys))
    inreg = [c for c in opts['main'] if c not in REGIME]
    print('pooled in regime'.ljust(16) + ''.join(mw([x for c in inreg for x in opts[k][c]]).ljust(15) for k in keys))
    m = lambda o, c: mean([abs(x) for x in opts[o][c]])
    for g in gs:
        better = [c for c in inreg if m(g, c) < m('main', c) - 0.005]
        worse = [c for c in inreg if m(g, c) > m('main', c) + 0.005]
        beyond = [c for c in worse if m(g, c) - m('main', c) > noise.get(c, 0)]
        print(f"g = {g}: better on {len(better)}, worse on {len(worse)} ({len(beyond)} beyond seed noise: {', '.join(c[7:] for c in beyond)})")
    loco(opts, 'main', noise, inreg, f"mode '{mode}'")


def joint(rows, fit, noise, gs):
    print(f"\n## (3) Exponent a (HorizonMatch) and growth g together (mode 'on'), fit: {fit}: pooled in regime mean / worst |error| %\n")
    opts = {}
    for a in EXPONENTS:
        fc = 'auto' if a == '0.4' else f'auto[match {a}]'
        for g in gs:
            opts[(a, g)] = reading(rows, fit, fc, g, 'on')
    inreg = [c for c in opts[('0.4', 0.0)] if c not in REGIME]
    print('a \\ g'.ljust(8) + ''.join(f"{g}".ljust(15) for g in gs))
    for a in EXPONENTS:
        print(a.ljust(8) + ''.join(mw([x for c in inreg for x in opts[(a, g)][c]]).ljust(15) for g in gs))
    loco(opts, ('0.4', 0.0), noise, inreg, 'joint (a, g)')


def members(rows, fit):
    print(f"\n## (4) Each member as the stack reads it, past H (fit: {fit}): signed final / constant / gain %, [weight]\n")
    by = collections.defaultdict(list)
    for r in rows:
        if r['fit'] == fit and r['ratio'] > 1.0001 and r['fc'] not in ('auto', 'baseline', 'auto(seed-2 constant)') and '[match' not in r['fc']:
            by[(r['corpus'], r['fc'], r['w'])].append(r)
    for (c, fc, w), v in by.items():
        if c[7:] in ('gpt-erlang', 'mlp-muon', 'gpt-lisp', 'gpt-code'):
            print(f"{c[7:]:12s} {fc:40s} [{w:.2f}]  {mean([x['final'] for x in v]):+6.2f} {mean([x['const_s'] for x in v]):+6.2f} {mean([x['gain_s'] for x in v]):+6.2f}")


def status(acc):
    print("\n## (0) auto today per corpus (acc.json): mean / worst |error| %, band covered / with band\n")
    print("| corpus | cooldowns | cooldown-ends | schedules |\n|---|---|---|---|")
    by = collections.defaultdict(dict)
    for r in acc['rows']:
        if r['law'] == 'auto':
            by[r['corpus']][r['question']] = r
    for c, q in sorted(by.items()):
        if 'cooldowns' not in q:
            continue
        f = lambda r: (f"{100 * r['mean_error']:.2f} / {100 * r['worst_error']:.2f}, {r['covered']}/{r['with_band']}"
                       if r and r.get('mean_error') is not None else 'failed' if r else '-')
        print(f"| {c[7:] if c.startswith('engine-') else c} | {f(q.get('cooldowns'))} | {f(q.get('cooldown-ends'))} | {f(q.get('schedules'))} |")


def _csv(path, col):
    return [(int(r['step']), float(r[col])) for r in csv.DictReader(open(path)) if r.get(col)]


def observed_proxies(root):
    """The observed gain of each 10 % cooldown (the constant run's mean within 5 % of the branch's end minus the branch's
    final) against two proxies of the "noise level" a cooldown removes, both read off the observed constant run: its
    slope -dL/d ln t (least squares over [t/1.4, 1.4 t]) and its drop since the first logged point, L(first) - L(t).
    Each as a ratio to its mean over the two fitted branches. A gain proportional to a proxy keeps the ratios equal."""
    print("\n## (5) Observed gain vs the constant run's slope in ln t and its drop since start (ratios to the fitted branches' mean)\n")
    print("| corpus | at 2x: gain, slope, drop | at 3x | at 4x (or last) |\n|---|---|---|---|")
    out = {}
    for d in sorted(glob.glob(os.path.join(root, '*/'))):
        c = json.load(open(d + 'corpus.json'))
        col = c.get('loss_column', 'loss')
        fit = c.get('cooldowns_fit') or []
        br = [r for r in c['runs'] if r.get('branch_of') and r['seed'] == 1 and 'wsd(' in r['schedule'] and 'decay=0.1)' in r['schedule']]
        if not br or c['name'] in REGIME:
            continue
        const = _csv(d + br[0]['branch_of'], col)
        def near(t):
            v = [y for s, y in const if abs(s - t) <= 0.05 * t]
            return sum(v) / len(v) if v else None
        def slope(t):
            pts = [(math.log(s), y) for s, y in const if t / 1.4 <= s <= 1.4 * t]
            n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
            return -sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
        rows = []
        for r in br:
            T = int(r['schedule'].split('total=')[1].split(',')[0])
            b = _csv(d + r['file'], col)
            cn = near(b[-1][0]) if b else None
            if cn is None:
                continue
            rows.append((T, r['file'] in fit, cn - b[-1][1], slope(b[-1][0]), const[0][1] - cn))
        rows.sort()
        fitted = [x for x in rows if x[1]] or rows[:2]
        H = max(x[0] for x in fitted)
        base = [mean([x[k] for x in fitted]) for k in (2, 3, 4)]
        def at(ratio):
            cand = [x for x in rows if x[0] > H and x[0] <= ratio * H * 1.001]
            if not cand:
                return '-'
            x = cand[-1]
            return f"{x[0] / H:.2f}x: {x[2] / base[0]:.2f}, {x[3] / base[1]:.2f}, {x[4] / base[2]:.2f}"
        print(f"| {c['name'][7:]} | {at(2)} | {at(3)} | {at(4)} |")
        out[c['name']] = const[0][1]
    return out


def drop_reading(rows, fit, noise, l0):
    """A reading: past H the gain is auto's gain at the last fitted branch (1x) times the forecast drop since start,
    (L0 - Lc(T)) / (L0 - Lc(H)), Lc auto's own constant part, L0 the constant run's first logged point: a gain that
    tracks the loss already shed."""
    print(f"\n## (6) The gain proportional to the loss shed since start, fit: {fit}: mean / worst |error| %\n")
    main, new = {}, {}
    for c, v in series(rows, fit, 'auto').items():
        if c not in l0:
            continue
        h1 = [r for r in v if abs(r['ratio'] - 1) < 1e-4][0]
        held = [r for r in v if r['ratio'] > 1.0001]
        main[c] = [r['final'] for r in held]
        new[c] = [100 * ((r['pc'] - (h1['pc'] - h1['pw']) * (l0[c] - r['pc']) / (l0[c] - h1['pc'])) / r['obs'] - 1) for r in held]
    m = lambda o, c: mean([abs(x) for x in o[c]])
    for c in main:
        print(f"{c[7:]:16s} {mw(main[c])}  ->  {mw(new[c])}")
    better = [c for c in main if m(new, c) < m(main, c) - 0.005]
    worse = [c for c in main if m(new, c) > m(main, c) + 0.005]
    print(f"pooled in regime {mw([x for c in main for x in main[c]])} -> {mw([x for c in new for x in new[c]])}; better on {len(better)}, "
          f"worse on {len(worse)} ({sum(m(new, c) - m(main, c) > noise.get(c, 0) for c in worse)} beyond seed noise)")


def prior_ramp(rows, errlines, fit, noise, ramps=(1.5, 2, 3, 5)):
    """A reading: past H the weights the cross-validation chose move linearly in T/H to the prior weights, reached at
    R x H (R = 1: the prior everywhere past H); the members as the stack reads them (after alternates, gain scales and the
    horizon match), the prior by place from the fit's report (0.35/0.35/0.3 for three members, the first weighting
    listed otherwise). Session 22's (f) on 15 in-regime corpora."""
    print(f"\n## (7) The weights past H ramped to the prior at R x H, fit: {fit}: mean / worst |error| %\n")
    priors = {}
    for line in errlines:
        c, rest = line.split(' / ', 1)
        q = rest.split(':', 1)[0]
        if (q == 'cooldowns') != (fit == 'curves'):
            continue
        import re
        m = re.search(r'mean \|log error\| ([0-9./]+) ', rest)
        if m:
            priors[c] = [float(x) for x in m.group(1).split('/')]
    data = collections.defaultdict(lambda: collections.defaultdict(dict))
    for r in rows:
        if r['fit'] == fit and r['ratio'] > 1.0001 and r['fc'] not in ('baseline', 'age(alone)', 'auto(seed-2 constant)') and '[match' not in r['fc']:
            data[r['corpus']][(r['branch'], r['ratio'])][r['fc']] = (r['w'], r['final'])
    res = {R: {} for R in (None,) + tuple(ramps)}
    for c, br in data.items():
        for R in res:
            out = []
            for (b, ratio), m in br.items():
                mem = [(k, v) for k, v in m.items() if k != 'auto']
                prior = priors.get(c)
                if R is None or c in REGIME or not prior or len(prior) != len(mem):
                    out.append(m['auto'][1]); continue
                f = 1 if R <= 1 else min(1, max(0, (ratio - 1) / (R - 1)))
                w = [v[0] + f * (p - v[0]) for (k, v), p in zip(mem, prior)]
                out.append(sum(wi * v[1] for wi, (k, v) in zip(w, mem)) / sum(w))
            res[R][c] = out
    inreg = [c for c in data if c not in REGIME]
    mm = lambda R, c: mean([abs(x) for x in res[R][c]])
    print('corpus'.ljust(16) + ''.join(('main' if R is None else f'R = {R}').ljust(15) for R in res))
    for c in data:
        print(c[7:].ljust(16) + ''.join(mw(res[R][c]).ljust(15) for R in res))
    for R in ramps:
        worse = [c for c in inreg if mm(R, c) > mm(None, c) + 0.005]
        print(f"R = {R}: pooled in regime {mw([x for c in inreg for x in res[None][c]])} -> {mw([x for c in inreg for x in res[R][c]])}; "
              f"better on {sum(mm(R, c) < mm(None, c) - 0.005 for c in inreg)}, worse on {len(worse)} "
              f"({sum(mm(R, c) - mm(None, c) > noise.get(c, 0) for c in worse)} beyond seed noise)")
    loco({k: v for k, v in res.items()}, None, noise, inreg, 'ramp R')


def envelope(rows):
    """The scatter of the branches' observed finals about a smooth envelope L(T) = E + A (T/H)^-a through the other
    branches (leave one out; a on a grid, E and A by least squares): the part of each branch's final no smooth law of T
    can forecast, one seed's noise. Its two fitted branches' residuals show how far the fit's anchor sits off the envelope."""
    print("\n## (8) Branch finals about a smooth envelope through the others (leave one out): residual %\n")
    print("| corpus | fitted branches (0.75x or 0.67x, 1x) | held-out: rms, mean signed |\n|---|---|---|")
    for c, v in series(rows, 'curves', 'auto').items():
        if c in REGIME:
            continue
        d = [(r['ratio'], r['obs']) for r in v]
        def fit(pts):
            best = None
            for a in [i / 100 for i in range(5, 200)]:
                X = [x ** -a for x, _ in pts]; Y = [y for _, y in pts]
                mx = mean(X); my = mean(Y)
                A = sum((x - mx) * (y - my) for x, y in zip(X, Y)) / sum((x - mx) ** 2 for x in X)
                E = my - A * mx
                sse = sum((E + A * x - y) ** 2 for x, y in zip(X, Y))
                if best is None or sse < best[0]:
                    best = (sse, a, A, E)
            return best
        res = []
        for i, (x, y) in enumerate(d):
            _, a, A, E = fit(d[:i] + d[i + 1:])
            res.append((x, 100 * (y / (E + A * x ** -a) - 1)))
        fitted = [f"{e:+.2f}" for x, e in res if x <= 1.0001]
        held = [e for x, e in res if x > 1.0001]
        print(f"| {c[7:]} | {', '.join(fitted)} | {math.sqrt(mean([e * e for e in held])):.2f}, {mean(held):+.2f} |")


def variants(pairs, noise):
    """Section 5: whole wsd-diagnosis runs of builds that differ in one option (name=path pairs, the first the baseline),
    per corpus and pooled in regime, and leave one corpus out among them by session 16's rule."""
    runs = {name: load(path) for name, path in (p.split('=', 1) for p in pairs)}
    names = list(runs)
    for fit in ('curves', 'ends'):
        opts = {n: reading(runs[n], fit, 'auto', 0.0, 'on') for n in names}
        inreg = [c for c in opts[names[0]] if c not in REGIME]
        print(f"\n## (9) Builds compared, fit: {fit}: mean / worst |error| %\n")
        print('corpus'.ljust(16) + ''.join(n.ljust(15) for n in names))
        for c in opts[names[0]]:
            print(c[7:].ljust(16) + ''.join(mw(opts[n][c]).ljust(15) for n in names))
        print('pooled in regime'.ljust(16) + ''.join(mw([x for c in inreg for x in opts[n][c]]).ljust(15) for n in names))
        loco(opts, names[0], noise, inreg, f'builds ({fit})')


def main():
    rows = load(sys.argv[1])
    noise = {}
    if len(sys.argv) > 2:
        acc = json.load(open(sys.argv[2]))
        noise = {r['corpus']: 100 * r['seed_noise'] for r in acc['seed_floor']}
        status(acc)
    l0 = observed_proxies(sys.argv[3] if len(sys.argv) > 3 else 'data/corpora')
    for fit in ('curves', 'ends'):
        decomposition(rows, fit)
    members(rows, 'curves')
    envelope(rows)
    gs_on = [-0.1, -0.05, 0.05, 0.1, 0.15, 0.2]
    gs_anchor = [-0.4, 0.0, 0.2, 0.3, 0.4, 0.5]
    if len(sys.argv) > 5:
        variants(sys.argv[5:], noise)
        return
    for fit in ('curves', 'ends'):
        growth_table(rows, fit, noise, 'on', gs_on)
        growth_table(rows, fit, noise, 'anchor', gs_anchor)
        joint(rows, fit, noise, [0.0, 0.05, 0.1, 0.15])
        drop_reading(rows, fit, noise, l0)
        if len(sys.argv) > 4:
            prior_ramp(rows, [l for l in open(sys.argv[4]) if ' / cooldown' in l and 'band noise' in l], fit, noise)


if __name__ == '__main__':
    main()
