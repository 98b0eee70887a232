#!/usr/bin/env bash
# Learning-rate schedule sweep on gpt-tiny / Brown: same model, data, seed, optimizer and steps; only the schedule differs.
# Usage: docs/validation/run_sweep.sh [ANNEAL_COMMAND]   (default: dotnet run --project src/Anneal.Cli -c Release --)
set -euo pipefail
cd "$(dirname "$0")/../.."
ANNEAL=${1:-"dotnet run --project src/Anneal.Cli -c Release --"}
STEPS=1000; PEAK=3e-3; W=50
declare -A SCHED=(
  [constant]="constant(peak=$PEAK, warmup=$W)"
  [cosine]="cosine(peak=$PEAK, total=$STEPS, warmup=$W)"
  [wsd_sqrt]="wsd(peak=$PEAK, total=$STEPS, warmup=$W, decay=0.2, shape=sqrt)"
  [linear_to_zero]="linear(peak=$PEAK, total=$STEPS, warmup=$W)"
  [step]="warmup(step(peak=$PEAK, every=330, gamma=0.3), steps=$W)"
)
for name in constant cosine wsd_sqrt linear_to_zero step; do
  $ANNEAL train --model gpt-tiny --data brown --schedule "${SCHED[$name]}" --steps $STEPS --batch 16 --seq 64 \
    --optimizer adamw --eval-every 100 --eval-batches 16 --seed 1 --threads 2 --out "docs/validation/gpt-tiny-$name.csv"
  rm -f "docs/validation/gpt-tiny-$name.csv.ckpt"
done
