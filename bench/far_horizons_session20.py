#!/usr/bin/env python3
"""Session 20 (far horizons): is auto's too-high error past 1.5x the fitted horizon systematic once the forecasts the laws are
not meant for are left out, which member and which part carry it, and do horizon-matched constant parts help on both
calibration seeds (docs/journal/session-20-far-horizons.md).

  ./anneal accuracy --corpus bench/corpora/gpt100m-rope.json --out acc.md --json acc.json
  dotnet run -c Release --project bench/Anneal.Bench -- cooldown-bias . auto > cb1.tsv 2> cb1.err
  dotnet run -c Release --project bench/Anneal.Bench -- cooldown-bias . auto seed2 > cb2.tsv 2> cb2.err
  python3 bench/far_horizons_session20.py acc.json cb1.tsv cb1.err cb2.tsv cb2.err

acc.md must sit beside acc.json (the splits' fitted horizons are read from its headings). Left out everywhere: the corpora fitted before the laws' regime (the regime check fires on their fits: gpt-jargon,
gpt-perldoc) and every forecast of a run past the first epoch of its data (corpus.json's steps_per_epoch).
"""
import csv, glob, json, os, re, statistics as st, sys, collections

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
REGIME = {'engine-gpt-jargon', 'engine-gpt-perldoc'}
BINS = [(0, 1), (1, 1.5), (1.5, 2), (2, 3), (3, 99)]
SPE = {j['name']: j.get('steps_per_epoch') for j in (json.load(open(f)) for f in glob.glob(os.path.join(ROOT, 'data/corpora/*/corpus.json')))}


def accuracy_tables(path):
    """(1) From anneal accuracy's JSON: signed error by horizon ratio, every forecast and in the regime; per corpus past 1.5x."""
    d = json.load(open(path))
    fit_end = {}   # the split's last fitted step: the forecasts at the fitted horizon give it (ForecastProtocol)
    md = open(path[:-5] + '.md').read() if os.path.exists(path[:-5] + '.md') else ''
    for m in re.finditer(r'^### (\S+), (\S+): fit \S+ to step (\d+)', md, re.M):
        fit_end[(m.group(1), m.group(2))] = int(m.group(3))

    def rows(law, keep):
        for r in d['rows']:
            if r['law'] != law or r['error'] or r['question'] not in ('schedules', 'cooldowns') or r['held_out']: continue
            if keep and r['corpus'] in REGIME: continue
            for f in r['forecasts']:
                if keep and (f['regime_withheld'] or f['repeats_data']): continue
                yield r['corpus'], f['horizon'] / fit_end[(r['corpus'], r['question'])], 100 * (f['predicted'] / f['observed'] - 1)
    laws = sorted(set(r['law'] for r in d['rows']), key=lambda l: (l != 'auto', l))
    for keep in (False, True):
        print('\n(1) signed / mean |error| (%) by horizon ratio,', 'in the regime, first epoch' if keep else 'every forecast (accuracy.md)')
        print('%-24s' % 'law' + ''.join('%20s' % f'{a}-{b}x' for a, b in BINS))
        for law in laws:
            xs = list(rows(law, keep))
            cells = []
            for a, b in BINS:
                v = [e for _, r, e in xs if a < r <= b]
                cells.append('%4d %+6.2f/%5.2f' % (len(v), st.mean(v), st.mean(map(abs, v))) if v else '-')
            print('%-24s' % law + ''.join('%20s' % c for c in cells))
    print('\n(1) per corpus, in the regime: signed mean past 1.5x (n, how many too high)')
    L = ['auto', 'momentum(cap=fit)', 'mpl(warmup=reference)', 'convex']
    print('%-22s' % '' + ''.join('%24s' % l for l in L))
    for c in sorted(set(c for c, _, _ in rows('auto', True))):
        cells = []
        for law in L:
            v = [e for cc, r, e in rows(law, True) if cc == c and r > 1.5]
            cells.append('%+.2f (%d, %d high)' % (st.mean(v), len(v), sum(e > 0 for e in v)) if v else '-')
        print('%-22s' % c + ''.join('%24s' % x for x in cells))
    return {x['corpus']: 100 * x['seed_noise'] for x in d['seed_floor']}


