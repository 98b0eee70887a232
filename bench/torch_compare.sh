#!/usr/bin/env bash
# Side-by-side training throughput: Anneal vs PyTorch (Debian python3-torch 1.13, CPU) on the same GPT,
# same batch, sequence length, optimizer, clipping and thread count.
# Usage: bench/torch_compare.sh [STEPS] [BATCH] [THREADS]     (defaults 30 steps, batch 16, 2 threads)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-30}; BATCH=${2:-16}; THREADS=${3:-2}
PY=/usr/bin/python3   # Debian's interpreter, where python3-torch installs
if ! "$PY" -c "import torch" 2>/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
  else
    echo "PyTorch missing: run 'sudo apt-get install python3-torch' and retry" >&2; exit 2
  fi
fi
dotnet build src/Anneal.Cli -c Release -v quiet -nologo >/dev/null
ANNEAL="dotnet src/Anneal.Cli/bin/Release/net10.0/Anneal.Cli.dll"
DATA=$(mktemp -d)
# random bytes for both engines: throughput does not depend on the text, and no corpus fetch is needed
head -c 2000000 /dev/urandom > "$DATA/random.txt"
echo "threads=$THREADS batch=$BATCH steps=$STEPS (first two steps untimed), tokens/s while training"
printf "%-10s %13s %13s %6s | %14s %14s %6s\n" model anneal_tok/s torch_tok/s ratio anneal_tok/cpus torch_tok/cpus ratio
for PRESET in gpt-tiny gpt-small; do
  A=$($ANNEAL train --model "$PRESET" --data "$DATA/random.txt" --schedule "constant(peak=1e-3)" --steps "$STEPS" --batch "$BATCH" \
        --eval-every 100000 --eval-batches 1 --threads $THREADS --out "$DATA/$PRESET.csv" 2>/dev/null | sed -n 's/.*, \([0-9]*\) tokens\/s (training; \([0-9]*\) per CPU-second).*/\1 \2/p')
  T=$("$PY" bench/torch_gpt.py --preset "$PRESET" --steps "$STEPS" --batch "$BATCH" --threads $THREADS --data "$DATA/random.txt" | sed -n 's/.*, \([0-9]*\) tokens\/s (training; \([0-9]*\) per CPU-second).*/\1 \2/p')
  read -r AW AC <<<"$A"; read -r TW TC <<<"$T"
  printf "%-10s %13s %13s %6s | %14s %14s %6s\n" "$PRESET" "$AW" "$TW" "$(awk -v a="$AW" -v t="$TW" 'BEGIN{printf "%.2f", a/t}')" \
    "$AC" "$TC" "$(awk -v a="$AC" -v t="$TC" 'BEGIN{printf "%.2f", a/t}')"
done
rm -rf "$DATA"
