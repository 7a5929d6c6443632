"""CPU convolution columns and pooling (wasm_ext/conv.c, pool.c).

Each method makes one call of its `library.Kernel`, which packs the layout kernel_abi gives and runs the kernel.
float16/bfloat16 col2im goes through float32 (PyTorch's CPU kernels accumulate halves in float too).
"""
from ... import _dtype as D
from ..._tensor import _empty
from .library import Kernel, ptr as _ptr

_HALF = (D.float16, D.bfloat16)

_IM2COL, _COL2IM, _POOL2D, _POOL2D_BACKWARD = (Kernel(k) for k in ("im2col", "col2im", "pool2d", "pool2d_backward"))


class CPUNN:
    def im2col(self, out, x, geom):
        n, c, h, w = x._shape
        _IM2COL("im2col", x._dtype.code, n, c, h, w, *geom, _ptr(x), *x._stride, _ptr(out), *out._stride)

    def col2im(self, out, cols, geom):
        if out._dtype in _HALF:
            tmp = _empty(out._shape, D.float32, out._storage.device)
            self.col2im(tmp, cols.detach().to(D.float32), geom)
            self.copy(out, tmp, tmp._stride)
            return
        n, c, h, w = out._shape
        _COL2IM("col2im", out._dtype.code, n, c, h, w, *geom, _ptr(cols), *cols._stride, _ptr(out))

    def pool2d(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
        planes, h, w = x._shape
        oh, ow = out._shape[1], out._shape[2]
        _POOL2D("pool2d", mode, 1 if adaptive else 0, x._dtype.code, planes, h, w, oh, ow, *geom,
                1 if count_include_pad else 0, divisor_override or 0, _ptr(x), _ptr(out),
                _ptr(idx) if idx is not None else 0)

    def pool2d_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                        divisor_override=0):
        planes, h, w = grad_in._shape
        oh, ow = grad_out._shape[1], grad_out._shape[2]
        _POOL2D_BACKWARD("pool2d_backward", mode, 1 if adaptive else 0, grad_in._dtype.code, planes, h, w, oh, ow,
                         *geom, 1 if count_include_pad else 0, divisor_override or 0, _ptr(grad_in), _ptr(grad_out),
                         _ptr(idx) if idx is not None else 0)
