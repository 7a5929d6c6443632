"""CPU convolution columns and pooling (wasm_ext/conv.c, pool.c).

Same conventions as elementwise.py: one struct precompiled from kernel_abi's layout, one kernel call.
float16/bfloat16 col2im goes through float32 (PyTorch's CPU kernels accumulate halves in float too).
"""
from ... import _dtype as D
from ..._tensor import _empty
from ..kernel_abi import struct_for
from . import library
from .library import ARGS_VIEW as _ARGS, check as _check, ptr as _ptr

_HALF = (D.float16, D.bfloat16)

_k_im2col = library.kernel("im2col")
_k_col2im = library.kernel("col2im")
_k_pool2d = library.kernel("pool2d")
_k_pool2d_backward = library.kernel("pool2d_backward")

_IM2COL_FMT = struct_for("im2col")
_COL2IM_FMT = struct_for("col2im")
_POOL_FMT = struct_for("pool2d")
_POOL_BWD_FMT = struct_for("pool2d_backward")


class CPUNN:
    def im2col(self, out, x, geom):
        n, c, h, w = x._shape
        _IM2COL_FMT.pack_into(_ARGS, 0, x._dtype.code, n, c, h, w, *geom, _ptr(x), *x._stride, _ptr(out),
                              *out._stride)
        _check(_k_im2col(), "im2col")

    def col2im(self, out, cols, geom):
        if out._dtype in _HALF:
            tmp = _empty(out._shape, D.float32, out._storage.device)
            self.col2im(tmp, cols.detach().to(D.float32), geom)
            self.copy(out, tmp, tmp._stride)
            return
        n, c, h, w = out._shape
        _COL2IM_FMT.pack_into(_ARGS, 0, out._dtype.code, n, c, h, w, *geom, _ptr(cols), *cols._stride, _ptr(out))
        _check(_k_col2im(), "col2im")

    def pool2d(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
        planes, h, w = x._shape
        oh, ow = out._shape[1], out._shape[2]
        _POOL_FMT.pack_into(_ARGS, 0, mode, 1 if adaptive else 0, x._dtype.code, planes, h, w, oh, ow, *geom,
                            1 if count_include_pad else 0, divisor_override or 0, _ptr(x), _ptr(out),
                            _ptr(idx) if idx is not None else 0)
        _check(_k_pool2d(), "pool2d")

    def pool2d_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                        divisor_override=0):
        planes, h, w = grad_in._shape
        oh, ow = grad_out._shape[1], grad_out._shape[2]
        _POOL_BWD_FMT.pack_into(_ARGS, 0, mode, 1 if adaptive else 0, grad_in._dtype.code, planes, h, w, oh, ow,
                                *geom, 1 if count_include_pad else 0, divisor_override or 0, _ptr(grad_in),
                                _ptr(grad_out), _ptr(idx) if idx is not None else 0)
        _check(_k_pool2d_backward(), "pool2d_backward")
