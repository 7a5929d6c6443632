"""CPU bindings for the sorting kernels (wasm_ext/sort.c), added as CPUBackend methods.

Same conventions as cpu.py: the ops layer has validated arguments, made inputs contiguous and allocated the
outputs; each method packs the argument block with one precompiled struct and makes one zero-argument call.
"""
import struct

from .. import _dtype as D
from . import _native
from ._native import ARGS
from .cpu import CPUBackend, _check, _ptr

_ARGS = memoryview(ARGS).cast("B")

_k_sort = _native.kernel("sort")
_k_cumext = _native.kernel("cumext")
_k_logcumsumexp = _native.kernel("logcumsumexp")
_k_searchsorted = _native.kernel("searchsorted")

_SORT_FMT = struct.Struct("<" + "q" * 11)
_CUMEXT_FMT = struct.Struct("<" + "q" * 8)
_LCSE_FMT = struct.Struct("<" + "q" * 6)
_SEARCH_FMT = struct.Struct("<" + "q" * 9)

SORT_OPS = {"stable": 0, "sort": 1, "topk": 2, "kthvalue": 3, "mode": 4}


def sort_rows(self, op, values, indices, x, n, descending=False, sorted=True, k=0):
    """Rows of contiguous x ([outer, n]) -> contiguous values/indices ([outer, kout]): kout = n for
    "stable"/"sort", k for "topk", 1 for "kthvalue"/"mode" (k is 1-based there)."""
    outer = x.numel() // n if n else 0
    if not outer or not n:
        return
    scratch = self.alloc(32 * n)
    _SORT_FMT.pack_into(_ARGS, 0, x._dtype.code, outer, n, SORT_OPS[op], 1 if descending else 0,
                        1 if sorted else 0, k, _ptr(x), _ptr(values), _ptr(indices), scratch.ptr)
    _check(_k_sort(), op)


def cumext(self, op, values, indices, x, outer, n, inner):
    """cummax (op "max") / cummin ("min") of contiguous x viewed as [outer, n, inner] over n."""
    _CUMEXT_FMT.pack_into(_ARGS, 0, x._dtype.code, outer, n, inner, 0 if op == "max" else 1, _ptr(x),
                          _ptr(values), _ptr(indices))
    _check(_k_cumext(), "cum" + op)


def logcumsumexp(self, out, x, outer, n, inner):
    if x._dtype in (D.float16, D.bfloat16):
        from .._tensor import _empty
        xf = _empty(x._shape, D.float32, x._storage.device)
        self.copy(xf, x)
        of = _empty(x._shape, D.float32, x._storage.device)
        self.logcumsumexp(of, xf, outer, n, inner)
        self.copy(out, of)
        return
    _LCSE_FMT.pack_into(_ARGS, 0, x._dtype.code, outer, n, inner, _ptr(x), _ptr(out))
    _check(_k_logcumsumexp(), "logcumsumexp")


def searchsorted(self, out, boundaries, values, rows, nb, nv, right, shared):
    """boundaries/values contiguous float64 or int64 (same dtype); out int64 [rows, nv]."""
    _SEARCH_FMT.pack_into(_ARGS, 0, values._dtype.code, rows, nb, nv, 1 if right else 0, 0 if shared else nb,
                          _ptr(boundaries), _ptr(values), _ptr(out))
    _check(_k_searchsorted(), "searchsorted")


CPUBackend.sort_rows = sort_rows
CPUBackend.cumext = cumext
CPUBackend.logcumsumexp = logcumsumexp
CPUBackend.searchsorted = searchsorted
