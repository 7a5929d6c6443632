"""Samplers for the distributions whose PyTorch sampler is a native kernel torch_js does not have
(torch._standard_gamma, torch._sample_dirichlet, torch.poisson, torch.binomial), and Tensor.cauchy_'s draw.

The native kernels' streams are not reproduced: under manual_seed these give other values than PyTorch (they draw
from torch_js's generator, so they are reproducible within torch_js). Each is an exact sampler of its distribution:
Marsaglia and Tsang's rejection method for the gamma, Hormann's transformed rejection (PTRS, BTRS) for large Poisson
rates and binomial means, counting exponential or geometric gaps below that. The gamma's reparameterized gradient is
the implicit one, dx/dalpha = -(dF/dalpha) / f(x) with F the gamma CDF, computed to double precision
(ops/special_math/gamma.py: gamma_sample_grad), where PyTorch's kernel uses approximations good to about 1e-3.
"""
import math

from ..ops.special_math import gamma as _gamma
from ._torch import D, Function, T, broadcast

F64 = D.float64


def _tiny(dtype):
    return D.finfo(dtype).tiny


def _flat64(t):
    return t.detach().reshape(-1).to(F64)


def _standard_gamma_values(alpha):
    """Gamma(alpha, 1) draws in float64 for a flat float64 alpha: Marsaglia-Tsang on alpha (+1 below 1, then
    scaled by U^(1/alpha)), all pending elements drawn at once each round."""
    n = alpha.numel()
    boosted = T.where(alpha < 1.0, alpha + 1.0, alpha)
    d = boosted - 1.0 / 3.0
    c = 1.0 / (9.0 * d).sqrt()
    out = T.zeros(n, dtype=F64, device=alpha.device)
    pending = T.arange(n, device=alpha.device)
    while pending.numel():
        k = pending.numel()
        dk, ck = d[pending], c[pending]
        x = T.randn(k, dtype=F64, device=alpha.device)
        u = T.rand(k, dtype=F64, device=alpha.device)
        v = (1.0 + ck * x) ** 3
        vpos = T.where(v > 0, v, 1.0)
        accept = (v > 0) & (u.log() < 0.5 * x * x + dk - dk * vpos + dk * vpos.log())
        out[pending[accept]] = (dk * vpos)[accept]
        pending = pending[~accept]
    small = alpha < 1.0
    if bool(small.any()):
        u = T.rand(int(small.sum()), dtype=F64, device=alpha.device)
        out[small] = (out[small].log() + u.log() / alpha[small]).exp()
    return T.where(alpha.isnan(), alpha, out)


def standard_gamma_grad(x, alpha):
    """dx/dalpha of a Gamma(alpha, 1) draw x held at a fixed CDF level (the implicit reparameterization
    gradient; torch._standard_gamma_grad)."""
    return _gamma.gamma_sample_grad(x.detach().to(F64), alpha.detach().to(F64)).to(x.dtype)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, concentration):
        x = _standard_gamma_values(_flat64(concentration)).reshape(concentration.shape).to(concentration.dtype)
        x.clamp_(min=_tiny(x.dtype))      # a draw that underflows is the smallest normal number, as in PyTorch
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        return grad_output * standard_gamma_grad(x, concentration)


def standard_gamma(concentration):
    """torch._standard_gamma: Gamma(concentration, 1) draws, differentiable in concentration."""
    return _StandardGamma.apply(concentration)


def sample_dirichlet(concentration):
    """Dirichlet draws as normalized gamma draws (differentiable through standard_gamma's implicit gradient)."""
    g = standard_gamma(concentration)
    return g / g.sum(-1, keepdim=True)


def cauchy(shape, dtype, device):
    """Tensor.cauchy_() on a new tensor: tan(pi (u - 1/2)) from float64 uniforms, as PyTorch's kernel draws them."""
    u = T.rand(shape, dtype=F64, device=device)
    return (math.pi * (u - 0.5)).tan().to(dtype)


# ---- Poisson ---------------------------------------------------------------------------------------------------

def _poisson_by_counting(rate):
    """For rates below 10: the number of unit-rate exponential arrivals before `rate`."""
    n = rate.numel()
    count = T.zeros(n, dtype=F64, device=rate.device)
    clock = T.zeros(n, dtype=F64, device=rate.device)
    pending = T.arange(n, device=rate.device)
    while pending.numel():
        clock[pending] += T.empty(pending.numel(), dtype=F64, device=rate.device).exponential_()
        over = clock[pending] > rate[pending]
        count[pending[~over]] += 1.0
        pending = pending[~over]
    return count


