"""Gradient curves of the scalar RNN: the closed form in log space and its autodiff twins.

Problem 1(a),(b): with ``a_t = u x_t + w h_{t-1} + b`` and ``h_t = act(a_t)``,

    dh_{t}/dh_{t-1} = w act'(a_t),      dL/dh_0 = dL/dh_T * prod_{t=1}^{T} w act'(a_t).

We take ``L = h_T`` (so ``dL/dh_T = 1``) and return ``dh_T/dh_0`` for every
T = 1..len(xs) from one pass. All functions are unbatched (one sequence); vmap
them over sweep axes.
"""

from __future__ import annotations

import functools
import math

import jax
import numpy as np
import jax.numpy as jnp
from jax import lax

from jaxrnn.core.cells import (ScalarParams, SkipParams, activation_and_derivative_parts, log_derivative, scalar_cell,
                          scalar_preactivation, skip_cell, skip_preactivation)
from jaxrnn.core.logspace import LogNum, kahan_add, split_exponent
from jaxrnn.core.unroll import final_state, scan_read_off, unroll


_RESCALE_BITS = 64  # the running product of lin_parts (each >= 1/4) is rescaled by 2^64 below 2^-64


def _kernel_parts(params: ScalarParams, act: str):
    """(state, advance, small_q, scale) of the shared-exponential kernel for one activation.

    The carry's first field s determines both the state h = state(s) and the step's
    derivative act'(a) = scale * q (1 - q) with q = small_q(s):
      sigmoid: s = -q if a >= 0 else q, q = sigmoid(-|a|) = e / (1 + e), e = exp(-|a|);
               h = 1 - q or q, act' = q (1 - q) = e / (1 + e)^2 (one exp per step, shared);
      tanh:    s = a; h = tanh(a) (the cell's own tanh), q = sigmoid(-2|a|), act' = 4 q (1 - q).
    q <= 1/2, so 1 - q has no cancellation: the derivative is correct to a few ulp even
    where it is 1e-30, unlike s (1 - s) of the state.
    """
    if act == "sigmoid":
        def advance(h, x):
            a = scalar_preactivation(params, h, x)
            e = jnp.exp(-jnp.abs(a))
            return (e / (1.0 + e)) * jnp.where(a >= 0, -1.0, 1.0).astype(a.dtype)

        return (lambda p: jnp.where(jnp.signbit(p), 1.0 + p, p)), advance, jnp.abs, 1.0
    if act == "tanh":
        def small_q(a):
            e = jnp.exp(-2.0 * jnp.abs(a))
            return e / (1.0 + e)

        return jnp.tanh, (lambda h, x: scalar_preactivation(params, h, x)), small_q, 4.0
    raise ValueError(f"unknown activation {act!r}")


def grad_log_magnitude(params: ScalarParams, h0, xs, *, act: str = "sigmoid", read_idx=None) -> LogNum:
    """Closed form ``dh_T/dh_0`` for all T at once, as (sign, log|.|); xs: (T,) or (T, K) -> fields (T,) or (R,).

        |dh_T/dh_0| = |w|^T prod_{t<=T} act'(a_t) = |w|^T * m_T * 2^(k_T),   sign = sign(w)^T  (act' > 0).

    The product of the derivatives is carried as a mantissa m and an int32 exponent k: each
    factor act'(a_t) is split exactly into mantissa (in [1/2, 1)) and exponent
    (``split_exponent``, bit operations), the mantissas multiply into m (one rounding per step)
    and the exponents add into k (exact); every 64 steps m is renormalised the same way. No
    log and no compensated sum per step; one log at each length read off (``read_idx``, default all).
    The derivative comes from the exponential the state already needs (``_kernel_parts``), so a
    sigmoid step costs one exp and one division, like the forward simulation.

    Range: exact while every factor is a normal number, i.e. |a_t| <= ~85 (sigmoid) / ~42 (tanh)
    in float32 and ~706 / ~353 in float64. Past that the curve is NaN from that step on (never
    a wrong number); ``grad_log_magnitude_logsum`` has no such limit (sweeps fall back to it,
    ``sweep.map_configs_with_fallback``). w = 0 gives the exact zero (sign 0, log -inf).
    """
    state, advance, small_q, scale = _kernel_parts(params, act)
    dtype = params.w.dtype
    q_min = 4 * float(jnp.finfo(dtype).tiny)  # q (1 - q) >= q / 2: a normal number

    def absorb(s, m, k):
        q = small_q(s)
        mant, expo = split_exponent(scale * (q * (1.0 - q)))
        return jnp.where(q < q_min, jnp.nan, m * mant), k + expo

    def step(carry, x):
        s, m, k = carry
        s = advance(state(s), x)
        return (s,) + absorb(s, m, k)

    def renorm(carry):
        s, m, k = carry
        mant, expo = split_exponent(m)
        return s, jnp.where(jnp.isnan(m), m, mant), k + expo

    h0 = jnp.asarray(h0, dtype)
    read_idx = jnp.arange(xs.shape[0]) if read_idx is None else jnp.asarray(read_idx)
    s1 = advance(h0, xs[0])  # the first step from h0 itself (any real h0), then the loop over xs[1:]
    carry = (s1,) + absorb(s1, jnp.ones_like(h0), jnp.zeros(jnp.shape(h0), jnp.int32))
    _, (_, m, k) = scan_read_off(step, carry, xs[1:], read_idx - 1, lambda c: c, renorm=renorm)
    lengths = (read_idx + 1).astype(dtype)
    sign_w = jnp.sign(params.w)
    sign = jnp.where(lengths % 2 == 1, sign_w, jnp.abs(sign_w))
    log_abs = lengths * jnp.log(jnp.abs(params.w)) + jnp.log(m) + k.astype(dtype) * math.log(2.0)
    return LogNum(sign, log_abs)


