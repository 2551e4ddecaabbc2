"""The clipping study (Problem 1 e): geometry (C5a), Pascanu's cliff, training on his tasks (C5b).

The parts live by concern: ``geometry`` (C5a, the cliff, non-finite gradients), ``selection``
(the (lr, tau) grid on selection seeds, disjoint from the reported seeds) and ``training`` (the
runs and their per-run numbers). This module puts them together into one Dataset and summary.
"""

from __future__ import annotations

import jax
import numpy as np

from jaxrnn.studies.clipping import names as nm
from jaxrnn.studies.clipping.claims import claims
from jaxrnn.studies.clipping.geometry import CLIPS, cliff_study, nonfinite_report, real_direction, synthetic_direction
from jaxrnn.studies.clipping.selection import run_seeds
from jaxrnn.studies.clipping.training import plan_checks, training_study


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims C5a and C5b) for a validated config.

    With a time budget (``config.time_budget_s``), training is shortened to whole evaluation blocks
    first (``plan_checks``); the summary records the steps that ran, and the claims use them.
    """
    k_syn, k_train = jax.random.split(jax.random.key(config.seed))
    checks, plan = plan_checks(config, jax.random.fold_in(k_train, 10_000))
    config = config.replace(checks=checks, steps=checks * (config.steps // config.checks))
    ds, train_summary, grads = training_study(config, k_train)
    syn = synthetic_direction(config, k_syn)
    real = real_direction(config, grads)
    ds.add_axis(nm.AX_TAU, syn["tau"])
    ds.add_axis(nm.AX_DIM, np.asarray(config.dims))
    ds.add_axis(nm.AX_CLIP, np.asarray(CLIPS))
    ds.add(nm.COS_SYNTHETIC, (nm.AX_DIM, nm.AX_TAU, nm.AX_CLIP), syn["median"])
    ds.add(nm.WORST_SYNTHETIC, (nm.AX_DIM, nm.AX_TAU, nm.AX_CLIP), syn["worst"])
    ds.add_axis(nm.AX_REAL, np.arange(real["cos"].shape[0]))
    ds.add(nm.COS_REAL, (nm.AX_REAL, nm.AX_TAU, nm.AX_CLIP), real["cos"])
    ds.add(nm.RATIO_REAL, (nm.AX_REAL, nm.AX_TAU, nm.AX_CLIP), real["ratio"])
    ds.add(nm.NORM_REAL, (nm.AX_REAL,), real["norm"])
    ds.add(nm.MAXABS_REAL, (nm.AX_REAL,), real["maxabs"])
    cliff, cliff_rep = cliff_study(config)
    ds.add_axis(nm.AX_CLIFF_W, cliff["w"])
    ds.add_axis(nm.AX_CLIFF_B, cliff["b"])
    ds.add(nm.CLIFF_LOSS, (nm.AX_CLIFF_W, nm.AX_CLIFF_B), cliff["loss"])
    ds.add_axis(nm.AX_CLIFF_LR, np.asarray(config.cliff_lrs))
    ds.add_axis(nm.AX_CLIFF_TAU, np.asarray(config.cliff_taus))
    ds.add_axis(nm.AX_CLIFF_START, np.arange(len(config.cliff_starts)))
    ds.add_axis(nm.AX_CLIFF_STEP, np.arange(config.cliff_steps + 1))
    ds.add_axis(nm.AX_COORD, np.asarray(["w", "b"]))
    ds.add(nm.CLIFF_PATHS, (nm.AX_METHOD, nm.AX_CLIFF_LR, nm.AX_CLIFF_TAU, nm.AX_CLIFF_START, nm.AX_CLIFF_STEP,
                            nm.AX_COORD), cliff["paths"])
    for name, key in ((nm.CLIFF_SUCCESS, "success"), (nm.CLIFF_JUMP, "jump")):
        ds.add(name, (nm.AX_METHOD, nm.AX_CLIFF_LR, nm.AX_CLIFF_TAU, nm.AX_CLIFF_START), cliff[key])
    summary = {"training": train_summary, "cliff": cliff_rep, "nonfinite": nonfinite_report(),
               "direction": {"synthetic_counts": syn["counts"], "student_df": config.student_df,
                             "dims": list(config.dims), "tau_range": [config.tau_min, config.tau_max],
                             "real_gradients": int(real["cos"].shape[0]),
                             "real_gradients_left_out_nonfinite": real["dropped"],
                             "real_grad_norm_range": [float(real["norm"].min()), float(real["norm"].max())]},
               "steps_run": config.steps, "time_plan": plan,
               "seeds": {"evaluation": [int(s) for s in run_seeds(config, "eval")],
                         "selection": [int(s) for s in run_seeds(config, "selection")]}}
    summary["claims"] = claims(ds, summary, config)
    return ds, summary
