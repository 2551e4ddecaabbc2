"""The QR renormalisation against a float64 reference at condition numbers 1e8, 1e14, 1e20.

Reference: numpy's LAPACK Householder QR (``np.linalg.qr``) in float64 of the same float32 matrix,
with its rows sorted by decreasing max-norm first (for row-graded matrices beyond 1/eps64 = 4.5e15,
unsorted LAPACK itself loses the small r_ii; sorting rows does not change R, since a row
permutation is orthogonal). Tolerances are in units of n eps32; the measured values are 4-10x
below them, and the negative controls (CGS2, unsorted Householder) miss them by 10^3 or more.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.core import jacobians

N = 32
EPS = float(np.finfo(np.float32).eps)
CONDS = (1e8, 1e14, 1e20)


def _graded(seed: int, cond: float, kind: str) -> np.ndarray:
    """diag(d) M with d spread geometrically over [1/cond, 1] in shuffled row order; M orthogonal or
    Gaussian: the shape of the step Jacobians diag(act'(a)) W Q of a saturated RNN."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((N, N))
    m = np.linalg.qr(g)[0] if kind == "orthogonal" else g
    d = np.geomspace(1.0, 1.0 / cond, N)[rng.permutation(N)]
    return (d[:, None] * m).astype(np.float32)


def _general(seed: int, cond: float) -> np.ndarray:
    """U diag(sigma) V^T with sigma over [1/cond, 1] (not graded by rows)."""
    rng = np.random.default_rng(seed)
    u, v = (np.linalg.qr(rng.standard_normal((N, N)))[0] for _ in range(2))
    return ((u * np.geomspace(1.0, 1.0 / cond, N)) @ v.T).astype(np.float32)


def _reference(a: np.ndarray) -> np.ndarray:
    """R of a by float64 LAPACK on the rows sorted by decreasing max-norm."""
    a64 = a.astype(np.float64)
    return np.linalg.qr(a64[np.argsort(-np.abs(a64).max(axis=1), kind="stable")])[1]


def _measures(qr, a):
    """(max|Q^T Q - I|, max row-relative ||QR - A||, normwise ||QR - A||/||A||, max |ln|r_ii| - ln|r_ii^ref||),
    all in units of n eps32."""
    q, r = (np.asarray(x, np.float64) for x in jax.jit(qr)(jnp.asarray(a)))
    a64 = a.astype(np.float64)
    assert np.all(np.tril(r, -1) == 0)
    orth = np.abs(q.T @ q - np.eye(N)).max()
    rows = (np.linalg.norm(q @ r - a64, axis=1) / np.linalg.norm(a64, axis=1)).max()
    norm = np.linalg.norm(q @ r - a64, 2) / np.linalg.norm(a64, 2)
    with np.errstate(divide="ignore"):
        diag = np.abs(np.log(np.abs(np.diag(r))) - np.log(np.abs(np.diag(_reference(a))))).max()
    return np.asarray([orth, rows, norm, diag]) / (N * EPS)


@pytest.mark.parametrize("cond", CONDS)
@pytest.mark.parametrize("kind", ["orthogonal", "gaussian"])
def test_householder_on_row_graded_matrices_matches_float64(cond, kind):
    for seed in range(3):
        a = _graded(seed, cond, kind)
        assert np.linalg.cond(a.astype(np.float64)) > cond / 1e3
        orth, rows, norm, diag = _measures(jacobians.qr_householder, a)
        assert orth <= 1 and norm <= 1, (orth, norm)
        assert rows <= 40, rows  # backward stable row by row (Cox & Higham)
        assert diag <= 16, diag  # every ln|r_ii| relatively accurate, also the ones 1e-20 down


@pytest.mark.parametrize("cond", CONDS)
def test_householder_on_general_ill_conditioned_matrices(cond):
    """Without row grading float32 cannot resolve the small r_ii (they sit below eps ||A||); Q stays
    orthogonal and QR = A normwise to O(n eps) at any condition number."""
    for seed in range(3):
        orth, rows, norm, _ = _measures(jacobians.qr_householder, _general(seed, cond))
        assert orth <= 1 and norm <= 1 and rows <= 40, (orth, norm, rows)


@pytest.mark.parametrize("cond", CONDS[1:])
def test_the_checks_catch_cgs2_and_unsorted_householder(cond):
    """Negative controls: the same measures fail for CGS2 (orthogonality lost once cond eps > 1) and for
    Householder without row sorting (the small r_ii swamped by the rounding of the large rows)."""
    a = _graded(0, cond, "orthogonal")
    orth, *_ = _measures(jacobians.qr_cgs2, a)
    assert orth > 1e3
    _, rows, _, diag = _measures(lambda x: jacobians.qr_householder(x, sort_rows=False), a)
    assert rows > 1e3 and diag > 1e3


def test_householder_float64_twin_and_shapes():
    """In float64 the same code agrees with LAPACK to ~n eps64; tall matrices; exact zero columns."""
    rng = np.random.default_rng(5)
    with jax.enable_x64(True):
        a = rng.standard_normal((12, 7)) * np.geomspace(1, 1e-12, 12)[:, None]
        q, r = (np.asarray(x) for x in jax.jit(jacobians.qr_householder)(jnp.asarray(a)))
        assert q.shape == (12, 12) and r.shape == (12, 7)
        np.testing.assert_allclose(q.T @ q, np.eye(12), atol=1e-14)
        np.testing.assert_allclose(np.abs(np.diag(r)), np.abs(np.diag(_reference(a))), rtol=1e-12)
        assert np.all(np.abs(q @ r - a) <= 1e-14 * np.abs(a).max(axis=1, keepdims=True))  # row by row
        z = np.zeros((4, 4))
        q, r = (np.asarray(x) for x in jacobians.qr_householder(jnp.asarray(z)))
        np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-15)
        assert np.all(r == 0)
    with pytest.raises(ValueError, match="rows >= columns"):
        jacobians.qr_householder(jnp.zeros((3, 4)))


def test_row_order_is_a_permutation_sorting_by_max_norm():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((9, 5))
    a[3] = a[6]  # a tie: the lower index goes first
    order = np.asarray(jacobians.row_order(jnp.asarray(a)))
    assert sorted(order) == list(range(9))
    keys = np.abs(a).max(axis=1)
    np.testing.assert_array_equal(np.argsort(order), np.argsort(-keys, kind="stable"))
