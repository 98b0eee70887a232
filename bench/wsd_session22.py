#!/usr/bin/env python3
"""Session 22 (the WSD question's two newest corpora): why auto's cooldowns forecasts err low on gpt-lisp and high on
gpt-erlang, and whether a rule on the constant part's exponent, or one of two offline readings, helps on every corpus
with cooldown branches (docs/journal/session-22-wsd.md).

  dotnet run -c Release --project bench/Anneal.Bench -- wsd-diagnosis $(ls -d data/corpora/*/) > wsd.tsv 2> wsd.err
  ./anneal accuracy --corpus bench/corpora/gpt100m-rope.json --law auto --out acc.md --json acc.json   (for the seed noise)
  python3 bench/wsd_session22.py wsd.tsv acc.json

Every number is of held-out branches past the fitted horizon (ratio > 1). "In regime" pools leave out gpt-jargon and
gpt-perldoc (the regime check fires on their fits). Parts: `constant` is the error of the forecast of the constant run at
the branch's end against the constant run's mean within 5 % of it, `gain` the rest (wsd-diagnosis's smoothed columns).
"""
import collections, json, math, sys

REGIME = {'engine-gpt-jargon', 'engine-gpt-perldoc'}
EXPONENTS = ['0.3', '0.4', '0.5', '0.6', '0.8']   # 0.4: auto itself (HorizonMatch.Exponent)
SKIP = {'baseline', 'age(alone)', 'auto(seed-2 constant)'}


def load(path):
    rows = []
    for line in open(path):
        r = line.rstrip('\n').split('\t')
        if r[0] == 'corpus':
            continue
        rows.append(dict(corpus=r[0], fit=r[1], fc=r[2], w=float(r[3]), branch=r[4], ratio=float(r[5]), obs=float(r[6]),
                         final=float(r[7]), const=float(r[8]), obs_gain=float(r[10]), const_s=float(r[11]), gain_s=float(r[12])))
    return rows


def mean(v):
    return sum(v) / len(v)


def mw(v):
    return f"{mean([abs(x) for x in v]):5.2f} / {max(abs(x) for x in v):5.2f}"


def parts(rows, fit):
    """(1) Per corpus: auto's and each member's signed final, constant and gain parts past 1x (the member as the stack reads it)."""
    print(f"\n## (1) Signed parts past the fitted horizon, fit: {fit} (% ; member weight in brackets)\n")
    by = collections.defaultdict(list)
    for r in rows:
        if r['fit'] == fit and r['ratio'] > 1.0001 and '[match' not in r['fc'] and r['fc'] not in SKIP:
            by[(r['corpus'], r['fc'], r['w'])].append(r)
    cur = None
    for (c, fc, w), v in by.items():
        if c != cur:
            print(f"{c}")
            cur = c
        print(f"  {fc:42s} ({w:.3g})  final {mean([x['final'] for x in v]):+6.2f}  constant {mean([x['const_s'] for x in v]):+6.2f}"
              f"  gain {mean([x['gain_s'] for x in v]):+6.2f}  observed gain {mean([x['obs_gain'] for x in v]):5.2f}")


def auto_finals(rows, fit, fc='auto'):
    by = collections.defaultdict(list)
    for r in rows:
        if r['fit'] == fit and r['fc'] == fc and r['ratio'] > 1.0001:
            by[r['corpus']].append(r['final'])
    return by


