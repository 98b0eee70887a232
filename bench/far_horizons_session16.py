#!/usr/bin/env python3
"""Session 16 (far horizons): each member's and `auto`'s error on the constant run's own future and on the far held-out runs,
by extrapolation ratio and with sign, per corpus; what is known at fit time about each split; candidate corrections of the
constant-rate part, scored on every corpus and leave-one-corpus-out (docs/journal/session-16-far-horizons.md).

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . ev-base.json \\
      "momentum(cap=fit),mpl(warmup=reference, drops=continuous),convex,age(q=0.7, prior=13),share"
  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . ev-prior.json \\
      "share(alpha_prior=0.5),age(q=0.7, prior=13, alpha_prior=0.5),momentum(cap=fit, alpha_prior=0.5)"
  python3 bench/far_horizons_session16.py ev-base.json ev-prior.json [--constant] [--features] [--train] [--candidates [--loco] [--show NAME]]
  python3 bench/far_horizons_session16.py ev-swap.json --swap

The evidence must be written with data/corpora/mlp-sgd and gpt-deep read as development corpora (their "held_out" flag gone).
ev-swap.json is the seed-swap check: stack-selection run on a scratch copy of the repository's data/ (data/examples linked)
whose engine corpus.json files relabel the seed-2 runs seed 1 and the seed-1 constant and cosine runs seed 2 (so the
protocol calibrates on seed 2 and predicts the other seed-1 runs), with "held_out" and "cooldowns_fit" removed.
"""
import csv, math, os, statistics as st, sys

from stack_replay import CAP, CVX, choose, load, loco, place, scale

REF, AGE, SHARE = 'mpl(warmup=reference, drops=continuous)', 'age(q=0.7, prior=13)', 'share'
MEMBERS = [CAP, REF, CVX, AGE, SHARE]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
# docs/accuracy.md, "The floor" (seed noise, %)
NOISE = {'engine-gpt-tiny-long': .210, 'engine-gpt-tiny': .203, 'engine-mlp-long': .185, 'engine-mlp': .423,
         'engine-gpt3-b32': .378, 'engine-gpt-rope-lion': 2.951, 'engine-gpt-deep': .407, 'engine-mlp-sgd': .207}
BINS = [(0, 1), (1, 1.5), (1.5, 2), (2, 3), (3, 99)]


def constant_file(s):
    """The logged constant run whose prefix the split fits (None where the first fitted run is not a constant run's prefix)."""
    name = s['fit_runs'][0]['run'].split('[')[0]
    c = s['corpus']
    if c.startswith('engine-'): d = os.path.join(ROOT, 'data/corpora', c[len('engine-'):])
    elif c.startswith('mpl-'): d = os.path.join(ROOT, 'data/examples/mpl', c[len('mpl-'):])
    else: return None
    if not name.endswith('.csv'): name += '.csv'
    return os.path.join(d, name) if name.startswith('constant') else None


def observed_constant(s):
    """The constant run's logged target (val_loss where logged, else loss) averaged over +-5 % of each grid step (None beyond its end)."""
    f = constant_file(s)
    if f is None: return None
    rows = list(csv.DictReader(open(f)))
    col = 'val_loss' if 'val_loss' in rows[0] else 'loss'
    pts = [(int(r['step']), float(r[col])) for r in rows if r.get(col)]
    out = []
    for t in s['const_grid_steps']:
        near = [y for u, y in pts if abs(u - t) <= 0.05 * t]
        out.append(st.mean(near) if near and pts[-1][0] >= 0.97 * t else None)
    return out


def weights(s, sub=None):
    """auto's weights on split s (main's rule; bench/far_horizons_session15.py's replay) and whether the reference ramp acts."""
    sub = sub or {}
    w, why = choose(s, {sub.get(CAP, CAP): .35, REF: .35, sub.get(CVX, CVX): .3})
    w, why = place(s, w, why, sub.get(CAP, CAP), sub.get(AGE, AGE) if s['question'] == 'cooldowns' else sub.get(SHARE, SHARE))
    ramp = why.endswith('prior') and any(m.startswith(SHARE) for m in w) and REF in w
    return w, why, ramp


def at_ratio(w, ramp, r):
    """The weights at a forecast ending r x the fitted horizon: the convex taper beyond 4x, the reference ramp."""
    ww = dict(w)
    for c in list(ww):
        if c.startswith(CVX) and r > 4: ww = scale(ww, c, 4 / r)
    if ramp: ww = scale(ww, REF, min(1, max(0, (r - 1) / 2)))
    return ww


