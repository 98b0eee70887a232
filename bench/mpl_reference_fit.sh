#!/usr/bin/env bash
# Independent check of 'mpl(warmup=reference)' fitted by the reference procedure: the same procedure
# re-run in SciPy + PyTorch (Debian python3-scipy, python3-torch; never a dependency of Anneal).
# Usage: bench/mpl_reference_fit.sh [SIZE]    (25m, 100m or 400m; default 400m)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-400m}
PY=/usr/bin/python3
if ! "$PY" -c "import torch, scipy" 2>/dev/null; then
  echo "needs python3-torch and python3-scipy: sudo apt-get install python3-torch python3-scipy" >&2; exit 2
fi
DATA=../shared/data/curves/mpl/$SIZE
LR=$(mktemp -d)
./anneal schedule sample "cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)" --steps 24000 --out "$LR/cosine_24000.csv" >/dev/null
./anneal schedule sample "constant(peak=3e-4, warmup=2160)" --steps 24000 --out "$LR/constant_24000.csv" >/dev/null
./anneal schedule sample "join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])" --steps 16000 --out "$LR/wsdcon_9.csv" >/dev/null
"$PY" bench/mpl_reference_fit.py "$DATA" "$LR"
echo "Anneal:"
./anneal fit "$DATA/cosine_24000.csv@cosine(peak=3e-4, total=24000, warmup=2160, min=3e-5)" "$DATA/constant_24000.csv@constant(peak=3e-4, warmup=2160)" \
  "$DATA/wsdcon_9.csv@join(constant(peak=3e-4, warmup=2160), constant(peak=9e-5), at=[8000])" --law "mpl(warmup=reference)" 2>/dev/null | sed -n 2,10p
rm -rf "$LR"
