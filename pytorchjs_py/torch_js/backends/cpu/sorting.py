"""CPU sorting, selection and indexed scans (wasm_ext/sort.c).

Each method makes one call of its `library.Kernel`, which packs the layout kernel_abi gives and runs the kernel.
"""
from ... import _dtype as D
from ..._tensor import _empty
from ..kernel_abi import SORT_OPS
from .library import Kernel, ptr as _ptr

_SORT, _CUMEXT, _LOGCUMSUMEXP, _SEARCHSORTED = (Kernel(k) for k in ("sort", "cumext", "logcumsumexp", "searchsorted"))


class CPUSorting:
    def sort_rows(self, op, values, indices, x, n, descending=False, sorted=True, k=0):
        outer = x.numel() // n if n else 0
        if not outer or not n:
            return
        scratch = self.alloc(32 * n)
        _SORT(op, x._dtype.code, outer, n, SORT_OPS[op], 1 if descending else 0, 1 if sorted else 0, k, _ptr(x),
              _ptr(values), _ptr(indices), scratch.ptr)

    def cumext(self, op, values, indices, x, outer, n, inner):
        _CUMEXT("cum" + op, x._dtype.code, outer, n, inner, 0 if op == "max" else 1, _ptr(x), _ptr(values),
                _ptr(indices))

    def logcumsumexp(self, out, x, outer, n, inner):
        if x._dtype in (D.float16, D.bfloat16):
            xf = _empty(x._shape, D.float32, x._storage.device)
            self.copy(xf, x)
            of = _empty(x._shape, D.float32, x._storage.device)
            self.logcumsumexp(of, xf, outer, n, inner)
            self.copy(out, of)
            return
        _LOGCUMSUMEXP("logcumsumexp", x._dtype.code, outer, n, inner, _ptr(x), _ptr(out))

    def searchsorted(self, out, boundaries, values, rows, nb, nv, right, shared):
        _SEARCHSORTED("searchsorted", values._dtype.code, rows, nb, nv, 1 if right else 0, 0 if shared else nb,
                      _ptr(boundaries), _ptr(values), _ptr(out))
