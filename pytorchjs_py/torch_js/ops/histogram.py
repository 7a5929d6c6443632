"""Histograms: bincount (counts or summed weights per integer value), histc (counts in equal-width bins), and
histogram / histogramdd (counts or weights of points in bins given by their edges, optionally a density), each an
index_add of ones (or weights) into zeros."""
import math

from .. import _dtype as D
from .._tensor import Tensor, numel_of
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import (GRAD_ENABLED, c_type_name, check, not_implemented_backward, not_implemented_for, record,
                    result_type)
from . import inplace as _ip
from .creation import linspace, ones, zeros
from .sorting import searchsorted

HistogramResult = result_type("histogram", ("hist", "bin_edges"))
HistogramddResult = result_type("histogramdd", ("hist", "bin_edges"))


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


# ---- histogram / histogramdd: PyTorch's histogramdd on points (M, N), histogram as its N = 1 case ---------------

def _outer_edges(points, bounds):
    """(leftmost, rightmost) edge per dimension: `bounds` (histogram's range=), else the points' extent (numpy's
    [0, 1] with no points); an empty extent widens by 0.5 each way."""
    n = points._shape[1]
    if bounds is not None:
        bounds = [float(v) for v in bounds]
        check(len(bounds) == 2 * n, lambda: f"torch.histogramdd: for a {n}-dimensional histogram range should have "
              f"{2 * n} elements, but got {len(bounds)}")
        lo, hi = bounds[0::2], bounds[1::2]
    elif points.numel():
        lo, hi = points.amin(0).tolist(), points.amax(0).tolist()
    else:
        lo, hi = [0.0] * n, [1.0] * n
    for d in range(n):
        check(math.isfinite(lo[d]) and math.isfinite(hi[d]), lambda: f"torch.histogramdd: dimension {d}'s range "
              f"[{_num(lo[d])}, {_num(hi[d])}] is not finite")
        check(lo[d] <= hi[d], lambda: f"torch.histogramdd: min should not exceed max, but got min {_num(lo[d])} max "
              f"{_num(hi[d])} for dimension {d}")
        if lo[d] == hi[d]:
            lo[d], hi[d] = lo[d] - 0.5, hi[d] + 0.5
    return lo, hi


def _num(v):
    """A double as C++'s stream prints it in PyTorch's messages (2, not 2.0)."""
    return int(v) if math.isfinite(v) and v == int(v) else v


def _check_edges(points, edges, weight, input_shape):
    n = points._shape[1]
    for d, e in enumerate(edges):
        check(e._dtype is points._dtype, lambda: "torch.histogramdd: input tensor and bins tensors should have the "
              f"same dtype, but got input with dtype {c_type_name(points._dtype)} and bins for dimension {d} with "
              f"dtype {c_type_name(e._dtype)}")
        check(e.dim() == 1, lambda: "torch.histogramdd: bins tensor should have one dimension, but got "
              f"{e.dim()} dimensions in the bins tensor for dimension {d}")
        check(e.numel() > 0, lambda: "torch.histogramdd: bins tensor should have at least 1 element, but got "
              f"{e.numel()} elements in the bins tensor for dimension {d}")
    if weight is not None:
        check(weight._dtype is points._dtype, lambda: "torch.histogramdd: if weight tensor is provided, input tensor "
              f"and weight tensor should have the same dtype, but got input({c_type_name(points._dtype)}), and "
              f"weight({c_type_name(weight._dtype)})")
        check(list(weight._shape or (1,)) == list(input_shape[:-1]), lambda: "torch.histogramdd: if weight tensor "
              "is provided it should have the same shape as the input tensor excluding its innermost dimension, but "
              f"got input with shape {list(input_shape)} and weight with shape {list(weight._shape)}")
    for d, e in enumerate(edges):
        check(e.numel() - 1 > 0, lambda: f"torch.histogram(): bins must be > 0, but got {e.numel() - 1} for "
              f"dimension {d}")
    check(len(edges) == n, "histogramdd: The size of bins must be equal to the innermost dimension of the input.")


