#!/usr/bin/env bash
# Records a learning-rate x schedule tuning table of docs/tuning.md with Anneal's CPU engine: for each peak
# learning rate, a constant-rate run (checkpoints kept at the WSD cooldown starts), WSD cooldowns branched from the
# constant run (each costs only its own steps) and optionally a cosine run. Every configuration's full curve is
# recorded once here; the tuning benchmark (bench/Anneal.Bench tuning-table) then replays sweeps from it.
#
#   bench/tuning/record_lr_table.sh mlp|mlp-large|gpt-tiny
#
# mlp: the first, small table (4 peaks x {constant, WSD 20%, WSD 50%}: 12 configurations).
# mlp-large: the larger one (6 peaks from 0.00884 to 0.141 x {constant, WSD linear 10/20/35/50%, WSD 1-sqrt 20/50%,
# cosine}: up to 48 configurations), recorded in three passes (constant runs and linear cooldowns of every
# peak, then 1-sqrt cooldowns, then cosine runs) so that a stopped recording still covers every peak.
#
# Output: data/tuning/<table>/<shape>_p<peak>.csv (step,lr,loss,val_loss) and table.json listing them.
# Resumable (a finished CSV is skipped). One training thread, one run at a time. The runs use a private copy of the
# build, so rebuilding the tree during a recording does not swap the engine between two runs of one table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
WORK=${ANNEAL_TABLE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/anneal/tuning-work}
# TABLE_COSINE=1 adds a cosine run per peak (a full run each, where a WSD cooldown costs only its own steps; the
# recorded mlp table has none).
COSINE=${TABLE_COSINE:-0}
STEPS=1000; EVAL_EVERY=50; EVAL_BATCHES=16; LOG_EVERY=10
# COOLDOWNS: WSD cooldowns as SHAPE:FRACTION (shape linear or sqrt); PASS2: those recorded after the cosine runs
case ${1:-} in
  mlp) MODEL="mlp(context=4, hidden=256)"; WORKLOAD=mlp; WARMUP=50; PEAKS=${TABLE_PEAKS:-"6.25e-3 2.5e-2 1e-1 4e-1"}
    COOLDOWNS="linear:0.2 linear:0.5"; PASS2="" ;;
  mlp-large) MODEL="mlp(context=4, hidden=256)"; WORKLOAD=mlp; WARMUP=50; COSINE=1
    # 0.05 x 2^(k/2) for k = -5, -3, -1, 0, 1, 3 (three digits): the corpus peak 0.05 with its neighbours a factor
    # sqrt(2) apart, then a factor 2 apart out to slow and unstable rates. The first plan was all ten k = -5..4; the
    # machine's load (a step took 0.2-0.7 s instead of 0.053 s) left time for these six. Listed in recording order.
    PEAKS=${TABLE_PEAKS:-"5e-2 3.54e-2 8.84e-3 7.07e-2 1.77e-2 1.41e-1"}
    COOLDOWNS="linear:0.1 linear:0.2 linear:0.35 linear:0.5 sqrt:0.2 sqrt:0.5"; PASS2="sqrt:0.2 sqrt:0.5" ;;
  gpt-tiny) MODEL="gpt-tiny"; WORKLOAD=gpt-tiny; WARMUP=100; PEAKS=${TABLE_PEAKS:-"3e-3 1.5e-3 6e-3 1.2e-2 7.5e-4"}
    COOLDOWNS="linear:0.2"; PASS2="" ;;
  *) echo "record_lr_table.sh: name a table: mlp, mlp-large or gpt-tiny" >&2; exit 2 ;;
esac
WL=$1; DIR=data/tuning/$WL; mkdir -p "$DIR" "$WORK/$WL"
# a private copy of the build (BIN) and its version (ENGINE); TABLE_JSON_ONLY trains nothing, so it builds nothing
ANNEAL_SKIP_BUILD=${TABLE_JSON_ONLY:-0} source bench/private_engine.sh

# run NAME SCHEDULE [--save-at K,... | --branch-from CKPT]: fails (status 1) when another recorder holds the run (its
# lock), so two recorders can share a table (e.g. TABLE_ORDER=reverse for the second); a stale lock (a killed
# recorder) is removed by hand: $WORK/<table>/NAME.lock
run() {
  local name=$1 spec=$2; shift 2
  [[ -f $DIR/$name.csv ]] && return 0
  mkdir "$WORK/$WL/$name.lock" 2>/dev/null || { echo "$WL	$name: another recorder has it, skipped"; return 1; }
  trap 'rm -rf "$BINDIR" "$WORK/$WL/$name.lock"' EXIT
  local raw=$WORK/$WL/$name.csv t0; t0=$(date +%s.%N)
  "$BIN" train --model "$MODEL" --data brown --batch 16 --seq 64 --optimizer adamw --clip 1 --seed 1 --schedule "$spec" \
    --steps $STEPS --log-every $LOG_EVERY --eval-every $EVAL_EVERY --eval-batches $EVAL_BATCHES --threads 1 --out "$raw" "$@" \
    >"$WORK/$WL/$name.log" 2>&1 || { tail -5 "$WORK/$WL/$name.log" >&2; exit 1; }
  cut -d, -f1-4 "$raw" >"$DIR/.$name.tmp" && mv "$DIR/.$name.tmp" "$DIR/$name.csv"
  rmdir "$WORK/$WL/$name.lock"; trap 'rm -rf "$BINDIR"' EXIT
  printf '%s\t%s\t%.1f s\n' "$WL" "$name" "$(echo "$(date +%s.%N) - $t0" | bc)"
}

