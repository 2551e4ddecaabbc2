"""Names of the clipping study's axes, arrays and figures: defined once, used by compute, claims and figures."""

from __future__ import annotations

# ---- C5a geometry
CLIPS = ("value", "global_norm", "block_rms")  # optax.clip, optax.clip_by_global_norm, optax.clip_by_block_rms
AX_TAU = "tau"
AX_DIM = "dim"
AX_CLIP = "clip"
AX_REAL = "real_gradient"
COS_SYNTHETIC = "cos_synthetic"  # (dim, tau, clip): median cosine over the synthetic samples
WORST_SYNTHETIC = "worst_cos_synthetic"  # (dim, tau, clip): smallest cosine over the samples
COS_REAL = "cos_real"  # (real_gradient, tau, clip)
RATIO_REAL = "ratio_real"  # (real_gradient, tau, clip): ||clip(g)|| / ||g||
NORM_REAL = "grad_norm_real"  # (real_gradient,)
MAXABS_REAL = "grad_maxabs_real"  # (real_gradient,): largest |component|

# ---- the cliff
AX_CLIFF_W, AX_CLIFF_B = "cliff_w", "cliff_b"
AX_METHOD = "method"  # none, value, norm (models.train.METHODS)
AX_CLIFF_LR, AX_CLIFF_TAU, AX_CLIFF_START, AX_CLIFF_STEP, AX_COORD = (
    "cliff_lr", "cliff_tau", "cliff_start", "cliff_step", "coord")
CLIFF_LOSS = "cliff_loss"
CLIFF_PATHS = "cliff_paths"
CLIFF_SUCCESS = "cliff_success"
CLIFF_JUMP = "cliff_jump"

# ---- C5b training: a (lr, tau) grid per method on selection seeds, then each method at its chosen cell
METHODS = ("none", "value", "norm")  # models.train.METHODS
AX_EVAL_SEED = "eval_seed"
AX_SEL_SEED = "selection_seed"
AX_LR = "lr"
AX_VALUE_TAU = "value_tau"
AX_NORM_TAU = "norm_tau"
AX_WINDOW = "window"  # first step of each saved window
AX_CHECK = "check"  # step after which each evaluation ran
AX_CHOSEN = "chosen"  # lr, tau of the chosen cell


def tau_axis(method: str) -> str:
    return {"value": AX_VALUE_TAU, "norm": AX_NORM_TAU}[method]


def run_array(task: str, what: str) -> str:
    """Per-run arrays of the reported (evaluation) runs, dims (method, eval_seed[, window | check])."""
    return f"{task}__{what}"


def selection_array(task: str, method: str, what: str) -> str:
    """Per-run arrays of the selection grid: dims (lr, <method>_tau, selection_seed); none: (lr, selection_seed)."""
    return f"{task}__select_{method}__{what}"


def chosen_array(task: str) -> str:
    """The chosen (lr, tau) of each method, dims (method, chosen); tau of ``none`` is 0 (no clipping)."""
    return f"{task}__chosen"


# per-run quantities (what of run_array / selection_array)
Y = "y"  # log10(final loss / constant predictor's), capped at LOG_CAP
ERROR = "final_error"  # error rate on the last evaluation set
SUCCESS = "success"  # error < success_error at some evaluation (Pascanu stops at the first)
NORM_RATIO = "max_over_median_norm"  # largest raw gradient norm / the run's median
BIG_STEPS = "steps_over_10x_median"
NONFINITE = "nonfinite_steps"  # steps whose raw gradient (or loss) was NaN / inf (skipped updates)
JUMPED = "loss_jumped"
WRECKED = "wrecked"  # non-finite at some step or a loss jump
LOSS_TRACE = "loss_windows"  # mean training loss per window
NORM_TRACE = "norm_max_windows"  # largest raw gradient norm per window
EVAL_LOSS = "eval_loss"  # (.., check)
EVAL_ERROR = "eval_error"  # (.., check)
PER_RUN = (Y, ERROR, SUCCESS, NORM_RATIO, BIG_STEPS, NONFINITE, JUMPED, WRECKED)
SELECTION_SAVED = (Y, SUCCESS, BIG_STEPS)

LOG_CAP = 2.0  # y = log10 R is capped here (R > 100 or non-finite -> 100)
BIG_FACTOR = 10.0  # a step "explodes" when its raw norm exceeds this times the run's median
ROBUST_RATE = 0.5  # a (lr, tau) cell is "good" when at least this share of its selection seeds succeed

# ---- figures
FIG_DIRECTION = "direction.png"
FIG_CLIFF = "cliff.png"
FIG_OUTCOME = "training_outcome.png"
FIG_EXPLOSIONS = "explosions.png"
FIG_TRACES = "training_traces.png"
FIG_SELECTION = "selection_grid.png"
