"""Jacobian products of vector RNNs in log space: ||dh_T/dh_0|| and the finite-time Lyapunov spectrum.

``J_T = A_T ... A_1`` with step Jacobians ``A_t = d s_t / d s_{t-1}`` (n, n). Carried as
``J_t = Q_t R_t ... R_1`` by QR re-orthonormalisation (``A_t Q_{t-1} = Q_t R_t``): the logs of
|diag R_t| summed give the finite-time Lyapunov exponents, and the triangular product
``P_t = R_t ... R_1``, rescaled to unit Frobenius norm with its log-scale carried (Kahan), gives
``||J_T||_2 = scale_T * ||P_T||_2`` since Q_T is orthogonal. Nothing under- or overflows.

Ill-conditioning. A saturated tanh unit has act'(a) = 4 e^{-2|a|} / (1 + e^{-2|a|})^2, about
1e-26 at |a| = 30, so ``A_t = diag(act'(a_t)) W`` has rows graded over 20-30 decades: condition
numbers of 1e11-1e19 per step in the spectral study. Gram-Schmidt (also twice, CGS2) loses
orthogonality once cond(A) * eps > 1 (|Q^T Q - I| ~ 1 in float32, and a norm inflated by 200
decades over 500 steps). Householder QR keeps Q orthogonal to O(n eps) at any condition number,
and with the rows sorted by decreasing size first (Powell & Reid 1969; Cox & Higham 1998,
"Stability of Householder QR factorization for weighted least squares problems") it is backward
stable row by row: each row of A is perturbed relative to its own size, so the small diagonal
entries of R (the most negative exponents) keep their relative accuracy and
``sum_i ln|r_ii| = ln|det A_t|`` holds to rounding. ``qr_householder`` does that; the step also
takes the largest row scale out of A_t (``max_i ln act'(a_i)``, added back in log space), so
float32 holds the rows down to 1e-38 of the largest.

No LAPACK custom call runs inside the compiled loops: jaxlib's batched CPU QR/SVD kernels
(``ParallelBatchMap`` on XLA's intra-op pool) were seen to deadlock under vmap on 2 cores, so
the QR here is written with XLA ops (matrix-vector products, a sort), and the spectral norm of
P_T is taken on the host (``log_spectral_norm``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.core.cells import VectorParams, activation_and_derivative_parts
from jaxrnn.core.logspace import kahan_add
from jaxrnn.core.unroll import scan_read_off


def qr_cgs2(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    """QR of a square matrix (n, n) by classical Gram-Schmidt with one re-orthogonalisation pass.

    Pure XLA ops (matrix-vector products), vmappable. Accurate only while cond(a) * eps < 1
    (random orthogonal initialisations, not the graded step Jacobians: use ``qr_householder``).
    A column that is exactly dependent on the previous ones gets r_jj = 0 and a zero q column.
    """
    n = a.shape[1]

    def column(j, qr):
        q, r = qr
        mask = (jnp.arange(n) < j).astype(a.dtype)
        v = a[:, j]
        c1 = (q.T @ v) * mask
        v = v - q @ c1
        c2 = (q.T @ v) * mask
        v = v - q @ c2
        nv = jnp.sqrt(jnp.sum(v * v))
        q = q.at[:, j].set(v / jnp.where(nv > 0, nv, 1.0))
        r = r.at[:, j].set(c1 + c2).at[j, j].set(nv)
        return q, r

    zero = jnp.zeros_like(a)
    return jax.lax.fori_loop(0, n, column, (zero, zero))


def householder_vector(x: jax.Array, pivot: jax.Array, below: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The reflector ``H = I - tau v v^T`` with ``H x = beta e_p`` for x (m,) zero outside pivot | below.

    pivot (m,) bool: the one row p the column is reduced onto; below (m,) bool: the rows it clears.
    LAPACK's convention (dlarfg): ``beta = -sign(x_p) ||x||``, ``v_p = 1``, ``v_i = x_i / (x_p - beta)`` on
    the rows below, ``tau = (beta - x_p) / beta``; choosing the sign of beta against x_p means
    ``x_p - beta`` never cancels. ``||x||`` is taken as ``c ||x / c||`` with ``c = max |x_i|`` so that
    entries of size 1e-30 do not underflow when squared. A zero x gives ``tau = 0`` (H = I), beta = 0.
    Returns (v (m,), tau (), beta ()).
    """
    xp = jnp.sum(jnp.where(pivot, x, 0.0))
    big = jnp.max(jnp.abs(x))
    scale = jnp.where(big > 0, big, 1.0)
    xs = x / scale
    norm = scale * jnp.sqrt(jnp.sum(xs * xs))
    beta = jnp.where(xp >= 0, -norm, norm)
    nonzero = norm > 0
    v = jnp.where(below, x / jnp.where(nonzero, xp - beta, 1.0), pivot.astype(x.dtype))
    tau = jnp.where(nonzero, (beta - xp) / jnp.where(nonzero, beta, 1.0), 0.0)
    return v, tau, beta


