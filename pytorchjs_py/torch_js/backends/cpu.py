"""The CPU backend: torch_js's primitives on the wasm_ext kernel library (native or wasm32, through ctypes).

Every method takes tensors that the ops layer has already checked: dtypes promoted, shapes broadcast (passed
here as stride tuples with 0 for broadcast dims), output allocated. One kernel call per primitive.
float16/bfloat16 arithmetic runs in float32 and rounds back, as PyTorch does on CPU.
"""
import ctypes
import struct

from .. import _dtype as D
from .._storage import CPU, Storage, device
from . import _native
from ._native import ARGS, BINARY_OPS, REDUCE_OPS, UNARY_OPS

_string_at = ctypes.string_at
_memmove = ctypes.memmove
_addressof = ctypes.addressof
_c_char = ctypes.c_char
_HALF = (D.float16, D.bfloat16)
_ARGS = memoryview(ARGS).cast("B")

_k_copy = _native.kernel("copy")
_k_fill = _native.kernel("fill")
_k_unary = _native.kernel("unary")
_k_binary = _native.kernel("binary")
_k_where = _native.kernel("where")
_k_reduce = _native.kernel("reduce")
_k_softmax = _native.kernel("softmax")
_k_cumulative = _native.kernel("cumulative")
_k_gemm = _native.kernel("gemm")
_k_index_offsets = _native.kernel("index_offsets")
_k_take = _native.kernel("take")
_k_put = _native.kernel("put")


def _fmt(n_int, n_float=0):
    return struct.Struct("<" + "q" * n_int + "d" * n_float)


# struct formats by ndim, built once
_COPY_FMT = [_fmt(5 + 3 * n) for n in range(17)]
_FILL_FMT = [struct.Struct("<" + "q" * (3 + 2 * n) + "dq") for n in range(17)]
_UNARY_FMT = [_fmt(5 + 3 * n, 3) for n in range(17)]
_BINARY_FMT = [_fmt(6 + 4 * n, 1) for n in range(17)]
_WHERE_FMT = [_fmt(6 + 5 * n) for n in range(17)]
_TAKE_FMT = [_fmt(5 + 4 * n) for n in range(17)]
_PUT_FMT = [_fmt(6 + 4 * n) for n in range(17)]
_OFFS_FMT = [_fmt(3 + 3 * n + 3) for n in range(17)]
_REDUCE_FMT = [[_fmt(8 + 3 * n - r) for r in range(n + 1)] for n in range(17)]
_GEMM_FMT = _fmt(14)
_SOFTMAX_FMT = _fmt(6)
_CUMUL_FMT = _fmt(7)


def _check(rc, what):
    if rc == 0:
        return
    if rc == _native.TJS_ERR_ZERO_DIV:
        raise RuntimeError("ZeroDivisionError")
    if rc == _native.TJS_ERR_INDEX:
        idx, size = _native.ERR[0], _native.ERR[1]
        raise IndexError(f"index {idx} is out of bounds for dimension with size {size}")
    if rc == _native.TJS_ERR_DTYPE:
        raise RuntimeError(f"torch_js: {what} has no CPU kernel for this dtype")
    raise RuntimeError(f"torch_js: {what} failed (kernel error {rc})")


def _ptr(t):
    return t._storage.ptr + t._offset * t._dtype.itemsize


