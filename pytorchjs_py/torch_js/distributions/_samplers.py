"""The samplers of PyTorch's native gamma kernels (torch._standard_gamma, torch._sample_dirichlet), draw for draw:
Marsaglia and Tsang's rejection method element by element on the generator's stream (uniform doubles, and normal
doubles with the generator's cached Box-Muller value), with the kernel's arithmetic, so that Gamma, Chi2, Beta,
Dirichlet, StudentT and what is built on them give PyTorch's values under the same seed (to the last bit of libm's
log, sin and cos). Their reparameterized gradient is the implicit one, dx/dalpha = -(dF/dalpha) / f(x) with F the
gamma CDF, computed to double precision (ops/special_math/gamma.py: gamma_sample_grad), where PyTorch's kernel uses
approximations good to about 1e-3. torch.poisson, torch.binomial and Tensor.cauchy_ are ops (ops/random_samplers.py).
"""
import math

from ..ops.random import _gen
from ..ops.random_samplers import _same, _uniform
from ..ops.special_math import gamma as _gamma
from ._torch import D, Function, T

F64 = D.float64


def _tiny(dtype):
    return D.finfo(dtype).tiny


def _alphas(t):
    """t's values as Python floats in memory order (the serial kernel's), read on the CPU (webgpu has no float64)."""
    return t.detach().reshape(-1).cpu().to(F64).tolist()


_THIRD_F = D.round_float32(1.0 / 3.0)   # C's 1.0f / 3.0f
_C0331_F = D.round_float32(0.0331)      # 0.0331f


class _Draws:
    """ATen's CPU samplers on a generator: uniform doubles (random64) and normal doubles (Box-Muller with the
    generator's cached second value), taken from and given back to the generator's state."""

    def __init__(self, generator):
        self.g = generator
        self.stream = generator.python_stream()
        self.cached = generator.normal_cache()

    def uniform(self):
        return _uniform(self.stream)

    def normal(self):
        if self.cached is not None:
            v, self.cached = self.cached, None
            return v
        u1, u2 = _uniform(self.stream), _uniform(self.stream)
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.cached = r * math.sin(theta)
        return r * math.cos(theta)

    def close(self):
        self.g.resume(self.stream)
        self.g.set_normal_cache(self.cached)


def _gamma_one(alpha, draws, f):
    """ATen's sample_gamma (Marsaglia and Tsang, alpha < 1 boosted by one and scaled by U^(1/alpha)): its draws
    and arithmetic, in double with alpha and the float constants as the kernel has them (f rounds to float32 where
    the kernel computes in its float scalar type)."""
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= (1.0 - draws.uniform()) ** f(1.0 / alpha)
        alpha = f(alpha + 1.0)
    d = f(alpha - _THIRD_F)
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1.0 - draws.uniform()
        xx = x * x
        if u < 1.0 - _C0331_F * xx * xx or math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _gamma_draws(alphas, in_float32, generator=None):
    """Gamma(alpha, 1) for each alpha (floats, in the kernel's element order) as PyTorch's CPU kernel draws them
    under the same generator state: computed for a float32 tensor in its float arithmetic, rounded to it."""
    f = D.round_float32 if in_float32 else _same
    draws = _Draws(_gen(generator))
    try:
        return [f(_gamma_one(f(a), draws, f)) if a == a else a for a in alphas]
    finally:   # (a failure leaves the stream where the elements before it stopped, as the serial kernel does)
        draws.close()


def standard_gamma_grad(x, alpha):
    """dx/dalpha of a Gamma(alpha, 1) draw x held at a fixed CDF level (the implicit reparameterization
    gradient; torch._standard_gamma_grad)."""
    return _gamma.gamma_sample_grad(x.detach().to(F64), alpha.detach().to(F64)).to(x.dtype)


class _StandardGamma(Function):
    @staticmethod
    def forward(ctx, concentration):
        values = _gamma_draws(_alphas(concentration), concentration.dtype is D.float32)
        x = T.tensor(values, dtype=F64).reshape(concentration.shape).to(concentration.dtype)
        x = x.to(concentration.device)
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


class _Dirichlet(Function):   # (PyTorch's name: its node prints as _DirichletBackward)
    """torch._sample_dirichlet: gamma draws in double (each at least the smallest normal double), divided by their
    sum along the last dim, in the concentration's dtype within [its smallest normal, the float below 1]; the
    gradient through the gamma draws' implicit one, as the normalisation of standard_gamma."""

    @staticmethod
    def forward(ctx, concentration):
        tiny = D.finfo(F64).tiny
        values = [max(tiny, v) for v in _gamma_draws(_alphas(concentration), False)]
        g = T.tensor(values, dtype=F64).reshape(concentration.shape)
        dt = concentration.dtype
        x = (g / g.sum(-1, keepdim=True)).to(dt).clamp(min=_tiny(dt), max=1.0 - D.finfo(dt).eps / 2)
        x = x.to(concentration.device)
        ctx.save_for_backward(g.to(dt).to(concentration.device), concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        g, concentration = ctx.saved_tensors
        dg = standard_gamma_grad(g, concentration)
        total = g.sum(-1, keepdim=True)
        # d(g_i / S)/d alpha_j = dg_j (delta_ij / S - g_i / S^2)
        return dg * (grad_output / total - (grad_output * g).sum(-1, keepdim=True) / (total * total))


def sample_dirichlet(concentration):
    """torch._sample_dirichlet: PyTorch's draws, differentiable through the gamma draws' implicit gradient."""
    return _Dirichlet.apply(concentration)
