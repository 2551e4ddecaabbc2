"""Intervals, effects and the one verdict rule every study applies.

An :class:`Effect` is a named estimate with a two-sided interval (95 % unless a
function is called with another ``level``), the number ``n`` of independent
replicates (seeds, models, trials) it rests on, and a unit. Studies build
effects with the constructors below and turn them into verdicts with
:func:`verdict`; verdicts over several conditions are merged by :func:`combine`.
:data:`RULE` states the rule in words for REPORT.md.

Notation: ``z = Phi^{-1}(1 - alpha/2)`` is the standard normal quantile and
``t = T_{n-1}^{-1}(1 - alpha/2)`` the Student-t quantile with ``n - 1`` degrees
of freedom, where ``alpha = 1 - level``.

Input errors (``n < 1``, ``successes`` outside ``[0, n]``, non-integer counts,
``level`` outside ``(0, 1)``, empty or non-1-D data, unequal pair lengths) raise
``ValueError``. Non-finite data values raise ``ValueError`` too, unless the
caller passes ``nonfinite="invalid"``: then the effect carries NaN estimate and
bounds, so that :func:`verdict` says ``"invalid"`` (a diverged seed becomes an
invalid claim instead of a crash). Nothing here ever turns NaN into a verdict
other than ``"invalid"``.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping, NamedTuple

import numpy as np
from scipy import stats as _sps

__all__ = [
    "Effect",
    "RULE",
    "VERDICTS",
    "bootstrap_effect",
    "combine",
    "describe",
    "NOT_TESTED",
    "PLATEAU_RULE",
    "at_bound",
    "beats_trivial",
    "mean_effect",
    "paired_effect",
    "plateaued",
    "powered_verdict",
    "rate",
    "rate_difference",
    "verdict",
    "wilson",
]

NOT_TESTED = "not tested"
VERDICTS = ("confirmed", "refuted", "nuanced", "inconclusive", NOT_TESTED, "invalid")

#: The plateau criterion of :func:`plateaued`, in words for the report.
PLATEAU_RULE = (
    "a model is at a plateau when the mean of its curve over the last quarter of training "
    "differs from the mean over the third quarter by at most 5 % of the whole change since "
    "the first point"
)

RULE = (
    "Verdict rule (jaxrnn.stats): each claim is measured as one or more effects, each an "
    "estimate with a two-sided 95 % interval over n independent replicates (Student-t over "
    "seeds or models, percentile bootstrap, Wilson score interval for rates, Newcombe hybrid "
    "score interval for a difference of rates). Within one condition the claim is confirmed "
    "when the whole interval lies strictly on the claimed side of zero, refuted when it lies "
    "strictly on the opposite side, inconclusive when it contains zero (an interval from a "
    "single replicate is infinite and therefore inconclusive), and invalid when the estimate "
    "or a bound is NaN (infinite bounds are allowed). Where a smallest effect of interest "
    "(margin m > 0) is stated for the measure, an interval lying strictly inside (-m, +m) "
    "also refutes the claim in that condition (no effect of the claimed size). Across "
    "conditions: invalid if any "
    "condition is invalid; otherwise the common verdict if all conditions agree; nuanced if "
    "at least one condition is confirmed and another refuted (or any is already nuanced); "
    "otherwise, when confirmed or refuted conditions are mixed only with inconclusive ones, "
    "inconclusive. A condition is 'not tested' (reported, never voted) when the experiment "
    "could not have shown the effect: no compared method beats the trivial predictor, the "
    "deciding measure sits at its bound in every setting compared, or the compared models "
    "are not at a plateau (" + PLATEAU_RULE + "); a claim whose conditions are all not "
    "tested is not tested."
)


class Effect(NamedTuple):
    """A named estimate with its interval.

    Fields: ``name`` (str), ``estimate`` (float), ``ci95`` ((lo, hi) floats; the
    interval at the ``level`` of the constructor, 0.95 by default), ``n`` (int,
    number of independent replicates), ``unit`` (str).
    """

    name: str
    estimate: float
    ci95: tuple[float, float]
    n: int
    unit: str

    def to_dict(self) -> dict:
        """``{"name", "estimate", "ci95": [lo, hi], "n", "unit"}`` with plain Python
        floats/ints (NaN and +-inf stay as float NaN/inf; strict-JSON encoding of
        those is the writer's job)."""
        lo, hi = self.ci95
        return {
            "name": str(self.name),
            "estimate": float(self.estimate),
            "ci95": [float(lo), float(hi)],
            "n": int(self.n),
            "unit": str(self.unit),
        }


# ----------------------------------------------------------------------------- validation


def _level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return level


def _count(x, what: str) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be an integer count, got {type(x).__name__} {x!r}")
    xf = float(x)
    if not math.isfinite(xf) or xf != math.floor(xf):
        raise ValueError(f"{what} must be an integer count, got {x!r}")
    return int(xf)


def _counts(successes, n) -> tuple[int, int]:
    n = _count(n, "n")
    s = _count(successes, "successes")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= s <= n:
        raise ValueError(f"successes must satisfy 0 <= successes <= n, got {s} of {n}")
    return s, n


def _values(values, what: str = "values") -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one entry per replicate), got shape {v.shape}")
    if v.size < 1:
        raise ValueError(f"{what} must hold at least one replicate (n >= 1), got none")
    return v


