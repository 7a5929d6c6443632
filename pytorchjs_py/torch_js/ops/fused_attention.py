"""scaled_dot_product_attention as one fused kernel where the device has one (the webgpu backend's `attention`:
js_bridge/webgpu/kernels/attention.mjs, flash-style, the L x S weights never stored; the CPU backend's in Pyodide:
wasm_ext/attention.c on the worker pool or on Pyodide's thread, the composite's bits, no autograd). nn.functional's
scaled_dot_product_attention asks here first and runs its composite (PyTorch's math reference) when this declines:
no fused kernel on the device, dropout, a mask that needs a gradient, or shapes the kernel does not take (head dims
over 256, batch dims that broadcast, leading dims that do not merge into one strided dim).

The backward recomputes the attention weights from q, k and v (the flash algorithm's trade: a second pass instead
of keeping L x S weights) and applies softmax's and the two products' derivatives with ordinary ops."""
import math

from .. import _dtype as D
from .._tensor import _empty
from ._util import GRAD_ENABLED, broadcast_shapes, cached_constant, record
from .creation import arange
from .reduction import softmax

MAX_HEAD_DIM = 256
_FLOATS = (D.float32, D.float16, D.bfloat16)


def _strides4(t):
    """t's (batch, head, row, col) strides, its leading dims merged into one batch dim; None if they do not merge."""
    shape, stride = t._shape, t._stride
    nd = len(shape)
    if nd == 2:
        return (0, 0) + stride
    if nd == 3:
        return (0,) + stride
    lead_shape, lead_stride = shape[:nd - 3], stride[:nd - 3]
    merged = None
    for size, st in zip(reversed(lead_shape), reversed(lead_stride)):
        if size == 1:
            continue
        if merged is not None and st != merged[0] * merged[1]:
            return None
        merged = (st, size) if merged is None else (merged[0], merged[1] * size)
    return ((merged[0] if merged else 0),) + stride[nd - 3:]


def _causal_blocked(l, s, dev):
    """The keys a causal row may not see (above the diagonal), (L, S) bool, made once per shape and device."""
    return cached_constant(("causal_blocked", l, s, dev),
                           lambda: arange(l, device=dev).unsqueeze(1) < arange(s, device=dev).unsqueeze(0))


def _weights(q, k, mask, causal, scale):
    """softmax(q k^T * scale + mask): the composite's attention weights (k already repeated for GQA)."""
    s = (q @ k.transpose(-2, -1)) * scale
    if causal:
        s = s.masked_fill(_causal_blocked(s._shape[-2], s._shape[-1], q._storage.device), float("-inf"))
    if mask is not None:
        s = s.masked_fill(mask.logical_not(), float("-inf")) if mask._dtype is D.bool_ else s + mask
    return softmax(s, -1)


def _backward(ctx, g):
    q, k, v = ctx.saved_tensors
    mask, causal, scale, rep = ctx.attrs
    need_q, need_k, need_v = (f is not None for f in ctx.edges)
    kk, vv = (k, v) if rep == 1 else (k.repeat_interleave(rep, -3), v.repeat_interleave(rep, -3))
    p = _weights(q, kk, mask, causal, scale)
    gq = gk = gv = None
    if need_v:
        gv = p.transpose(-2, -1) @ g
    if need_q or need_k:
        dp = g @ vv.transpose(-2, -1)
        ds = p * (dp - (dp * p).sum(-1, keepdim=True))      # softmax's derivative
        if need_q:
            gq = (ds @ kk) * scale
        if need_k:
            gk = (ds.transpose(-2, -1) @ q) * scale
    if rep > 1:   # each key/value head served `rep` query heads: their gradients add up
        gk = gk.unflatten(-3, (k._shape[-3], rep)).sum(-3) if gk is not None else None
        gv = gv.unflatten(-3, (v._shape[-3], rep)).sum(-3) if gv is not None else None
    return gq, gk, gv


def fused_sdpa(query, key, value, attn_mask, is_causal, scale, enable_gqa, tokens_first=False):
    """The attention output from the device's fused kernel, or None where it does not apply (see the module; the
    kernel itself may decline, returning False). tokens_first (4-D only): the output's memory laid out (row, batch,
    head, column), as MultiheadAttention's out-projection reads it, where the backend writes any layout."""
    backend = query._storage.backend
    fused = getattr(backend, "attention", None)
    if fused is None:
        return None
    q, k, v, mask = query, key, value, attn_mask
    dt, dev = q._dtype, q._storage.device
    nd = q.dim()
    if (dt not in _FLOATS or k._dtype is not dt or v._dtype is not dt or k._storage.device is not dev
            or v._storage.device is not dev or nd < 2 or k.dim() != nd or v.dim() != nd):
        return None
    l, e = q._shape[-2:]
    s, ev = v._shape[-2:]
    if k._shape[-1] != e or k._shape[-2] != s or not (0 < e <= MAX_HEAD_DIM and 0 < ev <= MAX_HEAD_DIM) or not l * s:
        return None
    rep = 1
    if k._shape[:-2] != q._shape[:-2] or v._shape[:-2] != k._shape[:-2]:
        hq, hk = (q._shape[-3], k._shape[-3]) if nd >= 3 else (0, 0)
        if not (enable_gqa and nd >= 3 and hk and hq % hk == 0 and v._shape[:-2] == k._shape[:-2]
                and q._shape[:-3] == k._shape[:-3]):
            return None
        rep = hq // hk
    if q.numel() == 0 or k.numel() == 0:
        return None
    lead = q._shape[:-2]
    if mask is not None:
        if (mask._dtype is not D.bool_ and mask._dtype is not dt) or mask._storage.device is not dev \
                or (mask._requires_grad and GRAD_ENABLED[0]):
            return None
        try:
            if broadcast_shapes(mask._shape, lead + (l, s)) != lead + (l, s):
                return None
        except RuntimeError:
            return None
        mask = mask.expand(lead + (l, s))
    strides = [_strides4(t) for t in (q, k, v)] + [_strides4(mask) if mask is not None else (0, 0, 0, 0)]
    if any(st is None for st in strides):
        return None
    heads = lead[-1] if nd >= 3 else 1
    batch = math.prod(lead[:-1]) if nd >= 4 else 1
    if tokens_first and nd == 4 and getattr(backend, "attention_any_layout", False):
        out = _empty((l,) + lead + (ev,), dt, dev).permute(1, 2, 0, 3)
    else:
        out = _empty(lead + (l, ev), dt, dev)
    if fused(out, q, k, v, mask, (batch, heads, l, s, e, ev), strides, rep, bool(is_causal), float(scale)) is False:
        return None
    if GRAD_ENABLED[0] and (q._requires_grad or k._requires_grad or v._requires_grad):
        record("ScaledDotProductFlashAttentionBackward0", _backward, (q, k, v), (out,),
               attrs=(attn_mask, bool(is_causal), float(scale), rep), save_inputs=(q, k, v))
    return out

