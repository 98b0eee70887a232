#!/usr/bin/env python3
"""Optuna side by side with Anneal on the tabular tuning benchmark (docs/tuning.md).

Debian's python3-optuna (3.1) is the peer, never a dependency. It runs Optuna's TPE sampler (and its random sampler)
with its median, successive-halving and Hyperband pruners on the same tables Anneal's benchmark replays: the tables
are exported by Anneal (`tuning-table --export`), so both tools see the same configurations, curves, targets and
budgets. One trial at a time, as Anneal's table sweeps; a trial replays its configuration's recorded curve, reporting
every value to trial.report and stopping when trial.should_prune() says so. A sweep stops at the first complete
trial within the target (steps-to-target: every step every trial ran until then) or after max_trials.
The tuner's own time (Optuna's sampling and pruning) is measured with time.perf_counter around the whole sweep,
since replaying a curve costs nothing; wall-clock-to-target adds the workload's seconds per training step.

    dotnet run -c Release --project bench/Anneal.Bench -- tuning-table --export /tmp/tables.json
    /usr/bin/python3 bench/tuning/optuna_table.py /tmp/tables.json 10 > /tmp/optuna.jsonl
    dotnet run -c Release --project bench/Anneal.Bench -- tuning-table 10 --optuna /tmp/optuna.jsonl

Output: one JSON object per (table, method, seed) line, the fields Anneal's benchmark reads.
"""
import json, sys, time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def methods(table):
    tpe = lambda s: optuna.samplers.TPESampler(seed=s)
    rnd = lambda s: optuna.samplers.RandomSampler(seed=s)
    nop = lambda: optuna.pruners.NopPruner()
    return [
        ("Optuna TPE", tpe, nop),
        ("Optuna TPE + median", tpe, lambda: optuna.pruners.MedianPruner(n_startup_trials=5)),
        ("Optuna TPE + ASHA", tpe, lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=100, reduction_factor=3)),
        ("Optuna TPE + Hyperband", tpe, lambda: optuna.pruners.HyperbandPruner(min_resource=100, max_resource=table["max_steps"], reduction_factor=3)),
        ("Optuna random", rnd, nop),
    ]


def sweep(table, sampler, pruner, seed):
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner, study_name=f"{table['name']}-{seed}")
    configs = table["configurations"]
    target = table["target"]
    steps, n, reached, pruned_best, steps_all, pruned_at_target = 0, 0, False, False, 0, 0
    t0 = time.perf_counter()
    for _ in range(table["max_trials"]):
        trial = study.ask()
        values = []
        for p in table["space"]:
            if "int" in p:
                values.append(str(trial.suggest_int(p["name"], p["int"][0], p["int"][1])))
            else:
                values.append(trial.suggest_categorical(p["name"], p["choice"]))
        key = table["points"]["|".join(values)]
        ran, last, pruned = 0, None, False
        for step, value in configs[key]["curve"]:
            ran, last = step + 1, value
            trial.report(value, step)
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            pruned_best |= key == table["best"]
            if not reached and configs[key]["curve"][-1][1] <= target:
                pruned_at_target += 1
        else:
            study.tell(trial, last)
        steps_all += ran
        if not reached:
            steps += ran
            n += 1
            if not pruned and last <= target:
                reached = True
                break
    return {"reached": reached, "steps": steps, "trials": n, "tuner_seconds": time.perf_counter() - t0, "pruned_best": pruned_best, "steps_all": steps_all,
            "pruned_at_target": pruned_at_target}


def main():
    tables = json.load(open(sys.argv[1]))
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    for table in tables:
        for name, sampler, pruner in methods(table):
            for seed in range(1, seeds + 1):
                r = sweep(table, sampler(seed), pruner(), seed)
                print(json.dumps({"table": table["name"], "method": name, "seed": seed, **r}), flush=True)


if __name__ == "__main__":
    main()
