"""torch.distributions.Gamma."""
from ..special import digamma, gammainc, gammaln
from . import constraints
from ._samplers import standard_gamma
from ._torch import D, Size, T
from .exp_family import ExponentialFamily
from .utils import _expanded, _params_batch_shape, broadcast_all

__all__ = ["Gamma"]


def _standard_gamma(concentration):
    return standard_gamma(concentration)


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate). Its sampler is an exact one of torch_js's own (PyTorch's is a native kernel):
    under the same seed the draws differ from PyTorch's; rsample() carries the implicit reparameterization
    gradient."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(_params_batch_shape((concentration, rate), self.concentration), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return _expanded(self, Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=D.finfo(value.dtype).tiny)    # in place, outside the graph
        return value

    def log_prob(self, value):
        value = T.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (T.xlogy(self.concentration, self.rate) + T.xlogy(self.concentration - 1, value)
                - self.rate * value - gammaln(self.concentration))

    def entropy(self):
        return (self.concentration - T.log(self.rate) + gammaln(self.concentration)
                + (1.0 - self.concentration) * digamma(self.concentration))

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return gammaln(x + 1) + (x + 1) * T.log(-y.reciprocal())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)
