"""CPU sorting, selection and indexed scans (wasm_ext/sort.c).

Same conventions as elementwise.py: one struct precompiled from kernel_abi's layout, one kernel call.
"""
from ... import _dtype as D
from ..._tensor import _empty
from ..kernel_abi import SORT_OPS, struct_for
from . import library
from .library import ARGS_VIEW as _ARGS, check as _check, ptr as _ptr

_k_sort = library.kernel("sort")
_k_cumext = library.kernel("cumext")
_k_logcumsumexp = library.kernel("logcumsumexp")
_k_searchsorted = library.kernel("searchsorted")

_SORT_FMT = struct_for("sort")
_CUMEXT_FMT = struct_for("cumext")
_LCSE_FMT = struct_for("logcumsumexp")
_SEARCH_FMT = struct_for("searchsorted")


class CPUSorting:
    def sort_rows(self, op, values, indices, x, n, descending=False, sorted=True, k=0):
        outer = x.numel() // n if n else 0
        if not outer or not n:
            return
        scratch = self.alloc(32 * n)
        _SORT_FMT.pack_into(_ARGS, 0, x._dtype.code, outer, n, SORT_OPS[op], 1 if descending else 0,
                            1 if sorted else 0, k, _ptr(x), _ptr(values), _ptr(indices), scratch.ptr)
        _check(_k_sort(), op)

    def cumext(self, op, values, indices, x, outer, n, inner):
        _CUMEXT_FMT.pack_into(_ARGS, 0, x._dtype.code, outer, n, inner, 0 if op == "max" else 1, _ptr(x),
                              _ptr(values), _ptr(indices))
        _check(_k_cumext(), "cum" + op)

    def logcumsumexp(self, out, x, outer, n, inner):
        if x._dtype in (D.float16, D.bfloat16):
            xf = _empty(x._shape, D.float32, x._storage.device)
            self.copy(xf, x)
            of = _empty(x._shape, D.float32, x._storage.device)
            self.logcumsumexp(of, xf, outer, n, inner)
            self.copy(out, of)
            return
        _LCSE_FMT.pack_into(_ARGS, 0, x._dtype.code, outer, n, inner, _ptr(x), _ptr(out))
        _check(_k_logcumsumexp(), "logcumsumexp")

    def searchsorted(self, out, boundaries, values, rows, nb, nv, right, shared):
        _SEARCH_FMT.pack_into(_ARGS, 0, values._dtype.code, rows, nb, nv, 1 if right else 0, 0 if shared else nb,
                              _ptr(boundaries), _ptr(values), _ptr(out))
        _check(_k_searchsorted(), "searchsorted")
