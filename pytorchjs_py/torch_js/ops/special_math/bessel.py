"""Modified Bessel functions of the first kind, orders 0 and 1, plain and exponentially scaled, on float64 tensors
(values only; the ops add the derivatives).

Up to |x| = 20 the power series (all its terms are positive, so it is accurate to a few ulps); beyond, Hankel's
asymptotic expansion, whose smallest term there is below 1e-17 of the sum."""
import math

from . import T, where

SERIES_LIMIT = 20.0
_SERIES_TERMS = 48      # (x^2/4)^k / k!^2 < 1e-17 of I0(20) from k = 38
_ASYMPTOTIC_TERMS = 30


def _series(ax, order):
    """sum_k (x^2/4)^k / (k! (k + order)!) for |x| <= 20."""
    q = ax * ax * 0.25
    term = T.ones_like(ax)
    total = term
    for k in range(1, _SERIES_TERMS):
        term = term * q / (k * (k + order))
        total = total + term
    return total


def _hankel(ax, order):
    """sum_k (-1)^k prod_j (4 order^2 - (2j - 1)^2) / (k! (8x)^k): I_order(x) ~ e^x / sqrt(2 pi x) times this."""
    mu = 4.0 * order * order
    inv = 1.0 / (8.0 * ax)
    term = T.ones_like(ax)
    total = term
    for k in range(1, _ASYMPTOTIC_TERMS):
        term = term * (-(mu - (2 * k - 1) ** 2)) * inv / k
        total = total + term
    return total


def _parts(x, order):
    """(series value, scaled asymptotic value, |x|, in_series): I_order(|x|) = series * (|x|/2)^order for
    |x| <= 20, and e^|x| * scaled beyond."""
    ax = x.abs()
    in_series = ax <= SERIES_LIMIT
    xs = where(in_series, ax, 0.0)
    xa = where(in_series, SERIES_LIMIT + 1.0, ax)
    series = _series(xs, order) * (0.5 * xs) ** order
    scaled = _hankel(xa, order) / (2.0 * math.pi * xa).sqrt()
    return series, scaled, ax, in_series


def _finish(x, r, odd):
    if odd:
        r = where(x < 0, -r, r)
    return where(x.isnan(), x, r)


# at +-inf: nan for I0 and I1 (e^inf times 0, as PyTorch's kernels give), 0 for the scaled ones


def i0(x):
    series, scaled, ax, in_series = _parts(x, 0)
    return _finish(x, where(in_series, series, ax.exp() * scaled), False)


def i0e(x):
    series, scaled, ax, in_series = _parts(x, 0)
    return _finish(x, where(in_series, series * (-ax).exp(), where(ax.isinf(), 0.0, scaled)), False)


def i1(x):
    series, scaled, ax, in_series = _parts(x, 1)
    return _finish(x, where(in_series, series, ax.exp() * scaled), True)


def i1e(x):
    series, scaled, ax, in_series = _parts(x, 1)
    return _finish(x, where(in_series, series * (-ax).exp(), where(ax.isinf(), 0.0, scaled)), True)
