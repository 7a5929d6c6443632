"""CPU memory and elementwise primitives (wasm_ext/elementwise.c): alloc, copy, fill, unary, binary, where.

Each primitive packs the argument block with one struct precompiled per ndim from kernel_abi's layout and makes
one zero-argument kernel call. A call of more than HOT_DIMS dims, or of more than library.PIECE elements (counted
only when the output's storage is over _BIG bytes), goes through library.run_strided instead (coalesced to fit the kernels' MAX_DIMS, split into pieces of bounded
work so that a KeyboardInterrupt lands; the same bits either way). float16/bfloat16 arithmetic runs in float32
and rounds back, as PyTorch does on CPU. Complex tensors move through their float views (../complex_data.py).
"""
import ctypes

from ... import _dtype as D
from ..._storage import CPU, Storage
from ..._tensor import _empty_strided, numel_of
from .. import complex_data
from ..kernel_abi import HOT_DIMS as _HOT, structs_by_ndim
from . import library, wasm_threads
from .library import (ARGS_VIEW as _ARGS, BINARY_OPS, KERNEL_LOCK, UNARY_OPS, check as _check, ptr as _ptr,
                      run_strided)

_IN_PYODIDE = library.IN_PYODIDE
_BIG = library.BIG   # module global: the hot paths compare with it (tests/test_limits.py lowers it)

_string_at = ctypes.string_at
_memmove = ctypes.memmove
_addressof = ctypes.addressof
_c_char = ctypes.c_char
_HALF = (D.float16, D.bfloat16)

_k_copy = library.kernel("copy")
_k_fill = library.kernel("fill")
_k_unary = library.kernel("unary")
_k_binary = library.kernel("binary")
_k_where = library.kernel("where")

_COPY_FMT = structs_by_ndim("copy")
_FILL_FMT = structs_by_ndim("fill")
_UNARY_FMT = structs_by_ndim("unary")
_BINARY_FMT = structs_by_ndim("binary")
_WHERE_FMT = structs_by_ndim("where")


class CPUMemory:
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


class CPUElementwise:
    def copy(self, out, x, x_strides=None):
        if out._dtype.is_complex or x._dtype.is_complex:
            return complex_data.copy(self, out, x, x_strides)
        nd = len(out._shape)
        if nd > _HOT or (out._storage.nbytes > _BIG and numel_of(out._shape) > library.PIECE):
            run_strided("copy", "copy", (out._dtype.code, x._dtype.code), out._shape,
                        ((_ptr(out), out._dtype.itemsize, out._stride),
                         (_ptr(x), x._dtype.itemsize, x._stride if x_strides is None else x_strides)))
            return
        with KERNEL_LOCK:
            _COPY_FMT[nd].pack_into(_ARGS, 0, out._dtype.code, x._dtype.code, nd, _ptr(out), _ptr(x), *out._shape,
                                    *out._stride, *(x._stride if x_strides is None else x_strides))
            _check(_k_copy(), "copy")

    def fill(self, out, value):
        nd = len(out._shape)
        d = out._dtype
        if d.is_complex:
            return complex_data.fill(self, out, value)
        if d.is_floating_point:
            fv, iv = float(value), 0
        else:
            iv = int(value) if not isinstance(value, float) or value == value else 0
            if d is D.bool_:
                iv = 1 if value else 0
            fv = 0.0
        if nd > _HOT or (out._storage.nbytes > _BIG and numel_of(out._shape) > library.PIECE):
            run_strided("fill", "fill", (d.code,), out._shape, ((_ptr(out), d.itemsize, out._stride),), (fv, iv))
            return
        with KERNEL_LOCK:
            _FILL_FMT[nd].pack_into(_ARGS, 0, d.code, nd, _ptr(out), *out._shape, *out._stride, fv, iv)
            _check(_k_fill(), "fill")

    def unary(self, op, out, x, p0=0.0, p1=0.0, p2=0.0):
        if x._dtype in _HALF:
            return self._via_float32(lambda o, a: self.unary(op, o, a, p0, p1, p2), out, (x,))
        if _IN_PYODIDE and wasm_threads.unary(op, out, x, p0, p1, p2):
            return   # threads in Pyodide: a large float32 map on the worker pool
        nd = len(out._shape)
        if nd > _HOT or (out._storage.nbytes > _BIG and numel_of(out._shape) > library.PIECE):
            run_strided("unary", op, (UNARY_OPS[op], x._dtype.code), out._shape,
                        ((_ptr(out), out._dtype.itemsize, out._stride), (_ptr(x), x._dtype.itemsize, x._stride)),
                        (p0, p1, p2))
            return
        with KERNEL_LOCK:
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
        if nd > _HOT or (out._storage.nbytes > _BIG and numel_of(out._shape) > library.PIECE):
            run_strided("binary", op, (BINARY_OPS[op], ad.code), out._shape,
                        ((_ptr(out), out._dtype.itemsize, out._stride), (_ptr(a), ad.itemsize, a_strides),
                         (_ptr(b), ad.itemsize, b_strides)), (alpha,))
            return
        # pointers inlined: this is the hottest call in eager code
        with KERNEL_LOCK:
            _BINARY_FMT[nd].pack_into(_ARGS, 0, BINARY_OPS[op], ad.code, nd,
                                      out._storage.ptr + out._offset * out._dtype.itemsize,
                                      a._storage.ptr + a._offset * ad.itemsize,
                                      b._storage.ptr + b._offset * ad.itemsize,
                                      *out._shape, *out._stride, *a_strides, *b_strides, alpha)
            rc = _k_binary()
            if rc:
                _check(rc, op)

    def where(self, out, cond, c_strides, a, a_strides, b, b_strides):
        if out._dtype.is_complex:
            return complex_data.where(self, out, cond, c_strides, a, a_strides, b, b_strides)
        nd = len(out._shape)
        if nd > _HOT or (out._storage.nbytes > _BIG and numel_of(out._shape) > library.PIECE):
            isz = out._dtype.itemsize
            run_strided("where", "where", (out._dtype.code,), out._shape,
                        ((_ptr(out), isz, out._stride), (_ptr(cond), 1, c_strides), (_ptr(a), isz, a_strides),
                         (_ptr(b), isz, b_strides)))
            return
        with KERNEL_LOCK:
            _WHERE_FMT[nd].pack_into(_ARGS, 0, out._dtype.code, nd, _ptr(out), _ptr(cond), _ptr(a), _ptr(b),
                                     *out._shape, *out._stride, *c_strides, *a_strides, *b_strides)
            _check(_k_where(), "where")

    def _via_float32(self, run, out, inputs, keep_strides=False):
        """float16/bfloat16: compute in float32 and round the result once, as PyTorch's CPU kernels do."""
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