def stack_errors(s, sub=None, adjust=None):
    """Signed error (%) of auto on each held-out final; adjust(s, law, i, forecast) may correct each member's forecast."""
    w, why, ramp = weights(s, sub)
    out = []
    for i, t in enumerate(s['tests']):
        r = t['last'] / s['fit_horizon']
        ww = at_ratio(w, ramp, r)
        f = sum(x * (adjust(s, m, i, s['laws'][m]['finals'][i]) if adjust else s['laws'][m]['finals'][i]) for m, x in ww.items() if x > 0)
        out.append((r, 100 * (f / t['observed'] - 1)))
    return out


def bin_of(r):
    for lo, hi in BINS:
        if (r <= hi + 1e-9) and (r > lo + 1e-9 or lo == 0): return f'{lo}-{hi}x' if lo else '<=1x'


def constant_table(E):
    """Each member's and auto's signed error on the constant run's own future, per split, by ratio."""
    print('### The constant run\'s own future: signed error (%) of each law\'s constant part, and auto\'s weights applied to them')
    for s in E:
        obs = observed_constant(s)
        if obs is None: continue
        w, why, ramp = weights(s)
        print(f"\n{s['corpus']} / {s['question']} (h = {s['fit_horizon']}; {why}{' ramp' if ramp else ''})")
        print('  r    ' + ' '.join(f'{m[:12]:>13s}' for m in MEMBERS) + '          auto')
        for k, t in enumerate(s['const_grid_steps']):
            r = (t + 1) / s['fit_horizon']
            if obs[k] is None or r < 1: continue
            e = {m: 100 * (s['laws'][m]['const_grid'][k] / obs[k] - 1) for m in MEMBERS if s['laws'].get(m, {}).get('const_grid')}
            ww = at_ratio(w, ramp, r)
            a = sum(x * e[m] for m, x in ww.items() if x > 0 and m in e)
            print(f'  {r:4.2f} ' + ' '.join(f'{e.get(m, float("nan")):+13.2f}' for m in MEMBERS) + f'  {a:+12.2f}')


def grid_at(s, values, ratio):
    """values (one per grid step) at the grid step nearest ratio x the fitted horizon."""
    k = min(range(len(s['const_grid_steps'])), key=lambda k: abs((s['const_grid_steps'][k] + 1) / s['fit_horizon'] - ratio))
    return values[k] if abs((s['const_grid_steps'][k] + 1) / s['fit_horizon'] - ratio) < 0.05 else None


def features(s, law=SHARE):
    """What is known at fit time about split s, from law's fit (its parameters and its constant part) and the fitted constant run."""
    L = s['laws'].get(law)
    if not L or not L.get('parameters'): return None
    p, g = L['parameters'], L['const_grid']
    lh, l2 = grid_at(s, g, 1), grid_at(s, g, 2)
    lhalf = grid_at(s, g, 0.5)
    obs = observed_constant(s)
    f = dict(alpha=p.get('alpha'), L0_rel=p.get('L0', 0) / lh if lh else None,
             law_slope=math.log(grid_at(s, g, 1.1) / lh) / math.log(1.1) if lh and grid_at(s, g, 1.1) else None,
             law_drop_2x=(1 - l2 / lh) * 100 if l2 else None, law_drop_half=(1 - lh / lhalf) * 100 if lhalf else None,
             points=s['fit_runs'][0]['points'], first=s['fit_runs'][0]['first'])
    if obs and grid_at(s, obs, 0.5) and grid_at(s, obs, 1):
        f['data_drop_half'] = (1 - grid_at(s, obs, 1) / grid_at(s, obs, 0.5)) * 100
    return f


