"""Histograms: bincount (counts or summed weights per integer value) and histc (counts in equal-width bins),
both an index_add of ones into zeros."""
import math

from .. import _dtype as D
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import check, not_implemented_for
from . import inplace as _ip
from .creation import ones, zeros


def bincount(input, weights=None, minlength=0):
    check(input.dim() == 1, "bincount only supports 1-d non-negative integral inputs.")
    check(not input._dtype.is_floating_point and input._dtype is not D.bool_,
          "bincount only supports 1-d non-negative integral inputs.")
    check(minlength >= 0, "minlength should be >= 0")
    dev = input._storage.device
    n = input.numel()
    if n:
        check(bool((input >= 0).all().item()), "bincount only supports 1-d non-negative integral inputs.")
    length = max(int(input.max().item()) + 1 if n else 0, minlength)
    idx = input.to(D.int64)
    if weights is None:
        return zeros((length,), dtype=D.int64, device=dev).index_add(0, idx, ones((n,), dtype=D.int64, device=dev))
    check(weights._shape == input._shape, "weights should be 1-d and have the same length as input")
    wd = D.float32 if weights._dtype is D.float32 else D.float64  # PyTorch sums weights in double unless float
    return zeros((length,), dtype=wd, device=dev).index_add(0, idx, weights.to(wd))


def histc(input, bins=100, min=0, max=0, *, out=None):
    if not input._dtype.is_floating_point:
        raise not_implemented_for("histogram_cpu", input._dtype)
    check(bins > 0, lambda: f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    x = input.detach().reshape(-1)
    if lo == hi and x.numel():
        lo, hi = float(x.min().item()), float(x.max().item())
    check(lo <= hi, "torch.histc(): max must be larger than min")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    check(math.isfinite(lo) and math.isfinite(hi), lambda: f"torch.histc(): range of [{lo}, {hi}] is not finite")
    keep = (x >= lo) & (x <= hi)
    xs = x[keep]
    pos = ((xs - lo) * bins / (hi - lo)).to(D.int64).clamp(max=bins - 1)
    r = zeros((bins,), dtype=x._dtype, device=x._storage.device).index_add(0, pos, xs * 0 + 1)
    return _ip.maybe_write_out(out, r)


def _register_all():
    register("bincount", bincount, "index", dtype="counts", derivative=NOT_DIFFERENTIABLE)
    register("histc", histc, "index", dtype="same", derivative=NOT_DIFFERENTIABLE)


_register_all()
