"""torch.distributions.GeneralizedPareto(loc, scale, concentration): the tail distribution of extreme value theory;
concentration 0 is the exponential limit (log1p/expm1 forms keep the neighbourhood of 0 accurate). Draws are the
icdf of torch.rand: PyTorch's values under the same seed."""
import math

from . import constraints
from ._torch import Size, T
from .distribution import Distribution
from .utils import _params_batch_shape, broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(_params_batch_shape((loc, scale, concentration), self.loc), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        for name in ("loc", "scale", "concentration"):
            setattr(new, name, getattr(self, name).expand(batch_shape))
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=Size()):
        u = T.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.icdf(u)

    def _safe_concentration(self):
        """(concentration == 0 (within isclose), the concentration with those entries 1: no division by 0)."""
        eq_zero = T.isclose(self.concentration, T.tensor(0.0))
        return eq_zero, T.where(eq_zero, T.ones_like(self.concentration), self.concentration)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + T.ones_like(z)
        where_nonzero = T.where(y == 0, y, y * T.log1p(safe_conc * z))
        log_scale = math.log(self.scale) if isinstance(self.scale, (int, float)) else self.scale.log()
        return -log_scale - T.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        return T.where(eq_zero, -z, -T.log1p(safe_conc * z) / safe_conc)

    def log_cdf(self, value):
        return T.log1p(-T.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return T.exp(self.log_cdf(value))

    def icdf(self, value):
        loc, scale, concentration = self.loc, self.scale, self.concentration
        eq_zero = T.isclose(concentration, T.zeros_like(concentration))
        safe_conc = T.where(eq_zero, T.ones_like(concentration), concentration)
        logu = T.log1p(-value)
        where_nonzero = loc + scale / safe_conc * T.expm1(-safe_conc * logu)
        where_zero = loc - scale * logu
        return T.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        valid = self.concentration < 1
        safe_conc = T.where(valid, self.concentration, 0.5)
        return T.where(valid, self.loc + self.scale / (1 - safe_conc), float("nan"))

    @property
    def variance(self):
        valid = self.concentration < 0.5
        safe_conc = T.where(valid, self.concentration, 0.25)
        return T.where(valid, self.scale ** 2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc)), float("nan"))

    def entropy(self):
        return T.broadcast_to(T.log(self.scale) + self.concentration + 1, self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = T.where(self.concentration < 0, lower - self.scale / self.concentration, float("inf"))
        return constraints.interval(lower, upper)
