#!/usr/bin/env python3
"""Anneal's side of the live-sweep benchmark (docs/tuning.md, "Live engine sweeps").

Each sweep is one real `anneal sweep run STUDY.yaml --workers 1 --threads 1` on the workload of workload.py (every
trial an engine training run, reported to the pruner from the trainer's event stream). The study runs with a budget
of MAX_TRIALS trials; this script follows the study in its SQLite store (read-only) and stops the sweep with SIGTERM
as soon as a complete trial is at or below the target (the worker then requeues the trial it had just started;
nothing of it is counted). Per sweep it prints one JSON line:
  steps_to_target: every training step of every trial up to and including the first at the target;
  wall_to_target:  seconds from starting `anneal sweep run` (process start and corpus load included) to that trial's end;
  cpu_to_target:   the sweep process's user+system CPU seconds at the first poll after that trial's end (polls every 0.25 s);
  steps_total:     every step the sweep ran (= steps_to_target when reached, else the whole budget).

    python3 anneal_live.py METHOD SEED OUTDIR          # one sweep, METHOD one of METHODS below
    python3 anneal_live.py calibrate OUTDIR             # the 16-point Sobol sweep that declares the target (target.json)
"""
import json, os, signal, sqlite3, subprocess, sys, time

import workload as W

ANNEAL = os.environ.get("ANNEAL", os.path.join(W.HERE, "..", "..", "..", "anneal"))
TICKS = os.sysconf("SC_CLK_TCK")

METHODS = {
    "random": ("random", "none"),
    "random + ASHA": ("random", "{asha: {min_resource: %d, reduction_factor: %d}}" % (W.ASHA["min_resource"], W.ASHA["reduction_factor"])),
    "random + Hyperband": ("random", "{hyperband: {min_resource: %d, max_resource: %d, reduction_factor: %d}}"
                           % (W.HYPERBAND["min_resource"], W.HYPERBAND["max_resource"], W.HYPERBAND["reduction_factor"])),
    "GP-BO": ("gp", "none"),
    "GP-BO + forecast": ("gp", "forecast"),
}


def study_yaml(name, sampler, pruner, seed, trials):
    return f"""name: {name}
objective: {{train: {{model: "{W.MODEL}", data: {W.DATA}, steps: {W.STEPS}, metric: val_loss, batch: {W.BATCH}, seq: {W.SEQ}, eval_every: {W.EVAL_EVERY}, eval_batches: {W.EVAL_BATCHES}, log_every: {W.EVAL_EVERY}, seed: {W.TRAIN_SEED}, threads: {W.THREADS}}}}}
schedule: "{W.SCHEDULE}"
space: {{peak: {{log_uniform: [{W.PEAK[0]}, {W.PEAK[1]}]}}, decay: {{uniform: [{W.DECAY[0]}, {W.DECAY[1]}]}}, shape: {{choice: [{", ".join(W.SHAPES)}]}}}}
sampler: {sampler}
pruner: {pruner}
budget: {{trials: {trials}}}
seed: {seed}
"""


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def trials_of(db, name):
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = c.execute("""SELECT t.number, t.state, t.value, t.params, t.finished_at,
                                       (SELECT MAX(step) FROM trial_values v WHERE v.trial_id = t.id)
                                FROM trials t JOIN studies s ON s.id = t.study_id WHERE s.name = ? ORDER BY t.number""", (name,)).fetchall()
        finally:
            c.close()
    except sqlite3.Error:
        return None  # not created yet, or busy: the next poll reads it
    return [dict(number=n, state=st, value=v, params=json.loads(p), finished_at=f, steps=(m + 1) if m is not None else 0)
            for n, st, v, p, f, m in rows]


def sweep(method, seed, outdir, target, trials=W.MAX_TRIALS, calibrate=False):
    sampler, pruner = ("sobol", "none") if calibrate else METHODS[method]
    name = "calibrate" if calibrate else "live-" + method.replace(" + ", "-").replace(" ", "").lower() + f"-s{seed}"
    os.makedirs(outdir, exist_ok=True)
    path = os.path.join(outdir, name + ".yaml")
    with open(path, "w") as f:
        f.write(study_yaml(name, sampler, pruner, seed, trials))
    db = os.path.join(outdir, name + ".db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    log = open(os.path.join(outdir, name + ".log"), "w")
    t0 = time.time()
    proc = subprocess.Popen([ANNEAL, "sweep", "run", path, "--trials", str(trials), "--workers", "1", "--threads", str(W.THREADS),
                             "--store", db, "--out-dir", os.path.join(outdir, name)], stdout=log, stderr=subprocess.STDOUT)
    hit, cpu_at_hit, cpu_last = None, None, 0.0
    while True:
        done = proc.poll() is not None
        cpu = cpu_seconds(proc.pid) if not done else None
        if cpu is not None:
            cpu_last = cpu
        ts = trials_of(db, name)
        if ts and target is not None:
            at = [t for t in ts if t["state"] == "complete" and t["value"] is not None and t["value"] <= target]
            if at:
                hit = min(at, key=lambda t: t["finished_at"])
                cpu_at_hit = cpu_last
                break
        if done:
            break
        time.sleep(0.25)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the worker requeues the trial it started after the hit and exits
    rc = proc.wait()
    wall_total = time.time() - t0
    log.close()
    ts = trials_of(db, name) or []
    ran = [t for t in ts if hit is None or t["number"] <= hit["number"]]
    row = {
        "tool": "anneal", "method": method if not calibrate else "calibrate (sobol)", "seed": seed, "target": target,
        "reached": hit is not None,
        "trials_to_target": len(ran) if hit else None,
        "steps_to_target": sum(t["steps"] for t in ran) if hit else None,
        "wall_to_target": round(hit["finished_at"] / 1000 - t0, 2) if hit else None,
        "cpu_to_target": round(cpu_at_hit, 2) if hit else None,
        "steps_total": sum(t["steps"] for t in ran),
        "wall_total": round(wall_total, 2), "cpu_total": round(cpu_last, 2), "exit": rc,
        "trials": [[t["number"], t["state"], None if t["value"] is None else round(t["value"], 5), t["steps"],
                    {k: (round(v, 6) if isinstance(v, float) else v) for k, v in t["params"].items()}] for t in ran],
    }
    if not calibrate and hit is None and rc != 0:
        row["error"] = f"anneal sweep run exited {rc}; see {log.name}"
    return row


def declare_target(row, path):
    """The target: the 3rd best final val_loss of the 16-point Sobol' calibration sweep (about 3/16 of the space reaches it)."""
    values = sorted(t[2] for t in row["trials"] if t[1] == "complete")
    doc = {"target": values[2],
           "rule": "3rd best final val_loss of a 16-point Sobol sweep (sampler seed 99, no pruning) over the space, declared before any benchmarked sweep",
           "calibration": row["trials"], "cpu_seconds": row["cpu_total"], "wall_seconds": row["wall_total"]}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"target {doc['target']} (calibration values: {values}); written to {path}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "calibrate":
        row = sweep(None, 99, sys.argv[2], None, trials=16, calibrate=True)
        declare_target(row, os.path.join(W.HERE, "target.json"))
        return
    if len(sys.argv) != 4 or sys.argv[1] not in METHODS:
        raise SystemExit(f"usage: anneal_live.py METHOD SEED OUTDIR (METHOD: {', '.join(METHODS)}) | anneal_live.py calibrate OUTDIR")
    print(json.dumps(sweep(sys.argv[1], int(sys.argv[2]), sys.argv[3], W.target())), flush=True)


if __name__ == "__main__":
    main()
