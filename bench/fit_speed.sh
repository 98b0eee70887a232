#!/usr/bin/env bash
# Issue 10's speed target: the default fit of the published 400M split with its band, through ./anneal, process start
# included (< 1 s), next to an empty start (`./anneal --version`), with hyperfine (docs/benchmarks.md, "Session 18").
# Run from the repository root on a quiet machine: bench/fit_speed.sh [runs]   (default 20; 3 warm-up runs, the first of
# which records the fit's JIT profile). With a second checkout's binary as $BASE, the two are also run interleaved
# (bench/startup.py: wall and user+sys CPU medians, which load moves less than wall).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
D=data/examples/mpl/400m
FIT="fit $D/cosine_24000.csv@\"cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)\" $D/constant_24000.csv@\"constant(peak=3e-4, warmup=2160)\" $D/wsdcon_9.csv@\"join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])\" --out /tmp/fit400.law.json"
./anneal --version >/dev/null    # builds once if the sources changed
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N -w 3 -r "$runs" "./anneal --version" "./anneal $FIT"
if [[ -n "${BASE:-}" ]]; then
  bench/startup.py "$runs" "$BASE $FIT" "src/Anneal.Cli/bin/anneal/Anneal.Cli $FIT"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