class CPUBackend:
    name = "cpu"
    device = CPU
    wide_float = D.float64   # what ops widen to for exact-ish comparisons (searchsorted keys, integer isclose)

    # ---- memory -------------------------------------------------------------------------------------------
    def alloc(self, nbytes):
        try:
            buf = (_c_char * (nbytes or 1))()
        except (MemoryError, OverflowError, ValueError):
            raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes. "
                               "Error code 12 (Cannot allocate memory)") from None
        return Storage(nbytes, CPU, self, buf, _addressof(buf))

    def from_bytes(self, data):
        s = self.alloc(len(data))
        if data:
            _memmove(s.ptr, data, len(data))
        return s

    def read_bytes(self, storage, byte_offset, nbytes):
        return _string_at(storage.ptr + byte_offset, nbytes)

    def memoryview(self, storage):
        return memoryview(storage.buf).cast("B")

    # ---- elementwise ---------------------------------------------------------------------------------------
    def copy(self, out, x, x_strides=None):
        """out[...] = x cast to out's dtype; x_strides broadcasts x to out's shape."""
        nd = len(out._shape)
        _COPY_FMT[nd].pack_into(_ARGS, 0, out._dtype.code, x._dtype.code, nd, _ptr(out), _ptr(x), *out._shape, *out._stride,
             *(x._stride if x_strides is None else x_strides))
        _check(_k_copy(), "copy")

    def fill(self, out, value):
        nd = len(out._shape)
        d = out._dtype
        if d.is_floating_point:
            fv, iv = float(value), 0
        else:
            iv = int(value) if not isinstance(value, float) or value == value else 0
            if d is D.bool_:
                iv = 1 if value else 0
            fv = 0.0
        _FILL_FMT[nd].pack_into(_ARGS, 0, d.code, nd, _ptr(out), *out._shape, *out._stride, fv, iv)
        _check(_k_fill(), "fill")

    def unary(self, op, out, x, p0=0.0, p1=0.0, p2=0.0):
        if x._dtype in _HALF:
            return self._via_float32(lambda o, a: self.unary(op, o, a, p0, p1, p2), out, (x,))
        nd = len(out._shape)
        _UNARY_FMT[nd].pack_into(_ARGS, 0, UNARY_OPS[op], x._dtype.code, nd,
                                  out._storage.ptr + out._offset * out._dtype.itemsize,
                                  x._storage.ptr + x._offset * x._dtype.itemsize, *out._shape, *out._stride,
                                  *x._stride, p0, p1, p2)
        rc = _k_unary()
        if rc:
            _check(rc, op)

    def binary(self, op, out, a, a_strides, b, b_strides, alpha=1.0):
        if a._dtype in _HALF or b._dtype in _HALF:
            return self._via_float32(lambda o, x, y: self.binary(op, o, x, a_strides, y, b_strides, alpha),
                                     out, (a, b), keep_strides=True)
        nd = len(out._shape)
        ad = a._dtype
        # pointers inlined: this is the hottest call in eager code
        _BINARY_FMT[nd].pack_into(_ARGS, 0, BINARY_OPS[op], ad.code, nd, out._storage.ptr + out._offset * out._dtype.itemsize,
                                  a._storage.ptr + a._offset * ad.itemsize, b._storage.ptr + b._offset * ad.itemsize,
                                  *out._shape, *out._stride, *a_strides, *b_strides, alpha)
        rc = _k_binary()
        if rc:
            _check(rc, op)

    def where(self, out, cond, c_strides, a, a_strides, b, b_strides):
        nd = len(out._shape)
        _WHERE_FMT[nd].pack_into(_ARGS, 0, out._dtype.code, nd, _ptr(out), _ptr(cond), _ptr(a), _ptr(b), *out._shape,
             *out._stride, *c_strides, *a_strides, *b_strides)
        _check(_k_where(), "where")

    def _via_float32(self, run, out, inputs, keep_strides=False):
        """float16/bfloat16: compute in float32 and round the result once, as PyTorch's CPU kernels do."""
        from .._tensor import _empty_strided
        ups = []
        for x in inputs:
            if x._dtype in _HALF:
                u = _empty_strided(x._shape, x._stride if keep_strides else None, D.float32, CPU, like=x)
                self.copy(u, x, x._stride)
                ups.append(u)
            else:
                ups.append(x)
        tmp_dtype = D.float32 if out._dtype in _HALF else out._dtype
        tmp = _empty_strided(out._shape, None, tmp_dtype, CPU)
        run(tmp, *ups)
        if tmp is not out:
            self.copy(out, tmp, tmp._stride)

    # ---- reductions ----------------------------------------------------------------------------------------
    def reduce(self, op, out, x, nred, out2=None):
        """Reduce x's last `nred` dims into out (shape: x's leading dims)."""
        if x._dtype in _HALF:
            return self._via_float32(lambda o, a: self.reduce(op, o, a, nred, out2), out, (x,), keep_strides=True)
        nd = len(x._shape)
        _REDUCE_FMT[nd][nred].pack_into(_ARGS, 0, REDUCE_OPS[op], x._dtype.code, out._dtype.code, nd, nred, _ptr(out),
             _ptr(out2) if out2 is not None else 0, _ptr(x), *x._shape, *x._stride, *out._stride)
        _check(_k_reduce(), op)

    def softmax(self, out, x, log):
        """Row-wise (log-)softmax over the last dim of contiguous x into contiguous out."""
        n = x._shape[-1] if x._shape else 1
        outer = (x.numel() // n) if n else 0
        _SOFTMAX_FMT.pack_into(_ARGS, 0, 1 if log else 0, x._dtype.code, outer, n, _ptr(out), _ptr(x))
        _check(_k_softmax(), "softmax")

    def cumulative(self, op, out, x, outer, n, inner):
        _CUMUL_FMT.pack_into(_ARGS, 0, 0 if op == "sum" else 1, x._dtype.code, outer, n, inner, _ptr(out), _ptr(x))
        _check(_k_cumulative(), "cum" + op)

    # ---- matmul --------------------------------------------------------------------------------------------
    def gemm(self, out, a, b, batch, m, n, k, a_strides, b_strides):
        """out (contiguous batch×m×n) = a @ b with a, b given by (batch, row, col) strides."""
        isz = a._dtype.itemsize
        _GEMM_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, k, out._storage.ptr + out._offset * isz,
                            a._storage.ptr + a._offset * isz, b._storage.ptr + b._offset * isz, *a_strides, *b_strides)
        rc = _k_gemm()
        if rc:
            _check(rc, "matmul")

    # ---- indexing ------------------------------------------------------------------------------------------
    def index_offsets(self, offs, idx, idx_strides, dim_size, dim_stride, accumulate):
        nd = len(offs._shape)
        _OFFS_FMT[nd].pack_into(_ARGS, 0, nd, _ptr(offs), _ptr(idx), *offs._shape, *offs._stride, *idx_strides, dim_size,
             dim_stride, 1 if accumulate else 0)
        _check(_k_index_offsets(), "index")

    def take(self, out, src, offs, src_strides, offs_strides):
        nd = len(out._shape)
        _TAKE_FMT[nd].pack_into(_ARGS, 0, out._dtype.code, nd, _ptr(out), _ptr(src), _ptr(offs), *out._shape, *out._stride,
             *src_strides, *offs_strides)
        _check(_k_take(), "index")

    def put(self, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate):
        nd = len(shape)
        _PUT_FMT[nd].pack_into(_ARGS, 0, dst._dtype.code, 1 if accumulate else 0, nd, _ptr(dst), _ptr(val), _ptr(offs), *shape,
             *val_strides, *dst_strides, *offs_strides)
        _check(_k_put(), "index_put")


BACKEND = CPUBackend()
device._BACKENDS["cpu"] = BACKEND