def _histogramdd(input, bins, bounds, weight, density, aten_name):
    """input (..., N) of points; bins: N bin counts or N edge tensors. (hist, [edges]) with PyTorch's checks and
    messages."""
    points = input.reshape(-1, input._shape[-1])
    if not points._dtype.is_floating_point or points._dtype in (D.float16, D.bfloat16):
        raise not_implemented_for("histogramdd", points._dtype)
    n = points._shape[1]
    dev = points._storage.device
    x = points.detach()
    if bins and isinstance(bins[0], Tensor):
        edges = list(bins)
    else:
        check(len(bins) == n, "histogramdd: The size of bins must be equal to the innermost dimension of the input.")
        for d, b in enumerate(bins):
            check(b > 0, lambda: f"torch.histogram(): bins must be > 0, but got {b} for dimension {d}")
        lo, hi = _outer_edges(x, bounds)
        edges = [linspace(lo[d], hi[d], int(b) + 1, dtype=x._dtype, device=dev) for d, b in enumerate(bins)]
    _check_edges(x, edges, weight, input._shape)
    counts = [e.numel() - 1 for e in edges]
    # each point's bin along each dim: edges are left-closed, the last bin also right-closed; a point outside the
    # edges (or NaN) falls in no bin
    flat = zeros(x._shape[0], dtype=D.int64, device=dev)
    inside = ones(x._shape[0], dtype=D.bool_, device=dev)
    for d, e in enumerate(edges):
        col = x.select(1, d)
        pos = searchsorted(e.detach(), col.contiguous(), right=True) - 1
        pos = pos.clamp(max=counts[d] - 1)
        inside = inside & (col >= e[0]) & (col <= e[-1])
        flat = flat * counts[d] + pos
    w = ones(x._shape[0], dtype=x._dtype, device=dev) if weight is None else weight.detach().reshape(-1)
    hist = zeros(numel_of(counts), dtype=x._dtype, device=dev).index_add(0, flat[inside], w[inside])
    hist = hist.reshape(counts)
    if density:
        hist = hist / hist.sum()
        for d, e in enumerate(edges):
            hist = hist / e.diff().reshape([-1 if i == d else 1 for i in range(n)])
    edges = [e.detach().clone() for e in edges]
    if GRAD_ENABLED[0] and (input._requires_grad or (weight is not None and weight._requires_grad)):
        # PyTorch declares no derivative: backward through the histogram raises, naming the aten op
        record("NotImplemented", not_implemented_backward, (input, weight), (hist,), attrs=aten_name)
    return hist, edges


def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    hist, edges = _histogramdd(input.reshape(-1, 1), [bins], range, None if weight is None else weight.reshape(-1),
                               density, "aten::histogram")
    if out is not None:
        return HistogramResult((_ip.write_out(out[0], hist), _ip.write_out(out[1], edges[0])))
    return HistogramResult((hist, edges[0]))


def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):
    check(input.dim() >= 2, "torch.histogramdd: input tensor should have at least 2 dimensions")
    if isinstance(bins, int):
        bins = [bins] * input._shape[-1]
    edges_given = bool(bins) and isinstance(bins[0], Tensor)
    hist, edges = _histogramdd(input, list(bins), range, weight, density, "aten::_histogramdd_from_bin_tensors"
                               if edges_given else "aten::_histogramdd_from_bin_cts")
    if out is not None:
        hist = _ip.write_out(out[0], hist)
        edges = [_ip.write_out(o, e) for o, e in zip(out[1], edges)]
    return HistogramddResult((hist, tuple(edges)))


def _register_all():
    register("bincount", bincount, "index", dtype="counts", derivative=NOT_DIFFERENTIABLE)
    register("histc", histc, "index", dtype="same", derivative=NOT_DIFFERENTIABLE)
    # torch.histogramdd is a function only; PyTorch's histogram / histogramdd record a node whose backward raises
    register("histogram", histogram, "index", dtype="same", derivative=NOT_DIFFERENTIABLE)
    register("histogramdd", histogramdd, "index", dtype="same", derivative=NOT_DIFFERENTIABLE, method=False)


_register_all()