def row_order(a: jax.Array) -> jax.Array:
    """Position (m,) of each row of a (m, n) when sorted by decreasing max-norm (ties: lower index first).

    ``order_i = #{j : c_j > c_i} + #{j < i : c_j = c_i}`` with ``c_i = max_k |a_ik|``: m^2 comparisons,
    vectorised (cheaper than a sort for the small m here).
    """
    c = jnp.max(jnp.abs(a), axis=1)
    idx = jnp.arange(a.shape[0])
    ahead = (c[None, :] > c[:, None]) | ((c[None, :] == c[:, None]) & (idx[None, :] < idx[:, None]))
    return jnp.sum(ahead, axis=1)


def qr_householder(a: jax.Array, *, sort_rows: bool = True) -> tuple[jax.Array, jax.Array]:
    """QR of a (m, n), m >= n, by Householder reflections: ``a = q r``, q (m, m) orthogonal, r (m, n).

    Left-looking with the accumulated ``Q_k = Q_0 H_1 ... H_k`` carried explicitly: column k of the
    reduced matrix is ``y = Q_{k-1}^T a_k``; its rows < k are column k of r, and the reflector H_k
    (``householder_vector``) maps its rows >= k to ``beta e_k``; then ``Q_k = Q_{k-1} H_k`` (one rank-1
    update). Cost per column: two matrix-vector products and one rank-1 update, about 4 m n^2 flops in
    all (CGS2: the same). Vmappable, pure XLA ops, no LAPACK call.

    sort_rows: ``Q_0 = P^T``, the permutation that sorts the rows of a by decreasing max-norm
    (``row_order``), so this is Householder QR of ``P a = Q' r`` returned as ``a = (P^T Q') r`` (r is
    the same: a row permutation is orthogonal), with no gather or scatter. Sorting makes the
    factorisation backward stable row by row for row-graded a (Cox & Higham 1998), so that
    ``ln|r_ii|`` of a ``diag(d) M`` with d over 30 decades is accurate (without it the smallest r_ii
    are lost to rounding of the largest rows). sort_rows=False: ``Q_0 = I`` (plain Householder).
    The diagonal of r may be negative.
    """
    m, n = a.shape
    if m < n:
        raise ValueError(f"qr_householder needs rows >= columns, got {a.shape}")
    rows = jnp.arange(m)
    order = row_order(a) if sort_rows else rows
    q0 = (order[:, None] == rows[None, :]).astype(a.dtype)  # (P^T)_ij = [row i goes to position j]

    def column(k, carry):
        q, r = carry
        y = q.T @ jax.lax.dynamic_index_in_dim(a, k, axis=1, keepdims=False)
        pivot = rows == k
        v, tau, beta = householder_vector(jnp.where(rows >= k, y, 0.0), pivot, rows > k)
        q = q - jnp.outer(q @ (tau * v), v)
        r = jax.lax.dynamic_update_index_in_dim(r, jnp.where(rows < k, y, jnp.where(pivot, beta, 0.0)), k, 1)
        return q, r

    return jax.lax.fori_loop(0, n, column, (q0, jnp.zeros_like(a)))


