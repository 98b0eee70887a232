#!/usr/bin/env bash
# Latency of `anneal watch` on a 100k-step log: a CSV of a 100k-step cosine run (one row per step) grows from
# START rows by CHUNK rows every PAUSE seconds, N times; each update line says how long after the log changed
# the forecast was printed ("... s after the log changed") and how long its fit took. Prints every update and
# the median and largest latency (the first update, which includes start-up, is reported apart).
#   bench/watch_latency.sh [START=30000] [CHUNK=1000] [N=10] [PAUSE=2] [LAW=auto]
set -euo pipefail
start=${1:-30000} chunk=${2:-1000} n=${3:-10} pause=${4:-2} law=${5:-auto}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
"$here/anneal" --version >/dev/null 2>&1 || true
spec="cosine(peak=3e-4, total=100000, warmup=2000, min=3e-5)"
python3 - "$dir/full.csv" <<'PY'
import math, sys, random
random.seed(1)
T, W, peak, mn = 100000, 2000, 3e-4, 3e-5
with open(sys.argv[1], "w") as f:
    f.write("step,lr,loss\n")
    area = 0.0
    for s in range(T):
        lr = peak * s / W if s < W else mn + (peak - mn) * 0.5 * (1 + math.cos(math.pi * (s - W) / (T - W)))
        area += lr
        # a multi-power-law-like curve with 0.5% noise
        loss = (2.4 + 0.9 * (1 + 300 * area) ** -0.5 - 150 * (peak - lr) * 0.02) * (1 + 0.005 * random.gauss(0, 1))
        f.write(f"{s},{lr!r},{loss:.5f}\n")
PY
head -$((start + 1)) "$dir/full.csv" > "$dir/log.csv"
(
  line=$((start + 2))
  for _ in $(seq 1 "$n"); do
    sleep "$pause"
    sed -n "${line},$((line + chunk - 1))p" "$dir/full.csv" >> "$dir/log.csv"
    line=$((line + chunk))
  done
) &
"$here/anneal" watch "$dir/log.csv" --schedule "$spec" --law "$law" --idle $((pause * 2 + 2)) 2>/dev/null | tee "$dir/out.txt"
wait
python3 - "$dir/out.txt" <<'PY'
import re, statistics, sys
lat = [float(m.group(1)) for m in re.finditer(r"([0-9.]+) s after the log changed", open(sys.argv[1]).read())]
fit = [float(m.group(1)) for m in re.finditer(r"fit ([0-9.]+) s", open(sys.argv[1]).read())]
if len(lat) > 1:
    rest = lat[1:]
    print(f"updates {len(lat)}; first (with start-up) {lat[0]:.2f} s; then median {statistics.median(rest):.2f} s, max {max(rest):.2f} s; fit median {statistics.median(fit[1:]):.2f} s")
PY
