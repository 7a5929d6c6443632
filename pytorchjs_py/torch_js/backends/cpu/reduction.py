"""CPU reductions, scans and the matrix product (wasm_ext/reduce.c, gemm.c).

Same conventions as elementwise.py: one struct precompiled from kernel_abi's layout, one kernel call.
float16/bfloat16 reductions go through CPUElementwise._via_float32 (the mixins share one class).
"""
from ... import _dtype as D
from ..kernel_abi import MAX_DIMS, struct_for
from . import library
from .library import ARGS_VIEW as _ARGS, REDUCE_OPS, check as _check, ptr as _ptr

_HALF = (D.float16, D.bfloat16)

_k_reduce = library.kernel("reduce")
_k_softmax = library.kernel("softmax")
_k_cumulative = library.kernel("cumulative")
_k_gemm = library.kernel("gemm")

_REDUCE_FMT = [[struct_for("reduce", ndim=n, nred=r) for r in range(n + 1)] for n in range(MAX_DIMS + 1)]
_SOFTMAX_FMT = struct_for("softmax")
_CUMUL_FMT = struct_for("cumulative")
_GEMM_FMT = struct_for("gemm")


class CPUReductions:
    def reduce(self, op, out, x, nred, out2=None):
        if x._dtype in _HALF:
            return self._via_float32(lambda o, a: self.reduce(op, o, a, nred, out2), out, (x,), keep_strides=True)
        nd = len(x._shape)
        _REDUCE_FMT[nd][nred].pack_into(_ARGS, 0, REDUCE_OPS[op], x._dtype.code, out._dtype.code, nd, nred,
                                        _ptr(out), _ptr(out2) if out2 is not None else 0, _ptr(x), *x._shape,
                                        *x._stride, *out._stride)
        _check(_k_reduce(), op)

    def softmax(self, out, x, log):
        n = x._shape[-1] if x._shape else 1
        outer = (x.numel() // n) if n else 0
        _SOFTMAX_FMT.pack_into(_ARGS, 0, 1 if log else 0, x._dtype.code, outer, n, _ptr(out), _ptr(x))
        _check(_k_softmax(), "softmax")

    def cumulative(self, op, out, x, outer, n, inner):
        _CUMUL_FMT.pack_into(_ARGS, 0, 0 if op == "sum" else 1, x._dtype.code, outer, n, inner, _ptr(out), _ptr(x))
        _check(_k_cumulative(), "cum" + op)


class CPUGemm:
    def gemm(self, out, a, b, batch, m, n, k, a_strides, b_strides):
        isz = a._dtype.itemsize
        _GEMM_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, k, out._storage.ptr + out._offset * isz,
                            a._storage.ptr + a._offset * isz, b._storage.ptr + b._offset * isz, *a_strides, *b_strides)
        rc = _k_gemm()
        if rc:
            _check(rc, "matmul")
