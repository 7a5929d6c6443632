"""The weight formats of torch_js.quant, written once: llama.cpp's Q8_0 and Q4_1 blocks (as GGUF stores them) and
a per-row int8 format (torch._weight_int8pack_mm's), their quantisers with llama.cpp's rounding (ggml-quants.c
quantize_row_q8_0_ref / quantize_row_q4_1_ref, float32 arithmetic), and the split of GGUF block bytes into the
parts the kernels read: the packed values (int8 (N, K), or Q4_1's nibble bytes (N, K / 2) in their block order)
and the float16 scales (and Q4_1's mins) (N, K / 32).

GGUF blocks, 32 weights each: Q8_0 = float16 d, 32 int8 q (34 bytes), w = d·q; Q4_1 = float16 d, float16 m,
16 bytes (byte j: element j in the low nibble, j + 16 in the high one) (20 bytes), w = d·q + m.
"""
from .. import _dtype as D
from .._tensor import Tensor
from ..ops.quant_matmul import BLOCK, SCHEME_INT8, SCHEME_Q4_1
from ..ops.buffers import frombuffer
from ..ops.joining import cat

# scheme -> (kernel scheme code, block length (None: one block per row), GGUF block bytes (None: no GGUF type))
SCHEMES = {"int8": (SCHEME_INT8, None, None), "q8_0": (SCHEME_INT8, BLOCK, 2 + BLOCK),
           "q4_1": (SCHEME_Q4_1, BLOCK, 4 + BLOCK // 2)}


def check_scheme(scheme, in_features):
    """(kernel code, group) for `scheme` over rows of in_features; ValueError for an unknown scheme or a row that
    is not whole blocks."""
    if scheme not in SCHEMES:
        raise ValueError(f"torch_js.quant: unknown scheme {scheme!r}; expected one of {sorted(SCHEMES)}")
    code, block, _ = SCHEMES[scheme]
    if block is not None and in_features % block:
        raise ValueError(f"torch_js.quant: scheme {scheme!r} needs in_features to be a multiple of {block}, "
                         f"got {in_features}")
    return code, block or in_features


def _roundf(v):
    """C's roundf (half away from zero), exact in float32: floor of |v| plus one where its fraction is >= 1/2."""
    a = v.abs()
    fl = a.floor()
    return (fl + (2 * (a - fl)).floor()) * v.sign()


def _inverse(d):
    """1 / d, 0 where d is 0 (llama.cpp's `id = d ? 1.0f/d : 0.0f`)."""
    return d.reciprocal().masked_fill(d == 0, 0.0)


def quantize(weight, scheme):
    """(qweight, scales, mins) of a float weight (N, K) in `scheme`, computed on the CPU in float32. scales are
    float16 for the block schemes, the weight's float dtype for "int8" (one per row); mins only for q4_1."""
    n, k = weight._shape
    check_scheme(scheme, k)
    w = weight.detach().to("cpu", D.float32)
    if scheme == "int8":
        d = w.abs().amax(1, keepdim=True) / 127
        q = _roundf(w * _inverse(d)).to(D.int8)
        sdt = weight._dtype if weight._dtype in (D.float16, D.bfloat16) else D.float32
        return q, d.reshape(n).to(sdt), None
    blocks = w.reshape(n, k // BLOCK, BLOCK)
    if scheme == "q8_0":
        d = blocks.abs().amax(-1, keepdim=True) / 127
        q = _roundf(blocks * _inverse(d)).to(D.int8).reshape(n, k)
        return q, d.reshape(n, -1).to(D.float16), None
    lo, hi = blocks.amin(-1, keepdim=True), blocks.amax(-1, keepdim=True)
    d = (hi - lo) / 15
    q = ((blocks - lo) * _inverse(d) + 0.5).trunc().clamp(max=15).to(D.uint8)   # (x - min)·id >= 0
    packed = (q[..., :BLOCK // 2] + q[..., BLOCK // 2:] * 16).to(D.uint8)   # element j low, j + 16 high
    return packed.reshape(n, k // 2), d.reshape(n, -1).to(D.float16), lo.reshape(n, -1).to(D.float16)


def _half_at(blocks, at):
    """The little-endian float16 at byte `at` of each block row (uint8 (rows, bytes)) -> float16 (rows,)."""
    bits = blocks[:, at].to(D.int32) + blocks[:, at + 1].to(D.int32) * 256
    return (bits - (bits >= 32768) * 65536).to(D.int16).view(D.float16)


def from_gguf_blocks(scheme, data, out_features, in_features):
    """(qweight, scales, mins) from GGUF block bytes (bytes-like, or a uint8 tensor) of an (out, in) weight."""
    code, group = check_scheme(scheme, in_features)
    nbytes = SCHEMES[scheme][2]
    if nbytes is None:
        raise ValueError(f"torch_js.quant: scheme {scheme!r} has no GGUF block format (q8_0 and q4_1 have)")
    if isinstance(data, Tensor):
        if data._dtype is not D.uint8:
            raise TypeError(f"torch_js.quant: GGUF block data must be uint8, got {data._dtype}")
        raw = data.reshape(-1)
    else:
        raw = frombuffer(bytearray(data), dtype=D.uint8)
    n, nblk = out_features, out_features * in_features // BLOCK
    if raw.numel() != nblk * nbytes:
        raise ValueError(f"torch_js.quant: {scheme} data for a ({out_features}, {in_features}) weight is "
                         f"{nblk * nbytes} bytes ({nblk} blocks of {nbytes}), got {raw.numel()}")
    blocks = raw.reshape(nblk, nbytes)
    scales = _half_at(blocks, 0).reshape(n, -1)
    if code == SCHEME_INT8:
        return blocks[:, 2:].contiguous().view(D.int8).reshape(n, in_features), scales, None
    return blocks[:, 4:].contiguous().reshape(n, in_features // 2), scales, _half_at(blocks, 2).reshape(n, -1)


def to_gguf_blocks(scheme, qweight, scales, mins):
    """The GGUF block bytes (uint8 tensor, flat) of packed parts: from_gguf_blocks' inverse."""
    parts = [scales] if mins is None else [scales, mins]
    halves = [p.reshape(-1, 1).to(D.float16).view(D.int16).to(D.int32) for p in parts]
    head = cat([cat([h.bitwise_and(255), h.bitwise_right_shift(8).bitwise_and(255)], 1) for h in halves], 1)
    body = qweight.view(D.uint8) if qweight._dtype is D.int8 else qweight
    body = body.reshape(head._shape[0], -1)
    return cat([head.to(D.uint8), body], 1).reshape(-1)


__all__ = ["SCHEMES", "check_scheme", "quantize", "from_gguf_blocks", "to_gguf_blocks"]
