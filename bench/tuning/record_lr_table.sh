#!/usr/bin/env bash
# Records the learning-rate x schedule tuning table of docs/tuning.md with Anneal's CPU engine: for each peak
# learning rate, a constant-rate run (checkpoints kept at the WSD cooldown starts), a cosine run, and WSD cooldowns
# branched from the constant run (each costs only its own steps). Every configuration's full curve is recorded once
# here; the tuning benchmark (bench/Anneal.Bench tuning-table) then replays sweeps from it.
#
#   bench/tuning/record_lr_table.sh mlp|gpt-tiny
#
# Output: data/tuning/<workload>/<shape>_p<peak>.csv (step,lr,loss,val_loss) and table.json listing them.
# Resumable (a finished CSV is skipped). One training thread, one run at a time per workload.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=src/Anneal.Cli/bin/Release/net10.0/Anneal.Cli
[[ -x $BIN ]] || dotnet build src/Anneal.Cli -c Release -v quiet -nologo >/dev/null
WORK=${ANNEAL_TABLE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/anneal/tuning-work}
# TABLE_COSINE=1 adds a cosine run per peak (a full run each, where a WSD cooldown costs only its own steps; the
# recorded mlp table has none).
COSINE=${TABLE_COSINE:-0}
STEPS=1000; EVAL_EVERY=50; EVAL_BATCHES=16; LOG_EVERY=10
case ${1:-} in
  mlp) MODEL="mlp(context=4, hidden=256)"; WARMUP=50; PEAKS=${TABLE_PEAKS:-"6.25e-3 2.5e-2 1e-1 4e-1"}; DECAYS="0.2 0.5" ;;
  gpt-tiny) MODEL="gpt-tiny"; WARMUP=100; PEAKS=${TABLE_PEAKS:-"3e-3 1.5e-3 6e-3 1.2e-2 7.5e-4"}; DECAYS="0.2" ;;
  *) echo "record_lr_table.sh: name a workload: mlp or gpt-tiny" >&2; exit 2 ;;
esac
WL=$1; DIR=data/tuning/$WL; mkdir -p "$DIR" "$WORK/$WL"
ENGINE=$(git log -1 --format=%h -- src/Anneal.Training src/Anneal.Cli src/Anneal/Schedules)

# run NAME SCHEDULE [--save-at K,... | --branch-from CKPT]
run() {
  local name=$1 spec=$2; shift 2
  [[ -f $DIR/$name.csv ]] && return 0
  local raw=$WORK/$WL/$name.csv t0; t0=$(date +%s.%N)
  "$BIN" train --model "$MODEL" --data brown --batch 16 --seq 64 --optimizer adamw --clip 1 --seed 1 --schedule "$spec" \
    --steps $STEPS --log-every $LOG_EVERY --eval-every $EVAL_EVERY --eval-batches $EVAL_BATCHES --threads 1 --out "$raw" "$@" \
    >"$WORK/$WL/$name.log" 2>&1 || { tail -5 "$WORK/$WL/$name.log" >&2; exit 1; }
  cut -d, -f1-4 "$raw" >"$DIR/.$name.tmp" && mv "$DIR/.$name.tmp" "$DIR/$name.csv"
  printf '%s\t%s\t%.1f s\n' "$WL" "$name" "$(echo "$(date +%s.%N) - $t0" | bc)"
}

entries=()
for p in $PEAKS; do
  saves=$(for d in $DECAYS; do echo "$STEPS * (1 - $d) / 1" | bc; done | paste -sd,)
  const="constant(peak=$p, warmup=$WARMUP)"
  run "constant_p$p" "$const" --save-at "$saves"
  entries+=("{\"key\": \"constant_p$p\", \"shape\": \"constant\", \"peak\": $p, \"schedule\": \"$const\", \"file\": \"constant_p$p.csv\"}")
  if [[ $COSINE == 1 ]]; then
    cos="cosine(peak=$p, total=$STEPS, warmup=$WARMUP)"
    run "cosine_p$p" "$cos"
    entries+=("{\"key\": \"cosine_p$p\", \"shape\": \"cosine\", \"peak\": $p, \"schedule\": \"$cos\", \"file\": \"cosine_p$p.csv\"}")
  fi
  for d in $DECAYS; do
    at=$(echo "$STEPS * (1 - $d) / 1" | bc); pct=$(echo "$d * 100 / 1" | bc)
    wsd="wsd(peak=$p, total=$STEPS, warmup=$WARMUP, decay=$d)"
    run "wsd$pct"_p$p "$wsd" --branch-from "$WORK/$WL/constant_p$p.csv.step$at.ckpt"
    entries+=("{\"key\": \"wsd${pct}_p$p\", \"shape\": \"wsd$pct\", \"peak\": $p, \"schedule\": \"$wsd\", \"file\": \"wsd${pct}_p$p.csv\"}")
  done
done
{
  echo "{\"format\": \"anneal-tuning-table/1\", \"workload\": \"$WL\", \"model\": \"$MODEL\", \"steps\": $STEPS, \"metric\": \"val_loss\","
  echo " \"source\": \"anneal train (engine $ENGINE), brown, batch 16 x 64, adamw, clip 1, seed 1, one thread, eval every $EVAL_EVERY on $EVAL_BATCHES batches\","
  echo " \"configurations\": ["
  printf '  %s,\n' "${entries[@]}" | sed '$ s/,$//'
  echo " ]}"
} >"$DIR/.table.json.tmp" && mv "$DIR/.table.json.tmp" "$DIR/table.json"
echo "wrote $DIR/table.json (${#entries[@]} configurations)"
