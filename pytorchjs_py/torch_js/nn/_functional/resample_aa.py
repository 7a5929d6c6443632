"""interpolate(antialias=True): ATen's _upsample_{bilinear,bicubic,lanczos}2d_aa, Pillow's separable resampling.

Each output pixel along a dim is a normalised weighted sum of the input pixels under a filter stretched by the
downscale factor (so that shrinking an image averages what it drops instead of skipping it). A pass gathers the few
input pixels under each output's filter and sums them times their weights: autograd and every device come with it.
The width is resampled first, then the height, as ATen does. uint8 images take ATen's fixed-point path exactly:
weights rounded to int16 at a per-dim precision, integer sums, each pass rounded and clamped to 0..255.
"""
import functools
import math

from ...ops.creation import tensor
from ._common import D


def _triangle(x, f):
    x = abs(x)
    return f(1.0 - x) if x < 1.0 else 0.0


def _keys_cubic(x, f, a=-0.5):
    # Keys' cubic convolution with a = -0.5, Pillow's (ATen's bicubic without antialias uses -0.75, OpenCV's)
    x = abs(x)
    if x < 1.0:
        return f(f(f(f(f(f((a + 2) * x) - (a + 3)) * x) * x) + 1))
    if x < 2.0:
        return f(f(f(f(f(f(a * x) - 5 * a) * x) + 8 * a) * x) - 4 * a)
    return 0.0


def _sinc(x):
    if x == 0.0:
        return 1.0
    x *= math.pi
    return math.sin(x) / x


def _lanczos3(x, f):
    return f(_sinc(x) * _sinc(x / 3.0)) if -3.0 <= x < 3.0 else 0.0


# mode -> (the filter's support at scale 1, in input pixels: interp_size / 2; the filter)
FILTERS = {"bilinear": (1.0, _triangle), "bicubic": (2.0, _keys_cubic), "lanczos": (3.0, _lanczos3)}


def weights(n_in, n_out, scale, mode, f=float):
    """Per output index along one dim: (first input index, its weights), ATen's bounds and weights. `scale` is the
    output-to-input coordinate scale (ATen's area_pixel_compute_scale); f rounds each step to the precision ATen
    computes in (float32 for float32 images)."""
    half, filt = FILTERS[mode]
    support = f(half * scale) if scale >= 1.0 else half   # (C++'s float and double mixed as ATen mixes them)
    invscale = f(1.0 / scale) if scale >= 1.0 else 1.0
    widest = math.ceil(support) * 2 + 1
    rows = []
    for i in range(n_out):
        center = f(scale * (i + 0.5))
        lo = max(int(f(center - support) + 0.5), 0)
        size = min(max(min(int(f(center + support) + 0.5), n_in) - lo, 0), widest)
        ws = [filt(f((f(f(j + lo) - center) + 0.5) * invscale), f) for j in range(size)]
        total = 0.0
        for w in ws:
            total = f(total + w)
        rows.append((min(lo, n_in - 1), [f(w / total) for w in ws] if total != 0.0 else [0.0] * size))
    return rows


@functools.lru_cache(maxsize=16)   # the next image of the same size reuses them (never handed out)
def _taps(n_in, n_out, scale, mode, dtype, dev):
    """weights() as a gather: input indices (n_out * taps) and weights (n_out, taps), the rows padded with weight 0
    to the widest; for uint8 ATen's int16 weights and their precision in bits (as many as keep the largest weight
    below 2**15), else 0; and where the padding is (None without)."""
    rows = weights(n_in, n_out, scale, mode, D.round_float32 if dtype is D.float32 else float)
    taps = max(len(ws) for _, ws in rows)
    index = [lo + j if j < len(ws) else lo for lo, ws in rows for j in range(taps)]
    flat = [ws[j] if j < len(ws) else 0.0 for _, ws in rows for j in range(taps)]
    bits = 0
    if dtype is D.uint8:
        top = max(flat)
        while bits < 22 and int(0.5 + top * (1 << (bits + 1))) < (1 << 15):
            bits += 1
        flat = [int(-0.5 + v) if v < 0 else int(0.5 + v) for v in (w * (1 << bits) for w in flat)]
    w = tensor(flat, dtype=D.int64 if bits else dtype, device=dev).view(n_out, taps)
    pad = None
    if any(len(ws) < taps for _, ws in rows):
        pad = tensor([j >= len(ws) for _, ws in rows for j in range(taps)], device=dev).view(n_out, taps)
    return tensor(index, dtype=D.int64, device=dev), w, bits, pad


def check_sizes(in_size, out_size):
    if min(out_size) <= 0 or min(in_size) <= 0:
        (h, w), (oh, ow) = in_size, out_size
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input (H: {h}, W: {w}) output "
                           f"(H: {oh}, W: {ow})")


def resample(x, out_size, scales, mode):
    """x (N, C, H, W) resampled to out_size with the antialiasing filter of `mode`; scales: (h, w) coordinate
    scales. Returns a new tensor (a copy when the size does not change, as ATen)."""
    if tuple(x._shape[2:]) == tuple(out_size):
        return x.clone()
    dev = x._storage.device
    for d in (3, 2):   # the width first
        n_in, n_out = x._shape[d], out_size[d - 2]
        if n_in == n_out:
            continue
        index, w, bits, pad = _taps(n_in, n_out, scales[d - 2], mode, x._dtype, dev)
        xt = x.transpose(d, 3)
        g = xt.index_select(3, index).view(*xt._shape[:3], n_out, w._shape[1])
        terms = g.to(D.int64) * w if bits else g * w
        if pad is not None:   # a padding tap adds nothing, even where the pixel it gathered is inf or nan
            terms = terms.masked_fill(pad, 0)
        if bits:   # integer sums, rounded and clamped after each pass
            xt = ((terms.sum(-1) + (1 << (bits - 1))) >> bits).clamp(0, 255).to(D.uint8)
        else:
            xt = terms.sum(-1)
        x = xt.transpose(d, 3)
    return x.contiguous()
