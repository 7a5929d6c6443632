"""Samplers for the distributions whose PyTorch sampler is a native kernel torch_js does not reproduce
(torch._standard_gamma, torch._sample_dirichlet); torch.poisson, torch.binomial and Tensor.cauchy_ are ops
(ops/random_samplers.py) that do give PyTorch's draws.

The gamma's stream is not PyTorch's: under manual_seed it gives other values (drawn from torch_js's generator, so
reproducible within torch_js), from Marsaglia and Tsang's rejection method, an exact sampler. Its reparameterized
gradient is the implicit one, dx/dalpha = -(dF/dalpha) / f(x) with F the gamma CDF, computed to double precision
(ops/special_math/gamma.py: gamma_sample_grad), where PyTorch's kernel uses approximations good to about 1e-3.
"""
from ..ops.special_math import gamma as _gamma
from ._torch import D, Function, T

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