def _nonfinite(v: np.ndarray, nonfinite: str, name: str) -> bool:
    """True when ``v`` has non-finite entries and the caller asked for an invalid effect."""
    if nonfinite not in ("raise", "invalid"):
        raise ValueError(f'nonfinite must be "raise" or "invalid", got {nonfinite!r}')
    if np.all(np.isfinite(v)):
        return False
    if nonfinite == "raise":
        bad = int(np.sum(~np.isfinite(v)))
        raise ValueError(
            f"effect {name!r}: {bad} of {v.size} values are not finite "
            '(pass nonfinite="invalid" to get an invalid effect instead)'
        )
    return True


def _invalid(name: str, n: int, unit: str) -> Effect:
    nan = float("nan")
    return Effect(name, nan, (nan, nan), n, unit)


# ----------------------------------------------------------------------------- rates


def wilson(successes, n, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    With ``p = s / n`` and ``z = Phi^{-1}(1 - (1 - level) / 2)``::

        centre = (p + z^2 / (2n)) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
        (lo, hi) = (centre - half, centre + half)

    These are the roots in ``pi`` of ``(p - pi)^2 = z^2 pi (1 - pi) / n``. The
    bounds lie in ``[0, 1]``; ``lo = 0`` exactly when ``s = 0`` and ``hi = 1``
    exactly when ``s = n`` (set exactly, not left to rounding).
    """
    s, n = _counts(successes, n)
    z = float(_sps.norm.ppf(0.5 + _level(level) / 2.0))
    p = s / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    lo = 0.0 if s == 0 else min(max(centre - half, 0.0), p)
    hi = 1.0 if s == n else max(min(centre + half, 1.0), p)
    return lo, hi


def rate(name: str, successes, n, unit: str = "rate") -> Effect:
    """Effect of a success rate: estimate ``s / n``, interval :func:`wilson` (95 %),
    ``n`` trials."""
    s, n = _counts(successes, n)
    return Effect(name, s / n, wilson(s, n), n, unit)


def rate_difference(name: str, s1, n1, s2, n2, unit: str = "rate difference") -> Effect:
    """Difference of two independent rates ``p1 - p2`` with Newcombe's hybrid score
    interval (Newcombe 1998, method 10).

    With ``p_i = s_i / n_i``, ``(l_i, u_i) = wilson(s_i, n_i)`` and ``d = p1 - p2``::

        lo = d - sqrt((p1 - l1)^2 + (u2 - p2)^2)
        hi = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    ``n`` of the effect is ``n1 + n2`` (total trials).
    """
    s1, n1 = _counts(s1, n1)
    s2, n2 = _counts(s2, n2)
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1)
    l2, u2 = wilson(s2, n2)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Effect(name, d, (lo, hi), n1 + n2, unit)


# ----------------------------------------------------------------------------- means


def _bounded(effect: Effect, bounds) -> Effect:
    """The interval intersected with the quantity's range ``bounds = (lo, hi)`` (e.g. (0, 1) for a mean
    of rates, (-1, 1) for a difference of two): a t interval on bounded data can reach past the range,
    and no value there is possible. The estimate lies inside the range already."""
    if bounds is None or math.isnan(effect.estimate):
        return effect
    lo, hi = effect.ci95
    return effect._replace(ci95=(max(lo, bounds[0]), min(hi, bounds[1])))


def mean_effect(
    name: str, values, unit: str, level: float = 0.95, *, nonfinite: str = "raise", bounds=None
) -> Effect:
    """Mean over independent replicates with a Student-t interval.

    For values ``x_1..x_n`` (1-D, one per seed/model)::

        m  = (1/n) sum_i x_i
        s  = sqrt( sum_i (x_i - m)^2 / (n - 1) )
        (lo, hi) = m -+ t_{n-1, 1-alpha/2} * s / sqrt(n)

    With ``n = 1`` there is no variance estimate: the interval is ``(-inf, inf)``
    (honestly unbounded; its verdict is inconclusive). With all values equal the
    interval has zero width ``(m, m)``. ``bounds = (lo, hi)``: the range of the quantity, to which the
    interval is clipped (a mean of rates: (0, 1)).
    """
    v = _values(values)
    n = int(v.size)
    level = _level(level)
    if _nonfinite(v, nonfinite, name):
        return _invalid(name, n, unit)
    m = float(np.mean(v))
    if n == 1:
        return _bounded(Effect(name, m, (-math.inf, math.inf), 1, unit), bounds)
    s = float(np.std(v, ddof=1))
    t = float(_sps.t.ppf(0.5 + level / 2.0, df=n - 1))
    half = t * s / math.sqrt(n)
    return _bounded(Effect(name, m, (m - half, m + half), n, unit), bounds)


def paired_effect(
    name: str, a, b, unit: str, level: float = 0.95, *, nonfinite: str = "raise", bounds=None
) -> Effect:
    """Mean paired difference ``mean(a - b)`` with a Student-t interval.

    ``a`` and ``b`` are 1-D of equal length ``n``, entry ``i`` of both measured on
    the same replicate (same seed). With ``d_i = a_i - b_i`` this is
    :func:`mean_effect` of ``d``::

        (lo, hi) = mean(d) -+ t_{n-1, 1-alpha/2} * sd(d) / sqrt(n)

    ``bounds``: the range of the difference (two rates: (-1, 1)), to which the interval is clipped.
    """
    a = _values(a, "a")
    b = _values(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.size} and {b.size}")
    if _nonfinite(np.concatenate([a, b]), nonfinite, name):
        return _invalid(name, int(a.size), unit)
    return mean_effect(name, a - b, unit, level, bounds=bounds)


def bootstrap_effect(
    name: str,
    values,
    unit: str,
    stat: Callable = np.mean,
    n_boot: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
    *,
    nonfinite: str = "raise",
) -> Effect:
    """Statistic ``stat(values)`` with a percentile bootstrap interval.

    Draw ``B = n_boot`` resamples of size ``n`` with replacement (one
    ``numpy.random.Generator`` seeded with ``seed``; index matrix ``I`` of shape
    ``(B, n)``), compute ``theta*_b = stat(x[I_b])`` for all ``b`` in one call
    ``stat(x[I], axis=1)`` (so ``stat`` must accept ``axis=``, as numpy
    reductions do), and take::

        (lo, hi) = (Q_{alpha/2}(theta*), Q_{1-alpha/2}(theta*))

    with ``Q`` the empirical quantile (numpy's default linear interpolation).
    The estimate is ``stat(x)``. With ``n = 1`` every resample is the same value,
    which says nothing about spread: the interval is ``(-inf, inf)``.
    Memory is ``B * n`` floats.
    """
    v = _values(values)
    n = int(v.size)
    level = _level(level)
    n_boot = _count(n_boot, "n_boot")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if _nonfinite(v, nonfinite, name):
        return _invalid(name, n, unit)
    est = float(stat(v))
    if n == 1:
        return Effect(name, est, (-math.inf, math.inf), 1, unit)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = np.asarray(stat(v[idx], axis=1), dtype=np.float64)
    if boot.shape != (n_boot,):
        raise ValueError(f"stat(x, axis=1) must return shape ({n_boot},), got {boot.shape}")
    alpha = 1.0 - level
    lo, hi = np.quantile(boot, [alpha / 2.0, 1.0 - alpha / 2.0])
    return Effect(name, est, (float(lo), float(hi)), n, unit)


# ----------------------------------------------------------------------------- verdicts


def verdict(effect: Effect, claimed_sign: int = +1, margin: float | None = None) -> str:
    """The verdict of one effect against a claimed sign (``+1``: claim says the
    effect is positive; ``-1``: negative).

    With ``(lo, hi) = effect.ci95``, ``c = claimed_sign`` and ``m = margin`` (the
    smallest effect of interest, in the effect's unit, stated by the caller per
    measure; ``None`` for no margin):

    - ``"invalid"`` if the estimate, ``lo`` or ``hi`` is NaN (``+-inf`` is allowed);
    - ``"confirmed"`` if ``c * x > 0`` for every ``x`` in ``[lo, hi]``
      (``lo > 0`` for ``c = +1``, ``hi < 0`` for ``c = -1``);
    - ``"refuted"`` if ``c * x < 0`` for every ``x`` in ``[lo, hi]``, or, when a
      margin is given, if ``-m < lo`` and ``hi < m`` (equivalence: the interval
      rules out any effect of the claimed size);
    - ``"inconclusive"`` otherwise (the closed interval contains 0 and reaches
      beyond the margin, or there is no margin).

    Raises ``ValueError`` for a sign other than +-1 or a margin that is not a
    finite number > 0.
    """
    if claimed_sign not in (1, -1):
        raise ValueError(f"claimed_sign must be +1 or -1, got {claimed_sign!r}")
    if margin is not None:
        m = float(margin)
        if not (math.isfinite(m) and m > 0.0):
            raise ValueError(f"margin must be a finite number > 0, got {margin!r}")
    est = float(effect.estimate)
    lo, hi = (float(x) for x in effect.ci95)
    if math.isnan(est) or math.isnan(lo) or math.isnan(hi):
        return "invalid"
    if lo > hi:
        raise ValueError(f"effect {effect.name!r}: interval bounds reversed ({lo}, {hi})")
    if claimed_sign == 1:
        lo_c, hi_c = lo, hi
    else:
        lo_c, hi_c = -hi, -lo
    if lo_c > 0.0:
        return "confirmed"
    if hi_c < 0.0:
        return "refuted"
    if margin is not None and -m < lo and hi < m:
        return "refuted"
    return "inconclusive"


def beats_trivial(effect: Effect, better_sign: int = +1) -> bool:
    """True when the whole interval of ``effect`` (a method's measure minus the
    trivial predictor's, signed so that ``better_sign`` is better) lies strictly
    on the better side of zero: the method demonstrably learned something.
    NaN bounds give False."""
    return verdict(effect, better_sign) == "confirmed"


def at_bound(values, bound: float, atol: float = 0.0) -> bool:
    """True when every value of the deciding measure equals ``bound`` within
    ``atol`` (e.g. a rate stuck at 0 or 1, a probability missed stuck at 1): the
    measure cannot move between the conditions compared. NaN gives False."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("at_bound needs at least one value")
    return bool(np.all(np.abs(v - float(bound)) <= float(atol)))


def plateaued(curve, rel_tol: float = 0.05) -> bool:
    """The plateau criterion (:data:`PLATEAU_RULE`) on one curve sampled at
    equally spaced updates, shape ``(K,)`` with ``K >= 4``:

    ``|mean(q4) - mean(q3)| <= rel_tol * |mean(q4) - curve[0]|``, where ``q3``
    and ``q4`` are the third and last quarters of the samples. A curve that has
    not moved at all (``mean(q4) == curve[0]``) is at a plateau only if q3 equals
    q4 too. NaN gives False."""
    c = np.asarray(curve, dtype=np.float64).ravel()
    if c.size < 4:
        raise ValueError(f"a plateau needs at least 4 points of the curve, got {c.size}")
    if not np.all(np.isfinite(c)):
        return False
    k = c.size // 4
    q3, q4 = c[c.size - 2 * k : c.size - k], c[c.size - k :]
    drift = abs(q4.mean() - q3.mean())
    return bool(drift <= rel_tol * abs(q4.mean() - c[0]))


def powered_verdict(
    effect: Effect,
    claimed_sign: int = +1,
    no_power: str | None = None,
    margin: float | None = None,
) -> str:
    """:func:`verdict` (with the same optional equivalence ``margin``), except
    ``"not tested"`` when ``no_power`` (the reason in words) says the experiment
    could not have shown the effect. A NaN effect stays ``"invalid"`` whatever
    the power: a broken number is never hidden."""
    v = verdict(effect, claimed_sign, margin)
    if v == "invalid" or not no_power:
        return v
    return NOT_TESTED


def combine(verdicts_by_condition: Mapping[str, str]) -> str:
    """Merge per-condition verdicts into one, in this order:

    1. ``"invalid"`` if any condition is invalid;
    2. ``"not tested"`` conditions are set aside (reported, not voted); if every
       condition is not tested, ``"not tested"``;
    3. the common verdict if all remaining conditions have the same one;
    4. ``"nuanced"`` if any condition is nuanced, or at least one is confirmed
       and at least one refuted (inconclusive ones may also be present);
    5. ``"inconclusive"`` otherwise, i.e. confirmed-or-refuted (one kind only)
       mixed with inconclusive.

    Raises ``ValueError`` on an empty mapping or an unknown verdict string.
    """
    if not verdicts_by_condition:
        raise ValueError("combine needs at least one condition")
    vs = set()
    for cond, v in verdicts_by_condition.items():
        if v not in VERDICTS:
            raise ValueError(
                f"condition {cond!r}: unknown verdict {v!r} (expected one of {VERDICTS})"
            )
        vs.add(v)
    if "invalid" in vs:
        return "invalid"
    vs.discard(NOT_TESTED)
    if not vs:
        return NOT_TESTED
    if len(vs) == 1:
        return vs.pop()
    if "nuanced" in vs or {"confirmed", "refuted"} <= vs:
        return "nuanced"
    return "inconclusive"


def _fmt(x: float, fixed: bool, digits: int) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}f}" if fixed else f"{x:.{digits}e}"


def describe(effect: Effect, digits: int = 3) -> str:
    """``"0.123 [0.100, 0.150] (n=16, nats)"``: estimate, interval, n and unit; an interval of zero
    width (every replicate equal) reads ``"1.00, no spread (n=8, ids)"``.

    Fixed-point with ``digits`` decimals when every finite non-zero number of
    the effect has magnitude in ``[10^-digits, 10^4)``, otherwise scientific
    notation with ``digits`` decimals for all three numbers (so small gradient
    norms do not print as 0.000).
    """
    lo, hi = (float(x) for x in effect.ci95)
    nums = [float(effect.estimate), lo, hi]
    finite = [abs(x) for x in nums if math.isfinite(x) and x != 0.0]
    fixed = all(10.0 ** (-digits) <= x < 1e4 for x in finite)
    e, l, h = (_fmt(x, fixed, digits) for x in nums)
    if math.isfinite(nums[0]) and nums[0] == lo == hi:  # every replicate equal: say so, not "[x, x]"
        return f"{e}, no spread (n={int(effect.n)}, {effect.unit})"
    return f"{e} [{l}, {h}] (n={int(effect.n)}, {effect.unit})"
