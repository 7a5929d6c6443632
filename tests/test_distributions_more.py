"""ContinuousBernoulli, FisherSnedecor, GeneralizedPareto, InverseGamma, Kumaraswamy, LKJCholesky, LogisticNormal,
LowRankMultivariateNormal, VonMises and Wishart against torch.distributions: log_prob, entropy, moments, cdf/icdf,
supports, repr, expand, validation errors and the KL pairs PyTorch registers for them; draws equal to PyTorch's under
manual_seed where the sampler is made of rand/randn (and their rsample gradients). The gamma-based samplers (torch_js's
own, PyTorch's is a native kernel) are checked by their moments without torch (that part runs in Pyodide too)."""
import math
import warnings

import pytest

import torch_js
import torch_js.distributions as JD
from optional_torch import needs_torch, torch

from _distribution_helpers import TD, P, build as _build, close as _close, values as _values  # noqa: F401


SPD = [[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]]
CORR_CHOL = [[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [-0.3, 0.4, math.sqrt(1 - 0.09 - 0.16)]]

# key -> (class, parameters, values for log_prob/cdf)
CASES = {
    "ContinuousBernoulli": ("ContinuousBernoulli", dict(probs=P([0.2, 0.4999, 0.5005, 0.9])),
                            [[0.1, 0.5, 0.3, 0.99], [0.0, 1.0, 0.7, 0.2]]),
    "ContinuousBernoulliLogits": ("ContinuousBernoulli", dict(logits=P([-1.5, 0.0003, 2.0])), [[0.1, 0.5, 0.9]]),
    "FisherSnedecor": ("FisherSnedecor", dict(df1=P([1.5, 3.0, 10.0]), df2=P([2.0, 5.0, 12.0])), [[0.3, 1.0, 2.5]]),
    "GeneralizedPareto": ("GeneralizedPareto", dict(loc=P([0.0, 1.0, -1.0]), scale=P([1.0, 0.5, 2.0]),
                                                    concentration=P([0.0, 0.3, -0.2])), [[0.5, 1.2, 3.0]]),
    "InverseGamma": ("InverseGamma", dict(concentration=P([0.5, 2.5, 4.0]), rate=P([1.0, 0.5, 3.0])),
                     [[0.3, 1.0, 2.5]]),
    "Kumaraswamy": ("Kumaraswamy", dict(concentration1=P([0.5, 2.0, 3.0]), concentration0=P([0.7, 1.5, 5.0])),
                    [[0.1, 0.5, 0.9]]),
    "LKJCholesky": ("LKJCholesky", dict(dim=3, concentration=P([0.5, 2.0])), [[CORR_CHOL, CORR_CHOL]]),
    "LogisticNormal": ("LogisticNormal", dict(loc=P([0.5, -1.0, 0.2]), scale=P([1.0, 0.3, 2.0])),
                       [[0.2, 0.3, 0.1, 0.4]]),
    "LowRankMultivariateNormal": ("LowRankMultivariateNormal", dict(loc=P([0.5, -1.0, 0.0]), cov_factor=P(
        [[1.0, 0.2], [0.3, -0.5], [0.0, 0.7]]), cov_diag=P([0.5, 1.0, 2.0])), [[0.1, 0.2, 0.3], [[1.0, -1.0, 0.0],
                                                                                                  [0.0, 0.0, 0.0]]]),
    "VonMises": ("VonMises", dict(loc=P([0.5, -1.0, 3.0]), concentration=P([0.5, 2.0, 10.0])), [[0.1, -2.0, 3.1]]),
    "Wishart": ("Wishart", dict(df=P(4.5), covariance_matrix=P(SPD)), [[SPD]]),
    "WishartTril": ("Wishart", dict(df=P([4.0, 6.0]), scale_tril=P([[1.0, 0.0], [0.4, 0.7]])),
                    [[[[2.0, 0.3], [0.3, 1.0]], [[1.0, 0.0], [0.0, 1.0]]]]),
    "WishartPrecision": ("Wishart", dict(df=5, precision_matrix=P(SPD)), [[SPD]]),
}
SAME_DRAWS = ["ContinuousBernoulli", "ContinuousBernoulliLogits", "GeneralizedPareto", "Kumaraswamy", "LogisticNormal",
              "LowRankMultivariateNormal", "VonMises"]


def _pair(key, dtype="float64"):
    name, kw, _ = CASES[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _build(torch_js, name, kw, dtype), _build(torch, name, kw, dtype)


def _same_or_same_error(call, dj, dt, rtol=1e-10):
    """call(dist, lib) gives the same values in both libraries, or the same error (PyTorch's GeneralizedPareto
    compares a float64 concentration with a float32 zero, which its isclose refuses)."""
    try:
        want = call(dt, torch)
    except RuntimeError as e:
        with pytest.raises(RuntimeError, match=str(e)):
            call(dj, torch_js)
        return
    _close(call(dj, torch_js), want, rtol)


@needs_torch
@pytest.mark.parametrize("key", sorted(CASES))
def test_densities_and_moments_match_torch(key):
    dj, dt = _pair(key)
    assert tuple(dj.batch_shape) == tuple(dt.batch_shape) and tuple(dj.event_shape) == tuple(dt.event_shape)
    assert repr(dj) == repr(dt)
    assert dj.has_rsample == dt.has_rsample and dj.has_enumerate_support == dt.has_enumerate_support
    for v in CASES[key][2]:
        _same_or_same_error(lambda d, lib: d.log_prob(lib.tensor(v, dtype=lib.float64)), dj, dt)
    extra = ("covariance_matrix", "precision_matrix", "scale_tril") if "Normal" in key or "Wishart" in key else ()
    for prop in ("mean", "variance", "stddev", "mode") + extra:
        try:
            want = getattr(dt, prop)
        except (NotImplementedError, AttributeError) as e:
            with pytest.raises(type(e)):
                getattr(dj, prop)
            continue
        _close(getattr(dj, prop), want, 1e-10)
    first = CASES[key][2][0]
    for method, arg in (("entropy", None), ("cdf", first), ("icdf", [0.3] * len(_values(torch.tensor(first))))):
        def call(d, lib):
            if arg is None:
                return d.entropy()
            return getattr(d, method)(lib.tensor(arg, dtype=lib.float64).reshape(torch.tensor(first).shape)
                                      if method == "cdf" else lib.tensor(arg, dtype=lib.float64))
        try:
            want = call(dt, torch)
        except (NotImplementedError, ValueError, RuntimeError) as e:
            with pytest.raises(type(e)):
                call(dj, torch_js)
            continue
        _close(call(dj, torch_js), want, 1e-10)


@needs_torch
@pytest.mark.parametrize("key", sorted(CASES))
def test_support_constraints_and_expand_match_torch(key):
    dj, dt = _pair(key)
    assert repr(dj.support) == repr(dt.support).replace("torch.distributions", "torch_js.distributions") or \
        type(dj.support).__name__ == type(dt.support).__name__
    assert dj.support.event_dim == dt.support.event_dim and dj.support.is_discrete == dt.support.is_discrete
    for v in CASES[key][2]:
        _close(dj.support.check(torch_js.tensor(v, dtype=torch_js.float64)).double(),
               dt.support.check(torch.tensor(v, dtype=torch.float64)).double(), 0, 0)
    assert sorted(dj.arg_constraints) == sorted(dt.arg_constraints)
    shape = (2,) + tuple(dt.batch_shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ej, et = dj.expand(shape), dt.expand(shape)
    assert tuple(ej.batch_shape) == tuple(et.batch_shape) and type(ej).__name__ == type(et).__name__
    v = CASES[key][2][0]
    _same_or_same_error(lambda d, lib: d.log_prob(lib.tensor(v, dtype=lib.float64)), ej, et)


@needs_torch
@pytest.mark.parametrize("key", SAME_DRAWS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_draws_equal_torch_under_manual_seed(key, dtype):
    dj, dt = _pair(key, dtype)
    rtol = 2e-5 if dtype == "float32" else 1e-12
    for shape in ((), (5,), (2, 3)):
        for method in ("sample", "rsample") if dt.has_rsample else ("sample",):
            torch.manual_seed(11)
            torch_js.manual_seed(11)
            want = getattr(dt, method)(shape)
            got = getattr(dj, method)(shape)
            assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype)
            a, b = _values(got), _values(want)
            assert all(abs(x - y) <= rtol * max(1.0, abs(y)) for x, y in zip(a, b)), (a, b)
    assert torch_js.rand(3).tolist() == torch.rand(3).tolist()   # the generators are left in the same state


@needs_torch
@pytest.mark.parametrize("key", [k for k in SAME_DRAWS if k != "VonMises"])
def test_rsample_gradients_match_torch(key):
    name, kw, _ = CASES[key]
    grads = []
    for lib in (torch, torch_js):
        args = {k: lib.tensor(v.value, dtype=lib.float64, requires_grad=True) for k, v in kw.items()}
        d = getattr(JD if lib is torch_js else TD, name)(**args)
        lib.manual_seed(3)
        (d.rsample((4,)) ** 2).sum().backward()
        grads.append([args[k].grad for k in kw])
    for gj, gt in zip(grads[1], grads[0]):
        _close(gj, gt, 1e-9)


# ---- KL pairs --------------------------------------------------------------------------------------------------

KL_OTHERS = {
    "Beta": ("Beta", dict(concentration1=P([0.5, 2.0, 3.0]), concentration0=P([0.7, 1.0, 5.0]))),
    "Exponential": ("Exponential", dict(rate=P([0.5, 2.0, 1.0]))),
    "Normal": ("Normal", dict(loc=P([0.5, -1.0, 2.0]), scale=P([1.0, 0.3, 2.5]))),
    "Uniform": ("Uniform", dict(low=P([0.0, 0.1, -1.0]), high=P([1.0, 0.9, 3.0]))),
    "Gamma": ("Gamma", dict(concentration=P([0.5, 2.0, 3.0]), rate=P([1.0, 0.5, 4.0]))),
    "Gumbel": ("Gumbel", dict(loc=P([0.0, 1.0, -1.0]), scale=P([1.0, 0.5, 2.0]))),
    "Laplace": ("Laplace", dict(loc=P([0.0, 1.0, -2.0]), scale=P([1.0, 0.5, 3.0]))),
    "Pareto": ("Pareto", dict(scale=P([1.0, 2.0, 0.5]), alpha=P([0.5, 3.0, 2.5]))),
    "ContinuousBernoulli": ("ContinuousBernoulli", dict(probs=P([0.2, 0.4995, 0.7]))),
    "ContinuousBernoulli2": ("ContinuousBernoulli", dict(logits=P([0.4, -2.0, 0.001]))),
    "MultivariateNormal": ("MultivariateNormal", dict(loc=P([0.5, -1.0, 0.0]), covariance_matrix=P(SPD))),
    "LowRank": ("LowRankMultivariateNormal", dict(loc=P([0.5, -1.0, 0.0]), cov_factor=P(
        [[1.0, 0.2], [0.3, -0.5], [0.0, 0.7]]), cov_diag=P([0.5, 1.0, 2.0]))),
    "LowRank2": ("LowRankMultivariateNormal", dict(loc=P([[0.0, 1.0, 0.5]]), cov_factor=P([[0.5], [0.1], [-0.3]]),
                                                   cov_diag=P([1.0, 2.0, 0.4]))),
}
KL_PAIRS = [("ContinuousBernoulli", q) for q in ("ContinuousBernoulli2", "Exponential", "Normal", "Uniform",
                                                  "Pareto")] + \
           [(p, "ContinuousBernoulli") for p in ("Beta", "Exponential", "Gamma", "Gumbel", "Laplace", "Normal",
                                                 "Pareto", "Uniform", "ContinuousBernoulli2")] + \
           [("LowRank", "LowRank2"), ("LowRank2", "LowRank"), ("MultivariateNormal", "LowRank"),
            ("LowRank", "MultivariateNormal"), ("LowRank2", "MultivariateNormal")]


@needs_torch
@pytest.mark.parametrize("p,q", KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_kl_divergence_matches_torch(p, q):
    pj, pt = _build(torch_js, *KL_OTHERS[p]), _build(torch, *KL_OTHERS[p])
    qj, qt = _build(torch_js, *KL_OTHERS[q]), _build(torch, *KL_OTHERS[q])
    _close(JD.kl_divergence(pj, qj), TD.kl_divergence(pt, qt), 1e-10)


@needs_torch
def test_kl_event_shape_errors_match_torch():
    for lib, mod in ((torch, TD), (torch_js, JD)):
        a = mod.LowRankMultivariateNormal(lib.zeros(2), lib.ones(2, 1), lib.ones(2))
        b = mod.LowRankMultivariateNormal(lib.zeros(3), lib.ones(3, 1), lib.ones(3))
        m = mod.MultivariateNormal(lib.zeros(3), lib.eye(3))
        msgs = []
        for x, y in ((a, b), (a, m), (m, a)):
            with pytest.raises(ValueError) as e:
                mod.kl_divergence(x, y)
            msgs.append(str(e.value))
        if lib is torch:
            want = msgs
        else:
            assert msgs == want


# ---- validation and argument errors ------------------------------------------------------------------------------

BAD = [
    "ContinuousBernoulli(probs=L.tensor([1.5]), validate_args=True)",
    "ContinuousBernoulli()",
    "ContinuousBernoulli(probs=L.tensor([0.5]), logits=L.tensor([0.1]))",
    "FisherSnedecor(L.tensor([-1.0]), L.tensor([1.0]), validate_args=True)",
    "GeneralizedPareto(0., -1., 0.5, validate_args=True)",
    "InverseGamma(L.tensor([0.0]), L.tensor([1.0]), validate_args=True)",
    "Kumaraswamy(L.tensor([1.0]), L.tensor([-1.0]), validate_args=True)",
    "LKJCholesky(1, 1.0)",
    "LKJCholesky(3, -1.0, validate_args=True)",
    "LogisticNormal(L.tensor([0.0]), L.tensor([-1.0]), validate_args=True)",
    "LowRankMultivariateNormal(L.tensor(0.0), L.ones(1, 1), L.ones(1))",
    "LowRankMultivariateNormal(L.zeros(2), L.ones(2), L.ones(2))",
    "LowRankMultivariateNormal(L.zeros(2), L.ones(3, 1), L.ones(2))",
    "LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), L.ones(3))",
    "LowRankMultivariateNormal(L.zeros(4, 2), L.ones(3, 2, 1), L.ones(2))",
    "VonMises(L.tensor([0.0]), L.tensor([-1.0]), validate_args=True)",
    "Wishart(L.tensor(1.0), covariance_matrix=L.eye(3))",
    "Wishart(L.tensor(4.0))",
    "Wishart(L.tensor(4.0), covariance_matrix=L.ones(3))",
    "Wishart(L.tensor(4.0), covariance_matrix=L.eye(2), validate_args=True).log_prob(L.ones(2, 2))",
    "GeneralizedPareto(0., 1., -0.5, validate_args=True).log_prob(L.tensor([3.0]))",
    "LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), L.ones(2), validate_args=True).log_prob(L.zeros(3))",
    "Kumaraswamy(L.tensor([1.0]), L.tensor([1.0]), validate_args=True).log_prob(L.tensor([1.5]))",
]


def _error(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:   # noqa: BLE001  (compared with torch's)
        return type(e).__name__, str(e).replace("torch_js.distributions", "torch.distributions").split("\n")[0]
    return None


@needs_torch
@pytest.mark.parametrize("call", BAD)
def test_errors_match_torch(call):
    got = _error(lambda: eval("D." + call, {"D": JD, "L": torch_js}))
    want = _error(lambda: eval("D." + call, {"D": TD, "L": torch}))
    assert got is not None and got[0] == want[0]
    assert got[1][:80] == want[1][:80]


@needs_torch
def test_wishart_warnings_match_torch():
    for mod, lib in ((TD, torch), (JD, torch_js)):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            d = mod.Wishart(lib.tensor(2.5), covariance_matrix=lib.eye(3))
            d.rsample((2,))
        msgs = [str(w.message) for w in rec]
        if mod is TD:
            want = msgs
        else:
            assert msgs == want


@needs_torch
def test_biject_to_the_new_supports_matches_torch():
    for key, fn in (("LKJCholesky", "biject_to"), ("LogisticNormal", "biject_to"), ("Wishart", "transform_to"),
                    ("Kumaraswamy", "biject_to"), ("InverseGamma", "biject_to")):
        dj, dt = _pair(key)
        tj_, tt = getattr(JD, fn)(dj.support), getattr(TD, fn)(dt.support)
        assert type(tj_).__name__ == type(tt).__name__
        x = torch.linspace(-1.0, 1.0, int(torch.tensor(tt.inverse_shape(dt.event_shape)).prod().item()) or 1,
                           dtype=torch.float64).reshape(tt.inverse_shape(dt.event_shape))
        _close(tj_(torch_js.tensor(x.tolist(), dtype=torch_js.float64)), tt(x), 1e-12)


# ---- torch-free: moments of the gamma-based samplers --------------------------------------------------------------

def test_gamma_based_draws_have_their_moments():
    torch_js.manual_seed(2024)
    n = 40000
    f64 = torch_js.float64
    ig = JD.InverseGamma(torch_js.tensor(5.0, dtype=f64), torch_js.tensor(2.0, dtype=f64))
    x = ig.sample((n,))
    assert abs(x.mean().item() - ig.mean.item()) < 6 * math.sqrt(ig.variance.item() / n)
    fs = JD.FisherSnedecor(torch_js.tensor(6.0, dtype=f64), torch_js.tensor(12.0, dtype=f64))
    x = fs.sample((n,))
    assert abs(x.mean().item() - fs.mean.item()) < 6 * math.sqrt(fs.variance.item() / n)
    w = JD.Wishart(torch_js.tensor(5.0, dtype=f64), covariance_matrix=torch_js.tensor(SPD, dtype=f64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = w.sample((n // 4,))
    err = 6 * (w.variance / (n // 4)).sqrt()
    assert bool(((x.mean(0) - w.mean).abs() < err).all())
    lkj = JD.LKJCholesky(3, torch_js.tensor(2.0, dtype=f64))
    L = lkj.sample((n // 4,))
    corr = L @ L.transpose(-1, -2)
    assert torch_js.allclose(corr.diagonal(dim1=-2, dim2=-1), torch_js.ones(3, dtype=f64))
    # LKJ(eta) marginals: r_ij ~ 2 Beta(eta - 1 + d/2, eta - 1 + d/2) - 1, mean 0, variance 1 / (2 eta + d - 1)
    off = corr[:, 1, 0]
    assert abs(off.mean().item()) < 6 * math.sqrt(1 / 6 / (n // 4))
    assert abs(off.var().item() - 1 / 6) < 0.01


def test_von_mises_and_continuous_bernoulli_by_hand():
    vm = JD.VonMises(torch_js.tensor(0.0), torch_js.tensor(1.0))
    # log p(0) = kappa - log(2 pi I0(kappa)), I0(1) = 1.2660658777520082
    assert vm.log_prob(torch_js.tensor(0.0)).item() == pytest.approx(1 - math.log(2 * math.pi * 1.2660658777520082),
                                                                     abs=1e-6)
    cb = JD.ContinuousBernoulli(probs=torch_js.tensor(0.5, dtype=torch_js.float64))
    assert cb.log_prob(torch_js.tensor(0.3, dtype=torch_js.float64)).item() == pytest.approx(0.0, abs=1e-12)
    assert cb.mean.item() == pytest.approx(0.5) and cb.variance.item() == pytest.approx(1 / 12)
