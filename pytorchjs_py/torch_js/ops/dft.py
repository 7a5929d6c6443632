"""The discrete Fourier transform in O(n log n) real tensor ops, on any backend and under autograd.

`dft(re, im, sign)` transforms the last dim: X[k] = Σ_j x[j]·exp(sign·2πi·jk/n), unnormalized, with the complex
values as two real tensors of one float dtype (float32 data computes in float32, as PyTorch's pocketfft does).
Every step is a tensor op (narrow/flip/cat, elementwise, matmul, reshape/transpose), so the transform runs wherever
those run and its gradient is the ops' gradient.

The plan for a length n:
- n <= 4, or a prime up to 64: a direct DFT (below);
- n = r·m with the radix r = 4, else 2, else n's smallest prime factor up to 64: Cooley-Tukey's decimation in
  time. The m-point DFTs of the r interleaved subsequences (recursively), times the twiddles
  exp(sign·2πi·j1·k1/n), combined by r-point direct DFTs; X[k1 + m·k2] comes out in order. Radix 4 and 2 first
  (as pocketfft factors), so powers of two go through exact butterflies (coefficients 0 and ±1) and an FFT of
  integers comes out exact where PyTorch's does;
- otherwise (a large prime factor): Bluestein's chirp z-transform, a circular convolution of a 7-smooth length
  M >= 2n - 1 done with the plans above.
A direct r-point DFT pairs x[j] with x[r - j] first (their sum meets the cosines, their difference the sines, as
pocketfft's butterflies do, so symmetric inputs cancel exactly), then takes one matmul with the real
coefficients. Tables (coefficients, twiddles, Bluestein's chirp and its spectrum) are computed once per
(n, sign, dtype, device) in float64 on the CPU, from exponents reduced mod n in integers, then rounded to the
data's dtype.
"""
import math

from .. import _dtype as D
from .._grad_mode import no_grad
from .._storage import CPU
from ._registry import torch_ops

DIRECT_MAX = 4         # lengths up to this take a direct DFT
PRIME_DIRECT_MAX = 64  # a prime factor up to this is a radix (or, alone, a direct DFT); larger ones: Bluestein

_TABLES = {}
_TABLES_MAX = 256


def _cached(key, build):
    t = _TABLES.get(key)
    if t is None:
        if len(_TABLES) >= _TABLES_MAX:
            _TABLES.clear()
        with no_grad():
            t = _TABLES[key] = build()
    return t


def _smallest_prime_factor(n):
    p = 2
    while p * p <= n:
        if n % p == 0:
            return p
        p += 1
    return n


def plan(n):
    """'direct', 'bluestein' or the radix r (n = r·m) for a length n > 1."""
    if n <= DIRECT_MAX:
        return "direct"
    for r in (4, 2):
        if n % r == 0:
            return r
    p = _smallest_prime_factor(n)
    if p == n:
        return "direct" if n <= PRIME_DIRECT_MAX else "bluestein"
    return p if p <= PRIME_DIRECT_MAX else "bluestein"


def _unit_roots(exponents, n, sign, dtype, dev):
    """cos and sin of sign·2π·e/n for an int64 CPU tensor of exponents e (already reduced mod n), in float64, then
    in `dtype` on `dev`. As pocketfft's tables: reduced in integers to an angle of at most π/4 and mapped back by
    the symmetries, so the quarter turns are exactly 0 and ±1 (an FFT of integers gives exact zeros where PyTorch's
    does) and mirrored angles give mirrored values; zeros are +0."""
    four = exponents * 4
    quarter = four // n                          # θ = quarter·π/2 + φ, φ = (π/2)·rest/n in [0, π/2)
    rest = four - quarter * n
    upper = rest * 2 > n                         # φ > π/4: from its complement, π/2 - φ
    small = torch_ops.where(upper, n - rest, rest).to(D.float64) * (math.pi / 2 / n)
    c_small, s_small = small.cos(), small.sin()
    c = torch_ops.where(upper, s_small, c_small)
    s = torch_ops.where(upper, c_small, s_small)
    q = quarter % 4
    cos = torch_ops.where(q == 0, c, torch_ops.where(q == 1, -s, torch_ops.where(q == 2, -c, s)))
    sin = torch_ops.where(q == 0, s, torch_ops.where(q == 1, c, torch_ops.where(q == 2, -s, -c))) * sign
    cos, sin = (torch_ops.where(v == 0, 0.0, v) for v in (cos, sin))
    return cos.to(dtype).to(dev), sin.to(dtype).to(dev)


