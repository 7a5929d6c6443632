"""The gamma family on float64 tensors (values only; the ops add PyTorch's derivatives): log-gamma,
digamma, trigamma, the Hurwitz zeta function, polygamma and the regularized incomplete gamma functions.

digamma, trigamma and zeta follow the algorithms of PyTorch's CPU kernels (ATen's Math.h, after Cephes) step for
step, so their values agree to rounding, including where those algorithms are themselves inexact (trigamma's
truncated asymptotic series). log-gamma (PyTorch calls the C library's lgamma) is a Taylor series at 2, the
recurrence and Stirling's series, with the reflection formula below 1/2; the incomplete gamma functions are the power
series and Lentz's continued fraction."""
import math
from fractions import Fraction

from ..._grad_mode import no_grad
from . import T, broadcast, polyval, where

INF = float("inf")
NAN = float("nan")
MACHEP = 1.11022302462515654042e-16   # Cephes' double machine epsilon (2**-53), which zeta's loop tests against
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
EULER = 0.57721566490153286060651209


def bernoulli_numbers(n):
    """B_0 .. B_n as Fractions (Akiyama-Tanigawa), B_1 = +1/2."""
    out, row = [], []
    for m in range(n + 1):
        row.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        out.append(row[0])
    return out


_B = bernoulli_numbers(24)
# digamma's asymptotic series: psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k), k = 1..7 (highest first for Horner)
_PSI_ASYMPTOTIC = [float(_B[2 * k] / (2 * k)) for k in range(7, 0, -1)]
# psi(10) = H_9 - gamma: the digamma kernel's exact value at 10
PSI_10 = float(sum(Fraction(1, k) for k in range(1, 10)) - Fraction("0.57721566490153286060651209008240243"))
# Euler-Maclaurin's remainder in zeta: (2k)! / B_2k, k = 1..12
_ZETA_A = [float(math.factorial(2 * k) / _B[2 * k]) for k in range(1, 13)]
# Stirling's series for lgamma(a) - ((a - 1/2) log a - a + log(2 pi)/2): B_2k / (2k (2k-1) a^(2k-1)), k = 1..8
_STIRLING = [float(_B[2 * k] / (2 * k * (2 * k - 1))) for k in range(8, 0, -1)]

def _zeta_minus_one(k):
    """zeta(k) - 1 for an integer k >= 2, in double precision: the sum to N - 1 (smallest terms first) and
    Euler-Maclaurin's remainder from N."""
    n_cut = 12
    total = sum(n ** -k for n in range(n_cut - 1, 1, -1))
    total += n_cut ** (1 - k) / (k - 1) + 0.5 * n_cut ** -k
    rising = float(k)
    for j in range(1, 9):
        total += float(_B[2 * j] / math.factorial(2 * j)) * rising * n_cut ** (-k - 2 * j + 1)
        rising *= (k + 2 * j - 1) * (k + 2 * j)
    return total


# lgamma(2 + z) = (1 - gamma) z + sum_k>=2 (-1)^k (zeta(k) - 1) / k z^k, for |z| <= 1/2 (highest power first)
_LGAMMA_AT_2 = [(-1) ** k * _zeta_minus_one(k) / k for k in range(30, 1, -1)] + [1.0 - EULER, 0.0]


def _lgamma_near_2(z):
    """log Gamma(2 + z) for |z| <= 1/2: the series keeps full relative accuracy at the zero z = 0."""
    return polyval(_LGAMMA_AT_2, z)


def _lgamma_from_half(x):
    """log Gamma(x) for x >= 1/2: the series at 2 on [1/2, 5/2] (through lgamma(x) = lgamma(x + 1) - log x below
    3/2; z = x - 1 and x - 2 are exact there), the recurrence down into it below 8.5 (each x - j is exact), Stirling's
    series above."""
    below_15 = x < 1.5
    z = where(below_15, x - 1.0, x - 2.0)
    n = (x - 2.0).round().clamp(0.0, 6.0)       # steps down to [1.5, 2.5]
    mid = x < 8.5
    zm = where(mid, x - 2.0 - n, 0.0)
    prod = T.ones_like(x)
    for j in range(1, 7):
        prod = prod * where(mid & (j <= n), x - j, 1.0)
    near = _lgamma_near_2(where(mid, where(below_15, z, zm), 0.0))
    small = where(below_15, near - z.log1p(), near + prod.log())
    xb = where(mid, 8.5, x)
    stirling = (xb - 0.5) * xb.log() - xb + HALF_LOG_2PI + polyval(_STIRLING, 1.0 / (xb * xb)) / xb
    return where(mid, small, stirling)


