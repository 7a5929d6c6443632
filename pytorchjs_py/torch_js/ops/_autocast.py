"""Autocast's casts, as PyTorch's CPU autocast makes them (aten/src/ATen/autocast_mode.cpp, AutocastCPU): while
autocast is on for a device type (torch_js/amp/autocast_mode.py keeps ON), a public op of one of these lists casts
its floating tensors of that device type (float64 excepted) before it runs: LOWER ops to autocast's dtype (bfloat16
by default), FP32 ops to float32, PROMOTE ops to the widest of their inputs' types. Any other op runs on what it is
given, so its result has its inputs' dtype (a softmax of a bfloat16 product is bfloat16).

A listed op runs with autocast off, as PyTorch's autocast kernel redispatches below autocast: the ops it is made of
cast nothing more. The op wrapper (ops/_api.py guard) applies this; internal code calls undecorated functions, so a
torch_js op written in other ops casts only at its own entry. Where PyTorch's decomposition of an op reaches a LOWER
op (einsum, tensordot, multi-head attention), that op is listed as LOWER here; nn.LSTM runs oneDNN's layer in
bfloat16 as PyTorch's CPU build does (nn/modules/rnn.py).
"""
from .. import _dtype as D
from .._tensor import Tensor

# device type -> the lower-precision dtype, for each device type autocast is on for (empty: off everywhere)
ON = {}

LOWER = frozenset((
    "conv1d", "conv2d", "conv3d", "bmm", "mm", "vecdot", "baddbmm", "addmm", "addbmm", "linear", "matmul",
    "conv_tbc", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu", "scaled_dot_product_attention",
    # torch_js ops whose PyTorch decomposition runs a LOWER op on their inputs
    "einsum", "tensordot", "multi_dot", "chain_matmul", "multi_head_attention_forward"))
FP32 = frozenset((
    "avg_pool3d", "binary_cross_entropy", "grid_sample", "polar", "prod", "quantile", "nanquantile", "stft",
    "cdist", "trace", "view_as_complex", "cholesky", "cholesky_inverse", "cholesky_solve", "inverse", "lu_solve",
    "orgqr", "ormqr", "pinverse", "max_pool3d", "max_unpool2d", "max_unpool3d", "adaptive_avg_pool3d", "mse_loss",
    "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "poisson_nll_loss", "smooth_l1_loss",
    "cross_entropy", "l1_loss", "huber_loss", "margin_ranking_loss", "soft_margin_loss", "triplet_margin_loss",
    "multi_margin_loss", "ctc_loss", "kl_div", "multilabel_margin_loss", "binary_cross_entropy_with_logits",
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn", "hfft",
    "ihfft", "cond", "matrix_rank", "solve", "svdvals", "eigvals", "eigvalsh", "inv", "householder_product",
    "tensorinv", "tensorsolve", "geqrf", "qr", "svd", "triangular_solve", "fractional_max_pool2d",
    "fractional_max_pool3d", "adaptive_max_pool3d", "cholesky_ex", "eig", "eigh", "lstsq", "inv_ex",
    "pad"))   # (pad: its reflection and replication modes, PyTorch's reflection_pad* / replication_pad* kernels)
PROMOTE = frozenset(("stack", "cat", "concat", "concatenate", "index_copy"))
_NAMESPACES = frozenset(("torch", "nn.functional", "linalg", "fft"))


def off(fn, *args, **kwargs):
    """fn(*args, **kwargs) with autocast off, as below PyTorch's autocast kernel (it redispatches past autocast)."""
    global ON
    on, ON = ON, {}
    try:
        return fn(*args, **kwargs)
    finally:
        ON = on


def policy(namespace, op):
    """The cast policy of public op `op` of `namespace` ("lower", "fp32", "promote"), or None."""
    if namespace not in _NAMESPACES:
        return None
    return "lower" if op in LOWER else "fp32" if op in FP32 else "promote" if op in PROMOTE else None


def _eligible(t):
    return isinstance(t, Tensor) and t._dtype.is_floating_point and t._dtype is not D.float64 and \
        t._storage.device.type in ON


def _tensors(args, kwargs):
    for v in (*args, *kwargs.values()):
        if isinstance(v, Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from (x for x in v if isinstance(x, Tensor))


def _to(v, dtype_of):
    if _eligible(v):
        dt = dtype_of(v)
        return v if v._dtype is dt else v.to(dt)
    if isinstance(v, (list, tuple)) and any(isinstance(x, Tensor) for x in v):
        return type(v)(_to(x, dtype_of) for x in v)
    return v


def cast(rule, op, args, kwargs):
    """args and kwargs of op as its cast `rule` makes them (see the module docstring)."""
    if rule == "fp32":
        if op == "pad" and kwargs.get("mode", args[2] if len(args) > 2 else "constant") not in ("reflect", "replicate"):
            return args, kwargs
        def dtype_of(t):
            return D.float32
    elif rule == "lower":
        def dtype_of(t):
            return ON[t._storage.device.type]
    else:
        widest = {}
        for t in _tensors(args, kwargs):
            if _eligible(t):
                kind = t._storage.device.type
                widest[kind] = D.promote_types(widest.get(kind, ON[kind]), t._dtype)

        def dtype_of(t):
            return widest[t._storage.device.type]
    return tuple(_to(a, dtype_of) for a in args), {k: _to(v, dtype_of) for k, v in kwargs.items()}