def feature_table(E):
    print('### Fit-time features (share law) against the constant part\'s signed error at 2x and 3x (share / auto\'s weights)')
    print('corpus / question | alpha | L0 / L(h) | law dlnL/dlnS at h | law drop h/2->h % | data drop h/2->h % | law drop h->2h % | share err 2x | 3x | points | first step')
    for s in E:
        obs = observed_constant(s)
        f = features(s)
        if obs is None or f is None: continue
        e = lambda r: (100 * (grid_at(s, s['laws'][SHARE]['const_grid'], r) / grid_at(s, obs, r) - 1)) if grid_at(s, obs, r) else float('nan')
        print(f"{s['corpus']} / {s['question']} | {f['alpha']:.3f} | {f['L0_rel']:.3f} | {f['law_slope']:+.4f} | {f['law_drop_half'] if f['law_drop_half'] is not None else float('nan'):.2f} | {f.get('data_drop_half', float('nan')):.2f} | {f['law_drop_2x']:.2f} | {e(2):+.2f} | {e(3):+.2f} | {f['points']} | {f['first']}")


def slope_matched(mode, k=1.0, members=(CAP, REF, AGE, SHARE), max_points=None, band=None):
    """A correction of each annealing member's constant part L0 + D_h (S1/S1_h)^-alpha: the exponent moved to
    alpha' = alpha^(1-k) mode^k with the level and the log-time slope at the fitted horizon kept (D_h' = alpha D_h / alpha',
    L0' = L0 + D_h - D_h'); the difference of the two constant parts at the held-out run's LR area added to its forecast."""
    def adjust(s, m, i, f):
        if m not in members or mode is None: return f
        if max_points is not None and s['fit_runs'][0]['points'] > max_points: return f
        p = s['laws'][m]['parameters']; a = p['alpha']
        if band is not None and band[0] <= a <= band[1]: return f
        ap = math.exp((1 - k) * math.log(a) + k * math.log(mode))
        dh = grid_at(s, s['laws'][m]['const_grid'], 1) - p['L0']
        x = s['tests'][i]['area'] / s['fit_area']
        return f + dh * ((a / ap) * (x ** -ap - 1) - (x ** -a - 1))
    return adjust


def constant_part(s, m, x):
    """Law m's fitted constant part at LR-area ratio x (area / the fitted horizon's), linear in ln x between the grid's points."""
    xs = [a / s['fit_area'] for a in s['const_grid_area']]; g = s['laws'][m]['const_grid']
    k = max(1, min(len(xs) - 1, next((j for j in range(len(xs)) if xs[j] >= x), len(xs) - 1)))
    u = (math.log(x) - math.log(xs[k - 1])) / (math.log(xs[k]) - math.log(xs[k - 1]))
    return g[k - 1] + u * (g[k] - g[k - 1])


def horizon_matched(mode, members=tuple(MEMBERS), train_from=None):
    """Every member's constant part past the fitted horizon replaced by a power law of exponent mode with the member's level
    and log-time slope at the horizon: C'(x) = C(1) - (sigma / mode) (1 - x^-mode), sigma = -dC/d ln x at x = 1 (from the
    grid's points at 1 and 1.1 x the horizon); the forecast of a run whose LR area ends at x > 1 moves by C'(x) - C(x).
    Within the horizon nothing changes. With train_from, the exponent is the one the constant run's own training loss fits
    from train_from x the horizon (train_shape), mode where the corpus logs one loss only."""
    cache = {}
    def adjust(s, m, i, f):
        if m not in members or mode is None or not s['laws'][m].get('const_grid'): return f
        a = mode
        if train_from is not None:
            key = (s['corpus'], s['question'])
            if key not in cache: cache[key] = train_shape(s, train_from)
            if cache[key] is not None: a = cache[key].alpha
        x = s['tests'][i]['area'] / s['fit_area']
        if x <= 1: return f
        c1, c11 = constant_part(s, m, 1.0), constant_part(s, m, 1.1)
        sigma = -(c11 - c1) / math.log(1.1)
        return f + c1 - (sigma / a) * (1 - x ** -a) - constant_part(s, m, x)
    return adjust


