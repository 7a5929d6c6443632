"""CPU convolution columns and pooling over three spatial dims (wasm_ext/conv.c, pool.c).

Each method calls its `library.Kernel`, which packs the layout kernel_abi gives and runs the kernel: once, or per
range of images / planes when the work is large (library.row_ranges; each image and plane is computed on its
own, so the same bits). float16/bfloat16 col2im goes through float32 (PyTorch's CPU kernels accumulate halves in
float too).
"""
from ... import _dtype as D
from ..._tensor import _empty
from . import wasm_threads
from .library import Kernel, ptr as _ptr, row_ranges

_HALF = (D.float16, D.bfloat16)

_IM2COL, _COL2IM, _POOL, _POOL_BACKWARD = (Kernel(k) for k in ("im2col", "col2im", "pool", "pool_backward"))


def _volume(shape):
    v = 1
    for s in shape:
        v *= s
    return v


class CPUNN:
    def im2col(self, out, x, geom):
        n, c = x._shape[:2]
        if wasm_threads.im2col(out, x, (x._dtype.code, n, c, *x._shape[2:], *geom)):   # images shared out
            return
        isz = x._dtype.itemsize
        xp, op = _ptr(x), _ptr(out)
        for n0, n1 in row_ranges(n, c * _volume(geom[:3]) * _volume(geom[12:])):
            _IM2COL("im2col", x._dtype.code, n1 - n0, c, *x._shape[2:], *geom, xp + n0 * x._stride[0] * isz,
                    *x._stride, op + n0 * out._stride[0] * isz, *out._stride)

    def col2im(self, out, cols, geom):
        if out._dtype in _HALF:
            tmp = _empty(out._shape, D.float32, out._storage.device)
            self.col2im(tmp, cols.detach().to(D.float32), geom)
            self.copy(out, tmp, tmp._stride)
            return
        n, c = out._shape[:2]
        if wasm_threads.col2im(out, cols, (out._dtype.code, n, c, *out._shape[2:], *geom)):   # images shared out
            return
        isz = out._dtype.itemsize
        image = c * _volume(out._shape[2:])
        cp, op = _ptr(cols), _ptr(out)
        for n0, n1 in row_ranges(n, image + c * _volume(geom[:3]) * _volume(geom[12:])):
            _COL2IM("col2im", out._dtype.code, n1 - n0, c, *out._shape[2:], *geom, cp + n0 * cols._stride[0] * isz,
                    *cols._stride, op + n0 * image * isz)

    def pool(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
        planes = x._shape[0]
        isz = x._dtype.itemsize
        vin, vout = _volume(x._shape[1:]), _volume(out._shape[1:])
        head = (mode, 1 if adaptive else 0, x._dtype.code, planes, *x._shape[1:], *out._shape[1:], *geom,
                1 if count_include_pad else 0, divisor_override or 0)
        if wasm_threads.pool(out, x, idx, head):   # planes shared out over the threads in Pyodide
            return
        xp, op, ip = _ptr(x), _ptr(out), (_ptr(idx) if idx is not None else 0)
        for p0, p1 in row_ranges(planes, _pool_work(x._shape[1:], out._shape[1:], adaptive, geom)):
            _POOL("pool", *head[:3], p1 - p0, *head[4:], xp + p0 * vin * isz, op + p0 * vout * isz,
                  ip + p0 * vout * 8 if ip else 0)

    def pool_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                      divisor_override=0):
        planes = grad_in._shape[0]
        isz = grad_in._dtype.itemsize
        vin, vout = _volume(grad_in._shape[1:]), _volume(grad_out._shape[1:])
        gi, go, ip = _ptr(grad_in), _ptr(grad_out), (_ptr(idx) if idx is not None else 0)
        for p0, p1 in row_ranges(planes, vin + _pool_work(grad_in._shape[1:], grad_out._shape[1:], adaptive, geom)):
            _POOL_BACKWARD("pool_backward", mode, 1 if adaptive else 0, grad_in._dtype.code, p1 - p0,
                           *grad_in._shape[1:], *grad_out._shape[1:], *geom, 1 if count_include_pad else 0,
                           divisor_override or 0, gi + p0 * vin * isz, go + p0 * vout * isz,
                           ip + p0 * vout * 8 if ip else 0)


def _pool_work(in_sizes, out_sizes, adaptive, geom):
    """Steps to pool one plane: output voxels times window size (an adaptive window spans about i/o + 1 taps per
    dim)."""
    work = _volume(out_sizes)
    for k, (i, o) in enumerate(zip(in_sizes, out_sizes)):
        work *= i // max(1, o) + 2 if adaptive else geom[k]
    return work