def grad_log_magnitude_logsum(params: ScalarParams, h0, xs, *, act: str = "sigmoid", read_idx=None) -> LogNum:
    """Closed form ``dh_T/dh_0`` for all T at once, as (sign, log|.|); xs: (T,) or (T, K) -> fields (T,) or (R,).

        log|dh_T/dh_0| = T log|w| + sum_{t<=T} log act'(a_t),   sign = sign(w)^T  (act' > 0),

    with ``act' = exp(log_part) lin_part``: ``log_part = -|a|`` (sigmoid) or ``log 4 - 2|a|`` (tanh) and
    ``lin_part = (1 - q)^2`` in [1/4, 1] (``_kernel_parts``: the same carried states, by the same
    operations, as ``grad_log_magnitude``, so the two differ only in how they carry the product). One scan
    carries the state, a compensated (Kahan) running sum of the log parts
    (a float32 sum over 1000 steps keeps ~1 ulp instead of drifting by T ulp), and the
    running product of the lin parts kept in range by exact power-of-two rescaling.
    No range limit (a pre-activation of 1e4 is fine); about 2x the cost of
    ``grad_log_magnitude``, which sweeps use first. w = 0 gives the exact zero (sign 0, log -inf).
    """
    tiny = 2.0 ** -_RESCALE_BITS
    state, advance, small_q, scale = _kernel_parts(params, act)
    slope = 1.0 if act == "sigmoid" else 2.0

    def step(carry, x):
        s, total, comp, prod, n_rescaled = carry
        h = state(s)
        s = advance(h, x)  # the carry of grad_log_magnitude, by the same operations
        log_part = math.log(scale) - slope * jnp.abs(scalar_preactivation(params, h, x))
        total, comp = kahan_add(total, comp, log_part)
        prod = prod * jnp.square(1.0 - small_q(s))
        small = prod < tiny
        prod = jnp.where(small, prod * 2.0 ** _RESCALE_BITS, prod)
        return s, total, comp, prod, n_rescaled + small.astype(n_rescaled.dtype)

    h0 = jnp.asarray(h0, params.w.dtype)
    zero = jnp.zeros_like(h0)
    read_idx = jnp.arange(xs.shape[0]) if read_idx is None else jnp.asarray(read_idx)
    s1 = advance(h0, xs[0])  # the first step from h0 itself, as in grad_log_magnitude
    log1 = math.log(scale) - slope * jnp.abs(scalar_preactivation(params, h0, xs[0]))
    lin1 = jnp.square(1.0 - small_q(s1))
    carry = (s1, log1, zero, lin1, zero)
    _, (log_sums, prods, n_rescaled) = scan_read_off(step, carry, xs[1:], read_idx - 1,
                                                     lambda c: (c[1] - c[2], c[3], c[4]))
    lengths = (read_idx + 1).astype(h0.dtype)
    sign_w = jnp.sign(params.w)
    sign = jnp.where(lengths % 2 == 1, sign_w, jnp.abs(sign_w))
    log_abs = (lengths * jnp.log(jnp.abs(params.w)) + log_sums + jnp.log(prods)
               - n_rescaled.astype(h0.dtype) * (_RESCALE_BITS * math.log(2.0)))
    return LogNum(sign, log_abs)