def train_shape(s, start_fraction=0.3, dense_target=True):
    """The constant run's own training loss (logged every 10 steps on the engine corpora, ten times as often as its validation
    loss) from start_fraction x the fitted horizon to the horizon, fitted by L0 + A S1^-alpha (least squares on relative
    residuals; alpha and L0 on grids, A in closed form); returns T(x), that power law at LR-area ratio x (its exponent as
    T.alpha). Where the corpus logs one loss (the MPL corpora: the training loss is the target), that loss, unless
    dense_target is False (then None)."""
    f = constant_file(s)
    if f is None: return None
    rows = list(csv.DictReader(open(f)))
    if 'val_loss' not in rows[0] and not dense_target: return None
    h = s['fit_horizon']; area, acc, prev = {}, 0.0, -1
    for r in rows:
        t = int(r['step']); acc += float(r['lr']) * (t - prev); prev = t; area[t] = acc
    pts = [(area[int(r['step'])], float(r['loss'])) for r in rows if r.get('loss') and start_fraction * h <= int(r['step']) <= h]
    sh = area[max(t for t in area if t <= h)]
    xs = [a / sh for a, _ in pts]; ys = [y for _, y in pts]; best = None
    for ai in range(2, 151):
        a = ai * 0.01; u = [x ** -a for x in xs]
        for li in range(0, 100):
            L0 = min(ys) * li / 100
            A = sum(ui / yi * (1 - L0 / yi) for ui, yi in zip(u, ys)) / sum((ui / yi) ** 2 for ui, yi in zip(u, ys))
            if A <= 0: continue
            e = sum(((L0 + A * ui) / yi - 1) ** 2 for ui, yi in zip(u, ys))
            if best is None or e < best[0]: best = (e, L0, A, a)
    _, L0, A, a = best
    T = lambda x: L0 + A * x ** -a
    T.alpha = a
    return T


def train_matched(start_fraction=0.3, members=tuple(MEMBERS)):
    """Every member's constant part past the fitted horizon replaced by its level at the horizon plus the fall of the constant
    run's own training-loss power law (train_shape) from the horizon to the held-out run's LR area: the training loss pins the
    shape, the validation loss the level. Within the horizon nothing changes; corpora without a separate training loss neither."""
    cache = {}
    def adjust(s, m, i, f):
        key = (s['corpus'], s['question'])
        if key not in cache: cache[key] = train_shape(s, start_fraction, dense_target=False)
        T = cache[key]
        if T is None or m not in members or not s['laws'][m].get('const_grid'): return f
        x = s['tests'][i]['area'] / s['fit_area']
        if x <= 1: return f
        return f + constant_part(s, m, 1.0) + (T(x) - T(1.0)) - constant_part(s, m, x)
    return adjust


def score(E, sub=None, adjust=None, taper=4.0, cvx_scale=1.0):
    """(corpus, question) -> [(r, signed error %)] of auto with member corrections, the convex taper from taper x the fitted
    horizon and the convex bound's weight scaled by cvx_scale (the annealing members sharing the rest)."""
    d = {}
    for s in E:
        w, why, ramp = weights(s, sub)
        out = []
        for i, t in enumerate(s['tests']):
            r = t['last'] / s['fit_horizon']
            ww = dict(w)
            for c in list(ww):
                if c.startswith(CVX):
                    if cvx_scale != 1: ww = scale(ww, c, cvx_scale)
                    if r > taper: ww = scale(ww, c, taper / r)
            if ramp: ww = scale(ww, REF, min(1, max(0, (r - 1) / 2)))
            f = sum(x * (adjust(s, m, i, s['laws'][m]['finals'][i]) if adjust else s['laws'][m]['finals'][i]) for m, x in ww.items() if x > 0)
            out.append((r, 100 * (f / t['observed'] - 1)))
        d[(s['corpus'], s['question'])] = out
    return d


def summary(name, d, base):
    ab = lambda v: [abs(e) for _, e in v]
    allv = [abs(e) for v in d.values() for _, e in v]
    better = sum(st.mean(ab(d[k])) < st.mean(ab(base[k])) - .005 for k in d)
    worse = sum(st.mean(ab(d[k])) > st.mean(ab(base[k])) + .005 for k in d)
    far = [e for v in d.values() for r, e in v if r > 2]
    corpora = sorted({k[0] for k in d})
    cb = sum(st.mean([abs(e) for k in d if k[0] == c for _, e in d[k]]) < st.mean([abs(e) for k in base if k[0] == c for _, e in base[k]]) - .005 for c in corpora)
    cw = sum(st.mean([abs(e) for k in d if k[0] == c for _, e in d[k]]) > st.mean([abs(e) for k in base if k[0] == c for _, e in base[k]]) + .005 for c in corpora)
    print(f"{name:46s} pooled {st.mean(allv):.3f} / {max(allv):.2f} %; >2x |e| {st.mean(abs(e) for e in far):.3f} signed {st.mean(far):+.3f}; "
          f"questions better/worse {better}/{worse} of {len(d)}; corpora {cb}/{cw} of {len(corpora)}")


