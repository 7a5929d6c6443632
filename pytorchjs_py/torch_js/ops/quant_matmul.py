"""Weight-only quantized matrix products: the weight stays packed (int8, or llama.cpp's Q4_1 nibbles) and is
dequantised inside the product, by the backend's `quant_matmul` (CPU: wasm_ext/quant.c; webgpu:
js_bridge/webgpu/kernels/quant_matmul.mjs; a backend without one gets the dequantise-then-matmul composite).

- torch._weight_int8pack_mm(A, B, scales): PyTorch's int8 weight-only linear, A (M, K) float @ (B (N, K) int8 ·
  scales[:, None]).T, with PyTorch's checks and messages (aten/src/ATen/native/LinearAlgebra.cpp) and, as there,
  no derivative (a NotImplemented node that raises at backward).
- quantized_linear(x, ...): torch_js.quant.BlockQuantLinear's forward (int8 per row, Q8_0 and Q4_1 blocks of 32)
  over any leading dims, differentiable in x (the backward dequantises the weight: g @ W).
"""
from .. import _dtype as D
from .._tensor import _empty
from .joining import cat
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import GRAD_ENABLED, not_implemented_backward, record, same_device

SCHEME_INT8, SCHEME_Q4_1 = 0, 1   # the kernels' scheme codes (kernel_abi's quant_matmul)
BLOCK = 32                        # llama.cpp's block length (QK8_0, QK4_1)
_FLOATS = (D.float32, D.float16, D.bfloat16)


def dequantize_packed(qweight, scales, mins, scheme, group, dtype=D.float32):
    """The float weight (N, K) that packed `qweight` stands for, written in tensor ops (any device)."""
    n = qweight._shape[0]
    if scheme == SCHEME_INT8:
        k = qweight._shape[1]
        q = qweight.to(D.float32).reshape(n, -1, group)
        w = q * scales.to(D.float32).reshape(n, -1, 1)
    else:
        k = 2 * qweight._shape[1]
        b = qweight.reshape(n, -1, BLOCK // 2)
        q = cat([b.bitwise_and(15), b.bitwise_right_shift(4)], -1).to(D.float32)   # low nibbles first
        w = q * scales.to(D.float32).reshape(n, -1, 1) + mins.to(D.float32).reshape(n, -1, 1)
    return w.reshape(n, k).to(dtype)


def _product(x, qweight, scales, mins, scheme, group):
    """float32 (M, N) = x (float32 (M, K), unit column stride) @ W^T, W dequantised inside the backend's kernel."""
    m, n = x._shape[0], qweight._shape[0]
    kernel = getattr(x._storage.backend, "quant_matmul", None)
    if kernel is None:
        return x @ dequantize_packed(qweight, scales, mins, scheme, group).t()
    out = _empty((m, n), D.float32, x._storage.device)
    if m and n:
        kernel(out, x, qweight, scales, mins, scheme, group)
    return out


def _as_float32_rows(x):
    """x (M, K) as float32 with unit column stride (the kernels' operand)."""
    if x._dtype is not D.float32:
        return x.to(D.float32)
    return x if x._stride[1] == 1 or x._shape[1] <= 1 else x.contiguous()


def _weight_int8pack_mm(A, B, scales):
    f = "_weight_int8pack_mm_cpu"
    for t in (A, B):
        if t.dim() == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    m, n, k = A.size(0), B.size(0), A.size(1)
    if A._dtype not in _FLOATS:
        raise RuntimeError(f"{f} : expect A to be either 32-bit or 16-bit float tensor.")
    if A.dim() != 2:
        raise RuntimeError(f"{f} : expect A to be 2D tensor.")
    if A._stride[1] != 1:
        raise RuntimeError(f"{f} : A must be contiguous on the last dimension.")
    if B._dtype is not D.int8:
        raise RuntimeError(f"{f} : expect B to be int8 tensor.")
    if not B.is_contiguous():
        raise RuntimeError(f"{f} : expect B to be contiguous.")
    if B.size(1) != k:
        raise RuntimeError(f"{f} : expect B.size(1) == {k}")
    if scales.dim() != 1 or scales.size(0) != n:
        raise RuntimeError(f"{f} : expect scales to be 1d tensor with size {n}")
    if scales._dtype is not A._dtype:
        raise RuntimeError(f"expected scalar type {D.scalar_type_name(A._dtype)} but found "
                           f"{D.scalar_type_name(scales._dtype)}")
    same_device(A, B)
    same_device(A, scales)
    if B.dim() != 2:   # (N, K, ...) passes PyTorch's checks; its kernel reads the first N·K bytes
        B = B.reshape(-1)[:n * k].reshape(n, k)
    if k == 0:
        out = _empty((m, n), A._dtype, A._storage.device).zero_()
    else:
        sf = scales.detach().to(D.float32)
        out = _product(_as_float32_rows(A.detach()), B, sf, None, SCHEME_INT8, k).to(A._dtype)
    if GRAD_ENABLED[0] and (A._requires_grad or scales._requires_grad):
        # PyTorch has no derivative for it: a NotImplemented node that raises at backward
        record("NotImplemented", not_implemented_backward, (A, scales), (out,), attrs="aten::_weight_int8pack_mm")
    return out


register("_weight_int8pack_mm", _weight_int8pack_mm, "linalg", dtype="same", derivative=NOT_DIFFERENTIABLE,
         method=False, opinfo=())


def _quantized_linear_backward(ctx, g):
    qweight, scales, mins, scheme, group, x_shape = ctx.attrs
    w = dequantize_packed(qweight, scales, mins, scheme, group, g._dtype)
    return (g.reshape(-1, w._shape[0]) @ w).reshape(x_shape)


def quantized_linear(x, qweight, scales, mins, scheme, group, bias=None):
    """x (..., K) @ W^T (+ bias) for W (N, K) packed as `scheme` (torch_js.quant.BlockQuantLinear's forward)."""
    n = qweight._shape[0]
    k = qweight._shape[1] * (2 if scheme == SCHEME_Q4_1 else 1)
    if x.dim() == 0 or x._shape[-1] != k:
        rows = x.numel() // x._shape[-1] if x.dim() and x._shape[-1] else x.numel()
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x._shape[-1] if x.dim() else 1} "
                           f"and {k}x{n})")
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"quantized linear: expected a floating point input, got {x._dtype}")
    same_device(x, qweight)
    lead = x._shape[:-1]
    x2 = x.detach().reshape(-1, k)
    if x._dtype is D.float64 or k == 0:   # the kernels compute in float32
        out = x2 @ dequantize_packed(qweight, scales, mins, scheme, group, x._dtype).t()
    else:
        out = _product(_as_float32_rows(x2), qweight, scales, mins, scheme, group).to(x._dtype)
    out = out.reshape(lead + (n,))
    if GRAD_ENABLED[0] and x._requires_grad:
        record("QuantizedLinearBackward0", _quantized_linear_backward, (x,), (out,),
               attrs=(qweight, scales, mins, scheme, group, x._shape))
    return out if bias is None else out + bias
