#!/usr/bin/env python3
"""Tables of docs/journal/session-18-cooldown-gain.md from `bench cooldown-bias` rows and `anneal accuracy --json`.

Usage:
  dotnet run -c Release --project bench/Anneal.Bench -- cooldown-bias . > rows.tsv
  ./anneal accuracy --corpus bench/corpora/gpt100m-rope.json --law "auto,momentum(cap=fit),..." --json acc.json --out acc.md
  python3 bench/cooldown_bias.py rows.tsv acc.json

Prints, for the held-out runs of each corpus's schedules split that end within the fitted horizon (constant runs left out):
1. auto's mean signed error by decay fraction (<= 25 %, 25-70 %, full), against the seed floor, and its annealing and area
   parts; 2. every law of the accuracy JSON alone, the same bins, and on how many corpora its WSD (<= 70 %) mean is negative;
3. the saturation: each WSD run's annealing gain as a share of the linear decay's at the same horizon, observed and per
   forecaster of the rows. Signed error < 0: the forecast is below the observed loss.
"""
import collections
import csv
import json
import sys


def bin_of(fraction):
    return 0 if fraction <= 0.25 else (1 if fraction <= 0.7 else 2)


def mean(xs):
    return sum(xs) / len(xs)


def main(rows_path, accuracy_path):
    rows = list(csv.DictReader(open(rows_path), delimiter="\t"))
    acc = json.load(open(accuracy_path))
    floor = {r["corpus"]: r["seed_noise"] for r in acc["seed_floor"]}
    inside = [r for r in rows if float(r["ratio"]) <= 1.001 and r["kind"] != "constant"]

    print("## auto within the fitted horizon (mean signed %, count)")
    print("| corpus | seed floor | WSD <= 25 % | 25-70 % | full decays | WSD mean / floor | annealing part <= 25 / 25-70 / full | area part |")
    print("|---|---|---|---|---|---|---|---|")
    by = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in inside:
        if r["forecaster"] == "auto":
            by[r["corpus"]][bin_of(float(r["fraction"]))].append(r)
    for c in sorted(by):
        cells = [f"{mean([float(r['final_err']) for r in by[c][i]]):+.2f} ({len(by[c][i])})" if by[c][i] else "-" for i in range(3)]
        wsd = [float(r["final_err"]) for i in (0, 1) for r in by[c][i]]
        ratio = f"{mean(wsd) / (100 * floor[c]):+.1f}x" if c in floor and wsd else "-"
        parts = [f"{mean(x):+.2f}" if (x := [float(r['anneal_err']) for r in by[c][i] if r['anneal_err']]) else "-" for i in range(3)]
        area = [float(r["area_err"]) for i in range(3) for r in by[c][i] if r["area_err"]]
        fl = f"{100 * floor[c]:.2f} %" if c in floor else "-"
        print(f"| {c} | {fl} | {' | '.join(cells)} | {ratio} | {' / '.join(parts)} | {f'{mean(area):+.2f}' if area else '-'} |")

    print("\n## every law alone (accuracy JSON): mean signed % by bin, WSD (<= 70 %) negative on how many corpora")
    meta = {(r["corpus"], r["run"]): r for r in rows if r["forecaster"] == "auto"}
    res = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in acc["rows"]:
        if r["question"] != "schedules":
            continue
        for f in r["forecasts"]:
            m = meta.get((r["corpus"], f["run"]))
            if m and float(m["ratio"]) <= 1.001 and m["kind"] != "constant":
                res[r["law"]][(r["corpus"], bin_of(float(m["fraction"])))].append(100 * (f["predicted"] / f["observed"] - 1))
    for law, cells in res.items():
        corpora = sorted({c for c, _ in cells})
        wsd_means = [mean(cells[(c, 0)] + cells[(c, 1)]) for c in corpora if cells[(c, 0)] + cells[(c, 1)]]
        wsd = [v for c in corpora for v in cells[(c, 0)] + cells[(c, 1)]]
        full = [v for c in corpora for v in cells[(c, 2)]]
        print(f"{law}: WSD {mean(wsd):+.2f} % ({len(wsd)}), full {mean(full):+.2f} % ({len(full)}), "
              f"WSD mean negative on {sum(m < 0 for m in wsd_means)} of {len(wsd_means)} corpora")

    print("\n## saturation: annealing gain of WSD 10/20/40/60/80 % over the linear decay's, at the fitted horizon")
    kinds = ["wsd_lin10", "wsd_lin20", "wsd_lin40", "wsd_lin60", "wsd_lin80"]
    forecasters = sorted({r["forecaster"] for r in rows})
    excess = collections.defaultdict(list)
    for c in sorted({r["corpus"] for r in rows}):
        def gain(fc, kind):
            x = [r for r in rows if r["corpus"] == c and r["forecaster"] == fc and 0.999 < float(r["ratio"]) <= 1.001
                 and r["run"].startswith(kind + "_T") and r["anneal_err"]]
            return None if not x else (float(x[0]["observed_anneal_gain"]), float(x[0]["observed_anneal_gain"]) - float(x[0]["anneal_err"]))
        base = gain("auto", "linear")
        if base is None:
            continue
        line = [f"observed {'/'.join(f'{g[0] / base[0]:.2f}' if (g := gain('auto', k)) else '-' for k in kinds)}"]
        for fc in forecasters:
            b = gain(fc, "linear")
            if b is None:
                continue
            shares = []
            for k in kinds:
                g = gain(fc, k)
                shares.append(f"{g[1] / b[1]:.2f}" if g else "-")
                if g:
                    excess[(fc, k)].append(g[1] / b[1] - g[0] / b[0])
            line.append(f"{fc} {'/'.join(shares)}")
        print(f"{c}: " + "; ".join(line))
    for fc in forecasters:
        xs = [f"{mean(excess[(fc, k)]):+.2f}" for k in kinds if excess[(fc, k)]]
        if xs:
            print(f"mean excess of {fc}'s share over the observed: {' / '.join(xs)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python3 bench/cooldown_bias.py rows.tsv accuracy.json")
    main(sys.argv[1], sys.argv[2])