def _dft_exponents(rows, cols, n, offset=0):
    """(j·k) mod n over j = offset .. offset + rows - 1 and k = 0 .. cols - 1, int64 on the CPU (exact: no angle
    is formed before the reduction)."""
    j = torch_ops.arange(offset, offset + rows, dtype=D.int64).unsqueeze(1)
    k = torch_ops.arange(cols, dtype=D.int64).unsqueeze(0)
    return (j * k) % n


def _pair_matrices(n, sign, dtype, dev):
    """The coefficients of the paired n-point DFT (see _direct), h = (n - 1) // 2: rows 1, cos(2π·jk/n) (j = 1..h),
    -sign·sin(2π·jk/n) (j = 1..h) and, for even n, (-1)^k; and the same split in two for a real input: the
    cosine rows (1, cos, (-1)^k) and the sine rows."""
    def build():
        h = (n - 1) // 2
        k = torch_ops.arange(n, dtype=D.int64)
        c, s = _unit_roots(_dft_exponents(h, n, n, offset=1), n, sign, D.float64, CPU)
        s = torch_ops.where(s == 0, 0.0, -s)
        ones = torch_ops.ones(1, n, dtype=D.float64)
        alt = [torch_ops.where(k % 2 == 0, 1.0, -1.0).to(D.float64).unsqueeze(0)] if n % 2 == 0 else []
        full = torch_ops.cat([ones, c, s] + alt, 0)
        cos_rows = torch_ops.cat([ones, c] + alt, 0)
        return tuple(m.to(dtype).to(dev) for m in (full, cos_rows, s))
    return _cached(("pair", n, sign, dtype, dev), build)


def _twiddles(r, m, sign, dtype, dev):
    n = r * m
    return _cached(("twiddle", r, m, sign, dtype, dev),
                   lambda: _unit_roots(_dft_exponents(r, m, n), n, sign, dtype, dev))


def _smooth_at_least(k):
    """The smallest 7-smooth integer >= k (a length the radix plans handle)."""
    n = k
    while True:
        m = n
        for p in (2, 3, 5, 7):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def _bluestein_tables(n, sign, dtype, dev):
    """Bluestein's chirp w[k] = exp(sign·iπ·k²/n) (k < n) and the spectrum of its conjugate laid out for an M-point
    circular convolution, divided by M (the inverse transform's scale)."""
    def build():
        big = _smooth_at_least(2 * n - 1)
        k = torch_ops.arange(n, dtype=D.int64)
        e = (k * k) % (2 * n)                      # exp(sign·iπ·k²/n) = exp(sign·2πi·(k² mod 2n)/(2n))
        wr64, wi64 = _unit_roots(e, 2 * n, sign, D.float64, CPU)
        # b[j] = conj(w[j]) for j = 0..n-1 and b[M - j] = conj(w[j]) for j = 1..n-1, zero between
        br = torch_ops.zeros(big, dtype=D.float64)
        bi = torch_ops.zeros(big, dtype=D.float64)
        br[:n] = wr64
        bi[:n] = -wi64
        if n > 1:
            br[big - n + 1:] = wr64[1:].flip(0)
            bi[big - n + 1:] = -wi64[1:].flip(0)
        fr, fi = dft(br.unsqueeze(0), bi.unsqueeze(0), -1)
        return (big, wr64.to(dtype).to(dev), wi64.to(dtype).to(dev), (fr[0] / big).to(dtype).to(dev),
                (fi[0] / big).to(dtype).to(dev))
    return _cached(("bluestein", n, sign, dtype, dev), build)


def _cmul(ar, ai, br, bi):
    return ar * br - ai * bi, ar * bi + ai * br


def _bluestein(re, im, n, sign):
    """x·exp(sign·2πi·jk/n) summed over j, as w[k]·Σ_j (x[j]·w[j])·conj(w[k - j]) (since 2jk = k² + j² - (k-j)²):
    a circular convolution of length M, through M-point transforms."""
    big, wr, wi, fr, fi = _bluestein_tables(n, sign, re._dtype, re._storage.device)
    ar, ai = (re * wr, re * wi) if im is None else _cmul(re, im, wr, wi)
    pad = torch_ops.zeros(ar.shape[0], big - n, dtype=ar._dtype, device=ar._storage.device)
    ar, ai = torch_ops.cat([ar, pad], 1), torch_ops.cat([ai, pad], 1)
    sr, si = _dft2d(ar, ai, big, -1)
    sr, si = _cmul(sr, si, fr, fi)
    cr, ci = _dft2d(sr, si, big, 1)
    return _cmul(cr[:, :n], ci[:, :n], wr, wi)