def log_spectral_norm(log_scale: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Host side: ``log ||J||_2 = log_scale + log sigma_max(P)`` for stacks of P (..., n, n)."""
    return np.asarray(log_scale, np.float64) + np.log(np.linalg.norm(np.asarray(p, np.float64), ord=2, axis=(-2, -1)))


# Allowances of the invariants, in units of the working precision eps (float32: 1.19e-7), stated
# with the numbers they bound (summary.json repeats them):
ORTHOGONALITY_ULPS = 4.0  # max |Q^T Q - I| <= 4 n eps (Householder: O(n eps) at any condition number)
IDENTITY_ULPS = 4.0  # determinant identity, see ``determinant_identity``
BOUND_ULPS = 4.0  # ln ||J_T|| <= T ln(gamma lambda_1) + 4 n eps T (rounding of T products of n-term sums)


class ProductReadout(NamedTuple):
    """The product after each read step (R reads), all in the working dtype.

    ln_scale (R,), p (R, n, n): ``||J_t||_2 = exp(ln_scale) ||p||_2`` (p upper triangular, unit
    Frobenius norm; ``log_spectral_norm`` on the host). ln_diag_sums (R, n): ``sum_{s<=t} ln|r_s,ii|``
    in QR column order, Kahan-summed; the finite-time Lyapunov exponents (ln per step) are sums / t.
    """

    ln_scale: jax.Array
    p: jax.Array
    ln_diag_sums: jax.Array


class ProductChecks(NamedTuple):
    """What the invariants need, after the last step (scalars).

    orthogonality_error: ``max_ij |(Q_T^T Q_T - I)_ij|``.
    ln_row_scale_sum: ``sum_t sum_i ln d_t,i`` where ``A_t = diag(d_t) M_t`` (Kahan); for the vector RNN
      ``d = act'(a_t)`` and ``M = W``, so ``sum_i ln|r_t,ii| = sum_i ln d_t,i + ln|det W|`` each step.
    ln_row_scale_abs, ln_diag_abs: ``sum_t sum_i |ln d_t,i|`` and ``sum_t sum_i |ln|r_t,ii||``, the sizes
      of the terms both sides of the identity add up (they scale its rounding allowance).
    """

    orthogonality_error: jax.Array
    ln_row_scale_sum: jax.Array
    ln_row_scale_abs: jax.Array
    ln_diag_abs: jax.Array


def vector_step_factors(params: VectorParams, h, x, *, act: str):
    """Closed form: ``h' = act(a)``, ``a = W h + U x + b``, and ``dh'/dh = diag(d) W`` with
    ``ln d = ln act'(a)`` exact in saturation. Returns (h' (n,), ln d (n,), W (n, n))."""
    h_new, log_part, lin_part = activation_and_derivative_parts(act, params.W @ h + params.U @ x + params.b)
    return h_new, log_part + jnp.log(lin_part), params.W


def autodiff_step_factors(cell, params, h, x):
    """Any cell's step and its Jacobian by ``jax.jacfwd`` (GRU/LSTM's route, and the vector twin):
    (h', zeros (n,), J (n, n)), i.e. no row scale is known in closed form."""
    return cell(params, h, x), jnp.zeros_like(h), jax.jacfwd(lambda s: cell(params, s, x))(h)


def jacobian_product(step_factors, h0, xs, read_idx) -> tuple[ProductReadout, ProductChecks]:
    """The QR-renormalised product ``J_t = A_t ... A_1`` read after each step in ``read_idx``.

    step_factors(h, x) -> (h', ln d (n,), M (n, n)) with the step Jacobian ``A = diag(exp(ln d)) M``;
    h0 (n,), xs (T, k), read_idx (R,) increasing step indices. Each step factors
    ``e^{-c} diag(exp(ln d)) (M Q_{t-1}) = Q_t R_t`` with ``c = max_i ln d_i`` (so the largest row is
    O(1) and float32 keeps rows down to 1e-38 of it) by ``qr_householder``, and adds c back to every
    ``ln|r_ii|`` and to the log-scale of P. The dtype of h0 is the working dtype throughout.
    """
    n = h0.shape[0]
    dtype = h0.dtype
    eye = jnp.eye(n, dtype=dtype)
    zero = jnp.zeros((), dtype)
    zeros = jnp.zeros(n, dtype)

    def step(carry, x):
        h, q, p, scale, diag, rows = carry
        h, ln_d, m = step_factors(h, x)
        shift = jnp.max(ln_d)
        q, r = qr_householder(jnp.exp(ln_d - shift)[:, None] * (m @ q))
        ln_diag = jnp.log(jnp.abs(jnp.diagonal(r))) + shift
        p = r @ p
        s = jnp.sqrt(jnp.sum(p * p))
        scale = kahan_add(*scale, jnp.log(s) + shift)
        diag = (*kahan_add(*diag[:2], ln_diag), diag[2] + jnp.sum(jnp.abs(ln_diag)))
        rows = (*kahan_add(*rows[:2], jnp.sum(ln_d)), rows[2] + jnp.sum(jnp.abs(ln_d)))
        return h, q, p / s, scale, diag, rows

    def emit(c):
        _, _, p, (total, comp), (diag, diag_comp, _), _ = c
        return ProductReadout(total - comp, p, diag - diag_comp)

    init = (h0, eye, eye, (zero, zero), (zeros, zeros, zero), (zero, zero, zero))
    final, readout = scan_read_off(step, init, xs, read_idx, emit)
    _, q, _, _, (_, _, diag_abs), (rows, rows_comp, rows_abs) = final
    checks = ProductChecks(jnp.max(jnp.abs(q.T @ q - eye)), rows - rows_comp, rows_abs, diag_abs)
    return readout, checks


def vector_jacobian_product(params: VectorParams, h0, xs, read_idx, *, act: str):
    """Closed-form route for the vector RNN: ``jacobian_product`` with ``vector_step_factors``."""
    return jacobian_product(functools.partial(vector_step_factors, params, act=act), h0, xs, read_idx)


def cell_jacobian_product(cell, params, h0, xs, read_idx):
    """Autodiff route for any cell (GRU, LSTM, or the vector RNN as a twin)."""
    return jacobian_product(functools.partial(autodiff_step_factors, cell, params), h0, xs, read_idx)


# ----------------------------------------------------------------------------- invariants (host side)


def determinant_identity(ln_diag_total, ln_row_scale_sum, ln_row_scale_abs, ln_diag_abs, steps, ln_abs_det_m,
                         cond_m, n: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(residual, allowance) of ``sum_i ln_diag_total_i = ln_row_scale_sum + steps * ln|det M|`` (nats).

    Exact in real arithmetic: ``prod_i |r_t,ii| = |det(A_t Q_{t-1})| = |det A_t| = prod_i d_t,i |det M|``.
    Rounding, per step: the row-sorted Householder QR (and the product M Q before it) is backward stable
    row by row, ``A + diag(d) F`` with ``|F_i| <= c n eps ||M_i||``, which moves ``ln|det A|`` by
    ``|tr(M^{-1} F)| <= c n^2 eps cond(M)``; each logarithm is rounded to ``eps |ln .|``. So the allowance is
    ``IDENTITY_ULPS * eps * (steps n^2 cond(M) + ln_row_scale_abs + ln_diag_abs + steps |ln|det M||)``
    (cond(M) = 1 for an orthogonal W). Arrays broadcast (one entry per run); float64 on the host.
    """
    total = np.asarray(ln_diag_total, np.float64)
    det = np.asarray(ln_abs_det_m, np.float64)
    residual = total - (np.asarray(ln_row_scale_sum, np.float64) + steps * det)
    allowance = IDENTITY_ULPS * eps * (steps * n * n * np.asarray(cond_m, np.float64)
                                       + np.asarray(ln_row_scale_abs, np.float64)
                                       + np.asarray(ln_diag_abs, np.float64) + steps * np.abs(det))
    return residual, allowance


def orthogonality_allowance(n: int, eps: float) -> float:
    """Largest accepted ``max |Q^T Q - I|``: ``ORTHOGONALITY_ULPS * n * eps``."""
    return ORTHOGONALITY_ULPS * n * eps


def bound_allowance_per_step(n: int, eps: float) -> float:
    """Accepted excess of ``ln ||J_T||`` over ``T ln(gamma lambda_1)``, per step (nats): ``BOUND_ULPS * n * eps``."""
    return BOUND_ULPS * n * eps
