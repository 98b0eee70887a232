#!/usr/bin/env python3
"""Prints the live-sweep table (docs/tuning.md, "Live engine sweeps") from the JSON lines of anneal_live.py and
optuna_live.py. Medians over seeds count a sweep that did not reach the target as infinitely costly (the median is
"not reached" when half the seeds or more did not reach it), as the tabular benchmark does.

    python3 table.py results.jsonl
"""
import json, math, statistics, sys

ORDER = ["random", "random + ASHA", "random + Hyperband", "GP-BO", "GP-BO + forecast",
         "Optuna TPE", "Optuna TPE + median", "Optuna TPE + ASHA", "Optuna TPE + Hyperband"]


def median(rows, key):
    xs = sorted(r[key] if r["reached"] else math.inf for r in rows)
    m = statistics.median(xs) if xs else math.inf
    return m


def fmt(x, digits=0):
    if math.isinf(x) or math.isnan(x):
        return "not reached"
    return f"{x:,.{digits}f}"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    rows = [r for r in rows if r["method"] in ORDER]
    target = {r["target"] for r in rows}
    by = {}
    for r in rows:
        by.setdefault(r["method"], {})[r["seed"]] = r  # a later line of the same sweep replaces an earlier one
    print(f"target val_loss {', '.join(str(t) for t in sorted(target))}")
    print("| method | reached (seeds) | median trials | median steps to target | median wall-clock to target (s) | median CPU to target (s) "
          "| steps per seed (> = not reached in the budget) | steps spent in total | trials pruned |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for m in ORDER:
        if m not in by:
            continue
        rs = [by[m][s] for s in sorted(by[m])]
        per_seed = ", ".join((f"{r['steps_to_target']:,}" if r["reached"] else f">{r['steps_total']:,}") for r in rs)
        pruned = sum(1 for r in rs for t in r["trials"] if t[1] == "pruned")
        print(f"| {m} | {sum(r['reached'] for r in rs)}/{len(rs)} | {fmt(median(rs, 'trials_to_target'), 1)} | {fmt(median(rs, 'steps_to_target'))} "
              f"| {fmt(median(rs, 'wall_to_target'))} | {fmt(median(rs, 'cpu_to_target'))} | {per_seed} | {sum(r['steps_total'] for r in rs):,} | {pruned} |")
    cpu = sum(r["cpu_total"] for r in rows)
    print(f"\nCPU time of all {len(rows)} sweeps: {cpu / 60:.1f} min (user + system); wall-clock {sum(r['wall_total'] for r in rows) / 60:.1f} min")


if __name__ == "__main__":
    main()
