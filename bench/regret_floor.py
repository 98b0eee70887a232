#!/usr/bin/env python3
"""Pick regret's and Spearman's floor: what a perfect forecaster scores against one seed (docs/journal/session-22-stack.md).

A forecaster that knew every held-out run's expected final still picks against one seed's observations. Per horizon group of
the schedules question (the groups `anneal accuracy` scores: runs of one horizon, regret where >= 2, Spearman where >= 3),
the seed-1 observed finals stand for the expected ones (mu) and each run's final is drawn as mu (1 + sigma z), z standard
normal, independently; regret = the drawn loss of the run with the lowest mu over the lowest drawn loss, minus one; Spearman
= the rank correlation of mu and the draws. Sigma per corpus: the relative difference of its seed pairs' finals with the
pairs' mean (a shared seed offset, which moves no ranking) removed, sqrt(var(ln(s1/s2)) / 2). Independent draws overstate
the noise between branches of one constant run, which share their prefix: this is the floor's upper end.

Run: ./anneal accuracy --corpus bench/corpora/gpt100m-rope.json --law auto --json acc.json --out /tmp/acc.md
     python3 bench/regret_floor.py acc.json [draws]
"""
import collections
import json
import math
import random
import sys


def ranks(x):
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0] * len(x)
    for k, i in enumerate(order):
        r[i] = k
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    m = (len(a) - 1) / 2
    den = sum((x - m) ** 2 for x in ra)
    return sum((x - m) * (y - m) for x, y in zip(ra, rb)) / den


def within_seed_noise(seed_noise):
    """Per corpus: sqrt(var(ln(s1/s2)) / 2) over its seed pairs (needs two pairs)."""
    logs = collections.defaultdict(list)
    for row in seed_noise:
        f = row["finals"]
        if len(f) >= 2:
            logs[row["corpus"]].append(math.log(f[0] / f[1]))
    out = {}
    for corpus, d in logs.items():
        if len(d) >= 2:
            m = sum(d) / len(d)
            out[corpus] = math.sqrt(sum((x - m) ** 2 for x in d) / (len(d) - 1) / 2)
    return out


def main(path, draws=4000):
    data = json.load(open(path))
    sigma = within_seed_noise(data["seed_noise"])
    rng = random.Random(1)
    pooled_floor, pooled_auto = [], []
    print("corpus | within-seed noise | groups | auto regret | regret floor | auto Spearman | Spearman floor")
    for row in data["rows"]:
        if row["law"] != "auto" or row["question"] != "schedules" or row["corpus"] not in sigma:
            continue
        s = sigma[row["corpus"]]
        groups = collections.defaultdict(list)
        for f in row["forecasts"]:
            groups[f["horizon"]].append((f["observed"], f["predicted"]))
        regret_floor, spearman_floor, auto_regret = [], [], []
        for g in groups.values():
            if len(g) < 2:
                continue
            mu = [o for o, _ in g]
            best = min(range(len(mu)), key=lambda i: mu[i])
            auto_regret.append(min(g, key=lambda x: x[1])[0] / min(mu) - 1)
            reg = sp = 0.0
            for _ in range(draws):
                obs = [m * (1 + s * rng.gauss(0, 1)) for m in mu]
                reg += obs[best] / min(obs) - 1
                if len(g) >= 3:
                    sp += spearman(mu, obs)
            regret_floor.append(reg / draws)
            if len(g) >= 3:
                spearman_floor.append(sp / draws)
        pooled_floor += regret_floor
        pooled_auto += auto_regret
        sf = sum(spearman_floor) / len(spearman_floor) if spearman_floor else float("nan")
        print(f"{row['corpus']} | {100 * s:.3f} % | {len(regret_floor)} | {100 * sum(auto_regret) / len(auto_regret):.3f} % | "
              f"{100 * sum(regret_floor) / len(regret_floor):.3f} % | {row['spearman']:.2f} | {sf:.2f}")
    print(f"pooled ({len(pooled_floor)} groups): auto {100 * sum(pooled_auto) / len(pooled_auto):.3f} %, "
          f"floor {100 * sum(pooled_floor) / len(pooled_floor):.3f} %")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4000)
