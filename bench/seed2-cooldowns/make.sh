#!/usr/bin/env bash
# Makes the seed-2 twins of the two fitted 10 % cooldowns (wsd_lin10_T900_s2, wsd_lin10_T1200_s2) of a long-design corpus
# with data/corpora/generate.sh's own functions (workload, define, train: the same engine, model, data, optimizer and
# anneal train command line as the corpus's runs), into bench/seed2-cooldowns/<corpus>/ -- not data/corpora, so the
# protocol and every pinned count stay as they are. Usage: bench/seed2-cooldowns/make.sh gpt-cmake|gpt-erlang|mlp-muon
# (set LD_LIBRARY_PATH to an OpenBLAS 0.3.21 for gpt-erlang and mlp-muon, whose runs used it: train refuses another backend).
# constant_s2 is retrained to step 1,200 with checkpoints at 810 and 1,080 (the branch steps); its CSV must equal the
# bundled data/corpora/<corpus>/constant_s2.csv's first 121 lines (determinism) -- checked, then not kept.
set -euo pipefail
WL=$1
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
sed '$d' data/corpora/generate.sh > "data/corpora/.seed2-$WL.sh"   # everything but the final generation loop
source "data/corpora/.seed2-$WL.sh"
rm -f "data/corpora/.seed2-$WL.sh"
workload "$WL"            # reads BACKEND from data/corpora/$WL/corpus.json
DIR=bench/seed2-cooldowns/$WL; mkdir -p "$DIR"
P=$PEAK W=$WARMUP
define constant_s2 2 1200 "constant(peak=$P, warmup=$W)"
for T in 900 1200; do define "wsd_lin10_T${T}_s2" 2 "$T" "wsd(peak=$P, total=$T, warmup=$W, decay=0.1)" constant_s2 $(( T - T / 10 )); done
echo "[$WL] engine $ENGINE, backend of the corpus $BACKEND"
for n in "${NAMES[@]}"; do train "$n"; done
cmp "$DIR/constant_s2.csv" <(head -n "$(wc -l < "$DIR/constant_s2.csv")" "data/corpora/$WL/constant_s2.csv") \
  && echo "[$WL] constant_s2 to 1,200 equals the bundled run's rows byte for byte" && rm "$DIR/constant_s2.csv"
