"""torch_js.distributions against torch.distributions: log_prob, entropy, mean, mode, variance, stddev, cdf and icdf
on fixed parameters; draws equal to PyTorch's under manual_seed for the samplers built from rand/randn/normal_/
uniform_/exponential_/bernoulli/multinomial and PyTorch's gamma kernels, and their reparameterized gradients;
kl_divergence over every pair; transforms; shapes, expand and PyTorch's validation errors. The samplers PyTorch has as
native kernels (gamma, Dirichlet, Poisson, binomial) are also checked by their moments with fixed seeds and bounds
many standard errors wide, and the gamma's implicit gradient against the incomplete gamma function; those tests need
no torch (they run in Pyodide)."""
import itertools
import math
import os
import subprocess
import sys
import warnings

import pytest

import torch_js
import torch_js.distributions as JD
from optional_torch import needs_torch, torch

from _distribution_helpers import TD, P, build as _build, close as _close, values as _values  # noqa: F401


# key -> (class, parameters, values for log_prob/cdf); univariate ones have batch shape (3,) so every pair of them
# has a KL divergence to compare
CASES = {
    "Normal": ("Normal", dict(loc=P([0.5, -1.0, 2.0]), scale=P([1.0, 0.3, 2.5])), [[0.1, 0.2, 0.3], [-1.0, 5.0, 2.0]]),
    "Bernoulli": ("Bernoulli", dict(probs=P([0.2, 0.5, 0.9])), [[0.0, 1.0, 1.0]]),
    "BernoulliLogits": ("Bernoulli", dict(logits=P([0.2, -1.5, 3.0])), [[0.0, 1.0, 1.0]]),
    "Categorical": ("Categorical", dict(probs=P([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])), [[0, 2], [1, 1]]),
    "CategoricalLogits": ("Categorical", dict(logits=P([[0.2, -0.3, 1.5], [0.0, 2.0, -1.0]])), [[0, 2]]),
    "OneHotCategorical": ("OneHotCategorical", dict(probs=P([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
                          [[[1.0, 0, 0], [0, 0, 1.0]]]),
    "Uniform": ("Uniform", dict(low=P([0.0, -1.0, 0.2]), high=P([1.0, 3.0, 0.9])), [[0.5, 2.0, 0.3]]),
    "Beta": ("Beta", dict(concentration1=P([0.5, 2.0, 3.0]), concentration0=P([0.7, 1.0, 5.0])), [[0.1, 0.5, 0.99]]),
    "Gamma": ("Gamma", dict(concentration=P([0.5, 2.0, 3.0]), rate=P([1.0, 0.5, 4.0])), [[0.1, 2.0, 0.7]]),
    "Chi2": ("Chi2", dict(df=P([1.0, 3.0, 7.5])), [[0.1, 2.0, 9.0]]),
    "Dirichlet": ("Dirichlet", dict(concentration=P([[0.5, 2.0, 3.0], [1.0, 1.0, 1.0]])),
                  [[[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]]),
    "Exponential": ("Exponential", dict(rate=P([0.5, 2.0, 1.0])), [[0.1, 3.0, 1.0]]),
    "Laplace": ("Laplace", dict(loc=P([0.0, 1.0, -2.0]), scale=P([1.0, 0.5, 3.0])), [[0.1, 3.0, -1.0]]),
    "LogNormal": ("LogNormal", dict(loc=P([0.0, 1.0, -0.5]), scale=P([1.0, 0.5, 0.2])), [[0.1, 3.0, 0.6]]),
    "Binomial": ("Binomial", dict(total_count=P([10.0, 10.0, 10.0]), probs=P([0.3, 0.8, 0.5])), [[0.0, 7.0, 10.0]]),
    "Poisson": ("Poisson", dict(rate=P([0.5, 4.0, 30.0])), [[0.0, 3.0, 31.0]]),
    "Geometric": ("Geometric", dict(probs=P([0.2, 0.7, 0.5])), [[0.0, 4.0, 1.0]]),
    "Cauchy": ("Cauchy", dict(loc=P([0.0, 1.0, -1.0]), scale=P([1.0, 0.5, 2.0])), [[0.1, 3.0, -1.0]]),
    "Gumbel": ("Gumbel", dict(loc=P([0.0, 1.0, -1.0]), scale=P([1.0, 0.5, 2.0])), [[0.1, 3.0, -1.0]]),
    "StudentT": ("StudentT", dict(df=P([1.5, 3.0, 10.0]), loc=P([0.0, 1.0, -1.0]), scale=P([1.0, 2.0, 0.5])),
                 [[0.1, 3.0, -2.0]]),
    "HalfNormal": ("HalfNormal", dict(scale=P([1.0, 2.0, 0.5])), [[0.1, 3.0, 0.5]]),
    "HalfCauchy": ("HalfCauchy", dict(scale=P([1.0, 2.0, 0.5])), [[0.1, 3.0, 0.5]]),
    "MultivariateNormal": ("MultivariateNormal", dict(loc=P([0.5, -1.0, 0.0]), covariance_matrix=P(
        [[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])),
        [[0.1, 0.2, 0.3], [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]]),
    "MultivariateNormalPrecision": ("MultivariateNormal", dict(loc=P([0.5, -1.0, 0.0]), precision_matrix=P(
        [[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])), [[0.1, 0.2, 0.3]]),
    "MultivariateNormalTril": ("MultivariateNormal", dict(loc=P([[0.5, -1.0], [0.0, 1.0]]),
                                                          scale_tril=P([[1.0, 0.0], [0.4, 0.7]])),
                               [[[0.1, 0.2], [0.3, 0.4]]]),
    "Multinomial": ("Multinomial", dict(total_count=5, probs=P([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
                    [[[1.0, 2.0, 2.0], [0.0, 0.0, 5.0]]]),
    "Pareto": ("Pareto", dict(scale=P([1.0, 2.0, 0.5]), alpha=P([0.5, 3.0, 2.5])), [[1.5, 3.0, 0.6]]),
    "Weibull": ("Weibull", dict(scale=P([1.0, 2.0, 0.5]), concentration=P([0.5, 3.0, 1.5])), [[0.5, 3.0, 0.6]]),
    "NegativeBinomial": ("NegativeBinomial", dict(total_count=P([3.0, 0.5, 10.0]), probs=P([0.2, 0.7, 0.5])),
                         [[0.0, 4.0, 12.0]]),
    "RelaxedBernoulli": ("RelaxedBernoulli", dict(temperature=P(0.5), probs=P([0.2, 0.7, 0.5])), [[0.3, 0.9, 0.5]]),
    "RelaxedOneHotCategorical": ("RelaxedOneHotCategorical", dict(temperature=P(0.5), probs=P([0.2, 0.3, 0.5])),
                                 [[0.2, 0.3, 0.5]]),
}
# their samplers draw through rand/randn/normal_/uniform_/exponential_/bernoulli/multinomial (or the gamma kernels)
# in PyTorch's order
SAME_DRAWS = ["Normal", "Bernoulli", "BernoulliLogits", "Categorical", "CategoricalLogits", "OneHotCategorical",
              "Uniform", "Exponential", "Laplace", "LogNormal", "Geometric", "Cauchy", "Gumbel", "HalfNormal",
              "HalfCauchy", "Multinomial", "Pareto", "Weibull", "MultivariateNormal", "MultivariateNormalPrecision",
              "MultivariateNormalTril",
              "RelaxedBernoulli", "RelaxedOneHotCategorical"]
# and these through PyTorch's gamma kernels, as distributions/_samplers.py draws them; their rsample gradient is the
# implicit one computed exactly, where PyTorch's kernel approximates it
# (test_gamma_rsample_gradient_is_the_implicit_one)
GAMMA_FAMILY = ["Gamma", "Chi2", "Beta", "Dirichlet", "StudentT", "NegativeBinomial"]


def _pair(key, dtype=None):
    name, kw, _ = CASES[key]
    return _build(torch_js, name, kw, dtype), _build(torch, name, kw, dtype)


def _value(lib, v, key):
    integer = CASES[key][0] == "Categorical"
    return lib.tensor(v, dtype=lib.int64 if integer else lib.float64)


@needs_torch
@pytest.mark.parametrize("key", sorted(CASES))
def test_densities_and_moments_match_torch(key):
    dj, dt = _pair(key)
    assert tuple(dj.batch_shape) == tuple(dt.batch_shape) and tuple(dj.event_shape) == tuple(dt.event_shape)
    assert repr(dj) == repr(dt)
    assert dj.has_rsample == dt.has_rsample and dj.has_enumerate_support == dt.has_enumerate_support
    for v in CASES[key][2]:
        _close(dj.log_prob(_value(torch_js, v, key)), dt.log_prob(_value(torch, v, key)), 1e-10)
    for prop in ("mean", "variance", "stddev", "mode"):
        try:
            want = getattr(dt, prop)
        except NotImplementedError as e:
            with pytest.raises(NotImplementedError) as info:
                getattr(dj, prop)
            assert str(info.value).replace("torch_js.distributions", "torch.distributions") == str(e)
            continue
        _close(getattr(dj, prop), want, 1e-12)
    first = CASES[key][2][0]
    for method, arg in (("entropy", None), ("cdf", first), ("icdf", [0.3] * len(first))):
        call = (lambda d, lib: d.entropy()) if arg is None else \
            (lambda d, lib: getattr(d, method)(lib.tensor(arg, dtype=lib.float64)))
        try:
            want = call(dt, torch)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                call(dj, torch_js)
            continue
        _close(call(dj, torch_js), want, 1e-10)
    if dt.has_enumerate_support:
        for expand in (True, False):
            _close(dj.enumerate_support(expand), dt.enumerate_support(expand), 0, 0)


@needs_torch
@pytest.mark.parametrize("key", SAME_DRAWS + GAMMA_FAMILY)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_draws_equal_torch_under_manual_seed(key, dtype):
    dj, dt = _pair(key, dtype)
    # the draws are the same numbers; elementwise maps (log, exp, tan) may round their last bit differently
    rtol = 2e-6 if dtype == "float32" else 1e-13
    for shape in ((), (5,), (2, 3)):
        for method in ("sample", "rsample") if dt.has_rsample else ("sample",):
            torch.manual_seed(11)
            torch_js.manual_seed(11)
            want = getattr(dt, method)(shape)
            got = getattr(dj, method)(shape)
            assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype)
            a, b = _values(got), _values(want)
            assert all(abs(x - y) <= rtol * max(1.0, abs(y)) for x, y in zip(a, b)), (a, b)
    # and the generators are left in the same state
    assert torch_js.rand(3).tolist() == torch.rand(3).tolist()


@needs_torch
@pytest.mark.parametrize("key", [k for k in SAME_DRAWS if k not in ("Bernoulli", "BernoulliLogits", "Categorical",
                                                                      "CategoricalLogits", "OneHotCategorical",
                                                                      "Geometric", "Multinomial")])
def test_rsample_gradients_match_torch(key):
    name, kw, _ = CASES[key]
    params = {}

    def build(lib):
        args = {}
        for k, v in kw.items():
            args[k] = lib.tensor(v.value, dtype=lib.float64, requires_grad=True)
            params.setdefault(lib.__name__, {})[k] = args[k]
        return getattr(JD if lib is torch_js else TD, name)(**args)
    dj, dt = build(torch_js), build(torch)
    torch.manual_seed(3)
    torch_js.manual_seed(3)
    (dt.rsample((4,)) ** 2).sum().backward()
    (dj.rsample((4,)) ** 2).sum().backward()
    for k in kw:
        _close(params["torch_js"][k].grad, params["torch"][k].grad, 1e-10)


def test_gamma_family_draws_have_their_moments():
    # torch_js's own exact samplers: mean and variance within 6 standard errors (n = 40000)
    torch_js.manual_seed(1234)
    n = 40000
    for alpha, rate in ((0.05, 1.0), (0.5, 2.0), (1.0, 1.0), (3.0, 0.5), (80.0, 4.0)):
        x = JD.Gamma(torch_js.tensor(alpha, dtype=torch_js.float64), torch_js.tensor(rate, dtype=torch_js.float64)
                     ).sample((n,))
        mean, var = alpha / rate, alpha / rate ** 2
        assert bool((x > 0).all())
        assert abs(x.mean().item() - mean) < 6 * math.sqrt(var / n), (alpha, x.mean().item())
        # var of the sample variance: (mu4 - var^2) / n with mu4 = 3 var^2 (1 + 2/alpha)
        se_var = math.sqrt((3 * var ** 2 * (1 + 2 / alpha) - var ** 2) / n)
        assert abs(x.var().item() - var) < 6 * se_var, (alpha, x.var().item())
    a = torch_js.tensor([0.5, 2.0, 5.0], dtype=torch_js.float64)
    d = JD.Dirichlet(a).sample((n,))
    assert tuple(d.shape) == (n, 3)
    _close(d.sum(-1), torch_js.ones(n, dtype=torch_js.float64), 1e-12)
    a0 = float(a.sum())
    for i, ai in enumerate(a.tolist()):
        m = ai / a0
        assert abs(d[:, i].mean().item() - m) < 6 * math.sqrt(m * (1 - m) / (a0 + 1) / n)
    b = JD.Beta(2.0, 5.0).sample((n,))
    assert b.dtype == torch_js.float32 and abs(b.mean().item() - 2 / 7) < 6 * math.sqrt(2 * 5 / (49 * 8) / n)
    t = JD.StudentT(torch_js.tensor(5.0)).sample((n,))
    assert abs(t.mean().item()) < 6 * math.sqrt(5 / 3 / n)


def test_poisson_and_binomial_draws_have_their_distribution():
    torch_js.manual_seed(99)
    n = 40000
    for rate in (0.3, 4.0, 9.5, 10.0, 60.0, 5000.0):   # both sides of the switch between the two samplers
        x = JD.Poisson(torch_js.tensor(rate, dtype=torch_js.float64)).sample((n,))
        assert bool((x == x.floor()).all()) and bool((x >= 0).all())
        assert abs(x.mean().item() - rate) < 6 * math.sqrt(rate / n), rate
        assert abs(x.var().item() - rate) < 6 * rate * math.sqrt((2 + 1 / rate) / n), rate
        if rate < 20:    # the frequencies of the first values against the pmf
            for k in range(4):
                p = math.exp(-rate) * rate ** k / math.factorial(k)
                freq = (x == k).double().mean().item()
                assert abs(freq - p) < 6 * math.sqrt(p * (1 - p) / n) + 1e-12, (rate, k, freq, p)
    for count, prob in ((10, 0.3), (10, 0.85), (200, 0.4), (5000, 0.5), (40, 0.999), (0, 0.5), (7, 0.0), (7, 1.0)):
        x = JD.Binomial(torch_js.tensor(float(count)), torch_js.tensor(prob)).sample((n,))
        mean, var = count * prob, count * prob * (1 - prob)
        assert bool((x >= 0).all()) and bool((x <= count).all())
        assert abs(x.mean().item() - mean) < 6 * math.sqrt(var / n) + 1e-9, (count, prob)
        if var:
            assert abs(x.var().item() - var) < 6 * var * math.sqrt(3 / n) + 0.02 * var, (count, prob)
    x = JD.NegativeBinomial(torch_js.tensor(3.0, dtype=torch_js.float64),
                            torch_js.tensor(0.4, dtype=torch_js.float64)).sample((n,))
    mean, var = 3.0 * 0.4 / 0.6, 3.0 * 0.4 / 0.6 ** 2
    assert abs(x.mean().item() - mean) < 6 * math.sqrt(var / n)


def test_gamma_rsample_gradient_is_the_implicit_one():
    # x(alpha) keeps the CDF level P(alpha, x) fixed: moving alpha by h and x by h * dx/dalpha leaves P unchanged
    alpha = torch_js.tensor([0.05, 0.7, 1.0, 3.5, 40.0, 900.0], dtype=torch_js.float64, requires_grad=True)
    torch_js.manual_seed(5)
    x = JD.Gamma(alpha, 1.0).rsample()
    (g,) = torch_js.autograd.grad(x.sum(), alpha)
    h = 1e-5 * alpha.detach()
    with torch_js.no_grad():
        p_plus = torch_js.special.gammainc(alpha + h, x + h * g)
        p_minus = torch_js.special.gammainc(alpha - h, x - h * g)
        _close(p_plus, p_minus, 0, 1e-12)     # central: first-order change 0, second order cancels
    # the rate enters as a scale: d(x / rate)/d rate = -x / rate^2
    rate = torch_js.tensor([2.0], dtype=torch_js.float64, requires_grad=True)
    torch_js.manual_seed(5)
    y = JD.Gamma(torch_js.tensor([3.0], dtype=torch_js.float64), rate).rsample()
    (gr,) = torch_js.autograd.grad(y.sum(), rate)
    _close(gr, -y.detach() / 2.0, 1e-14)
    # a Beta draw is differentiable in both concentrations
    c1 = torch_js.tensor(2.0, requires_grad=True)
    c0 = torch_js.tensor(3.0, requires_grad=True)
    JD.Beta(c1, c0).rsample((10,)).sum().backward()
    assert c1.grad.item() > 0 > c0.grad.item()


@needs_torch
def test_gamma_gradient_agrees_with_torch_kernel():
    # PyTorch's kernel approximates the same derivative (to about 1e-3); ours is exact (see the test above)
    alpha = [0.1, 0.5, 1.0, 2.5, 7.0, 20.0, 150.0]
    for a in alpha:
        xs = [a * f for f in (0.3, 0.9, 1.0, 1.3, 2.0)]
        got = JD._samplers.standard_gamma_grad(torch_js.tensor(xs, dtype=torch_js.float64),
                                               torch_js.tensor([a] * 5, dtype=torch_js.float64))
        want = torch._standard_gamma_grad(torch.tensor([a] * 5, dtype=torch.float64),
                                          torch.tensor(xs, dtype=torch.float64))
        _close(got, want, 3e-3)


KL_KEYS = [k for k in CASES if k not in ("MultivariateNormalPrecision", "MultivariateNormalTril", "CategoricalLogits",
                                          "BernoulliLogits")]


@needs_torch
def test_kl_divergence_matches_torch_for_every_pair():
    compared = 0
    built = {k: _pair(k) for k in KL_KEYS}
    for kp, kq in itertools.product(KL_KEYS, KL_KEYS):
        (pj, pt), (qj, qt) = built[kp], built[kq]
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            try:
                want = TD.kl_divergence(pt, qt)
            except Exception as e:   # noqa: BLE001  (the same exception, whatever it is)
                with pytest.raises(type(e)) as info:
                    JD.kl_divergence(pj, qj)
                assert str(info.value) == str(e)
                continue
        with warnings.catch_warnings(record=True) as wj:
            warnings.simplefilter("always")
            got = JD.kl_divergence(pj, qj)
        assert [str(w.message) for w in wj] == [str(w.message) for w in wt]
        _close(got, want, 1e-10)
        compared += 1
    assert compared >= 60
    # Independent, TransformedDistribution and registration
    ij = JD.Independent(JD.Normal(torch_js.zeros(2, 3), torch_js.ones(2, 3)), 1)
    it = TD.Independent(TD.Normal(torch.zeros(2, 3), torch.ones(2, 3)), 1)
    ij2 = JD.Independent(JD.Normal(torch_js.ones(2, 3), torch_js.full((2, 3), 2.0)), 1)
    it2 = TD.Independent(TD.Normal(torch.ones(2, 3), torch.full((2, 3), 2.0)), 1)
    _close(JD.kl_divergence(ij, ij2), TD.kl_divergence(it, it2), 1e-6)

    class MyNormal(JD.Normal):
        pass

    @JD.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return torch_js.zeros(())

    assert JD.kl_divergence(MyNormal(0.0, 1.0), MyNormal(1.0, 1.0)).item() == 0.0
    assert JD.kl_divergence(MyNormal(0.0, 1.0), JD.Normal(1.0, 1.0)).item() == 0.5


@needs_torch
def test_transforms_match_torch():
    def make(lib, mod):
        T = mod.transforms
        f64 = dict(dtype=lib.float64)
        return {
            "exp": T.ExpTransform(), "sigmoid": T.SigmoidTransform(), "tanh": T.TanhTransform(),
            "softplus": T.SoftplusTransform(), "abs": T.AbsTransform(),
            "affine": T.AffineTransform(lib.tensor([1.0, -2.0, 0.5], **f64), lib.tensor([2.0, 0.5, -3.0], **f64)),
            "affine_number": T.AffineTransform(1.5, -2.0),
            "affine_event": T.AffineTransform(0.0, lib.tensor([2.0, 0.5, 3.0], **f64), event_dim=1),
            "power": T.PowerTransform(lib.tensor(2.5, **f64)),
            "compose": T.ComposeTransform([T.AffineTransform(0.5, 2.0), T.TanhTransform(),
                                           T.AffineTransform(1.0, 3.0)]),
            "stick_breaking": T.StickBreakingTransform(), "softmax": T.SoftmaxTransform(),
            "inverse": T.SigmoidTransform().inv, "independent": T.IndependentTransform(T.ExpTransform(), 1),
            "reshape": T.ReshapeTransform((3,), (3, 1)), "corr_cholesky": T.CorrCholeskyTransform(),
            "lower_cholesky": T.LowerCholeskyTransform(),
            "cat": T.CatTransform([T.ExpTransform(), T.AffineTransform(0.0, 2.0)], dim=-1, lengths=[1, 2]),
            "stack": T.StackTransform([T.ExpTransform(), T.TanhTransform(), T.AffineTransform(0.0, 2.0)], dim=-1),
            "cached": T.ExpTransform(cache_size=1),
        }
    tj, tt = make(torch_js, JD), make(torch, TD)
    for k in tj:
        x = [[0.3, -1.2, 0.8], [2.0, 0.1, -0.4]]
        if k == "power":
            x = [[0.3, 1.2, 0.8], [2.0, 0.1, 0.4]]
        if k == "lower_cholesky":
            x = [[0.3, 0.0, 0.0], [2.0, 0.1, 0.0], [0.5, -1.0, 0.2]]
        xj, xt = torch_js.tensor(x, dtype=torch_js.float64), torch.tensor(x, dtype=torch.float64)
        yj, yt = tj[k](xj), tt[k](xt)
        _close(yj, yt, 1e-13)
        if k != "abs":
            _close(tj[k].inv(yj), tt[k].inv(yt), 1e-10)
        try:
            want = tt[k].log_abs_det_jacobian(xt, yt)
        except NotImplementedError:     # abs, softmax, lower_cholesky: no log |det J| in PyTorch either
            with pytest.raises(NotImplementedError):
                tj[k].log_abs_det_jacobian(xj, yj)
        else:
            _close(tj[k].log_abs_det_jacobian(xj, yj), want, 1e-12, 1e-13)
        assert repr(tj[k]) == repr(tt[k])
        assert repr(tj[k].domain) == repr(tt[k].domain) and repr(tj[k].codomain) == repr(tt[k].codomain)
        assert tj[k].bijective == tt[k].bijective
    assert tj["cached"].inv(tj["cached"](xj)) is xj
    assert JD.transforms.ExpTransform() == JD.transforms.ExpTransform()
    for c in ("real", "positive", "unit_interval", "simplex", "lower_cholesky", "corr_cholesky", "real_vector",
              "nonnegative", "boolean"):
        for registry in ("biject_to", "transform_to"):
            outcomes = []
            for mod in (TD, JD):
                try:
                    outcomes.append(repr(getattr(mod, registry)(getattr(mod.constraints, c))))
                except NotImplementedError as e:
                    outcomes.append(str(e))
            assert outcomes[0] == outcomes[1]
    # a transformed distribution's density, cdf and icdf through a decreasing transform
    results = []
    for lib, mod in ((torch, TD), (torch_js, JD)):
        base = mod.Normal(lib.tensor([0.0, 1.0], dtype=lib.float64), lib.tensor([1.0, 0.5], dtype=lib.float64))
        d = mod.TransformedDistribution(base, [mod.transforms.AffineTransform(1.0, -2.0),
                                               mod.transforms.SigmoidTransform()])
        v = lib.tensor([0.3, 0.6], dtype=lib.float64)
        lib.manual_seed(0)
        results.append([d.log_prob(v), d.cdf(v), d.icdf(v), d.rsample((3,)), repr(d.support)])
    for a, b in zip(results[1][:4], results[0][:4]):
        _close(a, b, 1e-12)
    assert results[0][4] == results[1][4]


@needs_torch
def test_constraints_match_torch():
    v = [[0.2, 0.8], [0.5, 0.6]]
    m = [[2.0, 1.0], [1.0, 2.0]]
    for name, arg in (("simplex", v), ("unit_interval", v), ("positive_definite", m), ("lower_cholesky", m),
                      ("corr_cholesky", [[1.0, 0.0], [0.6, 0.8]]), ("real_vector", v), ("boolean", v),
                      ("nonnegative_integer", [[1.0, 2.5]]), ("symmetric", m), ("one_hot", [[1.0, 0.0]])):
        cj, ct = getattr(JD.constraints, name), getattr(TD.constraints, name)
        assert repr(cj) == repr(ct) and cj.event_dim == ct.event_dim and cj.is_discrete == ct.is_discrete
        assert cj.check(torch_js.tensor(arg)).tolist() == ct.check(torch.tensor(arg)).tolist()
    for mod in (JD, TD):
        C = mod.constraints
        assert [repr(c) for c in (C.interval(0, 1), C.greater_than(2.0), C.independent(C.real, 1),
                                  C.integer_interval(0, 3), C.half_open_interval(-1, 1), C.less_than(3))] == \
            ["Interval(lower_bound=0, upper_bound=1)", "GreaterThan(lower_bound=2.0)",
             "IndependentConstraint(Real(), 1)", "IntegerInterval(lower_bound=0, upper_bound=3)",
             "HalfOpenInterval(lower_bound=-1, upper_bound=1)", "LessThan(upper_bound=3)"]
        assert C.is_dependent(C.dependent) and not C.is_dependent(C.real)


@needs_torch
def test_validation_errors_match_torch():
    def both(fn):
        outcomes = []
        for lib, mod in ((torch, TD), (torch_js, JD)):
            try:
                fn(lib, mod)
                outcomes.append(None)
            except Exception as e:   # noqa: BLE001  (compared as they are)
                outcomes.append((type(e).__name__, str(e)))
        assert outcomes[0] is not None and outcomes[0] == outcomes[1], outcomes

    both(lambda l, m: m.Normal(l.tensor([0.0, 1.0]), l.tensor([1.0, -1.0])))
    both(lambda l, m: m.Normal(l.tensor([float("nan")]), l.tensor([1.0])))
    both(lambda l, m: m.Bernoulli(probs=l.tensor(0.3), logits=l.tensor(0.3)))
    both(lambda l, m: m.Bernoulli(probs=l.tensor([1.3])))
    both(lambda l, m: m.Categorical(l.tensor(0.3)))
    both(lambda l, m: m.Categorical(l.tensor([0.3, -0.1])))
    both(lambda l, m: m.Exponential(l.tensor([1.0])).log_prob(l.tensor([-1.0])))
    both(lambda l, m: m.Normal(l.tensor([0.0, 1.0]), l.tensor([1.0, 1.0])).log_prob(l.tensor([1.0, 2.0, 3.0])))
    both(lambda l, m: m.Normal(l.tensor([0.0, 1.0]), l.tensor([1.0, 1.0])).log_prob(1.0))
    both(lambda l, m: m.Dirichlet(l.tensor([1.0, 1.0])).log_prob(l.tensor([1.0])))
    both(lambda l, m: m.MultivariateNormal(l.zeros(2), covariance_matrix=l.eye(2), scale_tril=l.eye(2)))
    both(lambda l, m: m.MultivariateNormal(l.zeros(2), covariance_matrix=l.tensor([[1.0, 2.0], [2.0, 1.0]])))
    both(lambda l, m: m.Uniform(l.tensor([1.0]), l.tensor([0.5])))
    both(lambda l, m: m.Geometric(l.tensor([0.0, 0.5])))
    both(lambda l, m: m.Independent(m.Normal(l.zeros(2), l.ones(2)), 2))
    both(lambda l, m: m.MixtureSameFamily(m.Categorical(l.ones(3)), m.Normal(l.zeros(2), l.ones(2))))
    both(lambda l, m: m.kl_divergence(m.Cauchy(0.0, 1.0), m.Normal(0.0, 1.0)))
    both(lambda l, m: m.Binomial(l.tensor([3.0, 4.0]), l.tensor([0.5, 0.5])).entropy())
    both(lambda l, m: m.TransformedDistribution(m.Normal(0.0, 1.0), 3))
    both(lambda l, m: m.Distribution.set_default_validate_args(3))
    # validate_args=False lets the same arguments through
    assert JD.Normal(torch_js.tensor([0.0]), torch_js.tensor([-1.0]), validate_args=False).batch_shape == (1,)


@needs_torch
def test_shapes_expand_and_mixtures_match_torch():
    def make(lib, mod):
        f64 = dict(dtype=lib.float64)
        comp = mod.Normal(lib.tensor([[-1.0, 0.0, 2.0], [0.5, 1.0, 1.5]], **f64),
                          lib.tensor([[0.5, 1.0, 0.3], [1.0, 0.2, 2.0]], **f64))
        mix = mod.MixtureSameFamily(mod.Categorical(lib.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2]], **f64)), comp)
        mvn_mix = mod.MixtureSameFamily(mod.Categorical(lib.tensor([0.3, 0.7], **f64)), mod.MultivariateNormal(
            lib.tensor([[0.0, 0.0], [1.0, 2.0]], **f64), lib.eye(2, **f64).expand(2, 2, 2)))
        return {
            "normal": mod.Normal(lib.tensor([0.0, 1.0], **f64), 1.0).expand((3, 2)),
            "dirichlet": mod.Dirichlet(lib.ones(3, **f64)).expand((2,)),
            "lognormal": mod.LogNormal(lib.tensor([0.0, 1.0], **f64), 1.0).expand((4, 2)),
            "gumbel": mod.Gumbel(lib.tensor([0.0, 1.0], **f64), 1.0).expand((4, 2)),
            "independent": mod.Independent(mod.Normal(lib.zeros(2, 3, **f64), lib.ones(2, 3, **f64)), 1),
            "mixture": mix, "mixture_expanded": mix.expand((4, 2)), "mvn_mixture": mvn_mix,
            "mvn": mod.MultivariateNormal(lib.zeros(2, **f64), lib.eye(2, **f64)).expand((4,)),
            "relaxed": mod.RelaxedOneHotCategorical(lib.tensor(0.5, **f64), lib.ones(3, **f64)).expand((4,)),
            "beta": mod.Beta(2.0, 3.0).expand((4,)),
            "scalar_normal": mod.Normal(0.0, 1.0),
        }
    dj, dt = make(torch_js, JD), make(torch, TD)
    for k in dj:
        assert tuple(dj[k].batch_shape) == tuple(dt[k].batch_shape), k
        assert tuple(dj[k].event_shape) == tuple(dt[k].event_shape), k
        assert tuple(dj[k].sample((2,)).shape) == tuple(dt[k].sample((2,)).shape), k
        assert repr(dj[k]) == repr(dt[k]), k
    for k in ("mixture", "mixture_expanded", "mvn_mixture"):
        shape = tuple(dt[k].batch_shape) + tuple(dt[k].event_shape)
        v = torch.linspace(-1.0, 2.0, math.prod(shape), dtype=torch.float64).reshape(shape)
        vj = torch_js.tensor(v.tolist(), dtype=torch_js.float64)
        _close(dj[k].log_prob(vj), dt[k].log_prob(v), 1e-12)
        _close(dj[k].mean, dt[k].mean, 1e-12)
        _close(dj[k].variance, dt[k].variance, 1e-12)
        if k != "mvn_mixture":
            _close(dj[k].cdf(vj), dt[k].cdf(v), 1e-12)
        torch.manual_seed(2)
        torch_js.manual_seed(2)
        _close(dj[k].sample((5,)), dt[k].sample((5,)), 1e-12)


def test_entropy_of_exponential_families_by_bregman_divergence():
    # ExponentialFamily.entropy (autograd through the log normalizer) equals each closed form
    for d in (JD.Normal(torch_js.tensor([0.3, 1.0]), torch_js.tensor([0.5, 2.0])),
              JD.Gamma(torch_js.tensor([0.7, 3.0]), torch_js.tensor([1.5, 0.5])),
              JD.Exponential(torch_js.tensor([0.5, 3.0])),
              JD.Bernoulli(torch_js.tensor([0.2, 0.9]))):
        _close(JD.ExponentialFamily.entropy(d), d.entropy(), 1e-5, 1e-5)


@pytest.mark.skipif(sys.platform == "emscripten", reason="starts a Python subprocess")
def test_import_torch_distributions_through_the_alias():
    code = ("import torch_js; torch_js.install_as_torch(); import torch; "
            "from torch.distributions import Normal, kl_divergence; import torch.distributions.constraints as C; "
            "from torch.distributions.transforms import ExpTransform; "
            "assert torch.distributions is torch_js.distributions and C is torch_js.distributions.constraints; "
            "torch.manual_seed(0); print(float(Normal(0.0, 1.0).sample()), "
            "float(kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0))))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    sample, kl = (float(v) for v in res.stdout.split())
    assert kl == 0.5
    if torch is not None:
        torch.manual_seed(0)
        assert sample == float(TD.Normal(0.0, 1.0).sample())