def _poisson_ptrs(lam):
    """Hormann's PTRS for rates of 10 and more (exact transformed rejection)."""
    n = lam.numel()
    slam, loglam = lam.sqrt(), lam.log()
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_inv_alpha = (1.1239 + 1.1328 / (b - 3.4)).log()
    vr = 0.9277 - 3.6224 / (b - 2.0)
    out = T.zeros(n, dtype=F64, device=lam.device)
    pending = T.arange(n, device=lam.device)
    while pending.numel():
        m = pending.numel()
        lp, llp, bp, ap, ip, vp = lam[pending], loglam[pending], b[pending], a[pending], log_inv_alpha[pending], \
            vr[pending]
        u = T.rand(m, dtype=F64, device=lam.device) - 0.5
        v = T.rand(m, dtype=F64, device=lam.device)
        us = 0.5 - u.abs()
        k = ((2.0 * ap / us + bp) * u + lp + 0.43).floor()
        quick = (us >= 0.07) & (v <= vp)
        hopeless = (k < 0) | ((us < 0.013) & (v > us))
        ks = k.clamp_min(0.0)
        bound = -lp + ks * llp - _gamma.lgamma(ks + 1.0)
        full = v.log() + ip - (ap / (us * us) + bp).log() <= bound
        accept = quick | (~hopeless & full)
        out[pending[accept]] = k[accept]
        pending = pending[~accept]
    return out


def poisson(rate):
    """torch.poisson: Poisson(rate) draws of rate's shape and dtype (0 where rate is 0)."""
    flat = _flat64(rate)
    if bool((flat < 0).any()) or bool(flat.isnan().any()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    out = T.zeros(flat.numel(), dtype=F64, device=flat.device)
    small = flat < 10.0
    if bool(small.any()):
        out[small] = _poisson_by_counting(flat[small])
    if bool((~small).any()):
        out[~small] = _poisson_ptrs(flat[~small])
    return out.reshape(rate.shape).to(rate.dtype)


# ---- binomial --------------------------------------------------------------------------------------------------

def _binomial_by_gaps(n, p):
    """For means below 10 (p <= 1/2): successes counted by geometric gaps between them."""
    size = n.numel()
    count = T.zeros(size, dtype=F64, device=n.device)
    position = T.zeros(size, dtype=F64, device=n.device)
    log_q = (-p).log1p()
    pending = T.arange(size, device=n.device)[p > 0]
    while pending.numel():
        u = T.rand(pending.numel(), dtype=F64, device=n.device)
        gap = (u.log() / log_q[pending]).floor() + 1.0
        position[pending] += gap
        inside = position[pending] <= n[pending]
        count[pending[inside]] += 1.0
        pending = pending[inside]
    return count


def _binomial_btrs(n, p):
    """Hormann's BTRS for n p >= 10 (p <= 1/2; exact transformed rejection with a squeeze)."""
    size = n.numel()
    q = 1.0 - p
    spq = (n * p * q).sqrt()
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = (p / q).log()
    m = ((n + 1.0) * p).floor()
    h = _gamma.lgamma(m + 1.0) + _gamma.lgamma(n - m + 1.0)
    out = T.zeros(size, dtype=F64, device=n.device)
    pending = T.arange(size, device=n.device)
    while pending.numel():
        k_ = pending.numel()
        np_, ap, bp, cp, vp, alp, lp, mp, hp = (t[pending] for t in (n, a, b, c, vr, alpha, lpq, m, h))
        u = T.rand(k_, dtype=F64, device=n.device) - 0.5
        v = T.rand(k_, dtype=F64, device=n.device)
        us = 0.5 - u.abs()
        k = ((2.0 * ap / us + bp) * u + cp).floor()
        inside = (k >= 0) & (k <= np_)
        quick = inside & (us >= 0.07) & (v <= vp)
        ks = k.clamp(min=0.0).minimum(np_)
        lhs = (v * alp / (ap / (us * us) + bp)).log()
        full = inside & (lhs <= hp - _gamma.lgamma(ks + 1.0) - _gamma.lgamma(np_ - ks + 1.0) + (ks - mp) * lp)
        accept = quick | full
        out[pending[accept]] = k[accept]
        pending = pending[~accept]
    return out


def binomial(count, prob):
    """torch.binomial: Binomial(count, prob) draws of the broadcast shape, prob's dtype."""
    n64, p64 = (t.detach().to(F64) for t in broadcast(count, prob))
    shape = n64.shape
    n, p = n64.reshape(-1), p64.reshape(-1)
    flip = p > 0.5
    pp = T.where(flip, 1.0 - p, p)
    out = T.zeros(n.numel(), dtype=F64, device=n.device)
    small = n * pp < 10.0
    if bool(small.any()):
        out[small] = _binomial_by_gaps(n[small], pp[small])
    if bool((~small).any()):
        out[~small] = _binomial_btrs(n[~small], pp[~small])
    out = T.where(flip, n - out, out)
    return out.reshape(shape).to(prob.dtype)

