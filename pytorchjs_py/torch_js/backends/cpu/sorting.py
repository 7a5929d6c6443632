"""CPU sorting, selection and indexed scans (wasm_ext/sort.c).

Each method calls its `library.Kernel`, which packs the layout kernel_abi gives and runs the kernel: once, or
once per range of rows when the work is large (library.row_ranges; rows are independent, so the same bits).
"""
from ... import _dtype as D
from ..._tensor import _empty
from ..kernel_abi import SORT_OPS
from .library import Kernel, ptr as _ptr, row_ranges

_SORT, _CUMEXT, _LOGCUMSUMEXP, _SEARCHSORTED = (Kernel(k) for k in ("sort", "cumext", "logcumsumexp", "searchsorted"))


class CPUSorting:
    def sort_rows(self, op, values, indices, x, n, descending=False, sorted=True, k=0):
        outer = x.numel() // n if n else 0
        if not outer or not n:
            return
        scratch = self.alloc(32 * n)
        kout = n if op in ("stable", "sort") else k if op == "topk" else 1
        xs, vs = x._dtype.itemsize, values._dtype.itemsize
        xp, vp, ip = _ptr(x), _ptr(values), _ptr(indices)
        for r0, r1 in row_ranges(outer, 8 * n * n.bit_length()):
            _SORT(op, x._dtype.code, r1 - r0, n, SORT_OPS[op], 1 if descending else 0, 1 if sorted else 0, k,
                  xp + r0 * n * xs, vp + r0 * kout * vs, ip + r0 * kout * 8, scratch.ptr)

    def cumext(self, op, values, indices, x, outer, n, inner):
        xs, vs, plane = x._dtype.itemsize, values._dtype.itemsize, n * inner
        xp, vp, ip = _ptr(x), _ptr(values), _ptr(indices)
        for r0, r1 in row_ranges(outer, plane):
            _CUMEXT("cum" + op, x._dtype.code, r1 - r0, n, inner, 0 if op == "max" else 1, xp + r0 * plane * xs,
                    vp + r0 * plane * vs, ip + r0 * plane * 8)

    def logcumsumexp(self, out, x, outer, n, inner):
        if x._dtype in (D.float16, D.bfloat16):
            xf = _empty(x._shape, D.float32, x._storage.device)
            self.copy(xf, x)
            of = _empty(x._shape, D.float32, x._storage.device)
            self.logcumsumexp(of, xf, outer, n, inner)
            self.copy(out, of)
            return
        isz, plane = x._dtype.itemsize, n * inner
        xp, op = _ptr(x), _ptr(out)
        for r0, r1 in row_ranges(outer, 4 * plane):
            _LOGCUMSUMEXP("logcumsumexp", x._dtype.code, r1 - r0, n, inner, xp + r0 * plane * isz,
                          op + r0 * plane * isz)

    def searchsorted(self, out, boundaries, values, rows, nb, nv, right, shared):
        isz = values._dtype.itemsize
        bp, vp, op = _ptr(boundaries), _ptr(values), _ptr(out)
        for r0, r1 in row_ranges(rows, nv * max(1, nb.bit_length())):
            _SEARCHSORTED("searchsorted", values._dtype.code, r1 - r0, nb, nv, 1 if right else 0,
                          0 if shared else nb, bp if shared else bp + r0 * nb * isz, vp + r0 * nv * isz,
                          op + r0 * nv * 8)
