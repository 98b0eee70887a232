#!/usr/bin/env python3
"""Records Optuna's pruning decisions on real engine curves, as a peer vector for Anneal's pruners.

Debian's python3-optuna (3.1) is the peer, never a dependency. The curves are data/corpora/gpt-tiny (training loss,
reported every 50 steps and at the last row). Three trials run at once, reporting in round robin through Optuna's
ask/tell interface, so successive halving sees the asynchronous interleaving it is designed for. Every report's
should_prune() answer is written with the reported (step, value), so a replay can compare decision by decision.

    /usr/bin/python3 bench/tuning/optuna_pruner_vectors.py > tests/Anneal.Tests/Data/tuning/optuna-pruners.json
"""
import csv, json, os, random, sys

import optuna

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(ROOT, "data", "corpora", "gpt-tiny")

CONFIGS = [
    ("median", {}, lambda: optuna.pruners.MedianPruner()),
    ("median", {"startup_trials": 3, "warmup_steps": 200, "interval_steps": 100}, lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=200, interval_steps=100)),
    ("asha", {}, lambda: optuna.pruners.SuccessiveHalvingPruner()),
    ("asha", {"min_resource": 100, "reduction_factor": 3, "min_early_stopping_rate": 1}, lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=100, reduction_factor=3, min_early_stopping_rate=1)),
    ("hyperband", {}, lambda: optuna.pruners.HyperbandPruner()),
    ("hyperband", {"min_resource": 50, "max_resource": 3000, "reduction_factor": 3}, lambda: optuna.pruners.HyperbandPruner(min_resource=50, max_resource=3000, reduction_factor=3)),
]


def curves():
    out = {}
    for name in sorted(os.listdir(CORPUS)):
        if not name.endswith(".csv"):
            continue
        rows = list(csv.DictReader(open(os.path.join(CORPUS, name))))
        pts = [(int(r["step"]), float(r["loss"])) for r in rows if r["loss"]]
        last = pts[-1]
        pts = [p for p in pts if (p[0] + 1) % 50 == 0]
        if pts[-1] != last:
            pts.append(last)
        out[name] = pts
    return out


def run(config, make, table, order):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="parity", pruner=make())
    events = []
    slots = []
    queue = list(order)

    def start():
        if not queue:
            return None
        trial = study.ask()
        return {"trial": trial, "curve": queue.pop(0), "i": 0}

    for _ in range(3):
        s = start()
        if s:
            slots.append(s)
    while slots:
        for s in list(slots):
            step, value = table[s["curve"]][s["i"]]
            t = s["trial"]
            t.report(value, step)
            pruned = t.should_prune()
            events.append({"trial": t.number, "curve": s["curve"], "step": step, "value": value, "prune": bool(pruned)})
            s["i"] += 1
            done = pruned or s["i"] == len(table[s["curve"]])
            if done:
                if pruned:
                    study.tell(t, state=optuna.trial.TrialState.PRUNED)
                else:
                    study.tell(t, value)
                    events.append({"trial": t.number, "complete": value})
                slots.remove(s)
                n = start()
                if n:
                    slots.append(n)
    return events


def main():
    table = curves()
    rng = random.Random(15)
    names = sorted(table)
    order = [names[rng.randrange(len(names))] for _ in range(40)]
    out = {
        "provenance": "bench/tuning/optuna_pruner_vectors.py with optuna " + optuna.__version__
                      + " (Debian python3-optuna); curves: data/corpora/gpt-tiny training loss every 50 steps",
        "study_name": "parity",
        "configs": [],
    }
    for name, options, make in CONFIGS:
        out["configs"].append({"pruner": name, "options": options, "events": run(name, make, table, order)})
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