def _abs_sin_pi(x):
    """|sin(pi x)|, reduced exactly first (x - round(x) is exact), so it is accurate for large |x|."""
    return (math.pi * (x - x.round())).sin().abs()


def lgamma(x):
    """log |Gamma(x)|: inf at the poles (0, -1, -2, ...) and at +-inf."""
    small = x < 0.5
    base = _lgamma_from_half(where(small, 1.0 - x, x))
    # the reflection on a stand-in where it is not selected, so autograd through this composite sees no inf there
    xr = where(small, x, 0.25)
    reflected = (math.pi / _abs_sin_pi(xr)).log() - base
    r = where(small, reflected, base)
    return where(x.isinf(), INF, r)


def digamma(x):
    """PyTorch's calc_digamma: -inf/+inf at +0/-0, nan at the negative integers, reflection below 0, the recurrence
    up to 10 and the asymptotic series from there."""
    neg = x < 0
    frac = x - x.trunc()
    reflection = math.pi / (math.pi * frac).tan()
    y = where(neg, 1.0 - x, x)
    acc = T.zeros_like(y)
    for _ in range(10):                     # `while (x < 10) { result -= 1/x; x += 1; }`; y > 0 here
        below = y < 10.0
        acc = acc - where(below, 1.0 / y, 0.0)
        y = where(below, y + 1.0, y)
    z = 1.0 / (y * y)
    tail = where(y < 1.0e17, z * polyval(_PSI_ASYMPTOTIC, z), 0.0)
    r = where(y == 10.0, acc + PSI_10, acc + y.log() - 0.5 / y - tail)
    r = where(neg, r - reflection, r)
    r = where(neg & (x == x.trunc()), NAN, r)
    return where(x == 0, T.copysign(T.full_like(x, INF), -x), r)