def exponents(rows, fit, noise):
    """(2) auto read at other exponents of HorizonMatch; corpora better / worse; leave-one-corpus-out by the lowest pooled mean."""
    print(f"\n## (2) The constant part's exponent, fit: {fit}: mean / worst |error| % per corpus\n")
    opts = {a: auto_finals(rows, fit, 'auto' if a == '0.4' else f'auto[match {a}]') for a in EXPONENTS}
    corpora = list(opts['0.4'])
    print('corpus'.ljust(22) + ''.join(f"a = {a}".ljust(17) for a in EXPONENTS))
    for c in corpora:
        print(c.ljust(22) + ''.join(mw(opts[a][c]).ljust(17) for a in EXPONENTS))
    inreg = [c for c in corpora if c not in REGIME]
    print('pooled in regime'.ljust(22) + ''.join(mw([x for c in inreg for x in opts[a][c]]).ljust(17) for a in EXPONENTS))
    for a in [a for a in EXPONENTS if a != '0.4']:
        m = lambda c, o: mean([abs(x) for x in opts[o][c]])
        better = sum(m(c, a) < m(c, '0.4') - 0.005 for c in inreg)
        worse = sum(m(c, a) > m(c, '0.4') + 0.005 for c in inreg)
        print(f"a = {a}: better on {better}, worse on {worse} of {len(inreg)} in-regime corpora")
    picks, main, loco = [], [], []
    for c in inreg:
        pooled = lambda a: mean([abs(x) for k in inreg if k != c for x in opts[a][k]])
        best = min(EXPONENTS, key=pooled)
        picks.append(best)
        main += opts['0.4'][c]
        loco += opts[best][c]
    print(f"leave-one-corpus-out (the exponent with the lowest pooled mean on the others): picks {dict(collections.Counter(picks))}; "
          f"scored on the corpus left out: main {mw(main)}, LOCO {mw(loco)}")
    if not noise:
        return
    m = lambda a, c: mean([abs(x) for x in opts[a][c]])
    picks, loco = [], []
    for c in inreg:
        others = [k for k in inreg if k != c]
        pooled = lambda a: mean([abs(x) for k in others for x in opts[a][k]])
        ok = [a for a in EXPONENTS if a == '0.4' or (all(m(a, k) - m('0.4', k) <= noise.get(k, 0) for k in others) and pooled(a) <= pooled('0.4'))]
        best = min(ok, key=pooled)
        picks.append(best if best == '0.4' else f"{best} (without {c[7:]})")
        loco += opts[best][c]
    print(f"leave-one-corpus-out by session 16's rule (no other corpus worse beyond its seed noise): picks {dict(collections.Counter(picks))}; "
          f"scored on the corpus left out: LOCO {mw(loco)}")


def readings(rows):
    """(3) Two offline readings of the same fits (curves): the gain's growth from the two fitted branches extrapolated in
    ln T; the constant part from the annealing members only with the gain of every member."""
    print("\n## (3) Offline readings (curves): mean / worst |error| %, main -> reading\n")
    by = collections.defaultdict(list)
    members = collections.defaultdict(lambda: collections.defaultdict(dict))
    for r in rows:
        if r['fit'] != 'curves':
            continue
        if r['fc'] == 'auto':
            obs = r['obs']
            obs_c = obs * (1 + r['obs_gain'] / 100)
            by[r['corpus']].append((r['ratio'], obs, obs_c + r['const'] / 100 * obs, obs * (1 + r['final'] / 100)))
        elif r['ratio'] > 1.0001 and r['fc'] not in SKIP and '[match' not in r['fc'] and r['w'] > 0:
            members[r['corpus']][r['branch']][r['fc']] = r
    pooled = collections.defaultdict(list)
    print('corpus'.ljust(22) + 'main'.ljust(17) + 'gain growth'.ljust(17) + 'constant w/o convex')
    for c, v in by.items():
        fitted = [x for x in v if x[0] <= 1.0001]
        held = [x for x in v if x[0] > 1.0001]
        (t1, o1, c1, w1), (t2, o2, c2, w2) = fitted[:2]
        r1, r2 = (c1 - o1) / (c1 - w1), (c2 - o2) / (c2 - w2)   # the gain scale that would meet each fitted branch's end
        g = math.log(r2 / r1) / math.log(t2 / t1) if r1 > 0 and r2 > 0 else 0
        main = [100 * (w / o - 1) for (t, o, cc, w) in held]
        grow = [100 * ((cc - (cc - w) * (t / t2) ** g) / o - 1) for (t, o, cc, w) in held]
        mix = []
        for b, m in members[c].items():
            nc = {k: x for k, x in m.items() if k != 'convex'}
            wn = sum(x['w'] for x in nc.values())
            const = sum(x['w'] * x['const_s'] for x in nc.values()) / wn
            gain = sum(x['w'] * x['gain_s'] for x in m.values()) / sum(x['w'] for x in m.values())
            mix.append(const + gain)
        print(c.ljust(22) + mw(main).ljust(17) + mw(grow).ljust(17) + mw(mix))
        if c not in REGIME:
            for k, x in (('main', main), ('grow', grow), ('mix', mix)):
                pooled[k].append((c, x))
    for k in ('grow', 'mix'):
        better = sum(mean([abs(y) for y in x]) < mean([abs(y) for y in m]) - 0.005 for (c, x), (_, m) in zip(pooled[k], pooled['main']))
        worse = sum(mean([abs(y) for y in x]) > mean([abs(y) for y in m]) + 0.005 for (c, x), (_, m) in zip(pooled[k], pooled['main']))
        print(f"{k}: pooled in regime {mw([y for _, x in pooled['main'] for y in x])} -> {mw([y for _, x in pooled[k] for y in x])};"
              f" better on {better}, worse on {worse}")


