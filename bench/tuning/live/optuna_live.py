#!/usr/bin/env python3
"""Optuna's side of the live-sweep benchmark (docs/tuning.md, "Live engine sweeps").

Debian's python3-optuna (3.1) is a peer to compare against, never a dependency of Anneal: run.sh skips this script
when `import optuna` fails. Optuna's TPE sampler, alone and with its median, successive-halving and Hyperband
pruners, searches the same space as Anneal's sweeps (workload.py); its objective runs `anneal train` as a
subprocess, follows the CSV log the trainer rewrites at every evaluation (complete lines only), reports each new
val_loss to trial.report(value, step) with the log's step, and kills the process when trial.should_prune() says so.
One trial at a time, as Anneal's sweeps. The study stops (study.stop) after the first complete trial at or below the
target, or after MAX_TRIALS trials. Output: one JSON line per sweep, the fields anneal_live.py prints:
  steps_to_target: every step up to each trial's last report before it ended (a pruned trial counts the steps up to the
                   report that pruned it; the trainer ran on for the time Python took to read the log and kill it,
                   which wall_to_target and cpu_to_target include);
  wall_to_target:  seconds from the first trial's start to the end of the first trial at the target;
  cpu_to_target:   this process's CPU plus that of every `anneal train` it ran and reaped, at that moment.

    /usr/bin/python3 optuna_live.py METHOD SEED OUTDIR    # METHOD one of METHODS below
"""
import json, math, os, resource, subprocess, sys, time

import optuna

import workload as W

ANNEAL = os.environ.get("ANNEAL", os.path.join(W.HERE, "..", "..", "..", "anneal"))
optuna.logging.set_verbosity(optuna.logging.WARNING)

METHODS = {
    "Optuna TPE": lambda: optuna.pruners.NopPruner(),
    "Optuna TPE + median": lambda: optuna.pruners.MedianPruner(n_startup_trials=W.MEDIAN["startup_trials"]),
    "Optuna TPE + ASHA": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=W.ASHA["min_resource"], reduction_factor=W.ASHA["reduction_factor"]),
    "Optuna TPE + Hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=W.HYPERBAND["min_resource"], max_resource=W.HYPERBAND["max_resource"],
                                                                    reduction_factor=W.HYPERBAND["reduction_factor"]),
}


def cpu_now():
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # every reaped `anneal train`
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def log_rows(path):
    """(step, val_loss) of the log's complete lines that have a val_loss."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # the last piece has no newline yet (or is empty)
    if not lines:
        return []
    head = lines[0].split(",")
    si, vi = head.index("step"), head.index("val_loss")
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        if len(cells) == len(head) and cells[vi]:
            rows.append((int(cells[si]), float(cells[vi])))
    return rows


def objective_in(outdir):
    def objective(trial):
        peak = trial.suggest_float("peak", W.PEAK[0], W.PEAK[1], log=True)
        decay = trial.suggest_float("decay", W.DECAY[0], W.DECAY[1])
        shape = trial.suggest_categorical("shape", W.SHAPES)
        out = os.path.join(outdir, f"trial-{trial.number}.csv")
        with open(out + ".err", "w") as err:
            proc = subprocess.Popen([ANNEAL, "train", *W.train_args(), "--schedule", W.schedule(peak, decay, shape), "--out", out],
                                    stdout=subprocess.DEVNULL, stderr=err)
        seen, last = set(), None
        try:
            while True:
                running = proc.poll() is None
                for step, value in log_rows(out):
                    if step in seen:
                        continue
                    seen.add(step)
                    last = (step, value)
                    trial.set_user_attr("steps", step + 1)
                    trial.report(value, step)
                    if trial.should_prune():
                        raise optuna.TrialPruned(f"pruned at step {step}")
                if not running:
                    break
                time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if proc.returncode != 0 or last is None or last[0] != W.STEPS - 1:
            return float("nan")  # diverged or failed: Optuna marks the trial failed, as Anneal's sweep does
        return last[1]
    return objective


def sweep(method, seed, outdir, target):
    os.makedirs(outdir, exist_ok=True)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed), pruner=METHODS[method]())
    hit = {}
    t0 = time.time()

    def stop_at_target(study, trial):
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.value <= target and not hit:
            hit.update(number=trial.number, wall=time.time() - t0, cpu=cpu_now())
            study.stop()

    study.optimize(objective_in(outdir), n_trials=W.MAX_TRIALS, callbacks=[stop_at_target])
    ts = study.trials
    ran = [t for t in ts if not hit or t.number <= hit["number"]]
    state = {optuna.trial.TrialState.COMPLETE: "complete", optuna.trial.TrialState.PRUNED: "pruned", optuna.trial.TrialState.FAIL: "failed"}
    value = lambda t: t.value if t.value is not None else (t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None)
    steps = lambda t: t.user_attrs.get("steps", 0)
    return {
        "tool": "optuna", "method": method, "seed": seed, "target": target, "reached": bool(hit),
        "trials_to_target": len(ran) if hit else None,
        "steps_to_target": sum(steps(t) for t in ran) if hit else None,
        "wall_to_target": round(hit["wall"], 2) if hit else None,
        "cpu_to_target": round(hit["cpu"], 2) if hit else None,
        "steps_total": sum(steps(t) for t in ran),
        "wall_total": round(time.time() - t0, 2), "cpu_total": round(cpu_now(), 2),
        "trials": [[t.number, state.get(t.state, str(t.state)), None if value(t) is None or math.isnan(value(t)) else round(value(t), 5), steps(t),
                    {k: (round(v, 6) if isinstance(v, float) else v) for k, v in t.params.items()}] for t in ran],
    }


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in METHODS:
        raise SystemExit(f"usage: optuna_live.py METHOD SEED OUTDIR (METHOD: {', '.join(METHODS)})")
    print(json.dumps(sweep(sys.argv[1], int(sys.argv[2]), sys.argv[3], W.target())), flush=True)


if __name__ == "__main__":
    main()
