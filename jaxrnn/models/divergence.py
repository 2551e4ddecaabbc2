"""The one divergence rule of every training loop, and the record the runner reads.

RULE: a training run has diverged when its training loss is not finite at some logged point, or when
its final training loss (the mean over its last logged window) is more than FACTOR times the loss of
the untrained model. The untrained loss is the loss of the initial parameters (``train.train_grid``:
on its first evaluation set, fresh sequences, not one noisy batch); for the next-token models (``lm``,
the decoding GRUs), whose untrained predictions
are close to uniform by construction (zero output bias, output weights ~ N(0, 1/n), |h| < 1), it is
log(V + 1), the loss of the uniform guess over the V tokens and EOS.

A diverged run makes the whole experiment ``invalid``: the runner publishes nothing and exits 1 with one
line naming the run and its numbers. A loop reports its runs with ``report``; a caller may set aside
runs whose instability *is* the measurement (``measured``), e.g. the clipping study's plain-SGD arm,
whose explosions claim C5b counts (its Adam arm must train).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

FACTOR = 2.0
RULE = (f"a training run diverged when its loss is not finite or its final loss is above {FACTOR:g} x the "
        "untrained model's loss")

_found: list[str] = []


def uniform_loss(vocab: int) -> float:
    """log(V + 1): the loss of the uniform guess over V tokens and EOS (the untrained next-token model's)."""
    return math.log(vocab + 1)


def diverged(loss, initial, final_window: int = 1) -> np.ndarray:
    """Per-run flags: ``loss`` (..., points) logged training losses, ``initial`` (...) or a scalar: the
    untrained loss. Final loss = mean of the last ``final_window`` points."""
    loss = np.asarray(loss, np.float64)
    initial = np.broadcast_to(np.asarray(initial, np.float64), loss.shape[:-1])
    final = loss[..., -max(1, final_window):].mean(axis=-1)
    with np.errstate(all="ignore"):
        return ~np.isfinite(loss).all(axis=-1) | ~np.isfinite(initial) | ~(final <= FACTOR * initial)


def report(name: str, loss, initial, *, labels=None, measured=None, final_window: int = 1) -> np.ndarray:
    """Apply the rule to every run of one loop and record the first diverged run (not ``measured``) in
    one line; return the per-run flags."""
    loss = np.asarray(loss, np.float64)
    flags = diverged(loss, initial, final_window)
    if measured is not None:
        flags = flags & ~np.broadcast_to(np.asarray(measured, bool), flags.shape)
    if flags.any():
        idx = tuple(int(i) for i in np.argwhere(flags)[0])
        init = float(np.broadcast_to(np.asarray(initial, np.float64), flags.shape)[idx])
        with np.errstate(all="ignore"):
            final = float(loss[idx][-max(1, final_window):].mean())
            bad = int((~np.isfinite(loss[idx])).sum())
        label = labels[idx[0]] if labels is not None and len(idx) == 1 else ",".join(map(str, idx))
        what = (f"{bad} non-finite training losses" if bad else
                f"final training loss {final:.4g} > {FACTOR:g} x untrained loss {init:.4g}")
        _found.append(f"training diverged in {name} run {label}: {what} "
                      f"({int(flags.sum())} of {flags.size} runs; rule: {RULE})")
    return flags


def found() -> list[str]:
    """The lines recorded since the last ``reset``."""
    return list(_found)


def reset() -> None:
    _found.clear()


@contextlib.contextmanager
def watch():
    """Collect what the loops report inside the block (yields the live list)."""
    reset()
    try:
        yield _found
    finally:
        pass
