"""The live-sweep workload (docs/tuning.md, "Live engine sweeps"): one definition read by both sides.

Anneal's study files (anneal_live.py) and Optuna's objective (optuna_live.py) are built from these values, so both
tools search the same space and train the same `anneal train` runs: the training seed is fixed, so a configuration
gives the same curve bit for bit whichever tool proposes it; the sweep seed only seeds the sampler.
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))

MODEL = "mlp(context=4, hidden=256)"
DATA = "brown"
STEPS = 300
WARMUP = 15
BATCH = 8
SEQ = 64
EVAL_EVERY = 25
EVAL_BATCHES = 8
TRAIN_SEED = 1
THREADS = 1
# A WSD cooldown of a fraction `decay` of the run, linear or cosine-shaped; decay 0.95 with the cosine shape is the
# cosine schedule from the end of the warmup. The peak is searched on a log scale over two decades.
SCHEDULE = "wsd(peak={peak}, total=%d, warmup=%d, decay={decay}, shape={shape})" % (STEPS, WARMUP)
PEAK = (3e-3, 3e-1)
DECAY = (0.1, 0.95)
SHAPES = ["linear", "cosine"]
MAX_TRIALS = 20  # a sweep that has not reached the target after this many trials counts as not reached

# Pruner settings, the same numbers on both sides (steps are the log's update indices, evaluations every 25 updates).
ASHA = {"min_resource": 25, "reduction_factor": 3}
HYPERBAND = {"min_resource": 25, "max_resource": STEPS, "reduction_factor": 3}
MEDIAN = {"startup_trials": 5}


def train_args():
    """`anneal train` options of one trial, without --schedule and --out."""
    return ["--model", MODEL, "--data", DATA, "--steps", str(STEPS), "--batch", str(BATCH), "--seq", str(SEQ),
            "--eval-every", str(EVAL_EVERY), "--eval-batches", str(EVAL_BATCHES), "--log-every", str(EVAL_EVERY),
            "--seed", str(TRAIN_SEED), "--threads", str(THREADS)]


def schedule(peak, decay, shape):
    return SCHEDULE.replace("{peak}", repr(float(peak))).replace("{decay}", repr(float(decay))).replace("{shape}", shape)


def target():
    """The declared target (target.json, written once by `run.sh calibrate` before any benchmarked sweep)."""
    path = os.path.join(HERE, "target.json")
    if not os.path.exists(path):
        raise SystemExit(f"{path} is missing: run bench/tuning/live/run.sh calibrate first")
    with open(path) as f:
        return json.load(f)["target"]