def convex_floor(rows, fit, noise, floors=(0.05, 0.1, 0.15, 0.2, 0.3)):
    """(4) A reading: past the horizon the convex member's weight raised to at least a floor (the others scaled in
    proportion), from the members' finals as the stack reads them; leave-one-corpus-out by session 16's rule (the floor
    with the lowest pooled mean on the others among those that worsen no other corpus by more than its seed noise and
    not the pooled mean; none: main)."""
    print(f"\n## (4) The convex member's weight past the horizon raised to a floor, fit: {fit}: mean / worst |error| %\n")
    data = collections.defaultdict(lambda: collections.defaultdict(dict))
    for r in rows:
        if r['fit'] == fit and r['ratio'] > 1.0001 and r['fc'] not in SKIP and '[match' not in r['fc']:
            data[r['corpus']][r['branch']][r['fc']] = (r['w'], r['final'])
    res = {f: {} for f in (None,) + floors}
    for c, branches in data.items():
        for f in res:
            out = []
            for m in branches.values():
                members = {k: v for k, v in m.items() if k != 'auto'}
                rest = {k: v for k, v in members.items() if k != 'convex'}
                wr = sum(v[0] for v in rest.values())
                # the regime rule (LeavesConvexPastHorizon) takes precedence: those fits are left as they are
                if f is None or 'convex' not in members or wr <= 0 or c in REGIME:
                    out.append(m['auto'][1])
                    continue
                wc = max(members['convex'][0], f)
                out.append(wc * members['convex'][1] + (1 - wc) * sum(v[0] * v[1] for v in rest.values()) / wr)
            res[f][c] = out
    print('corpus'.ljust(22) + ''.join(('main' if f is None else f'floor {f}').ljust(17) for f in res))
    for c in data:
        print(c.ljust(22) + ''.join(mw(res[f][c]).ljust(17) for f in res))
    inreg = [c for c in data if c not in REGIME]
    m = lambda f, c: mean([abs(x) for x in res[f][c]])
    for f in floors:
        print(f"floor {f}: pooled in regime {mw([x for c in inreg for x in res[None][c]])} -> {mw([x for c in inreg for x in res[f][c]])};"
              f" better on {sum(m(f, c) < m(None, c) - 0.005 for c in inreg)}, worse on {sum(m(f, c) > m(None, c) + 0.005 for c in inreg)}"
              f" ({', '.join(f'{c[7:]} {m(None, c):.2f} -> {m(f, c):.2f}' for c in inreg if m(f, c) > m(None, c) + 0.005)})")
    picks, main, loco = [], [], []
    for c in inreg:
        others = [k for k in inreg if k != c]
        pooled = lambda f: mean([abs(x) for k in others for x in res[f][k]])
        ok = [f for f in res if f is None or (all(m(f, k) - m(None, k) <= noise.get(k, 0) for k in others) and pooled(f) <= pooled(None))]
        best = min(ok, key=pooled)
        picks.append(best)
        main += res[None][c]
        loco += res[best][c]
    print(f"leave-one-corpus-out: picks {dict(collections.Counter(picks))}; scored on the corpus left out: main {mw(main)}, LOCO {mw(loco)}")


def main():
    rows = load(sys.argv[1])
    noise = {}
    if len(sys.argv) > 2:
        noise = {r['corpus']: 100 * r['seed_noise'] for r in json.load(open(sys.argv[2]))['seed_floor']}
    for fit in ('curves', 'ends'):
        parts(rows, fit)
    for fit in ('curves', 'ends'):
        exponents(rows, fit, noise)
    readings(rows)
    for fit in ('curves', 'ends'):
        convex_floor(rows, fit, noise)


if __name__ == '__main__':
    main()