def by_ratio(d, title):
    print(f'--- {title}: by the held-out run\'s end over the fitted horizon: n, mean |error|, mean signed, worst (%)')
    rows = [(r, e) for v in d.values() for r, e in v]
    for lo, hi in BINS:
        sel = [e for r, e in rows if bin_of(r) == (f'{lo}-{hi}x' if lo else '<=1x')]
        if sel: print(f"  {(f'{lo}-{hi}x' if lo else '<=1x'):8s} {len(sel):3d} {st.mean(abs(e) for e in sel):.3f} {st.mean(sel):+.3f} {max(abs(e) for e in sel):.2f}")


def per_question(d, base):
    print('--- per question: mean |error| / worst / signed, candidate (main)')
    for k in d:
        a = [e for _, e in d[k]]; b = [e for _, e in base[k]]
        print(f"  {k[0]:22s} {k[1]:9s} {st.mean(map(abs, a)):.3f} / {max(map(abs, a)):.2f} / {st.mean(a):+.2f}   ({st.mean(map(abs, b)):.3f} / {max(map(abs, b)):.2f} / {st.mean(b):+.2f})")


def train_table(E, start_fraction=0.3):
    """The share member's constant part at 2x / 3x / 5x the fitted horizon against the constant run (signed %), as fitted and
    with its fall past the horizon taken from the constant run's training loss (train_shape)."""
    print(f'### The constant part: share as fitted / with the training loss\'s fall from {start_fraction} h (signed %, at 2x / 3x / 5x)')
    out = []
    for s in E:
        obs, T = observed_constant(s), train_shape(s, start_fraction, dense_target=False)
        if obs is None or T is None or not s['laws'][SHARE].get('const_grid'): continue
        row = []
        for r in [2, 3, 5]:
            o = grid_at(s, obs, r)
            k = [j for j, t in enumerate(s['const_grid_steps']) if abs((t + 1) / s['fit_horizon'] - r) < 0.05]
            if o is None or not k: row.append(None); continue
            x = s['const_grid_area'][k[0]] / s['fit_area']
            c = s['laws'][SHARE]['const_grid'][k[0]]
            t = constant_part(s, SHARE, 1.0) + T(x) - T(1.0)
            row.append((100 * (c / o - 1), 100 * (t / o - 1)))
        out += [x for x in row if x]
        print(f"  {s['corpus']:22s} {s['question']:9s} " + '  '.join('-' if x is None else f'{x[0]:+.2f} / {x[1]:+.2f}' for x in row))
    print(f'  mean |error| over {len(out)}: {st.mean(abs(a) for a, _ in out):.2f} / {st.mean(abs(b) for _, b in out):.2f} %')


