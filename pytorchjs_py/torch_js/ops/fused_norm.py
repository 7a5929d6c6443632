"""Layer norm and RMS norm as one kernel where the device has one (the webgpu backend's `row_norm`:
js_bridge/webgpu/kernels/norm.mjs), instead of the composite's three (the mean, the variance with rstd, the
normalised row). nn.functional's layer_norm and rms_norm ask here first and run their composites when this
declines: no fused kernel on the device, a dtype other than float32, a non-contiguous input or parameter, or the
kernel's own refusal (it returns False: the CPU's, on Pyodide's worker pool, takes only what it computes with the
composite's bits).

The backward is ATen's layer_norm_backward (and its RMS analogue, the mean taken as 0) written with ordinary ops
from the saved mean and rstd: with x̂ = (x - mean) * rstd and ĝ = grad * weight,
dx = rstd * (ĝ - mean(ĝ) - x̂ * mean(ĝ * x̂)), dweight = Σ grad * x̂, dbias = Σ grad over the leading dims."""
import math

from .. import _dtype as D
from .._tensor import _empty
from ._util import GRAD_ENABLED, record


def _backward(ctx, g):
    rms, n_dims, eps, mean, rstd = ctx.attrs
    x, weight = (ctx.saved_tensors + (None,))[:2]
    need_x, need_w, need_b = (e is not None for e in ctx.edges)
    dims = tuple(range(x.dim() - n_dims, x.dim()))
    lead = tuple(range(x.dim() - n_dims))
    if GRAD_ENABLED[0]:   # create_graph: the statistics again, as functions of x, for the double backward
        mean = None if rms else x.mean(dims, keepdim=True)
        sq = x * x if rms else (x - mean) * (x - mean)
        rstd = (sq.mean(dims, keepdim=True) + eps).rsqrt()
    xhat = x * rstd if rms else (x - mean) * rstd
    gx = gw = gb = None
    if need_x:
        gy = g * weight if weight is not None else g
        proj = (gy * xhat).mean(dims, keepdim=True)
        gx = rstd * (gy - xhat * proj) if rms else rstd * (gy - gy.mean(dims, keepdim=True) - xhat * proj)
    if need_w:
        gw = (g * xhat).sum(lead) if lead else g * xhat
    if need_b:
        gb = g.sum(lead) if lead else g
    return gx, gw, gb


def fused_row_norm(x, n_dims, weight, bias, eps, rms):
    """(out, mean, rstd) of a layer norm (RMS norm when rms: mean holds zeros) over x's last n_dims dims from the
    device's fused kernel, mean and rstd shaped as native_layer_norm's; None where it does not apply."""
    fused = getattr(x._storage.backend, "row_norm", None)
    if fused is None or x._dtype is not D.float32 or not x.is_contiguous() or x.numel() == 0:
        return None
    dev = x._storage.device
    for p in (weight, bias):
        if p is not None and (p._dtype is not D.float32 or not p.is_contiguous() or p._storage.device is not dev):
            return None
    lead = x._shape[:x.dim() - n_dims]
    n = math.prod(x._shape[x.dim() - n_dims:])
    out = _empty(x._shape, x._dtype, dev)
    mean, rstd = (_empty(lead + (1,) * n_dims, D.float32, dev) for _ in range(2))
    if fused(out, mean, rstd, x, weight, bias, x.numel() // n, n, float(eps), rms) is False:
        return None   # the kernel declined this one (the CPU worker pool's: backends/cpu/wasm_threads.layer_norm)
    if GRAD_ENABLED[0] and any(t is not None and t._requires_grad for t in (x, weight, bias)):
        # RMS norm has no fused node in PyTorch's CPU build: its composite ends in a multiplication
        record("MulBackward0" if rms else "NativeLayerNormBackward0", _backward, (x, weight, bias), (out,),
               attrs=(rms, n_dims, float(eps), mean, rstd), save_inputs=(x,) if weight is None else (x, weight))
    return out, mean, rstd
