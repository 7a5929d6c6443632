"""CPU indexing primitives (wasm_ext/index.c): element offsets from index tensors, gather (take), scatter (put).

Same conventions as elementwise.py: one struct precompiled per ndim from kernel_abi's layout, one kernel call;
high-rank or large calls go through library.run_strided (pieces in row-major order: scatters keep their write
order, an out-of-range index is the first one in that order).
"""
from ..._tensor import numel_of
from .. import complex_data
from ..kernel_abi import HOT_DIMS as _HOT, index_flags, structs_by_ndim
from . import library
from .library import ARGS_VIEW as _ARGS, KERNEL_LOCK, check as _check, ptr as _ptr, run_strided

_BIG = library.BIG   # bytes of an offsets tensor past which a call counts its elements (tests lower it)

_k_index_offsets = library.kernel("index_offsets")
_k_take = library.kernel("take")
_k_put = library.kernel("put")

_OFFS_FMT = structs_by_ndim("index_offsets")
_TAKE_FMT = structs_by_ndim("take")
_PUT_FMT = structs_by_ndim("put")


class CPUIndexing:
    def index_offsets(self, offs, idx, idx_strides, dim_size, dim_stride, accumulate, wrap_negative=True):
        flags = index_flags(accumulate, wrap_negative)
        nd = len(offs._shape)
        if nd > _HOT or (offs._storage.nbytes > _BIG and numel_of(offs._shape) > library.PIECE):
            run_strided("index_offsets", "index", (), offs._shape,
                        ((_ptr(offs), 8, offs._stride), (_ptr(idx), 8, idx_strides)),
                        (dim_size, dim_stride, flags))
            return
        with KERNEL_LOCK:
            _OFFS_FMT[nd].pack_into(_ARGS, 0, nd, _ptr(offs), _ptr(idx), *offs._shape, *offs._stride, *idx_strides,
                                    dim_size, dim_stride, flags)
            _check(_k_index_offsets(), "index")

    def take(self, out, src, offs, src_strides, offs_strides):
        if out._dtype.is_complex:
            return complex_data.take(self, out, src, offs, src_strides, offs_strides)
        nd = len(out._shape)
        s = src._storage   # its byte range goes with the call (checked in TJS_DEBUG builds)
        if nd > _HOT or (out._storage.nbytes > _BIG and numel_of(out._shape) > library.PIECE):
            isz = out._dtype.itemsize
            run_strided("take", "index", (out._dtype.code,), out._shape,
                        ((_ptr(out), isz, out._stride), (_ptr(src), isz, src_strides), (_ptr(offs), 8, offs_strides)),
                        (s.ptr, s.ptr + s.nbytes))
            return
        with KERNEL_LOCK:
            _TAKE_FMT[nd].pack_into(_ARGS, 0, out._dtype.code, nd, _ptr(out), _ptr(src), _ptr(offs), *out._shape,
                                    *out._stride, *src_strides, *offs_strides, s.ptr, s.ptr + s.nbytes)
            _check(_k_take(), "index")

    def put(self, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate):
        if dst._dtype.is_complex:
            return complex_data.put(self, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate)
        nd = len(shape)
        s = dst._storage
        if nd > _HOT or (max(offs._storage.nbytes, val._storage.nbytes, s.nbytes) > _BIG
                          and numel_of(shape) > library.PIECE):
            isz = dst._dtype.itemsize
            run_strided("put", "index_put", (dst._dtype.code, 1 if accumulate else 0), shape,
                        ((_ptr(val), isz, val_strides), (_ptr(dst), isz, dst_strides), (_ptr(offs), 8, offs_strides)),
                        (s.ptr, s.ptr + s.nbytes), ptr_order=(1, 0, 2))
            return
        with KERNEL_LOCK:
            _PUT_FMT[nd].pack_into(_ARGS, 0, dst._dtype.code, 1 if accumulate else 0, nd, _ptr(dst), _ptr(val),
                                   _ptr(offs), *shape, *val_strides, *dst_strides, *offs_strides, s.ptr,
                                   s.ptr + s.nbytes)
            _check(_k_put(), "index_put")