def grad_log_magnitude_autodiff(params: ScalarParams, h0, xs, *, act: str = "sigmoid") -> LogNum:
    """Twin of ``grad_log_magnitude`` by forward-mode autodiff, renormalised every step.

    Each step's local derivative ``dh_t/dh_{t-1}`` comes from ``jax.jvp`` of the
    cell (JAX's own derivative rules, not our formula); the log of its magnitude
    is accumulated, so the product never under- or overflows. xs: (T,) -> (T,).
    """
    cell = functools.partial(scalar_cell, act=act)

    def step(carry, x):
        h, sign, log_abs = carry
        h, d = jax.jvp(lambda h_: cell(params, h_, x), (h,), (jnp.ones_like(h),))
        sign, log_abs = sign * jnp.sign(d), log_abs + jnp.log(jnp.abs(d))
        return (h, sign, log_abs), (sign, log_abs)

    h0 = jnp.asarray(h0, params.w.dtype)
    zero = jnp.zeros_like(h0)
    _, (sign, log_abs) = lax.scan(step, (h0, zero + 1, zero), xs)
    return LogNum(sign, log_abs)


def forward_curve(cell, params, init, h0, xs, readout=lambda c: c) -> jax.Array:
    """``d readout(carry_T) / dh_0`` for every T by one ``jax.jvp`` of the unroll; (T,).

    init(h0) builds the initial carry from the scalar h0 (e.g. ``(h0, h_prev)`` for the skip cell).
    """
    _, tangents = jax.jvp(lambda h: readout(unroll(cell, params, init(h), xs)), (h0,), (jnp.ones_like(h0),))
    return tangents


def reverse_at(cell, params, init, h0, xs, length, readout=lambda c: c) -> jax.Array:
    """``d readout(carry_length) / dh_0`` by ``jax.grad`` through a masked unroll (one length per call)."""
    return jax.grad(lambda h: readout(final_state(cell, params, init(h), xs, length)))(h0)


def grad_forward(params: ScalarParams, h0, xs, *, act: str = "sigmoid") -> jax.Array:
    """``dh_T/dh_0`` for all T by one forward-mode pass (``jax.jvp`` of the unroll); (T,) -> (T,).

    Plain floating point: underflows to 0 / overflows to inf where the value leaves the dtype.
    """
    return forward_curve(functools.partial(scalar_cell, act=act), params, lambda h: h,
                         jnp.asarray(h0, params.w.dtype), xs)


def grad_reverse(params: ScalarParams, h0, xs, length, *, act: str = "sigmoid") -> jax.Array:
    """``dh_length/dh_0`` by reverse mode (``jax.grad``) through a masked unroll of xs (T,).

    One length per call: getting every T this way costs O(T^2) (vmap over lengths).
    """
    return reverse_at(functools.partial(scalar_cell, act=act), params, lambda h: h,
                      jnp.asarray(h0, params.w.dtype), xs, length)


def autodiff_rounding_scale(params: ScalarParams, h0, xs, *, act: str = "sigmoid") -> jax.Array:
    """Relative rounding error to expect from autodiff's rule for act', for all T; (T,) -> (T,).

    JAX differentiates sigmoid as ``s (1 - s)`` and tanh as ``(1 + s)(1 - s)``;
    ``1 - |s|`` carries the rounding error of ``s``, relative size
    ``eps / (1 - |s|)``. Summed over steps this bounds (up to a small constant)
    how far an exact autodiff product may sit from the true one:
    ``kappa_T = eps * sum_{t<=T} (1 + 1 / (1 - |h_t|))``; inf once some ``|h_t|`` rounds to 1.
    """
    return rounding_scale_from_states(unroll(functools.partial(scalar_cell, act=act), params,
                                             jnp.asarray(h0, params.w.dtype), xs))


def rounding_scale_from_states(hs: jax.Array) -> jax.Array:
    """``kappa_T = eps * sum_{t<=T} (1 + 1 / (1 - |h_t|))`` from the states h_1..h_T (T,)."""
    eps = jnp.finfo(hs.dtype).eps
    return eps * jnp.cumsum(1.0 + 1.0 / (1.0 - jnp.abs(hs)))


def simulate(params: ScalarParams, h0, xs, *, act: str = "sigmoid", read_idx=None) -> jax.Array:
    """The forward simulation alone (the cost floor of any gradient sweep): states at read_idx (default all).

    Same driver as ``grad_log_magnitude`` (only the read-offs are stored), so the two compare fairly.
    """
    cell = functools.partial(scalar_cell, act=act)
    read_idx = jnp.arange(xs.shape[0]) if read_idx is None else jnp.asarray(read_idx)
    _, hs = scan_read_off(lambda h, x: cell(params, h, x), jnp.asarray(h0, params.w.dtype), xs, read_idx,
                          lambda h: h)
    return hs


