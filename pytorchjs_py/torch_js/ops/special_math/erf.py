"""The error-function family on float64 tensors (values only; the ops add the derivatives): erfinv,
erfcx, ndtr, ndtri, log_ndtr.

ndtr and log_ndtr are PyTorch's formulas (so they agree with it to rounding, including ndtr's underflow to 0 below
about -38). erfinv and ndtri are solved by Newton's method on the C library's erf/erfc: from the left and right
tails on erfc (in log space, so a start far off still converges fast), around zero on erf; their results are within
an ulp or two of PyTorch's (whose double erfinv is correctly rounded nearly everywhere)."""
import math

from . import T, where

INF = float("inf")
NAN = float("nan")
SQRT_PI_2 = math.sqrt(math.pi) / 2.0
SQRT1_2 = math.sqrt(0.5)
SQRT2 = math.sqrt(2.0)
_DEKKER = 134217729.0    # 2**27 + 1: splits a double into two halves whose products are exact


def _square_parts(x):
    """x*x as hi + lo exactly (Dekker): exp(x*x) then loses nothing to the rounding of x*x."""
    c = _DEKKER * x
    xh = c - (c - x)
    xl = x - xh
    hi = x * x
    lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl
    return hi, lo


def _exp_square(x):
    hi, lo = _square_parts(x)
    return hi.exp() * (1.0 + lo)


def erfcx(x):
    """exp(x^2) erfc(x): directly (with x^2 split exactly) up to 25, the asymptotic series 1/(x sqrt(pi)) *
    sum (-1)^k (2k-1)!! / (2x^2)^k beyond, 2 exp(x^2) - erfcx(-x) below 0 (inf below about -26.6)."""
    ax = x.abs()
    direct = _exp_square(where(ax < 25.0, ax, 0.0)) * ax.erfc()
    big = where(ax >= 25.0, ax, 25.0)
    inv = 1.0 / (2.0 * big * big)
    acc = T.ones_like(big)
    term = acc
    for k in range(1, 14):
        term = term * (-(2 * k - 1)) * inv
        acc = acc + term
    asymptotic = acc / (big * math.sqrt(math.pi))
    pos = where(ax < 25.0, direct, asymptotic)
    pos = where(ax.isinf(), 0.0, pos)
    xn = where(ax < 27.0, ax, 27.0)
    neg = 2.0 * (xn * xn).exp() - pos      # x*x rounded first, as PyTorch's kernel does
    neg = where(ax < 27.0, neg, INF)
    return where(x.isnan(), NAN, where(x < 0, neg, pos))


def _erfc_solve(w):
    """x >= 0 with erfc(x) = w, for w in (0, 1]: Newton on log erfc(x) = log(erfcx(x)) - x^2, which is close to
    linear in x^2, from the asymptotic start x^2 = t - log(pi t)/2, t = -log(w)."""
    ws = where((w > 0) & (w <= 1.0), w, 0.5)
    t = -ws.log()
    x = (t - 0.5 * (math.pi * where(t > 1.0, t, 1.0)).log()).clamp_min(0.05).sqrt()
    target = ws.log()
    for _ in range(7):
        ex = erfcx(x)
        f = ex.log() - x * x - target
        x = (x + f * SQRT_PI_2 * ex).clamp_min(0.0)
    return x


def _erf_solve(y):
    """x with erf(x) = y for |y| <= 1/2: Newton on erf from erfinv's Maclaurin series."""
    y2 = y * y
    x = SQRT_PI_2 * y * (1.0 + y2 * (math.pi / 12.0 + y2 * (7.0 * math.pi ** 2 / 480.0)))
    for _ in range(4):
        x = x - (x.erf() - y) * SQRT_PI_2 * (x * x).exp()
    return x


def erfinv(y):
    """Inverse of erf on [-1, 1]: +-inf at +-1, nan outside."""
    ya = y.abs()
    central = _erf_solve(where(ya <= 0.5, y, 0.0))
    tail = _erfc_solve(where(ya > 0.5, 1.0 - ya, 0.5))
    tail = T.copysign(tail, y)
    r = where(ya <= 0.5, central, tail)
    r = where(ya == 1.0, T.copysign(T.full_like(y, INF), y), r)
    return where((ya > 1.0) | y.isnan(), NAN, r)


def ndtr(x):
    """PyTorch's ndtr: (1 + erf(x / sqrt 2)) / 2."""
    return (1.0 + (x * SQRT1_2).erf()) * 0.5


def ndtri(p):
    """Inverse of ndtr on [0, 1]: -inf at 0, inf at 1, nan outside. Around 1/2 sqrt(2) erfinv(2p - 1) (2p - 1 is
    exact there); in the tails -+sqrt(2) erfcinv(2 min(p, 1 - p)) (1 - p is exact for p >= 1/2)."""
    central = SQRT2 * _erf_solve(where((p >= 0.25) & (p <= 0.75), 2.0 * p - 1.0, 0.0))
    lower = p < 0.25
    w = where(lower, 2.0 * p, 2.0 * (1.0 - p))
    tail = SQRT2 * _erfc_solve(where((p < 0.25) | (p > 0.75), w, 0.5))
    r = where(lower, -tail, where(p > 0.75, tail, central))
    r = where(p == 0, -INF, where(p == 1, INF, r))
    return where((p < 0) | (p > 1) | p.isnan(), NAN, r)


def log_ndtr(x):
    """PyTorch's log_ndtr: log(erfcx(-t) / 2) - t^2 below -1, log1p(-erfc(t) / 2) elsewhere, t = x / sqrt 2."""
    t = x * SQRT1_2
    low = where(x < -1.0, t, 0.0)
    left = (erfcx(-low) / 2.0).log() - low * low
    right = (-(t.erfc()) / 2.0).log1p()
    return where(x < -1.0, left, right)
