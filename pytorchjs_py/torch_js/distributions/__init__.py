"""torch_js.distributions: PyTorch's torch.distributions.

Samplers built from torch.rand/randn/normal_/uniform_/exponential_/bernoulli/multinomial draw in PyTorch's order, so
under the same manual_seed they give PyTorch's values: Normal, LogNormal, MultivariateNormal (to the rounding of
its matrix product), Uniform, Bernoulli, Categorical, OneHotCategorical, Multinomial, Exponential, Laplace, Cauchy,
Gumbel, Geometric, Pareto, Weibull, RelaxedBernoulli, RelaxedOneHotCategorical, HalfNormal, HalfCauchy. Gamma, Chi2,
Beta, Dirichlet, StudentT, Poisson, Binomial and NegativeBinomial rest on PyTorch's native kernels (_standard_gamma,
_sample_dirichlet, poisson, binomial), which torch_js does not reproduce: their draws come from exact samplers of
torch_js's own (_samplers.py), other values than PyTorch's under the same seed.
"""
from . import constraints, transforms  # noqa: F401
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import *  # noqa: F401,F403
from .uniform import Uniform
from .weibull import Weibull

__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "Dirichlet", "Distribution",
           "Exponential", "ExponentialFamily", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
           "Independent", "Laplace", "LogNormal", "MixtureSameFamily", "Multinomial", "MultivariateNormal",
           "NegativeBinomial", "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto",
           "RelaxedBernoulli", "RelaxedOneHotCategorical", "StudentT", "Poisson", "Uniform", "TransformedDistribution",
           "Weibull", "biject_to", "kl_divergence", "register_kl",
           "transform_to"]
__all__.extend(transforms.__all__)
