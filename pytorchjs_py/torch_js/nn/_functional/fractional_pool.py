"""Fractional max pooling (Graham, 2014): F.fractional_max_pool2d/3d, as a gather at the window maxima.

Each (N, C) plane draws one uniform sample u per spatial dim (torch.rand(N, C, nd) in the input's dtype, PyTorch's
CPU stream); output o's window starts at int((o + u)·α) − int(u·α), α = (I − K)/(O − 1), the last at I − K,
computed in the input's dtype as ATen's generate_intervals does. The maximum of each K-window (NaN wins, the last
NaN; ties keep the first) is picked by index, and the output is a gather at those indices: its gradient adds each
output's gradient at its index, as PyTorch's backward does.
"""
import struct

from ...ops._util import not_implemented_for
from ...ops import random as _random
from ...ops.creation import tensor as _tensor
from ...ops.elementwise import where as _where
from ..._grad_mode import no_grad
from ..._tensor import _empty
from ._common import D, arange, full, reg
from .pooling import _check_tensor


def _rounder(dtype):
    """Rounds a Python float to `dtype` (float64: unchanged), to repeat arithmetic done in that type."""
    if dtype is D.float32:
        return D.round_float32
    if dtype is D.float16:
        return lambda v: struct.unpack("<e", struct.pack("<e", v))[0]
    if dtype is D.bfloat16:
        def bf16(v):
            bits = struct.unpack("<I", struct.pack("<f", v))[0]
            bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000   # round to nearest even
            return struct.unpack("<f", struct.pack("<I", bits))[0]
        return bf16
    return lambda v: v


def _intervals(sample, i_size, o_size, k_size, rnd):
    """ATen's generate_intervals: the window starts along one dim for one plane's sample."""
    seq = [0] * o_size
    if o_size > 1:
        alpha = rnd(rnd(float(i_size - k_size)) / rnd(float(o_size - 1)))
        base = int(rnd(sample * alpha))
        for i in range(o_size - 1):
            seq[i] = int(rnd(rnd(i + sample) * alpha)) - base
    if o_size > 0:
        seq[o_size - 1] = i_size - k_size
    return seq


def _fractional_checks(input, k, osz, samples, nd):
    """fractional_max_pool{2,3}d's meta checks, then the implementation's checks of the samples."""
    name = "fractional_max_pool2d()" if nd == 2 else "fractional_max_pool3d_out()"
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(input._shape)}")
    for i in range(1, input.dim()):
        if input._shape[i] == 0:
            raise RuntimeError(f"{name}: Expected input to have non-zero size for non-batch dimensions, but got"
                               f"{list(input._shape)} with dimension {i} being empty.")
    sizes = input._shape[-nd:]
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    # 2-D allows a window ending at the last element; 3-D wants one to spare (ATen's checks differ so); 3-D checks
    # time, width, height in that order
    order = (0, 1) if nd == 2 else (0, 2, 1)
    for j in order:
        fits = osz[j] + k[j] - 1 <= sizes[j] if nd == 2 else osz[j] + k[j] - 1 < sizes[j]
        if not fits:
            raise RuntimeError(f"{name}: pool {names[j]} {k[j]} too large relative to input {names[j]} {sizes[j]}")
    if any(o < 0 for o in osz):
        shape = list(input._shape[:-nd]) + list(osz)
        raise RuntimeError(f"Trying to create tensor with negative dimension {next(o for o in osz if o < 0)}: "
                           f"{shape}")
    if samples._dtype is not input._dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if samples.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {samples.dim()}")
    batch, channels = (1, input._shape[0]) if input.dim() == nd + 1 else input._shape[:2]
    if samples._shape[0] < batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if samples._shape[1] != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if samples._shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {samples._shape[2]}.")
    if not input._dtype.is_floating_point:
        raise not_implemented_for(f"fractional_max_pool{nd}d_out_frame", input._dtype)


