"""CPU bindings for the nn kernels (wasm_ext/conv.c, wasm_ext/pool.c), added as CPUBackend methods.

Same conventions as cpu.py: the ops layer has validated shapes and allocated outputs; each method packs the
argument block with one precompiled struct and makes one zero-argument kernel call. float16/bfloat16 go through
float32 (PyTorch's CPU kernels accumulate halves in float too).
"""
import struct

from .. import _dtype as D
from . import _native
from ._native import ARGS
from .cpu import CPUBackend, _check, _ptr

_ARGS = memoryview(ARGS).cast("B")
_HALF = (D.float16, D.bfloat16)

_k_im2col = _native.kernel("im2col")
_k_col2im = _native.kernel("col2im")
_k_pool2d = _native.kernel("pool2d")
_k_pool2d_backward = _native.kernel("pool2d_backward")

_IM2COL_FMT = struct.Struct("<" + "q" * 24)
_COL2IM_FMT = struct.Struct("<" + "q" * 20)
_POOL_FMT = struct.Struct("<" + "q" * 21)


def im2col(self, out, x, geom):
    """out[n, (c·KH+kh)·KW+kw, oh·OW+ow] = x[n, c, ih, iw] (0 in the padding). x: (N, C, H, W) and out:
    (N, C·KH·KW, OH·OW), both with any strides (out may be a permuted view of conv's (C·KH·KW, N, L) buffer).
    geom = (KH, KW, SH, SW, PH, PW, DH, DW, OH, OW)."""
    n, c, h, w = x._shape
    _IM2COL_FMT.pack_into(_ARGS, 0, x._dtype.code, n, c, h, w, *geom, _ptr(x), *x._stride, _ptr(out), *out._stride)
    _check(_k_im2col(), "im2col")


def col2im(self, out, cols, geom):
    """The adjoint of im2col: out (contiguous N, C, H, W) = Σ of the cols (N, C·KH·KW, L; any strides) entries
    that read each input position."""
    if out._dtype in _HALF:
        from .._tensor import _empty
        tmp = _empty(out._shape, D.float32, out._storage.device)
        self.col2im(tmp, cols.detach().to(D.float32), geom)
        self.copy(out, tmp, tmp._stride)
        return
    n, c, h, w = out._shape
    _COL2IM_FMT.pack_into(_ARGS, 0, out._dtype.code, n, c, h, w, *geom, _ptr(cols), *cols._stride, _ptr(out))
    _check(_k_col2im(), "col2im")


def pool2d(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
    """x contiguous (planes, H, W) -> out contiguous (planes, OH, OW); idx int64 like out (max) or None.
    geom = (KH, KW, SH, SW, PH, PW, DH, DW)."""
    planes, h, w = x._shape
    oh, ow = out._shape[1], out._shape[2]
    _POOL_FMT.pack_into(_ARGS, 0, mode, 1 if adaptive else 0, x._dtype.code, planes, h, w, oh, ow, *geom,
                        1 if count_include_pad else 0, divisor_override or 0, _ptr(x), _ptr(out),
                        _ptr(idx) if idx is not None else 0)
    _check(_k_pool2d(), "pool2d")


def pool2d_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                    divisor_override=0):
    """grad_in contiguous (planes, H, W) = adjoint of pool2d applied to contiguous grad_out (planes, OH, OW)."""
    planes, h, w = grad_in._shape
    oh, ow = grad_out._shape[1], grad_out._shape[2]
    _POOL_FMT.pack_into(_ARGS, 0, mode, 1 if adaptive else 0, grad_in._dtype.code, planes, h, w, oh, ow, *geom,
                        1 if count_include_pad else 0, divisor_override or 0, _ptr(grad_in), _ptr(grad_out),
                        _ptr(idx) if idx is not None else 0)
    _check(_k_pool2d_backward(), "pool2d_backward")


CPUBackend.im2col = im2col
CPUBackend.col2im = col2im
CPUBackend.pool2d = pool2d
CPUBackend.pool2d_backward = pool2d_backward