# the cooldown's first step, its key (wsd20 for linear 20%, wsdsqrt20 for 1-sqrt) and spec at peak $2
at_of() { echo "$STEPS * (1 - ${1#*:}) / 1" | bc; }
key_of() { local pct; pct=$(echo "${1#*:} * 100 / 1" | bc); [[ ${1%%:*} == linear ]] && echo "wsd${pct}_p$2" || echo "wsd${1%%:*}${pct}_p$2"; }
spec_of() { local s=""; [[ ${1%%:*} == linear ]] || s=", shape=${1%%:*}"; echo "wsd(peak=$2, total=$STEPS, warmup=$WARMUP, decay=${1#*:}$s)"; }
in_pass2() { [[ " $PASS2 " == *" $1 "* ]]; }

entries=()
# a configuration whose run was not recorded (a stopped recording) is left out
entry() { [[ -f $DIR/$1.csv ]] && entries+=("{\"key\": \"$1\", \"shape\": \"$2\", \"peak\": $3, \"schedule\": \"$4\", \"file\": \"$1.csv\"}") || true; }
# pass 1: constant runs and the cooldowns not in PASS2; pass 2: the PASS2 cooldowns; pass 3: cosine runs (the
# costliest: a full run each). A cooldown whose parent another recorder is still training is left to that recorder.
ORDER=$PEAKS; [[ ${TABLE_ORDER:-} == reverse ]] && ORDER=$(tr ' ' '\n' <<<"$PEAKS" | tac | paste -sd' ')
# TABLE_JSON_ONLY=1 trains nothing and lists what is recorded (a recording another recorder is still extending)
PASSES="1 2 3"; [[ ${TABLE_JSON_ONLY:-0} == 1 ]] && PASSES=""
for pass in $PASSES; do
  for p in $ORDER; do
    const="constant(peak=$p, warmup=$WARMUP)"
    if [[ $pass == 1 ]]; then
      saves=$(for c in $COOLDOWNS; do at_of "$c"; done | sort -nu | paste -sd,)
      run "constant_p$p" "$const" --save-at "$saves" || continue
    fi
    if [[ $pass == 3 && $COSINE == 1 ]]; then
      run "cosine_p$p" "cosine(peak=$p, total=$STEPS, warmup=$WARMUP)" || true
    fi
    for c in $COOLDOWNS; do
      if { [[ $pass == 1 ]] && ! in_pass2 "$c"; } || { [[ $pass == 2 ]] && in_pass2 "$c"; }; then
        ck="$WORK/$WL/constant_p$p.csv.step$(at_of "$c").ckpt"
        [[ -f $ck ]] || continue
        run "$(key_of "$c" "$p")" "$(spec_of "$c" "$p")" --branch-from "$ck" || true
      fi
    done
  done
done
# table.json lists the configurations sorted by peak, then shape
for p in $(tr ' ' '\n' <<<"$PEAKS" | sort -g); do
  entry "constant_p$p" constant "$p" "constant(peak=$p, warmup=$WARMUP)"
  [[ $COSINE == 1 ]] && entry "cosine_p$p" cosine "$p" "cosine(peak=$p, total=$STEPS, warmup=$WARMUP)"
  for c in $COOLDOWNS; do k=$(key_of "$c" "$p"); entry "$k" "${k%_p*}" "$p" "$(spec_of "$c" "$p")"; done
done
{
  echo "{\"format\": \"anneal-tuning-table/1\", \"workload\": \"$WORKLOAD\", \"model\": \"$MODEL\", \"steps\": $STEPS, \"metric\": \"val_loss\","
  echo " \"source\": \"anneal train (engine $ENGINE), brown, batch 16 x 64, adamw, clip 1, seed 1, one thread, eval every $EVAL_EVERY on $EVAL_BATCHES batches\","
  echo " \"configurations\": ["
  printf '  %s,\n' "${entries[@]}" | sed '$ s/,$//'
  echo " ]}"
} >"$DIR/.table.json.tmp" && mv "$DIR/.table.json.tmp" "$DIR/table.json"
echo "wrote $DIR/table.json (${#entries[@]} configurations)"
