"""Histogram records for SummaryWriter.add_histogram: TensorBoard's HistogramProto fields as a dict.

Counts follow numpy.histogram's bins (equal-width bins over [min, max] for an int, given edges, or TensorBoard's
default exponential edges for bins="tensorflow"), then PyTorch's trimming: only the buckets from the first to the
last non-empty one are kept, plus one empty bucket on the left, since TensorBoard stores right bin limits only.
Counting runs on torch_js's own kernels (bucketize, bincount), so it needs no numpy.
"""
import math

from ... import _dtype as D
from ..._tensor import Tensor
from ...ops._registry import torch_ops

_default_edges = []


def tensorflow_edges():
    """TensorBoard's default bucket limits: +-1e-12 growing by 10% a step up to 1e20, and 0."""
    if not _default_edges:
        v, pos = 1e-12, []
        while v < 1e20:
            pos.append(v)
            v *= 1.1
        _default_edges.extend([-x for x in reversed(pos)] + [0.0] + pos)
    return _default_edges


def _flat_float64(values):
    if isinstance(values, Tensor):
        t = values.detach()
        if t._storage.device.type != "cpu":
            t = t.cpu()
    else:
        t = torch_ops.as_tensor(values)
    return t.reshape(-1).to(D.float64)


def _edges(v, bins):
    if isinstance(bins, str) and bins == "tensorflow":
        return list(tensorflow_edges())
    if isinstance(bins, int) and not isinstance(bins, bool):
        if bins < 1:
            raise ValueError("`bins` must be positive, when an integer")
        lo, hi = v.min().item(), v.max().item()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"autodetected range of [{lo}, {hi}] is not finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        step = (hi - lo) / bins
        return [lo + i * step for i in range(bins)] + [hi]   # numpy.linspace's values
    if isinstance(bins, str):
        try:
            import numpy  # optional: numpy's bin estimators ('auto', 'fd', ...) are numpy's own
        except ImportError:
            raise ValueError(f"add_histogram: bins={bins!r} needs numpy's bin estimators, which are not available "
                             "in this environment; use bins='tensorflow', a number of bins or a list of edges") from None
        return numpy.histogram_bin_edges(v.tolist(), bins=bins).tolist()
    edges = [float(e) for e in (bins.tolist() if hasattr(bins, "tolist") else bins)]
    if len(edges) < 2 or any(b < a for a, b in zip(edges, edges[1:])):
        raise ValueError("`bins` must increase monotonically, when an array")
    return edges


def make_histogram(values, bins="tensorflow", max_bins=None):
    """{min, max, num, sum, sum_squares, bucket_limit, bucket} of `values` (a tensor, array or nested list)."""
    v = _flat_float64(values)
    if v.numel() == 0:
        raise ValueError("The input has no element.")
    edges = _edges(v, bins)
    nbins = len(edges) - 1
    e = torch_ops.tensor(edges, dtype=D.float64)
    inside = v[(v >= edges[0]) & (v <= edges[-1])]            # numpy drops values outside the edges (and NaN)
    # bin i holds edges[i] <= x < edges[i+1]; the last bin also holds x == edges[-1], as numpy's does
    idx = (torch_ops.bucketize(inside, e, right=True) - 1).clamp(max=nbins - 1)
    counts = torch_ops.bincount(idx, minlength=nbins).tolist()
    if max_bins is not None and nbins > max_bins:
        group = nbins // max_bins
        counts += [0] * ((-len(counts)) % group)
        counts = [sum(counts[i:i + group]) for i in range(0, len(counts), group)]
        edges = edges[:-1:group] + [edges[-1]]
    nonzero = [i for i, c in enumerate(counts) if c > 0]
    if not nonzero:
        raise ValueError("The histogram is empty: no value lies within the bins")
    start, end = nonzero[0], nonzero[-1] + 1
    # TensorBoard keeps right limits only: an empty bucket on the left carries the leftmost limit
    counts = counts[start - 1:end] if start > 0 else [0] + counts[:end]
    limits = edges[start:end + 1]
    return {"min": v.min().item(), "max": v.max().item(), "num": v.numel(), "sum": v.sum().item(),
            "sum_squares": v.dot(v).item(), "bucket_limit": limits, "bucket": [float(c) for c in counts]}
