#!/usr/bin/env python3
"""Session 24 (docs/journal/session-24-band.md): forms of the auto band narrower where the evidence allows, judged as
bench/band_session23.py judges them (its port of StackBandCalibration's rule: in sample, each corpus left out, the replay
in corpus order with gpt-cmake, measured blind in session 24, added, the seed twins), on the rows of

    dotnet run -c Release --no-build --project bench/Anneal.Bench -- band-calibration . rows.csv --extrapolation-forms
    python3 bench/band_session24.py rows.csv [forms|per FORM-INDEX ...|diagnose]

(rows.csv from a run of the bench after session 24: it needs the column own_cv.)

Every form's variance is u^2 times the form's unit variance; the rule solves u (and, for a form of several shapes, picks the
shape of the narrowest band meeting the lower bounds). Pure Python.
"""
import csv, math, sys
import band_session23 as b23

# gpt-cmake (made in session 23, measured blind in session 24: docs/journal/session-24-blind-measurement.md).
b23.BLIND = b23.BLIND + [(24, ['engine-gpt-cmake'])]
b23.SEED['gpt-cmake'] = 0.74


def load(path):
    """band_session23's rows plus the columns it does not read: the stack's cross-validated error F (future_error), its end
    misfit M, the fitted runs' point noise."""
    rows = b23.load(path)
    extra = [r for r in csv.DictReader(open(path)) if not math.isnan(float(r['own']))]
    assert len(extra) == len(rows)
    for r, x in zip(rows, extra):
        f = float(x['future_error'])
        r['F'] = f if f == f else float('nan')
        r['M'] = float(x['end_misfit'])
        r['single'] = x['single'] == 'True'
        # The members of positive weight on this schedule; their spread about the stack (the band's "chosen" term).
        pos = [d for d, w in zip(r['d2'], r['weights']) if w > 0]
        r['npos'] = len(pos)
        r['dis_pos'] = sum(pos) / len(pos) if pos else 0.0
        r['dis_med'] = sorted(r['d2'])[len(r['d2']) // 2] if r['d2'] else r['dis']
        r['dis_max'] = max(r['d2']) if r['d2'] else r['dis']
    return rows


R = b23.RATIOS


def unit(name, v, shapes=((1,),)):
    return dict(name=name, shapes=list(shapes), var=v)


def candidates():
    f = [b23.pure_form()]
    # The members' spread counted against the carrying member's own variance at a ratio fitted instead of fixed at 1.
    f += [unit('own + r^2 dis, r on a grid', lambda r, sh: r['own'] + sh[0] ** 2 * r['dis'], [(x / 10,) for x in range(0, 21)])]
    # Only the members the cross-validation kept (weight > 0 on this schedule) spread the band.
    f += [unit('own + dis of the weighted members', lambda r, sh: r['own'] + (r['dis'] if r['single'] else r['dis_pos']))]
    # The spread capped by a multiple of the carrying member's own variance.
    f += [unit(f'own + min(dis, {m} own)', (lambda m: lambda r, sh: r['own'] + min(r['dis'], m * r['own']))(m)) for m in (0.5, 1, 2, 4)]
    # The spread capped by a multiple of the stack's cross-validated error F^2 (F NaN: uncapped).
    f += [unit(f'own + min(dis, {m} F^2)', (lambda m: lambda r, sh: r['own'] + (min(r['dis'], m * r['F'] ** 2) if r['F'] == r['F'] else r['dis']))(m)) for m in (1, 4, 16)]
    # The spread discounted with the extrapolation in intrinsic time at a fitted rate D, and a term growing with h instead.
    f += [unit('own + dis e^(-2 D h), D on a grid', lambda r, sh: r['own'] + r['dis'] * math.exp(-2 * sh[0] * r['h']), [(d / 4,) for d in range(0, 9)])]
    f += [unit('own + c^2 h^2, c on a grid (no spread)', lambda r, sh: r['own'] + (sh[0] * r['h']) ** 2, [(c / 100,) for c in range(0, 21)])]
    f += [unit('own alone', lambda r, sh: r['own'])]
    f += [unit('own + median member spread', lambda r, sh: r['own'] + r['dis_med'])]
    f += [unit('own + F^2', lambda r, sh: r['own'] + (r['F'] ** 2 if r['F'] == r['F'] else 0))]
    f += [unit('own + dis + F^2', lambda r, sh: r['own'] + r['dis'] + (r['F'] ** 2 if r['F'] == r['F'] else 0))]
    return f


def main():
    rows = load_cv(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else 'forms'
    forms = candidates() + future_forms() + cv_forms()
    if mode == 'forms':
        print('| form | in sample | median half-width | LOCO | median half-width | groups short LOCO | score | replay | gpt-cmake replayed | twins LOCO |')
        print('|---|---|---|---|---|---|---|---|---|---|')
        for f in forms:
            line(rows, f)
    elif mode == 'per':
        for i in sys.argv[3:]:
            b23.show(b23.judge(rows, forms[int(i)]), per=True)
    elif mode == 'diagnose':
        b23.diagnose(rows)



def future_forms():
    """The stack's cross-validated error F (FittedLaw.FutureError; NaN: not measured, no term) beside own and the spread."""
    F2 = lambda r: r['F'] ** 2 if r['F'] == r['F'] else 0.0
    f = [unit(f'own + dis + {g}^2 F^2', (lambda g: lambda r, sh: r['own'] + r['dis'] + g * g * F2(r))(g)) for g in (0.5, 0.75, 1, 1.25, 1.5, 2, 3)]
    f += [unit('own + dis + g^2 F^2, g on a grid', lambda r, sh: r['own'] + r['dis'] + sh[0] ** 2 * F2(r), [(g / 4,) for g in range(0, 13)])]
    f += [unit('own + r^2 dis + g^2 F^2, r and g on a grid', lambda r, sh: r['own'] + sh[1] ** 2 * r['dis'] + sh[0] ** 2 * F2(r), [(g / 4, x / 4) for g in range(0, 13) for x in range(0, 9)])]
    f += [unit(f'own + dis e^(-2 {D} h) + F^2', (lambda D: lambda r, sh: r['own'] + r['dis'] * math.exp(-2 * D * r['h']) + F2(r))(D)) for D in (0.25, 0.5, 1)]
    f += [unit(f'own + min(dis, {m} (own + F^2)) + F^2', (lambda m: lambda r, sh: r['own'] + min(r['dis'], m * (r['own'] + F2(r))) + F2(r))(m)) for m in (2, 4)]
    f += [unit('own + dis + M^2', lambda r, sh: r['own'] + r['dis'] + r['M'] ** 2)]
    f += [unit('own + dis + F^2 + M^2', lambda r, sh: r['own'] + r['dis'] + F2(r) + r['M'] ** 2)]
    f += [unit('own + dis + |F| sqrt(own + dis)', lambda r, sh: r['own'] + r['dis'] + math.sqrt(F2(r) * (r['own'] + r['dis'])))]
    f += [unit('max(own + dis, F^2)', lambda r, sh: max(r['own'] + r['dis'], F2(r)))]
    return f


def short_groups(rows, form, res):
    """The groups of the rule (each corpus, its published split apart, each question) below their lower bound with each
    corpus left out: band_session23's per-corpus table pools a corpus's published split with its schedules."""
    rule = [r for r in rows if r['question'] != 'seed-twin']
    cov = [r['e'] <= b23.hws([r], form, res['loco_c'][r['corpus']])[0] for r in rule]
    out = []
    for (kind, name), ix in b23.groups(rule).items():
        n, k = len(ix), sum(cov[i] for i in ix)
        if b23.short(n, k):
            out.append(name.replace('engine-', ''))
    return out


def line(rows, form):
    res = b23.judge(rows, form)
    rep = {c: (k, n, w) for c, k, n, w in res['rep']}
    k, n, w = rep['gpt-cmake']
    print(f"| {form['name']} | {res['ins']}/{res['n']} | {100 * res['w_in']:.2f} % | {res['loco']}/{res['n']} | {100 * res['w_lo']:.2f} % | "
          f"{', '.join(short_groups(rows, form, res)) or 'none'} | {100 * res['score']:.2f} % | {res['replay'][0]}/{res['replay'][1]} | {k}/{n} at {100 * w:.1f} % | "
          f"{res['twins'][1]}/{res['twins'][2]} |", flush=True)
    return res



def load_cv(path):
    """load() plus the carrying member's cross-validated law error squared (own_cv, FittedLaw.CrossValidationLogError), and
    own without it (own_rest: its delta-method and leave-one-run-out parts)."""
    rows = load(path)
    extra = [r for r in csv.DictReader(open(path)) if not math.isnan(float(r['own']))]
    for r, x in zip(rows, extra):
        r['cv'] = float(x['own_cv'])
        r['own_rest'] = max(0.0, r['own'] - r['cv'])
    return rows


def cv_forms():
    """The carrying member's own variance split: its cross-validated law error (a level per fit, the leave-one-run-out refits'
    error on the run left out) counted at r^2 instead of 1."""
    F2 = lambda r: r['F'] ** 2 if r['F'] == r['F'] else 0.0
    dis = lambda r: r['own_rest'] if r['single'] else r['dis']
    f = [unit(f'own_rest + {x}^2 cv + dis', (lambda x: lambda r, sh: r['own_rest'] + x * x * r['cv'] + r['dis'])(x)) for x in (0, 0.25, 0.5, 0.75)]
    f += [unit('own_rest + r^2 cv + dis, r on a grid', lambda r, sh: r['own_rest'] + sh[0] ** 2 * r['cv'] + r['dis'], [(x / 8,) for x in range(0, 9)])]
    f += [unit(f'own_rest + {x}^2 cv + dis + F^2', (lambda x: lambda r, sh: r['own_rest'] + x * x * r['cv'] + r['dis'] + F2(r))(x)) for x in (0, 0.25, 0.5, 0.75)]
    f += [unit('own_rest + r^2 cv + dis + F^2, r on a grid', lambda r, sh: r['own_rest'] + sh[0] ** 2 * r['cv'] + r['dis'] + F2(r), [(x / 8,) for x in range(0, 9)])]
    return f


if __name__ == '__main__':
    main()
