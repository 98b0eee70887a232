#!/usr/bin/env python3
"""Session 24 (the WSD question forecast too high on three blind corpora in a row: gpt-erlang, mlp-muon, gpt-cmake):
per corpus the `cooldowns` question's signed error by branch, `auto` and each single law; whether the bias goes with the
optimizer, the seed noise, the fitted branches' own residuals or the gap between the two fitted branches' gains; then
offline readings of auto's fits with the gain past the fitted horizon changed, left one corpus out
(docs/journal/session-24-wsd.md).

  ./anneal accuracy --out acc.md --json acc.json
  dotnet run -c Release --project bench/Anneal.Bench -- wsd-diagnosis $(ls -d data/corpora/*/) > wsd.tsv 2> wsd.err
  python3 bench/wsd_session24.py acc.json wsd.tsv data/corpora

Signed error < 0: too low; every number is of held-out branches past the fitted horizon H unless said; "in regime" leaves
out gpt-jargon and gpt-perldoc (the regime check fires on their fits).
"""
import collections, json, math, os, re, sys

sys.path.insert(0, os.path.dirname(__file__))
from wsd_session23 import load, series, mean, mw, loco, REGIME  # noqa: E402

LAWS = ['auto', 'powerlaw', 'momentum', 'momentum(lambda=fit)', 'momentum(cap=fit)', 'mpl', 'mpl(warmup=reference)', 'fm', 'convex']


def short(c):
    return c[7:] if c.startswith('engine-') else c


def optimizer(root, name):
    c = json.load(open(os.path.join(root, name[7:], 'corpus.json')))
    src = c['source']
    for o in ('muon', 'lion', 'sgd', 'adamw', 'adam'):
        if re.search(r'\b' + o + r'\b', src, re.I):
            return o
    return '?'


def corr(x, y):
    mx, my = mean(x), mean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x); syy = sum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float('nan')


def rank(v):
    o = sorted(range(len(v)), key=lambda i: v[i]); r = [0] * len(v)
    for k, i in enumerate(o):
        r[i] = k
    return r


def by_branch(acc):
    """(1) Per corpus and law: the cooldowns question's signed error by held-out branch (from the accuracy JSON)."""
    out = collections.defaultdict(dict)
    for r in acc['rows']:
        if r['question'] != 'cooldowns' or not r.get('forecasts'):
            continue
        out[r['corpus']][r['law']] = [(f['horizon'], 100 * (f['predicted'] / f['observed'] - 1)) for f in r['forecasts'] if f.get('predicted')]
    return out


def table_laws(bb, noise):
    print("\n## (1) cooldowns: signed mean error % per law (mean |error| for auto), held-out branches\n")
    print("| corpus | n | seed noise | " + " | ".join(LAWS) + " |")
    print("|---|---|---|" + "---|" * len(LAWS))
    pooled = collections.defaultdict(list)
    for c in sorted(bb):
        cells = []
        for law in LAWS:
            v = [e for _, e in bb[c].get(law, [])]
            if not v:
                cells.append('-'); continue
            cells.append(f"{mean(v):+.2f}" + (f" ({mean([abs(x) for x in v]):.2f})" if law == 'auto' else ''))
            if c not in REGIME:
                pooled[law] += v
        print(f"| {short(c)} | {len(bb[c].get('auto', []))} | {noise.get(c, float('nan')):.2f} | " + " | ".join(cells) + " |")
    print("| pooled in regime, signed (mean abs) | | | " + " | ".join(f"{mean(pooled[l]):+.2f} ({mean([abs(x) for x in pooled[l]]):.2f})" for l in LAWS) + " |")


def table_auto_branches(bb):
    print("\n## (2) auto's signed error % by branch (T/H: error)\n")
    for c in sorted(bb):
        v = bb[c].get('auto', [])
        if not v:
            continue
        print(f"- {short(c)}: " + ", ".join(f"{e:+.2f}" for _, e in sorted(v)))


