import math

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxrnn.core.logspace import LogNum, cumulative_product, from_value, log10_abs, relative_error, representable, to_value


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3), min_size=1, max_size=40))
def test_cumulative_product_matches_cumprod(values):
    x = np.asarray(values)
    got = jax.jit(cumulative_product)(LogNum(jnp.sign(x), jnp.log(jnp.abs(x))))
    np.testing.assert_allclose(to_value(got), np.cumprod(x), rtol=1e-5)


def test_products_far_beyond_float_range_stay_exact():
    # 1000 factors of 1e-3: 1e-3000 underflows any float, not the log form.
    f = LogNum(np.ones(1000), np.full(1000, math.log(1e-3)))
    p = cumulative_product(f)
    assert np.isclose(float(log10_abs(p)[-1]), -3000.0, rtol=1e-6)
    assert to_value(p, np.float64)[-1] == 0.0  # the plain value underflows ...
    assert not representable(p, np.float64)[-1]  # ... and that is detected


def test_zero_and_sign():
    n = from_value(np.array([0.0, -2.0, 3.0]))
    assert n.sign.tolist() == [0.0, -1.0, 1.0]
    assert np.isneginf(n.log_abs[0])
    assert representable(n, np.float32).tolist() == [True, True, True]


def test_relative_error_cases():
    truth = LogNum(np.array([1.0, -1.0, 1.0, 0.0, 0.0, 1.0]), np.log(np.array([2.0, 2.0, 2.0, 1.0, 1.0, 1e-300])))
    truth = LogNum(truth.sign, np.where(truth.sign == 0, -np.inf, truth.log_abs))
    value = np.array([2.2, -2.0, -2.0, 0.0, 1.0, 0.0])
    err = relative_error(truth, value)
    np.testing.assert_allclose(err[:3], [0.1, 0.0, 2.0], atol=1e-12)
    assert err[3] == 0.0 and np.isinf(err[4])
    assert err[5] == 1.0  # a spurious zero is a 100% error, never a clean 0