def _direct(re, im, n, sign, dim):
    """The n-point DFT along `dim` (-1 of (B, n), or 1 of (B, n, m)) by pairs: x[j] + x[n - j] meets the cosines,
    x[j] - x[n - j] the sines (crossed between real and imaginary parts), x[0] and x[n/2] rows of their own; the
    real and imaginary features take one matmul, stacked along the batch dim (dim 0)."""
    h = (n - 1) // 2
    full, cos_rows, sin_rows = _pair_matrices(n, sign, re._dtype, re._storage.device)

    def features(x):
        fwd, bwd = x.narrow(dim, 1, h), x.narrow(dim, n - h, h).flip(dim)
        return x.narrow(dim, 0, 1), fwd + bwd, fwd - bwd, [x.narrow(dim, n // 2, 1)] if n % 2 == 0 else []

    def times(f, mat):
        return f.matmul(mat) if dim == -1 else mat.t().matmul(f)

    a0, sa, da, ah = features(re)
    if im is None:   # the imaginary parts come from the sines alone
        out_re = times(torch_ops.cat([a0, sa] + ah, dim), cos_rows)
        return out_re, (times(-da, sin_rows) if h else torch_ops.zeros_like(out_re))
    b0, sb, db, bh = features(im)
    f = torch_ops.cat([torch_ops.cat([a0, sa, db] + ah, dim), torch_ops.cat([b0, sb, -da] + bh, dim)], 0)
    out = times(f, full)
    b = re.shape[0]
    return out[:b], out[b:]


def _dft2d(re, im, n, sign):
    """The DFT of rows: re, im (B, n); im None for real input."""
    if n == 1:
        return re, (im if im is not None else torch_ops.zeros_like(re))
    p = plan(n)
    if p == "direct":
        return _direct(re, im, n, sign, -1)
    if p == "bluestein":
        return _bluestein(re, im, n, sign)
    r, m = p, n // p
    b = re.shape[0]
    # subsequence j1 (x[j2·r + j1], j2 < m) as a row: (B, m, r) -> (B, r, m)
    sub_re = re.reshape(b, m, r).transpose(1, 2).reshape(b * r, m)
    sub_im = None if im is None else im.reshape(b, m, r).transpose(1, 2).reshape(b * r, m)
    yr, yi = _dft2d(sub_re, sub_im, m, sign)
    tr, ti = _twiddles(r, m, sign, re._dtype, re._storage.device)
    zr, zi = _cmul(yr.reshape(b, r, m), yi.reshape(b, r, m), tr, ti)
    out_re, out_im = _direct(zr, zi, r, sign, 1)   # (B, r, m): rows k2
    return out_re.reshape(b, n), out_im.reshape(b, n)


def dft(re, im, sign):
    """The unnormalized DFT along the last dim of the complex values re + i·im (im None: a real input):
    X[k] = Σ_j x[j]·exp(sign·2πi·jk/n). Returns (Re X, Im X), re's shape."""
    shape = re.shape
    n = shape[-1]
    if re.numel() == 0:
        z = torch_ops.zeros(shape, dtype=re._dtype, device=re._storage.device)
        return z, z.clone()
    xr = re.reshape(-1, n)
    xi = None if im is None else im.reshape(-1, n)
    out_re, out_im = _dft2d(xr, xi, n, sign)
    return out_re.reshape(shape), out_im.reshape(shape)


def hermitian_complete(zr, zi, n):
    """The n-point spectrum (real and imaginary parts, last dim) whose first n//2 + 1 bins are zr, zi: the rest is
    their conjugate mirror, X[n - k] = conj(X[k]) (what a real signal's DFT is)."""
    mirror = n - (n // 2 + 1)
    if not mirror:
        return zr, zi
    zr = torch_ops.cat([zr, zr[..., 1:mirror + 1].flip(-1)], -1)
    zi = torch_ops.cat([zi, -zi[..., 1:mirror + 1].flip(-1)], -1)
    return zr, zi
