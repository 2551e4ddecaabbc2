"""Numbers as (sign, natural-log magnitude), so 1e-3000 is a result, not an underflow.

A ``LogNum`` holds ``value = sign * exp(log_abs)`` elementwise; an exact zero is
``sign = 0, log_abs = -inf``. Works on jax and numpy arrays alike.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import jax.numpy as jnp
from jax import lax

LOG10_E = 1.0 / math.log(10.0)


class LogNum(NamedTuple):
    """``sign * exp(log_abs)``; both fields have the same shape."""

    sign: object
    log_abs: object


def from_value(x) -> LogNum:
    """LogNum of an ordinary array, host side in float64 (zeros map to sign 0, log_abs -inf)."""
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return LogNum(np.sign(x), np.log(np.abs(x)))


def cumulative_product(factors: LogNum, axis: int = 0) -> LogNum:
    """Running products ``prod_{s<=t} f_s`` for every t at once: a cumsum of logs.

    sign: running product of the signs (+-1, or 0 from the first zero factor on).
    """
    return LogNum(jnp.cumprod(factors.sign, axis=axis), jnp.cumsum(factors.log_abs, axis=axis))


def log10_abs(n: LogNum):
    """log10 |value| (``-inf`` for exact zeros)."""
    return n.log_abs * LOG10_E


def to_value(n: LogNum, dtype=np.float64) -> np.ndarray:
    """The ordinary value in ``dtype``: may underflow to 0 or overflow to inf (numpy, host side)."""
    with np.errstate(over="ignore", under="ignore"):
        return (np.asarray(n.sign, np.float64) * np.exp(np.asarray(n.log_abs, np.float64))).astype(dtype)


def representable(n: LogNum, dtype) -> np.ndarray:
    """True where ``|value|`` is a normal number of ``dtype`` (or an exact zero)."""
    info = np.finfo(dtype)
    log_abs = np.asarray(n.log_abs, np.float64)
    exact_zero = np.asarray(n.sign) == 0
    return exact_zero | ((log_abs >= math.log(info.tiny)) & (log_abs <= math.log(info.max)))


def relative_error(n: LogNum, value) -> np.ndarray:
    """``|value - n| / |n|`` computed without leaving log space for ``n``.

    Exact zeros compare equal to 0 only; a sign mismatch counts as error >= 1.
    """
    value = np.asarray(value, np.float64)
    sign = np.asarray(n.sign, np.float64)
    log_abs = np.asarray(n.log_abs, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.exp(np.log(np.abs(value)) - log_abs)  # |value| / |n|, no overflow for tiny n
        same_sign = np.sign(value) == sign
        err = np.where(same_sign, np.abs(ratio - 1.0), ratio + 1.0)
        return np.where(sign == 0, np.where(value == 0, 0.0, np.inf), err)


def kahan_add(total, comp, term):
    """One step of Kahan's compensated sum: returns (total, comp) with ``total - comp`` the exact sum so far.

    A float32 running sum over 1000 terms keeps about one ulp instead of drifting by T ulp.
    """
    y = term - comp
    new_total = total + y
    return new_total, (new_total - total) - y


def split_exponent(v):
    """``v = mantissa * 2**exponent`` with mantissa in [1/2, 1) and exponent int32, for positive normal v.

    Pure bit manipulation (no branches, no rounding): the float's exponent field is moved
    into the integer and replaced by that of 1/2. Zero, subnormals, inf and NaN are not handled.
    """
    if v.dtype == jnp.float32:
        int_type, shift, mask, half, bias = jnp.int32, 23, 0x007FFFFF, 0x3F000000, 126
    elif v.dtype == jnp.float64:
        int_type, shift, mask, half, bias = jnp.int64, 52, 0x000FFFFFFFFFFFFF, 0x3FE0000000000000, 1022
    else:
        raise TypeError(f"split_exponent: float32 or float64, got {v.dtype}")
    bits = lax.bitcast_convert_type(v, int_type)
    mantissa = lax.bitcast_convert_type((bits & mask) | half, v.dtype)
    return mantissa, ((bits >> shift) - bias).astype(jnp.int32)
