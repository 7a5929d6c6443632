"""CPU convolution columns and pooling (wasm_ext/conv.c, pool.c).

Each method calls its `library.Kernel`, which packs the layout kernel_abi gives and runs the kernel: once, or per
range of images / planes when the work is large (library.row_ranges; each image and plane is computed on its
own, so the same bits). float16/bfloat16 col2im goes through float32 (PyTorch's CPU kernels accumulate halves in
float too).
"""
from ... import _dtype as D
from ..._tensor import _empty
from .library import Kernel, ptr as _ptr, row_ranges

_HALF = (D.float16, D.bfloat16)

_IM2COL, _COL2IM, _POOL2D, _POOL2D_BACKWARD = (Kernel(k) for k in ("im2col", "col2im", "pool2d", "pool2d_backward"))


class CPUNN:
    def im2col(self, out, x, geom):
        n, c, h, w = x._shape
        isz = x._dtype.itemsize
        xp, op = _ptr(x), _ptr(out)
        for n0, n1 in row_ranges(n, c * geom[0] * geom[1] * geom[8] * geom[9]):
            _IM2COL("im2col", x._dtype.code, n1 - n0, c, h, w, *geom, xp + n0 * x._stride[0] * isz, *x._stride,
                    op + n0 * out._stride[0] * isz, *out._stride)

    def col2im(self, out, cols, geom):
        if out._dtype in _HALF:
            tmp = _empty(out._shape, D.float32, out._storage.device)
            self.col2im(tmp, cols.detach().to(D.float32), geom)
            self.copy(out, tmp, tmp._stride)
            return
        n, c, h, w = out._shape
        isz = out._dtype.itemsize
        cp, op = _ptr(cols), _ptr(out)
        for n0, n1 in row_ranges(n, c * h * w + c * geom[0] * geom[1] * geom[8] * geom[9]):
            _COL2IM("col2im", out._dtype.code, n1 - n0, c, h, w, *geom, cp + n0 * cols._stride[0] * isz,
                    *cols._stride, op + n0 * c * h * w * isz)

    def pool2d(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
        planes, h, w = x._shape
        oh, ow = out._shape[1], out._shape[2]
        isz = x._dtype.itemsize
        xp, op, ip = _ptr(x), _ptr(out), (_ptr(idx) if idx is not None else 0)
        for p0, p1 in row_ranges(planes, _pool_work(h, w, oh, ow, adaptive, geom)):
            _POOL2D("pool2d", mode, 1 if adaptive else 0, x._dtype.code, p1 - p0, h, w, oh, ow, *geom,
                    1 if count_include_pad else 0, divisor_override or 0, xp + p0 * h * w * isz,
                    op + p0 * oh * ow * isz, ip + p0 * oh * ow * 8 if ip else 0)

    def pool2d_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                        divisor_override=0):
        planes, h, w = grad_in._shape
        oh, ow = grad_out._shape[1], grad_out._shape[2]
        isz = grad_in._dtype.itemsize
        gi, go, ip = _ptr(grad_in), _ptr(grad_out), (_ptr(idx) if idx is not None else 0)
        for p0, p1 in row_ranges(planes, h * w + _pool_work(h, w, oh, ow, adaptive, geom)):
            _POOL2D_BACKWARD("pool2d_backward", mode, 1 if adaptive else 0, grad_in._dtype.code, p1 - p0, h, w, oh,
                             ow, *geom, 1 if count_include_pad else 0, divisor_override or 0, gi + p0 * h * w * isz,
                             go + p0 * oh * ow * isz, ip + p0 * oh * ow * 8 if ip else 0)


def _pool_work(h, w, oh, ow, adaptive, geom):
    """Steps to pool one plane: output pixels times window size (an adaptive window spans about h/oh + 1 rows)."""
    if adaptive:
        return oh * ow * (h // max(1, oh) + 2) * (w // max(1, ow) + 2)
    return oh * ow * geom[0] * geom[1]