def fitted_pair(rows, fit='curves'):
    """Per corpus, from wsd-diagnosis's auto rows on the two fitted branches: their ratios, final residuals, and the gain
    each would need over auto's own constant part (k = needed / forecast gain, relative to auto as fitted)."""
    out = {}
    for c, v in series(rows, fit, 'auto').items():
        f = [r for r in v if r['ratio'] <= 1.0001]
        if len(f) < 2:
            continue
        f = f[-2:]
        ks = [(r['pc'] - r['obs']) / (r['pc'] - r['pw']) if abs(r['pc'] - r['pw']) > 1e-9 else float('nan') for r in f]
        og = [(r['obs_c'] - r['obs']) / r['obs_c'] * 100 for r in f]
        out[c] = dict(r0=f[0]['ratio'], res=[r['final'] for r in f], k=ks, obs_gain=og,
                      g_pair=math.log(ks[1] / ks[0]) / math.log(1 / f[0]['ratio']) if ks[0] > 0 and ks[1] > 0 else float('nan'))
    return out


def correlations(rows, bb, noise, root):
    print("\n## (3) What the bias goes with (auto, cooldowns, in regime)\n")
    fp = fitted_pair(rows)
    dec = {}
    for c, v in series(rows, 'curves', 'auto').items():
        held = [r for r in v if r['ratio'] > 1.0001]
        dec[c] = (mean([r['final'] for r in held]), mean([r['const_s'] for r in held]), mean([r['gain_s'] for r in held]))
    print("| corpus | optimizer | first fitted branch | signed final / constant / gain part | seed noise | residual at first, 1x | k first, 1x | growth misfit of the pair g_pair | observed gain first, 1x % |")
    print("|---|---|---|---|---|---|---|---|---|")
    cs = [c for c in sorted(dec) if c not in REGIME and c in fp]
    for c in sorted(dec):
        if c not in fp:
            continue
        p = fp[c]
        print(f"| {short(c)} | {optimizer(root, c)} | {p['r0']:.2f}x | {dec[c][0]:+.2f} / {dec[c][1]:+.2f} / {dec[c][2]:+.2f} | {noise.get(c, float('nan')):.2f} | "
              f"{p['res'][0]:+.2f}, {p['res'][1]:+.2f} | {p['k'][0]:.3f}, {p['k'][1]:.3f} | {p['g_pair']:+.2f} | {p['obs_gain'][0]:.1f}, {p['obs_gain'][1]:.1f} |")
    sig = [dec[c][0] for c in cs]; gain = [dec[c][2] for c in cs]
    feats = {
        'seed noise': [noise.get(c, 0) for c in cs],
        'residual at 1x': [fp[c]['res'][1] for c in cs],
        'residual at first': [fp[c]['res'][0] for c in cs],
        'residual 1x - first': [fp[c]['res'][1] - fp[c]['res'][0] for c in cs],
        'g_pair (k growth between the fitted pair)': [fp[c]['g_pair'] for c in cs],
        'first fitted branch ratio': [fp[c]['r0'] for c in cs],
        'observed gain at 1x': [fp[c]['obs_gain'][1] for c in cs],
        'observed gain growth 1x / first': [fp[c]['obs_gain'][1] / fp[c]['obs_gain'][0] if fp[c]['obs_gain'][0] > 0.05 else 1 for c in cs],
        'Muon (1/0)': [1.0 if optimizer(root, c) == 'muon' else 0.0 for c in cs],
        'AdamW (1/0)': [1.0 if optimizer(root, c) == 'adamw' else 0.0 for c in cs],
    }
    print(f"\nOver {len(cs)} corpora in regime: Pearson (Spearman) correlation with the signed final error / with the gain part")
    for k, x in feats.items():
        print(f"- {k}: {corr(x, sig):+.2f} ({corr(rank(x), rank(sig)):+.2f}) / {corr(x, gain):+.2f} ({corr(rank(x), rank(gain)):+.2f})")
    byopt = collections.defaultdict(list)
    for c in cs:
        byopt[optimizer(root, c)].append(dec[c][0])
    print("- by optimizer, signed final: " + ", ".join(f"{o} {mean(v):+.2f} (n={len(v)})" for o, v in byopt.items()))
    return fp


