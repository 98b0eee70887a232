#!/usr/bin/env bash
# What `anneal watch` costs a training run of our own engine: trains gpt-tiny PAIRS times alone and PAIRS times
# with `anneal watch` following its log (interleaved: alone, watched, alone, watched, ...), and prints each run's
# wall time, the trainer's CPU time (user + sys) and the watcher's CPU time.
#   bench/watch_overhead.sh [STEPS=200] [EVAL_EVERY=20] [PAIRS=2]
set -euo pipefail
steps=${1:-200} every=${2:-20} pairs=${3:-2}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
cat "$here"/docs/*.md "$here/README.md" > "$dir/text.txt"
spec="cosine(peak=3e-3, total=$steps, warmup=$((steps / 10)))"
"$here/anneal" --version >/dev/null 2>&1 || true
run() {  # $1 = alone|watched, $2 = index
  local log="$dir/$1-$2.csv"
  if [[ $1 == watched ]]; then
    /usr/bin/time -f "%e %U %S" -o "$dir/w-$2.time" "$here/anneal" watch "$log" --schedule "$spec" --idle 30 > "$dir/w-$2.out" 2> "$dir/w-$2.err" &
    local wpid=$!
  fi
  /usr/bin/time -f "%e %U %S" -o "$dir/t-$1-$2.time" "$here/anneal" train --data "$dir/text.txt" --schedule "$spec" --steps "$steps" \
    --eval-every "$every" --threads 2 --out "$log" > /dev/null 2>&1
  read -r wall user sys < "$dir/t-$1-$2.time"
  local extra=""
  if [[ $1 == watched ]]; then
    wait "$wpid" || true
    read -r ww wu ws < <(tail -1 "$dir/w-$2.time")
    grep -q "^error" "$dir/w-$2.err" && { echo "watch failed:"; cat "$dir/w-$2.err"; }
    extra="  watch: $(grep -c '^step' "$dir/w-$2.out") updates, CPU $(echo "$wu + $ws" | bc) s"
  fi
  echo "$1 #$2: train wall $wall s, train CPU $(echo "$user + $sys" | bc) s$extra"
}
for i in $(seq 1 "$pairs"); do run alone "$i"; run watched "$i"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
