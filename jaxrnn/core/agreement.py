"""How plain-float autodiff agrees with a log-space truth: relative errors, explained by rounding or not."""

from __future__ import annotations

import numpy as np

from jaxrnn.core import gradients
from jaxrnn.core.logspace import LogNum, relative_error, representable


def agreement(truth: LogNum, value: np.ndarray, mask: np.ndarray, scale: np.ndarray, target: float) -> dict:
    """How plain-float autodiff ``value`` matches the log-space ``truth`` where ``mask`` (representable).

    scale: expected relative rounding error (kappa + rho). A nonzero autodiff value is
    "explained" if ``gradients.explained_by_rounding`` says so. Autodiff zeros where the
    true value is representable are counted apart (``spurious_zeros``): a derivative factor
    that rounded to 0 (``|h| == 1``) or an intermediate flushed to zero at the range edge.
    """
    err = relative_error(truth, value)
    nonzero = np.asarray(truth.sign) != 0
    m = mask & nonzero
    spurious_zero = m & (np.asarray(value) == 0)
    e = err[m]
    explained = spurious_zero | gradients.explained_by_rounding(err, scale, target)
    return {
        "points": int(m.sum()),
        "max_rel_err": float(e.max()) if e.size else 0.0,
        "median_rel_err": float(np.median(e)) if e.size else 0.0,
        "p99_rel_err": float(np.quantile(e, 0.99)) if e.size else 0.0,
        "frac_within_target": float((e <= target).mean()) if e.size else 1.0,
        "target": target,
        "unexplained": int((m & ~explained).sum()),
        "spurious_zeros": int(spurious_zero.sum()),
    }


def range_report(truth: LogNum, value: np.ndarray, dtype) -> dict:
    """Where plain floats leave the dtype: underflow to 0, overflow to inf/nan, subnormals."""
    value = np.asarray(value)
    nonzero = np.asarray(truth.sign) != 0
    n = max(int(nonzero.sum()), 1)
    info = np.finfo(dtype)
    fits = representable(truth, dtype)
    zero = nonzero & (value == 0)
    return {
        "points": int(nonzero.sum()),
        "frac_underflow_to_zero": float(zero.sum() / n),
        "frac_underflow_true_value_representable": float((zero & fits).sum() / n),
        "frac_nonfinite": float((nonzero & ~np.isfinite(value)).sum() / n),
        "frac_subnormal": float((nonzero & (value != 0) & (np.abs(value) < info.tiny)).sum() / n),
        "frac_true_value_outside_range": float((nonzero & ~fits).sum() / n),
    }
