#!/usr/bin/env bash
# Live engine sweeps: time-to-target of Anneal's `anneal sweep run` (random, random + ASHA, random + Hyperband, GP-BO,
# GP-BO + forecast) side by side with Optuna's TPE (alone, + median, + successive halving, + Hyperband) calling
# `anneal train` as its objective. docs/tuning.md, "Live engine sweeps".
#
#   bench/tuning/live/run.sh calibrate            # once, before any benchmarked sweep: declares target.json
#   bench/tuning/live/run.sh [SEEDS] [RESULTS]    # SEEDS default 5; RESULTS default bench/tuning/live/results.jsonl
#
# Environment: JOBS (sweeps at once, default 2; each trains with one thread), WORK (scratch folder for the studies'
# stores and logs, default /tmp/anneal-live), ANNEAL (the anneal command, default this checkout's ./anneal).
# Resumable: a (tool, method, seed) already in RESULTS is not run again. The Optuna rows are skipped, with a
# message, when /usr/bin/python3 (or python3) cannot import optuna (Debian's python3-optuna; a peer, not a dependency).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
export ANNEAL="${ANNEAL:-$repo/anneal}"
work="${WORK:-/tmp/anneal-live}"
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3

"$ANNEAL" --version >/dev/null  # builds the CLI once before sweeps start timing it

if [[ "${1:-}" == "calibrate" ]]; then
  # A 16-point Sobol' sweep (sampler seed 99, not a benchmarked seed, no pruning) over the space; the target is its
  # 3rd best final val_loss, so about 3/16 of the space reaches it. Written to target.json.
  nice -n 0 "$py" "$here/anneal_live.py" calibrate "$work/calibrate"
  exit 0
fi

seeds="${1:-5}"
results="${2:-$here/results.jsonl}"
touch "$results"
have_optuna=1
if ! "$py" -c "import optuna" 2>/dev/null; then
  have_optuna=0
  echo "run.sh: optuna is not importable by $py (Debian: apt-get install python3-optuna); the Optuna rows are skipped" >&2
fi
anneal_methods=("random" "random + ASHA" "random + Hyperband" "GP-BO" "GP-BO + forecast")
optuna_methods=("Optuna TPE" "Optuna TPE + median" "Optuna TPE + ASHA" "Optuna TPE + Hyperband")

# The job list, seed by seed with the two tools interleaved, so that both see the same machine load over the run.
jobs=()
for ((s = 1; s <= seeds; s++)); do
  for i in 0 1 2 3 4; do
    jobs+=("anneal_live.py|${anneal_methods[$i]}|$s")
    if ((have_optuna)) && ((i < 4)); then jobs+=("optuna_live.py|${optuna_methods[$i]}|$s"); fi
  done
done
todo=()
for j in "${jobs[@]}"; do
  IFS='|' read -r script method seed <<<"$j"
  if ! grep -qF "\"method\": \"$method\", \"seed\": $seed," "$results"; then todo+=("$j"); fi
done
echo "run.sh: ${#todo[@]} sweeps to run (${JOBS:-2} at once); load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

run_one() {
  IFS='|' read -r script method seed <<<"$1"
  dir="$work/$(echo "$method" | tr -c 'A-Za-z0-9\n' '-')-s$seed"
  line="$(cd "$here" && nice -n 0 "$py" "$here/$script" "$method" "$seed" "$dir")"
  # one line per sweep; flock keeps lines of concurrent sweeps whole
  ( flock 9; printf '%s\n' "$line" >&9 ) 9>>"$results"
  echo "run.sh: $method seed $seed: $(echo "$line" | cut -c1-200) (load $(cut -d' ' -f1 /proc/loadavg))" >&2
}
export -f run_one
export here py work results
printf '%s\n' "${todo[@]}" | xargs -r -d '\n' -P "${JOBS:-2}" -I{} bash -c 'run_one "$1"' _ {}
"$py" "$here/table.py" "$results"
