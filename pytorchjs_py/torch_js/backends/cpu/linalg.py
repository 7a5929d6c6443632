"""CPU dense factorizations (wasm_ext/linalg.c).

The ops layer has made the matrices contiguous (batch, rows, cols) float32/float64 copies the kernel may
overwrite and allocated the outputs; each method packs one struct precompiled from kernel_abi's layout and
makes one kernel call. `info` arrays are int64, LAPACK's convention (0 = success, i > 0 = the 1-based
position where the factorization broke down).
"""
from .library import Kernel, ptr as _ptr

_LU, _LU_SOLVE, _CHOLESKY, _GEQRF, _ORGQR, _TRSM, _SVD, _EIGH = (
    Kernel(k) for k in ("lu", "lu_solve", "cholesky", "geqrf", "orgqr", "trsm", "svd", "eigh"))


class CPULinalg:
    def lu(self, a, piv, info, batch, m, n):
        _LU("linalg.lu_factor", a._dtype.code, batch, m, n, _ptr(a), _ptr(piv), _ptr(info))

    def lu_solve(self, lu, piv, b, batch, n, k):
        _LU_SOLVE("linalg.lu_solve", lu._dtype.code, batch, n, k, _ptr(lu), _ptr(piv), _ptr(b))

    def cholesky(self, a, info, batch, n):
        _CHOLESKY("linalg.cholesky", a._dtype.code, batch, n, _ptr(a), _ptr(info))

    def geqrf(self, a, tau, batch, m, n):
        _GEQRF("geqrf", a._dtype.code, batch, m, n, _ptr(a), _ptr(tau))

    def orgqr(self, a, tau, batch, m, nc, k):
        _ORGQR("orgqr", a._dtype.code, batch, m, nc, k, _ptr(a), _ptr(tau))

    def trsm(self, a, a_strides, b, batch, n, k, upper, unit):
        _TRSM("linalg.solve_triangular", a._dtype.code, batch, n, k, _ptr(a), *a_strides, _ptr(b),
              1 if upper else 0, 1 if unit else 0)

    def svd_jacobi(self, a, v, s, batch, m, n):
        scratch = self.alloc(8 * (m * n + n * n + n))   # f64 work space, see kernel_abi's "svd"
        _SVD("linalg.svd", a._dtype.code, batch, m, n, _ptr(a), _ptr(v), _ptr(s), scratch.ptr)

    def eigh_jacobi(self, a, w, batch, n):
        scratch = self.alloc(8 * (2 * n * n + n))
        _EIGH("linalg.eigh", a._dtype.code, batch, n, _ptr(a), _ptr(w), scratch.ptr)