def seed2(rows):
    print("\n## (4) The calibration seed: auto with the seed-2 constant run in place of the fitted one (cooldowns, signed mean %)\n")
    a = series(rows, 'curves', 'auto'); b = series(rows, 'curves', 'auto(seed-2 constant)')
    for c in sorted(a):
        if c not in b:
            continue
        ha = [r['final'] for r in a[c] if r['ratio'] > 1.0001]; hb = [r['final'] for r in b[c] if r['ratio'] > 1.0001]
        print(f"- {short(c)}: seed-1 constant {mean(ha):+.2f} ({mw(ha)}), seed-2 constant {mean(hb):+.2f} ({mw(hb)})")


def readings(rows, fp, noise):
    """(5) Offline readings of auto's cooldowns fits past H: the gain (auto's own, Lc - L) times a factor, the constant part as
    fitted. Options:
      grow g: gain x (T/H)^g (a growth prior common to all corpora, session 23's (a)).
      anchor w: gain x (1 + w (k_1x - 1)): the later fitted branch weighted more (w = 1: its end met exactly).
      pair s: gain x (T/H)^(s g_pair): the growth the fitted pair shows beyond the stack's, shrunk by s.
    LOCO by session 16's rule and by the lowest pooled mean."""
    data = series(rows, 'curves', 'auto')
    def reading(fn):
        out = {}
        for c, v in data.items():
            if c not in fp:
                continue
            res = []
            for r in v:
                if r['ratio'] <= 1.0001:
                    continue
                gain = (r['pc'] - r['pw']) * fn(c, r['ratio'])
                res.append(100 * ((r['pc'] - gain) / r['obs'] - 1))
            out[c] = res
        return out
    fams = {
        'grow': ([-0.05, 0.05, 0.1, 0.15, 0.2], lambda g: (lambda c, x: x ** g)),
        'anchor': ([0.25, 0.5, 0.75, 1.0], lambda w: (lambda c, x: 1 + w * (fp[c]['k'][1] - 1))),
        'pair': ([0.1, 0.25, 0.5, 1.0], lambda s: (lambda c, x: x ** (s * (fp[c]['g_pair'] if math.isfinite(fp[c]['g_pair']) else 0)))),
    }
    base = reading(lambda c, x: 1.0)
    inreg = [c for c in base if c not in REGIME]
    for name, (vals, mk) in fams.items():
        opts = {'main': base}
        for v in vals:
            opts[v] = reading(mk(v))
        keys = list(opts)
        print(f"\n## (5) reading '{name}': mean / worst |error| % past H per corpus (cooldowns)\n")
        print('corpus'.ljust(16) + ''.join(str(k).ljust(15) for k in keys))
        for c in base:
            print(short(c).ljust(16) + ''.join(mw(opts[k][c]).ljust(15) for k in keys))
        print('pooled in regime'.ljust(16) + ''.join(mw([x for c in inreg for x in opts[k][c]]).ljust(15) for k in keys))
        m = lambda o, c: mean([abs(x) for x in opts[o][c]])
        for v in vals:
            better = [c for c in inreg if m(v, c) < m('main', c) - 0.005]
            worse = [c for c in inreg if m(v, c) > m('main', c) + 0.005]
            beyond = [c for c in worse if m(v, c) - m('main', c) > noise.get(c, 0)]
            met = sum(m(v, c) <= 0.5 and max(abs(x) for x in opts[v][c]) <= 1.5 for c in inreg)
            print(f"{name} {v}: better on {len(better)}, worse on {len(worse)} ({len(beyond)} beyond seed noise: {', '.join(short(c) for c in beyond)}); target met on {met} (main {sum(m('main', c) <= 0.5 and max(abs(x) for x in base[c]) <= 1.5 for c in inreg)})")
        loco(opts, 'main', noise, inreg, f"'{name}'")


def main():
    acc = json.load(open(sys.argv[1]))
    rows = load(sys.argv[2])
    root = sys.argv[3] if len(sys.argv) > 3 else 'data/corpora'
    noise = {r['corpus']: 100 * r['seed_noise'] for r in acc['seed_floor']}
    bb = by_branch(acc)
    table_laws(bb, noise)
    table_auto_branches(bb)
    fp = correlations(rows, bb, noise, root)
    seed2(rows)
    readings(rows, fp, noise)


if __name__ == '__main__':
    main()