def _fractional_indices(x, samples, k, osz):
    """x (planes, *sizes) contiguous, samples (planes, nd) -> int64 (planes, prod(osz)): each output's argmax as a
    flat index into its plane."""
    nd = len(k)
    sizes = x._shape[1:]
    planes = x._shape[0]
    dev = x._storage.device
    strides = [1] * nd
    for j in range(nd - 2, -1, -1):
        strides[j] = strides[j + 1] * sizes[j + 1]
    rnd = _rounder(x._dtype)
    per_sample = list(zip(*samples.tolist())) if planes else [()] * nd    # per sample slot: each plane's
    # ATen's 2-D kernel reads a plane's samples as (W, H), the 3-D one as (T, H, W)
    per_dim = per_sample[::-1] if nd == 2 else per_sample
    # window starts: Σ_j start_j[o_j]·stride_j over the output grid
    starts = None
    for j in range(nd):
        seqs = [[v * strides[j] for v in _intervals(u, sizes[j], osz[j], k[j], rnd)] for u in per_dim[j]]
        t = _tensor(seqs, dtype=D.int64, device=dev).reshape(planes, osz[j])
        t = t.view((planes,) + (1,) * j + (osz[j],) + (1,) * (nd - 1 - j))
        starts = t if starts is None else starts + t
    count = 1
    for o in osz:
        count *= o
    starts = starts.expand((planes,) + tuple(osz)).reshape(planes, count)
    # tap offsets within a window
    taps = None
    for j in range(nd):
        t = arange(k[j], dtype=D.int64, device=dev).mul(strides[j]).view((1,) * j + (max(k[j], 0),) +
                                                                       (1,) * (nd - 1 - j))
        taps = t if taps is None else taps + t
    kk = taps.numel()
    if kk == 0:        # an empty window: ATen keeps the start as the index (the value is -inf)
        return starts
    window = starts.unsqueeze(-1) + taps.reshape(1, 1, kk)                    # (planes, L, KK)
    vals = x.reshape(planes, -1).gather(1, window.reshape(planes, -1)).reshape(planes, count, kk)
    nan = vals.isnan()
    last_nan = (kk - 1) - nan.flip(-1).to(D.uint8).argmax(-1)
    pick = _where(nan.any(-1), last_nan, vals.argmax(-1))
    return window.gather(-1, pick.unsqueeze(-1)).squeeze(-1)


def _fractional(input, kernel_size, output_size, output_ratio, return_indices, samples, nd):
    """F.fractional_max_pool{2,3}d_with_indices, then torch._C._nn.fractional_max_pool{2,3}d."""
    name = f"fractional_max_pool{nd}d"
    _check_tensor(input, name)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if nd == 2 and len(output_ratio) > 2:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * nd
        output_size = [int(input.size(j - nd) * ratio[j]) for j in range(nd)]
    if samples is None:
        batch = 1 if input.dim() == nd + 1 else input.size(0)
        samples = _random.rand(batch, input.size(-nd - 1), nd, dtype=input._dtype, device=input.device)
    # the binding's IntArrayRef[nd], then ATen's size checks
    k = [int(v) for v in kernel_size] if isinstance(kernel_size, (list, tuple)) else [int(kernel_size)] * nd
    osz = [int(v) for v in output_size] if isinstance(output_size, (list, tuple)) else [int(output_size)] * nd
    things = "Ints" if nd == 2 else "three Ints"
    if len(k) != nd:
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of {things}")
    if len(osz) != nd:
        raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of {things}")
    _fractional_checks(input, k, osz, samples, nd)
    batched = input.dim() == nd + 2
    x = input if batched else input.unsqueeze(0)
    n, c = x._shape[:2]
    planes = n * c
    flat = x.contiguous().reshape((planes,) + x._shape[2:])
    count, volume = _volume(osz), _volume(x._shape[2:])
    if planes == 0 or count == 0 or input.is_meta:    # (meta tensors: shapes only)
        idx = _empty((planes, count), D.int64, input._storage.device)
    else:
        with no_grad():
            idx = _fractional_indices(flat.detach(), samples.detach()[:n].reshape(planes, nd), k, osz)
    if _volume(k) == 0:    # empty windows: -inf (ATen's starting maximum)
        out = full((planes, count), float("-inf"), dtype=input._dtype, device=input.device)
    else:
        out = flat.reshape(planes, volume).gather(1, idx)
    out = out.reshape((n, c) + tuple(osz))
    idx = idx.reshape((n, c) + tuple(osz))
    if not batched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def _volume(vals):
    v = 1
    for x in vals:
        v *= x
    return v


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, True, _random_samples, 2)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional(input, kernel_size, output_size, output_ratio, True, _random_samples, 3)


# gathers at the maxima it finds (gather's derivative); floating inputs, the input's dtype out
for _n, _f in [("fractional_max_pool2d", fractional_max_pool2d), ("fractional_max_pool3d", fractional_max_pool3d)]:
    reg(_n, _f, "pooling", dtype="same")
for _n, _f in [("fractional_max_pool2d_with_indices", fractional_max_pool2d_with_indices),
               ("fractional_max_pool3d_with_indices", fractional_max_pool3d_with_indices)]:
    reg(_n, _f, "pooling", dtype="same", opinfo=())
