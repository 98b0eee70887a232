#!/usr/bin/env python3
"""Whether the forecasts of step schedules (and of each other schedule family) are biased, for `auto` and for each of its
members as the stack reads them, by horizon ratio (issue 10; docs/journal/session-20-steps.md).

Reads the rows of the bench mode `cooldown-bias` (one fit of the law per corpus's schedules split; per held-out run the
signed error of the law and of each fitted member, with its weight), e.g.

    dotnet run -c Release --project bench/Anneal.Bench -- cooldown-bias . auto > rows.tsv
    python3 bench/step_bias.py rows.tsv

and prints, per forecaster (a member is named by its law; the first place holds `momentum(cap=fit)` or an alternate):
  1. the mean signed error per schedule family and horizon ratio (run's end over the fitted horizon: <= 1, <= 2, > 2);
  2. the mean error of each family relative to the mean error of all held-out runs of the same corpus and horizon (groups of
     at least 3 runs), the part of a family's error that changes which schedule is forecast best: a level error shared by
     every schedule of a horizon cancels in a pick, this does not;
  3. per corpus, that relative error of the step schedule at each horizon;
  4. the paired difference wsd_sqrt20 minus wsd_lin20 at each horizon (same decay fraction, the sqrt shape lowering the rate
     earlier in the cooldown);
  5. for a stack (rows of `auto` and its members): the pick regret (the observed final of the schedule forecast best over
     the best observed, minus one; mean over a corpus's horizon groups of at least 2 runs, then over corpora) of the plain
     pick and of two tie-breaks by the members' disagreement (their weighted relative spread about the stack's forecast):
     among the schedules forecast within a fraction d of the best, the one the members agree on most; and the pick of the
     least `forecast * (1 + k * disagreement)`. Per corpus, the change against the plain pick.
Signed error < 0: the forecast is too low. The family is read from the run's name (step_, cosine10_, cosine_, linear_,
wsd_sqrt, wsd_lin, constant), as the engine corpora name their runs.
"""
import collections
import sys


_rows = []


def family(run):
    for prefix, fam in (("step", "step"), ("cosine10", "cosine10"), ("cosine", "cosine"), ("linear", "linear"),
                        ("wsd_sqrt", "wsd_sqrt"), ("wsd", "wsd"), ("constant", "constant")):
        if run.startswith(prefix):
            return fam
    return "other"


def ratio_bin(r):
    return "<=1x" if r <= 1.01 else ("<=2x" if r <= 2.01 else ">2x")


def main(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            x = dict(zip(header, line.rstrip("\n").split("\t")))
            rows.append((x["corpus"], x["forecaster"], float(x["weight"]), x["run"], float(x["ratio"]), float(x["final_err"])))
    forecasters = list(dict.fromkeys(r[1] for r in rows))
    _rows.extend(rows)

    print("1. mean signed error (%) by family and horizon ratio; n")
    for fc in forecasters:
        agg = collections.defaultdict(list)
        for c, f, w, run, ratio, e in rows:
            if f == fc:
                agg[(family(run), ratio_bin(ratio))].append(e)
        print(f"  {fc}: " + "  ".join(f"{k[0]} {k[1]} {sum(v) / len(v):+.2f} ({len(v)})" for k, v in sorted(agg.items())))

    print("2. mean error (%) relative to the corpus's horizon group, by family; negative runs / n")
    rel = collections.defaultdict(list)
    step_rel = collections.defaultdict(dict)
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r[0], r[1], r[4])].append(r)
    for (c, fc, ratio), g in groups.items():
        if len(g) < 3:
            continue
        mean = sum(r[5] for r in g) / len(g)
        for r in g:
            rel[(fc, family(r[3]))].append(r[5] - mean)
            if family(r[3]) == "step":
                step_rel[c][(fc, ratio)] = r[5] - mean
    for fc in forecasters:
        print(f"  {fc}: " + "  ".join(f"{fam} {sum(v) / len(v):+.2f} ({sum(x < 0 for x in v)}/{len(v)})"
                                      for (f, fam), v in sorted(rel.items()) if f == fc))

    print("3. step schedule's error relative to its horizon group (%), per corpus: forecaster@ratio")
    for c, d in step_rel.items():
        print(f"  {c}: " + "  ".join(f"{fc}@{ratio:g} {v:+.2f}" for (fc, ratio), v in sorted(d.items())))

    print("4. wsd_sqrt20 minus wsd_lin20 (% of the observed final), mean; negative / n")
    by_run = {(r[0], r[1], r[3]): r[5] for r in rows}
    for fc in forecasters:
        diffs = [e - by_run[(c, f, run.replace("wsd_sqrt20", "wsd_lin20"))] for (c, f, run), e in by_run.items()
                 if f == fc and run.startswith("wsd_sqrt20") and (c, f, run.replace("wsd_sqrt20", "wsd_lin20")) in by_run]
        if diffs:
            print(f"  {fc}: {sum(diffs) / len(diffs):+.2f} ({sum(x < 0 for x in diffs)}/{len(diffs)})")


def picks(rows):
    runs = {}
    for c, fc, w, run, ratio, e in rows:
        r = runs.setdefault((c, run), {"c": c, "ratio": ratio, "members": []})
        if fc == "auto":
            r["err"] = e
        else:
            r["members"].append((w, e))
    if not any("err" in r for r in runs.values()):
        return
    # Errors are relative to the run's observed final, so forecasts compare as (1 + err) against (1 + observed err 0).
    groups = collections.defaultdict(list)
    for (c, run), r in runs.items():
        groups[(c, r["ratio"])].append(r)
    obs = {}
    with open(sys.argv[1]) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            x = dict(zip(header, line.rstrip("\n").split("\t")))
            obs[(x["corpus"], x["run"])] = float(x["observed"])
    for (c, run), r in runs.items():
        r["obs"] = obs[(c, run)]
        r["pred"] = r["obs"] * (1 + r["err"] / 100)
        ws = [(w, r["obs"] * (1 + e / 100)) for w, e in r["members"] if w > 0]
        r["dis"] = (sum(w * (p / r["pred"] - 1) ** 2 for w, p in ws) / sum(w for w, _ in ws)) ** 0.5 if ws else 0

    def regret(rule):
        per = collections.defaultdict(list)
        for (c, ratio), g in groups.items():
            if len(g) >= 2:
                per[c].append(rule(g)["obs"] / min(r["obs"] for r in g) - 1)
        return {c: 100 * sum(v) / len(v) for c, v in per.items()}

    plain = regret(lambda g: min(g, key=lambda r: r["pred"]))
    print(f"5. pick regret (%), mean over {len(plain)} corpora: plain {sum(plain.values()) / len(plain):.4f}")
    rules = [(f"within {d:g} by agreement", lambda g, d=d: min([r for r in g if r["pred"] <= (1 + d) * min(x["pred"] for x in g)], key=lambda r: r["dis"]))
             for d in (0.002, 0.004, 0.0085)]
    rules += [(f"forecast * (1 + {k:g} disagreement)", lambda g, k=k: min(g, key=lambda r: r["pred"] * (1 + k * r["dis"]))) for k in (0.25, 0.5, 1)]
    for name, rule in rules:
        got = regret(rule)
        moved = "  ".join(f"{c} {got[c] - plain[c]:+.3f}" for c in got if abs(got[c] - plain[c]) > 1e-9)
        print(f"  {name}: {sum(got.values()) / len(got):.4f}  ({moved})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: step_bias.py rows.tsv (the output of the bench mode cooldown-bias)")
    main(sys.argv[1])
    picks([(c, fc, w, run, ratio, e) for c, fc, w, run, ratio, e in _rows])
