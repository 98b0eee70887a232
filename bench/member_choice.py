"""Scores fixed weightings of auto's candidate members on the WSD question from `bench member-choice`'s per-branch rows
(docs/journal/session-19-member-choice.md).

    dotnet run -c Release --project bench/Anneal.Bench -- member-choice $(ls -d data/corpora/*/) > members.tsv 2> branches.tsv
    python3 bench/member_choice.py branches.tsv

Each candidate is fitted alone as the stack reads it, so a weighting's forecast of a branch is the weighted mean of the
candidates' (the stack is linear in its members), with the convex member's weight tapered beyond 4x the fitted horizon
(AutoLaw.ConvexTaper). Prints the mean |error| per corpus of: the weights auto chose in session 18 (read from its law
files' chosen_because, copied below), the prior, each candidate alone, and session 19's rule (the convex member left out
where the regime check fires).
"""
import collections
import csv
import sys

M, P, C, A = 'momentum(cap=fit)', 'mpl(warmup=reference, drops=continuous)', 'convex', 'age(q=0.7, prior=13)'
# auto's choice on each corpus's WSD question before session 19 (bench cooldown-ends, "auto:" lines)
CHOSEN = {
    'engine-gpt-code': {A: .9, P: .05, C: .05}, 'engine-gpt-deep': {A: 1}, 'engine-gpt-jargon': {M: .54, C: .46},
    'engine-gpt-perldoc': {M: .35, P: .35, C: .3}, 'engine-gpt-rope-lion': {A: 1}, 'engine-gpt-tiny-long': {A: .9, P: .05, C: .05},
    'engine-gpt-tiny': {M: .35, P: .35, C: .3}, 'engine-gpt3-b32': {A: .9, C: .1}, 'engine-mlp-lion': {A: .9, P: .05, C: .05},
    'engine-mlp-long': {M: 1}, 'engine-mlp-sgd': {M: 1}, 'engine-mlp': {M: .54, C: .46},
}


def main(path):
    forecasts, ratio, fires = collections.defaultdict(dict), {}, {}
    for corpus, law, end, r, err, regime in csv.reader(open(path), delimiter='\t'):
        forecasts[(corpus, end)][law] = float(err)
        ratio[(corpus, end)] = float(r)
        fires[corpus] = regime == 'True'
    corpora = sorted(CHOSEN)

    def mean_error(corpus, weights):
        errs = []
        for (c, end), f in forecasts.items():
            if c != corpus:
                continue
            w = {k: v for k, v in weights.items() if k in f and v > 0}
            if not w:
                return float('nan')
            if C in w and ratio[(c, end)] > 4:
                w[C] *= 4 / ratio[(c, end)]
            errs.append(abs(sum(v * f[k] for k, v in w.items()) / sum(w.values())))
        return sum(errs) / len(errs)

    def show(name, policy):
        e = [mean_error(c, policy(c)) for c in corpora]
        print(name.ljust(16) + ''.join(f'{100 * x:8.2f}' for x in e) + f'   mean {100 * sum(e) / len(e):.2f}')

    print(''.ljust(16) + ''.join(c.replace('engine-', '')[:7].rjust(8) for c in corpora))
    show('chosen (s18)', lambda c: CHOSEN[c])
    show('prior', lambda c: {M: .35, P: .35, C: .3})
    for law in (M, A, P, C):
        show(law.split('(')[0] + ' alone', lambda c, law=law: {law: 1})
    show('rule (s19)', lambda c: {k: v for k, v in CHOSEN[c].items() if not (fires[c] and k == C)})


if __name__ == '__main__':
    main(sys.argv[1])
