#!/usr/bin/env python3
"""Session 14 (the published split through auto): the share law's alternates in `auto`, scored offline from the evidence file
(docs/journal/session-14-published-split-auto.md):

  dotnet run -c Release --project bench/Anneal.Bench -- stack-selection . evidence.json \
      "momentum(cap=fit),mpl(warmup=reference, drops=continuous),convex,age(q=0.7, prior=13),share,share(clock=level)"
  python3 bench/stack_rules_session14.py evidence.json 'share(clock=level)' 'share+share(clock=level)' --by-fit

The rule replayed is main's (session 13): StackFitter.ChooseWeights among the default members, then the alternate
AutoLaw.Weighs picks (the age law on the WSD questions, the share law elsewhere) in the capped member's place
(ChooseMembers), the convex taper at R = 4 and, where the stack holds a share law at the prior weights, the reference
member's ramp (0 at the fitted horizon to its prior at 3x). Each argument is a share-law option: one spec (it replaces
`share`), or several joined by '+', weighed in turn against whichever law holds the place (ChooseMembers, rounds in
order); with --by-fit, of several, only the one with the lowest in-sample objective is weighed (StackFitter.BetterFitOfSame,
what `auto` does since session 14). `share` alone (main before) is always scored first; then each corpus is left out and
the option chosen on the others (the lowest pooled mean among the options that worsen no remaining question by more than
its seed noise, nor the pooled mean or worst) is scored on the one left out.
"""
import json, statistics, sys

import stack_replay
from stack_replay import CAP, CVX, ALONE, ok, cvp, err, choose, place, pooled, loco

REF = 'mpl(warmup=reference, drops=continuous)'
AGE = 'age(q=0.7, prior=13)'
PRIOR = {CAP: 0.35, REF: 0.35, CVX: 0.3}
NOISE = {'engine-gpt-tiny-long': .210, 'engine-gpt-tiny': .203, 'engine-mlp-long': .185, 'engine-mlp': .423}
E = json.load(open(sys.argv[1]))
BY_FIT = False


def current(s, share):
    """share: one share-law spec, or several separated by '+', weighed in turn against whichever law holds the place."""
    w, why = choose(s, PRIOR)
    if why in ('prior (no cv)', 'single'): return w, why
    holder = CAP
    alts = [AGE] if s.get('question') == 'cooldowns' else share.split('+')
    if BY_FIT and len(alts) > 1:
        # Alternates with the same parameters (one law under another structural option): the one that fits the fitted runs
        # better (lower objective) is weighed (StackFitter.BetterFitOfSameParameters).
        fitted = [a for a in alts if ok(s, a) and s['laws'][a].get('objective') is not None]
        if fitted: alts = [min(fitted, key=lambda a: s['laws'][a]['objective'])]
    for alt in alts:
        w2, why = place(s, w, why, holder, alt)
        if w2 is not w: holder = alt
        w = w2
    return w, why


def finals(s, w, ramp, R=4, E_=3):
    return [abs(f / t['observed'] - 1) * 100 for f, t in zip(stack_replay.stack_finals(s, w, ramp, REF, R, E_), s['tests'])]


def per_question(share):
    d, whys = {}, {}
    for s in E:
        w, why = current(s, share)
        ramp = any(sh in w and 0 < w[sh] < 1 for sh in share.split('+')) and why.endswith('prior')
        d[(s['corpus'], s['question'])] = finals(s, w, ramp)
        whys[(s['corpus'], s['question'])] = ' '.join(f'{m} {x:.2f}' for m, x in w.items() if x > 0) + (' (ramp)' if ramp else '')
    return d, whys


options = {}
for share in ['share'] + [a for a in sys.argv[2:] if a != '--by-fit']:
    BY_FIT = '--by-fit' in sys.argv and '+' in share
    d, whys = per_question(share)
    options[share] = d
    m, w = pooled(d)
    print(f'== {share}: pooled {m:.3f} / {w:.2f} %')
    for k, v in d.items(): print(f'   {k[0]:22s} {k[1]:10s} {statistics.mean(v):.3f} / {max(v):.2f} %   {whys[k]}')

loco(options, options['share'], 'option', NOISE, 'share')