def autodiff_representable(curve: LogNum, dtype, mode: str) -> np.ndarray:
    """Where plain-float autodiff can give ``dh_T/dh_0`` without leaving ``dtype``'s normal range.

    curve: LogNum (..., T) of the true values. Forward mode forms the prefix
    products ``J_1..J_T``; reverse mode the suffix products ``J_T / J_t``
    (t = 0..T, J_0 = 1). Every one of them must be a normal number, not only
    ``J_T`` itself, or the result legitimately under/overflows on the way.
    """
    info = np.finfo(dtype)
    lo, hi = np.log(info.tiny), np.log(info.max)
    log_abs = np.asarray(curve.log_abs, np.float64)
    zeros = np.zeros(log_abs.shape[:-1] + (1,))
    run_max = np.maximum.accumulate(np.concatenate([zeros, log_abs], -1), axis=-1)[..., 1:]
    run_min = np.minimum.accumulate(np.concatenate([zeros, log_abs], -1), axis=-1)[..., 1:]
    if mode == "forward":
        return (run_min >= lo) & (run_max <= hi)
    if mode == "reverse":
        with np.errstate(invalid="ignore"):  # -inf - -inf where the value is exactly 0
            return (log_abs - run_max >= lo) & (log_abs - run_min <= hi)
    raise ValueError(f"unknown mode {mode!r}")


def closed_form_rounding_scale(curve: LogNum, dtype) -> np.ndarray:
    """Relative rounding error to expect from the closed form, for all T: (..., T).

    Each term ``log|w| + log act'(a_t)`` is evaluated to about ``eps`` times its size and
    the compensated sum adds no drift of its own, so
    ``rho_T = 2 eps (T + sum_{t<=T} |log|J_t| - log|J_{t-1}||)``.
    """
    eps = np.finfo(dtype).eps
    log_abs = np.asarray(curve.log_abs, np.float64)
    with np.errstate(invalid="ignore"):
        terms = np.abs(np.diff(log_abs, axis=-1, prepend=0.0))
    return 2 * eps * np.cumsum(1.0 + terms, axis=-1)


def explained_by_rounding(rel_err, scale, target: float) -> np.ndarray:
    """True where a relative error is within ``target`` or within what rounding explains.

    ``scale`` (kappa + rho) sums per-step relative errors delta_t; a product of T factors
    ``(1 + delta_t)`` is off by at most ``prod (1 + 8 delta_t) - 1 <= expm1(8 scale)``
    (8 covers the constants of each rule), which is ~8 scale when small and unbounded
    once some factor is not even correct to its leading digit.
    """
    with np.errstate(over="ignore"):
        return (rel_err <= target) | (rel_err <= np.expm1(8.0 * np.asarray(scale)))


# ---------------------------------------------------------------------------
# Skip connection: h_{t+1} = act(u x + w h_t + m h_{t-1} + b)   (Problem 1 d)
# ---------------------------------------------------------------------------

def skip_grad_log_magnitude(params: SkipParams, h0, h_prev0, xs, *, act: str = "sigmoid", read_idx=None,
                            magnitudes: bool = False) -> LogNum:
    """Closed form ``dh_T/dh_0`` of the skip RNN for all T at once, as (sign, log|.|).

    Problem 1(d)'s recursion ``dL/dh_t = dL/dh_{t+1} act'_{t+1} w + dL/dh_{t+2} act'_{t+2} m``,
    read forwards: the tangent ``v_t = (dh_t/dh_0, dh_{t-1}/dh_0)`` obeys ``v_{t+1} = A_{t+1} v_t``
    with the 2x2 transfer matrix ``A = [[w act', m act'], [1, 0]]`` and ``v_0 = (1, 0)`` (h_{-1} is
    held fixed). The carried vector is renormalised to max-norm 1 every step and the log of the
    scale accumulated (Kahan), so long horizons neither under- nor overflow. (A component more than
    the dtype's range below the other is flushed: it cannot matter at that precision, except in
    the degenerate m = 0, |a| > 87 (float32) case.) xs: (T,) or (T, K).

    magnitudes=True multiplies |A| instead (|w|, |m| in the tangent, same states): the sum of the
    absolute values of all path products, for the cancellation condition number.
    """
    w_t, m_t = (jnp.abs(params.w), jnp.abs(params.m)) if magnitudes else (params.w, params.m)

    def step(carry, x):
        h, h_prev, v0, v1, total, comp = carry
        h_new, log_part, lin_part = activation_and_derivative_parts(act, skip_preactivation(params, (h, h_prev), x))
        d = jnp.exp(log_part) * lin_part
        n0, n1 = d * (w_t * v0 + m_t * v1), v0
        scale = jnp.maximum(jnp.abs(n0), jnp.abs(n1))
        scale = jnp.where(scale > 0, scale, 1.0)  # an exact zero stays zero
        total, comp = kahan_add(total, comp, jnp.log(scale))
        return h_new, h, n0 / scale, n1 / scale, total, comp

    dtype = params.w.dtype
    h0, h_prev0 = jnp.asarray(h0, dtype), jnp.asarray(h_prev0, dtype)
    zero = jnp.zeros_like(h0)
    read_idx = jnp.arange(xs.shape[0]) if read_idx is None else jnp.asarray(read_idx)
    _, (v0, total) = scan_read_off(step, (h0, h_prev0, zero + 1, zero, zero, zero), xs, read_idx,
                                   lambda c: (c[2], c[4] - c[5]))
    return LogNum(jnp.sign(v0), jnp.log(jnp.abs(v0)) + total)