def bias_rows(tsv, err):
    """cooldown-bias rows (the schedules question) in the regime and the first epoch; ratio = run length / fitted horizon."""
    H = {m.group(1): int(m.group(2)) for m in re.finditer(r'^(\S+): H (\d+);', open(err).read(), re.M)}
    out = []
    for r in csv.DictReader(open(tsv), delimiter='\t'):
        c = r['corpus']
        r['ratio'] = float(r['ratio']); r['final_err'] = float(r['final_err'])
        r['constant_err'] = float(r['constant_err']) if r['constant_err'] else None
        n = r['ratio'] * H[c]
        if c in REGIME or (SPE.get(c) and n > SPE[c]): continue
        out.append(r)
    return out


def decomposition(rows, name):
    """(2) Per member as the stack weighs it: corpora too high / too low past 1.5x, final and its constant and gain parts."""
    far = [r for r in rows if r['ratio'] > 1.5]
    print(f'\n(2) {name}: past 1.5x, corpora with signed mean above +0.1 / below -0.1 % (mean over corpora)')
    for f in ['auto', 'momentum(cap=fit)', 'share', 'mpl(warmup=reference, drops=continuous)', 'convex']:
        corp = sorted(set(r['corpus'] for r in far if r['forecaster'] == f))
        fin, con = [], []
        for c in corp:
            v = [r for r in far if r['corpus'] == c and r['forecaster'] == f]
            fin.append(st.mean(r['final_err'] for r in v))
            con.append(st.mean(r['constant_err'] for r in v if r['constant_err'] is not None))
        gain = [a - b for a, b in zip(fin, con)]
        s = lambda xs: '%2d high %2d low of %2d (%+.2f)' % (sum(x > 0.1 for x in xs), sum(x < -0.1 for x in xs), len(xs), st.mean(xs))
        print('  %-40s final %s | constant part %s | gain part %s' % (f, s(fin), s(con), s(gain)))


def candidates(rows, name, noise):
    """(3) The horizon-matched readings against auto: pooled mean / worst, signed past 1.5x, corpora better / worse, LOCO."""
    corp = sorted(set(r['corpus'] for r in rows))
    opts = sorted(set(r['forecaster'] for r in rows if r['forecaster'].startswith('auto')), key=lambda o: (o != 'auto', o))
    E = {(o, c): [r['final_err'] for r in rows if r['forecaster'] == o and r['corpus'] == c] for o in opts for c in corp}
    mean = lambda o, cs: st.mean(abs(x) for c in cs for x in E[(o, c)])
    worst = lambda o, cs: max(abs(x) for c in cs for x in E[(o, c)])
    print(f'\n(3) {name}: schedules question, {len(corp)} corpora')
    for o in opts:
        per = {c: st.mean(map(abs, E[(o, c)])) for c in corp}
        base = {c: st.mean(map(abs, E[('auto', c)])) for c in corp}
        far = [r['final_err'] for r in rows if r['forecaster'] == o and r['ratio'] > 1.5]
        worse = [c for c in corp if per[c] > base[c] + 1e-6]
        print('  %-28s %.3f / %.2f %%, signed past 1.5x %+.3f; better on %d, worse on %d corpora (beyond seed noise: %s)' % (
            o, mean(o, corp), worst(o, corp), st.mean(far), sum(per[c] < base[c] - 1e-6 for c in corp), len(worse),
            [c for c in worse if per[c] - base[c] > noise.get(c, 0)]))
    print('  leave one corpus out (the option with the lowest pooled mean on the others among those worsening no other corpus by more')
    print('  than its seed noise nor the pooled mean or worst):')
    for c in corp:
        o_ = [x for x in corp if x != c]
        adm = [o for o in opts if mean(o, o_) <= mean('auto', o_) + 1e-9 and worst(o, o_) <= worst('auto', o_) + 1e-9
               and all(st.mean(map(abs, E[(o, x)])) - st.mean(map(abs, E[('auto', x)])) <= noise.get(x, 0) + 1e-9 for x in o_)]
        o = min(adm, key=lambda o: mean(o, o_))
        print('    without %-22s %-26s held out %.3f %% (auto %.3f %%)' % (c, o, st.mean(map(abs, E[(o, c)])), st.mean(map(abs, E[('auto', c)]))))


if __name__ == '__main__':
    acc, t1, e1, t2, e2 = sys.argv[1:6]
    noise = accuracy_tables(acc)
    for t, e, name in ((t1, e1, 'seed 1 calibration'), (t2, e2, 'seed 2 calibration (seed-swap)')):
        rows = bias_rows(t, e)
        decomposition(rows, name)
        candidates(rows, name, noise)