if __name__ == '__main__':
    files = [a for a in sys.argv[1:] if a.endswith('.json')]
    E = load(files)
    if '--constant' in sys.argv: constant_table(E)
    if '--features' in sys.argv: feature_table(E)
    if '--train' in sys.argv: train_table(E)
    base = score(E)
    if '--swap' in sys.argv:
        # The seed-swap check: evidence written on a copy of the corpora calibrated on seed 2 (docs/journal/session-16-far-horizons.md).
        E = [x for x in E if x['corpus'].startswith('engine-')]; base = score(E)
        summary('main (seed-2 calibration)', base, base); per_question(base, base)
        for mode in [0.3, 0.35, 0.4, 0.45, 0.5]:
            d = score(E, adjust=horizon_matched(mode)); summary(f'horizon-matched {mode} (all)', d, base)
        for sf in [0.2, 0.3, 0.4]:
            d = score(E, adjust=train_matched(sf)); summary(f'train-matched from {sf}h (all)', d, base)
            d = score(E, adjust=horizon_matched(0.4, train_from=sf)); summary(f'horizon-matched, training-loss exponent from {sf}h', d, base)
        d = score(E, adjust=horizon_matched(0.4)); by_ratio(base, 'main'); by_ratio(d, 'horizon-matched 0.4'); per_question(d, base)
    if '--candidates' in sys.argv:
        summary('main', base, base); by_ratio(base, 'main')
        opts = {}
        for mode in [None, 0.3, 0.4, 0.5, 0.6]:
            for k in ([1.0] if mode is None else [0.5, 1.0]):
                for taper in [4.0, 2.0, 1.0]:
                    for cs in [1.0, 0.5, 0.0]:
                        if cs == 0 and taper != 4.0: continue
                        name = f"alpha'={mode} k={k} taper={taper} convex x{cs}"
                        opts[name] = score(E, adjust=slope_matched(mode, k), taper=taper, cvx_scale=cs)
        for sf in [0.2, 0.3, 0.4]:
            opts[f"horizon-matched, exponent of the training loss from {sf}h (all) convex x1.0"] = score(E, adjust=horizon_matched(0.4, train_from=sf))
            opts[f"train-matched from {sf}h (all) convex x1.0"] = score(E, adjust=train_matched(sf))
            opts[f"train-matched from {sf}h (all) convex x0.5"] = score(E, adjust=train_matched(sf), cvx_scale=0.5)
        for mode in [0.2, 0.25, 0.35, 0.45]:
            opts[f"horizon-matched {mode} (all) convex x1.0"] = score(E, adjust=horizon_matched(mode))
        for mode in [0.3, 0.4, 0.5, 0.6]:
            for cs in [1.0, 0.5, 0.0]:
                for mem in ['all', 'annealing']:
                    opts[f"horizon-matched {mode} ({mem}) convex x{cs}"] = score(E, adjust=horizon_matched(mode, MEMBERS if mem == 'all' else (CAP, REF, AGE, SHARE)), cvx_scale=cs)
        for mode in [0.4, 0.5]:
            for cs in [1.0, 0.5]:
                for mp in [5, 10, 15, 20]:
                    opts[f"alpha'={mode} k=1.0 taper=4.0 convex x{cs}, only <= {mp} constant points"] = score(E, adjust=slope_matched(mode, 1.0, max_points=mp), cvx_scale=cs)
                for band in [(0.25, 0.6), (0.2, 0.7), (0.3, 0.7)]:
                    opts[f"alpha'={mode} k=1.0 taper=4.0 convex x{cs}, only alpha outside {band}"] = score(E, adjust=slope_matched(mode, 1.0, band=band), cvx_scale=cs)
        # The weak exponent prior of "Session 11: horizons" on the members (refitted: a second evidence file), as session 15 tried it.
        PRI = {SHARE: 'share(alpha_prior=0.5)', AGE: 'age(q=0.7, prior=13, alpha_prior=0.5)', CAP: 'momentum(cap=fit, alpha_prior=0.5)'}
        if all(v in E[0]['laws'] for v in PRI.values()):
            for taper in [4.0, 1.0]:
                for cs in [1.0, 0.5]:
                    opts[f'alpha_prior=0.5 on the three members, taper={taper} convex x{cs}'] = score(E, sub=PRI, taper=taper, cvx_scale=cs)
        for n, d in opts.items(): summary(n, d, base)
        if '--loco' in sys.argv:
            ab = {n: {k: [abs(e) for _, e in v] for k, v in d.items()} for n, d in opts.items()}
            loco(ab, {k: [abs(e) for _, e in v] for k, v in base.items()}, 'option', NOISE, 'main')
            # Unconstrained: the lowest pooled mean on the other corpora, scored on the corpus left out.
            print('--- leave-one-corpus-out, unconstrained (lowest pooled mean on the others)')
            pm = lambda d, keep: st.mean(abs(e) for k, v in d.items() if keep(k[0]) for _, e in v)
            tot = []
            for c in sorted({k[0] for k in base}):
                o = min(opts, key=lambda n: pm(opts[n], lambda x: x != c))
                h, hb = pm(opts[o], lambda x: x == c), pm(base, lambda x: x == c)
                tot.append((h, hb, sum(len(v) for k, v in base.items() if k[0] == c)))
                print(f"  without {c:22s}: chooses {o}; held out {h:.3f} % (main {hb:.3f} %)")
            n = sum(t[2] for t in tot)
            print(f"  pooled over the folds: {sum(t[0] * t[2] for t in tot) / n:.3f} % (main {sum(t[1] * t[2] for t in tot) / n:.3f} %); "
                  f"better on {sum(t[0] < t[1] - .005 for t in tot)}, worse on {sum(t[0] > t[1] + .005 for t in tot)} of {len(tot)} corpora")
        pick = sys.argv[sys.argv.index('--show') + 1] if '--show' in sys.argv else None
        if pick: by_ratio(opts[pick], pick); per_question(opts[pick], base)