def _skip_init(h_prev0):
    return lambda h: (h, jnp.asarray(h_prev0, h.dtype))


def skip_grad_forward(params: SkipParams, h0, h_prev0, xs, *, act: str = "sigmoid") -> jax.Array:
    """Twin by ``jax.jvp``: dh_T/dh_0 for every T (plain floats), (T,)."""
    return forward_curve(functools.partial(skip_cell, act=act), params, _skip_init(h_prev0),
                         jnp.asarray(h0, params.w.dtype), xs, readout=lambda c: c[0])


def skip_grad_reverse(params: SkipParams, h0, h_prev0, xs, length, *, act: str = "sigmoid") -> jax.Array:
    """Twin by ``jax.grad`` through a masked unroll: dh_length/dh_0."""
    return reverse_at(functools.partial(skip_cell, act=act), params, _skip_init(h_prev0),
                      jnp.asarray(h0, params.w.dtype), xs, length, readout=lambda c: c[0])


def skip_path_sums(params: SkipParams, h0, h_prev0, xs, *, act: str = "sigmoid") -> tuple[np.ndarray, np.ndarray]:
    """The gradient as a sum over paths, grouped by the number of edges k (float64, host side).

    A path from h_T back to h_0 takes 1-step edges (weight ``w act'(a_t)`` from t to t-1) and
    2-step edges (weight ``m act'(a_t)`` from t to t-2). With j 2-step edges a path has
    k = T - j edges; there are C(k, j) of them. Returns (contribution (T+1,), count (T+1,)) indexed
    by k; ``contribution.sum()`` is dh_T/dh_0 (the closed form's value).
    """
    cell = functools.partial(skip_cell, act=act)
    carry0 = (jnp.asarray(h0, params.w.dtype), jnp.asarray(h_prev0, params.w.dtype))
    hs, hps = unroll(cell, params, carry0, xs)  # carries after each step: (h_t, h_{t-1})
    before = (jnp.concatenate([carry0[0][None], hs[:-1]]), jnp.concatenate([carry0[1][None], hps[:-1]]))
    pre = jax.vmap(lambda h, hp, x: skip_preactivation(params, (h, hp), x))(*before, xs)  # a_1..a_T
    d = np.exp(np.asarray(log_derivative(act, pre), np.float64))  # d[t-1] = act'(a_t), t = 1..T
    w, m, n = float(params.w), float(params.m), len(d)
    contrib = np.zeros((n + 1, n + 1))  # [node t, edges k]
    count = np.zeros((n + 1, n + 1))
    contrib[n, 0] = count[n, 0] = 1.0
    for t in range(n, 0, -1):
        contrib[t - 1, 1:] += contrib[t, :-1] * w * d[t - 1]
        count[t - 1, 1:] += count[t, :-1]
        if t >= 2:
            contrib[t - 2, 1:] += contrib[t, :-1] * m * d[t - 1]
            count[t - 2, 1:] += count[t, :-1]
    return contrib[0], count[0]


def skip_rounding_scale(params: SkipParams, h0, h_prev0, xs, *, act: str = "sigmoid") -> jax.Array:
    """kappa_T of the skip RNN's autodiff (see ``autodiff_rounding_scale``); (T,)."""
    hs, _ = unroll(functools.partial(skip_cell, act=act), params, _skip_init(h_prev0)(jnp.asarray(h0, params.w.dtype)),
                   xs)
    return rounding_scale_from_states(hs)