def trigamma(x):
    """PyTorch's calc_trigamma (its series is truncated after x^-7, so it is good to about 1e-9, as PyTorch's)."""
    small = x < 0.5
    s = (math.pi * x).sin()
    acc = where(small, -(math.pi * math.pi) / (s * s), 0.0)
    y = where(small, 1.0 - x, x)
    for _ in range(6):
        acc = acc + 1.0 / (y * y)
        y = y + 1.0
    ixx = 1.0 / (y * y)
    acc = acc + (1.0 + 1.0 / (2.0 * y) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / y
    return where(small, -acc, acc)


def zeta(x, q):
    """Hurwitz zeta sum_k (k + q)^-x, PyTorch's zeta kernel (Cephes): inf at x == 1 and at the poles q = 0, -1, ...;
    nan for x < 1 and for a negative q with a non-integer x."""
    x, q = broadcast(x, q)
    pole = (x == 1.0) | ((q <= 0) & (q == q.floor()))
    undefined = (x < 1.0) | ((q <= 0) & (x != x.floor()))
    bad = pole | undefined
    xs = where(bad, 2.0, x)
    qs = where(bad, 1.0, q)
    s = qs.pow(-xs)
    a = qs.clone()
    b = T.zeros_like(s)
    live = ~bad
    done = bad.clone()          # returned early (converged within the direct sum) or out of the domain
    i = 0
    while bool(live.any()):
        i += 1
        a = where(live, a + 1.0, a)
        b = where(live, a.pow(-xs), b)
        s = where(live, s + b, s)
        converged = live & (-MACHEP * s < b) & (b < MACHEP * s)
        done = done | converged
        live = live & ~converged & ((i < 9) | (a <= 9.0))
    w = a
    s = where(done, s, s + b * w / (xs - 1.0) - 0.5 * b)
    fac = T.ones_like(s)
    k = 0.0
    for coeff in _ZETA_A:
        fac = fac * (xs + k)
        b = b / w
        t = fac * b / coeff
        s = where(done, s, s + t)
        done = done | ((t / s).abs() < MACHEP)
        k += 1.0
        fac = fac * (xs + k)
        b = b / w
        k += 1.0
    s = where(pole, INF, s)
    return where(undefined & ~pole, NAN, where(x.isnan() | q.isnan(), NAN, s))


def polygamma(n, x):
    """PyTorch's polygamma: digamma, trigamma, then (-1)^(n+1) exp(lgamma(n+1)) zeta(n+1, x)."""
    if n == 0:
        return digamma(x)
    if n == 1:
        return trigamma(x)
    factor = (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0))
    return factor * zeta(T.full_like(x, n + 1.0), x)


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a + 1)), with Stirling's form for large a so the cancellation between a log x, x and
    log Gamma(a + 1) is done on small numbers."""
    direct = a * x.log() - x - lgamma(a + 1.0)
    big = a >= 10.0
    ab = where(big, a, 10.0)
    u = (x - ab) / ab
    corr = polyval(_STIRLING, 1.0 / (ab * ab)) / ab
    stirling = ab * (u.log1p() - u) - 0.5 * (2 * math.pi * ab).log() - corr
    return where(big, stirling, direct)


def _converge(step, state, live, limit=100000):
    """Run step(state, live) -> (state, live) until no element is live (checked every 16 steps)."""
    for i in range(limit):
        state, live = step(state, live)
        if i % 16 == 15 and not bool(live.any()):
            break
    return state


def incomplete_gamma(a, x):
    """(P, Q): the regularized lower and upper incomplete gamma functions, computed with differentiable ops (so
    autograd can give dP/da). The power series where x < a + 1, Lentz's continued fraction for Q elsewhere."""
    a, x = broadcast(a, x)
    use_series = x < a + 1.0
    ok = (a > 0) & (x > 0) & a.isfinite() & x.isfinite()
    a1 = where(ok, a, 1.0)
    x1 = where(ok, x, 1.0)
    # series: P = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n))
    xs = where(use_series, x1, 0.5 * a1)

    def series_step(state, live):
        total, term, n = state
        term = term * xs / (a1 + n)
        total = total + where(live, term, 0.0)
        return (total, term, n + 1.0), live & (term.abs() > MACHEP * total.abs())
    one = T.ones_like(a1)
    total, _, _ = _converge(series_step, (one, one, 1.0), ok & use_series)
    p_series = (_log_prefactor(a1, xs).exp() * total)
    # continued fraction: Q = x^a e^-x / Gamma(a) * 1/(x + 1 - a - 1(1 - a)/(x + 3 - a - ...))
    xc = where(use_series, a1 + 2.0, x1)
    tiny = 1e-300

    def cf_step(state, live):
        b, c, d, h, i = state
        an = -i * (i - a1)
        b = b + 2.0
        d = an * d + b
        d = where(d.abs() < tiny, tiny, d)
        c = b + an / c
        c = where(c.abs() < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = where(live, h * delta, h)
        return (b, c, d, h, i + 1.0), live & ((delta - 1.0).abs() > MACHEP)
    b0 = xc + 1.0 - a1
    d0 = 1.0 / where(b0.abs() < tiny, tiny, b0)
    _, _, _, h, _ = _converge(cf_step, (b0, one / tiny, d0, d0, 1.0), ok & ~use_series)
    q_cf = (_log_prefactor(a1, xc) + a1.log()).exp() * h     # x^a e^-x / Gamma(a) = prefactor * a
    p = where(use_series, p_series, 1.0 - q_cf)
    q = where(use_series, 1.0 - p_series, q_cf)
    return _edge_cases(a, x, p, q)


def _edge_cases(a, x, p, q):
    """PyTorch's igamma/igammac outside the interior: nan for negative arguments, a == 0 and x == inf meeting
    a == inf; the limits elsewhere."""
    nan_at = (x < 0) | (a < 0) | ((a == 0) & (x <= 0)) | (a.isinf() & x.isinf()) | a.isnan() | x.isnan()
    p = where((a == 0) & (x > 0), 1.0, p)
    q = where((a == 0) & (x > 0), 0.0, q)
    p = where(x == 0, 0.0, where(a.isinf(), 0.0, where(x.isinf(), 1.0, p)))
    q = where(x == 0, 1.0, where(a.isinf(), 1.0, where(x.isinf(), 0.0, q)))
    return where(nan_at, NAN, p), where(nan_at, NAN, q)


def gammainc(a, x):
    with no_grad():
        return incomplete_gamma(a, x)[0]


def gammaincc(a, x):
    with no_grad():
        return incomplete_gamma(a, x)[1]


def gamma_sample_grad(x, a):
    """d x / d a for x ~ Gamma(a, 1) held at a fixed CDF level (the implicit reparameterization gradient):
    -(dP(a, x)/da) / density(x), with dP/da carried alongside P through the series (x < a + 1) or the continued
    fraction (forward-mode, each stops when the value and its derivative have converged). The density's
    x^a e^-x / Gamma(a) factor cancels, so nothing underflows far in the tails."""
    x, a = broadcast(x, a)
    use_series = x < a + 1.0
    ok = (a > 0) & (x > 0) & a.isfinite() & x.isfinite()
    a1 = where(ok, a, 1.0)
    x1 = where(ok, x, 1.0)
    # series: S = sum t_n, t_n = t_{n-1} x / (a + n); r_n = (dt_n/da) / t_n = r_{n-1} - 1 / (a + n)
    xs = where(use_series, x1, 0.5 * a1)

    def series_step(state, live):
        total, dtotal, term, ratio, n = state
        term = term * xs / (a1 + n)
        ratio = ratio - 1.0 / (a1 + n)
        total = total + where(live, term, 0.0)
        dtotal = dtotal + where(live, term * ratio, 0.0)
        small = (term <= MACHEP * total) & ((term * ratio).abs() <= MACHEP * dtotal.abs())
        return (total, dtotal, term, ratio, n + 1.0), live & ~small
    one = T.ones_like(a1)
    total, dtotal, _, _, _ = _converge(series_step, (one, T.zeros_like(a1), one, T.zeros_like(a1), 1.0),
                                       ok & use_series)
    series_grad = -(xs / a1) * (total * (xs.log() - digamma(a1 + 1.0)) + dtotal)
    # continued fraction for Q (Lentz), each quantity with its derivative in a
    xc = where(use_series, a1 + 2.0, x1)
    tiny = 1e-300

    def cf_step(state, live):
        b, c, dc, d, dd, h, dh, i = state
        an, dan = -i * (i - a1), i
        b = b + 2.0                     # db/da = -1 throughout
        dd = dan * d + an * dd - 1.0
        d = an * d + b
        d_small = d.abs() < tiny
        d = where(d_small, tiny, d)
        dd = where(d_small, 0.0, dd)
        dc = -1.0 + dan / c - an * dc / (c * c)
        c = b + an / c
        c_small = c.abs() < tiny
        c = where(c_small, tiny, c)
        dc = where(c_small, 0.0, dc)
        d, dd = 1.0 / d, -dd / (d * d)
        delta, ddelta = d * c, dd * c + d * dc
        h, dh = where(live, h * delta, h), where(live, dh * delta + h * ddelta, dh)
        done = ((delta - 1.0).abs() <= MACHEP) & (ddelta.abs() <= MACHEP * (dh / h).abs().clamp_min(1.0))
        return (b, c, dc, d, dd, h, dh, i + 1.0), live & ~done
    b0 = xc + 1.0 - a1
    b0 = where(b0.abs() < tiny, tiny, b0)
    d0, dd0 = 1.0 / b0, 1.0 / (b0 * b0)
    zero = T.zeros_like(a1)
    state = (b0, one / tiny, zero, d0, dd0, d0, dd0, 1.0)
    _, _, _, _, _, h, dh, _ = _converge(cf_step, state, ok & ~use_series)
    cf_grad = xc * (h * (xc.log() - digamma(a1)) + dh)
    return where(ok, where(use_series, series_grad, cf_grad), NAN)
