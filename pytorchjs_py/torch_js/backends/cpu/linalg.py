"""CPU dense factorizations (wasm_ext/linalg.c).

The ops layer has made the matrices contiguous (batch, rows, cols) float32/float64 copies the kernel may
overwrite and allocated the outputs; each method packs one struct precompiled from kernel_abi's layout and
makes one kernel call. `info` arrays are int64, LAPACK's convention (0 = success, i > 0 = the 1-based
position where the factorization broke down).
"""
from . import library
from .library import Kernel, ptr as _ptr, row_ranges

_LU, _LU_SOLVE, _CHOLESKY, _GEQRF, _ORGQR, _TRSM, _SVD, _EIGH = (
    Kernel(k) for k in ("lu", "lu_solve", "cholesky", "geqrf", "orgqr", "trsm", "svd", "eigh"))


# Batches run in ranges of about library.PIECE flops (row_ranges; each matrix on its own, so the same bits), so
# that a KeyboardInterrupt lands between them. One large matrix is still one call.
class CPULinalg:
    def lu(self, a, piv, info, batch, m, n):
        isz, k = a._dtype.itemsize, min(m, n)
        ap, pp, ip = _ptr(a), _ptr(piv), _ptr(info)
        for b0, b1 in row_ranges(batch, m * n * k):
            _LU("linalg.lu_factor", a._dtype.code, b1 - b0, m, n, ap + b0 * m * n * isz, pp + b0 * k * 8, ip + b0 * 8)

    def lu_solve(self, lu, piv, b, batch, n, k):
        isz = lu._dtype.itemsize
        lp, pp, bp = _ptr(lu), _ptr(piv), _ptr(b)
        for b0, b1 in row_ranges(batch, 2 * n * n * k):
            _LU_SOLVE("linalg.lu_solve", lu._dtype.code, b1 - b0, n, k, lp + b0 * n * n * isz, pp + b0 * n * 8,
                      bp + b0 * n * k * isz)

    def cholesky(self, a, info, batch, n):
        isz = a._dtype.itemsize
        ap, ip = _ptr(a), _ptr(info)
        for b0, b1 in row_ranges(batch, n * n * n):
            _CHOLESKY("linalg.cholesky", a._dtype.code, b1 - b0, n, ap + b0 * n * n * isz, ip + b0 * 8)

    def geqrf(self, a, tau, batch, m, n):
        isz, k = a._dtype.itemsize, min(m, n)
        ap, tp = _ptr(a), _ptr(tau)
        for b0, b1 in row_ranges(batch, 2 * m * n * k):
            _GEQRF("geqrf", a._dtype.code, b1 - b0, m, n, ap + b0 * m * n * isz, tp + b0 * k * isz)

    def orgqr(self, a, tau, batch, m, nc, k):
        isz = a._dtype.itemsize
        ap, tp = _ptr(a), _ptr(tau)
        for b0, b1 in row_ranges(batch, 2 * m * nc * k):
            _ORGQR("orgqr", a._dtype.code, b1 - b0, m, nc, k, ap + b0 * m * nc * isz, tp + b0 * k * isz)

    def trsm(self, a, a_strides, b, batch, n, k, upper, unit):
        isz = a._dtype.itemsize
        ap, bp = _ptr(a), _ptr(b)
        for b0, b1 in row_ranges(batch, n * n * k):
            _TRSM("linalg.solve_triangular", a._dtype.code, b1 - b0, n, k, ap + b0 * a_strides[0] * isz,
                  *a_strides, bp + b0 * n * k * isz, 1 if upper else 0, 1 if unit else 0)

    # Jacobi runs up to tens of sweeps of ~n²/2 rotations: a matrix whose sweep is long goes one block of rows of
    # a sweep per call (so a KeyboardInterrupt lands between calls); small ones go whole, several per call.
    def svd_jacobi(self, a, v, s, batch, m, n):
        scratch = self.alloc(8 * (m * n + n * n + 1))   # f64 work space, see kernel_abi's "svd"
        isz = a._dtype.itemsize
        ap, vp, sp = _ptr(a), _ptr(v), _ptr(s)
        sweep_work = 5 * m * n * n
        if sweep_work <= library.PIECE:
            for b0, b1 in row_ranges(batch, 20 * sweep_work):
                _SVD("linalg.svd", a._dtype.code, b1 - b0, m, n, ap + b0 * m * n * isz, vp + b0 * n * n * isz,
                     sp + b0 * n * isz, scratch.ptr, -1, 0)
            return
        p_step = _rows_per_part(n, 5 * m * n)
        for b in range(batch):
            _SVD.in_parts("linalg.svd", a._dtype.code, 1, m, n, ap + b * m * n * isz, vp + b * n * n * isz,
                          sp + b * n * isz, scratch.ptr, p_step=p_step)

    def eigh_jacobi(self, a, w, batch, n):
        scratch = self.alloc(8 * (2 * n * n))
        isz = a._dtype.itemsize
        ap, wp = _ptr(a), _ptr(w)
        sweep_work = 4 * n * n * n
        if sweep_work <= library.PIECE:
            for b0, b1 in row_ranges(batch, 20 * sweep_work):
                _EIGH("linalg.eigh", a._dtype.code, b1 - b0, n, ap + b0 * n * n * isz, wp + b0 * n * isz,
                      scratch.ptr, -1, 0)
            return
        p_step = _rows_per_part(n, 4 * n * n)
        for b in range(batch):
            _EIGH.in_parts("linalg.eigh", a._dtype.code, 1, n, ap + b * n * n * isz, wp + b * n * isz, scratch.ptr,
                           p_step=p_step)


def _rows_per_part(n, row_work):
    """Rows p of a Jacobi sweep per call: about PIECE steps (row p does (n - p)·row_work/n, about row_work/2)."""
    return max(1, min(n, library.PIECE // max(1, row_work // 2)))
