"""CPU dense factorizations (wasm_ext/linalg.c).

The ops layer has made the matrices contiguous (batch, rows, cols) float32/float64 copies the kernel may
overwrite and allocated the outputs; each method packs one struct precompiled from kernel_abi's layout and
makes one kernel call. `info` arrays are int64, LAPACK's convention (0 = success, i > 0 = the 1-based
position where the factorization broke down).
"""
from ..kernel_abi import struct_for
from . import library
from .library import ARGS_VIEW as _ARGS, check as _check, ptr as _ptr

_k_lu = library.kernel("lu")
_k_lu_solve = library.kernel("lu_solve")
_k_cholesky = library.kernel("cholesky")
_k_geqrf = library.kernel("geqrf")
_k_orgqr = library.kernel("orgqr")
_k_trsm = library.kernel("trsm")
_k_svd = library.kernel("svd")
_k_eigh = library.kernel("eigh")

_LU_FMT = struct_for("lu")
_LU_SOLVE_FMT = struct_for("lu_solve")
_CHOL_FMT = struct_for("cholesky")
_GEQRF_FMT = struct_for("geqrf")
_ORGQR_FMT = struct_for("orgqr")
_TRSM_FMT = struct_for("trsm")
_SVD_FMT = struct_for("svd")
_EIGH_FMT = struct_for("eigh")


class CPULinalg:
    def lu(self, a, piv, info, batch, m, n):
        _LU_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, _ptr(a), _ptr(piv), _ptr(info))
        _check(_k_lu(), "linalg.lu_factor")

    def lu_solve(self, lu, piv, b, batch, n, k):
        _LU_SOLVE_FMT.pack_into(_ARGS, 0, lu._dtype.code, batch, n, k, _ptr(lu), _ptr(piv), _ptr(b))
        _check(_k_lu_solve(), "linalg.lu_solve")

    def cholesky(self, a, info, batch, n):
        _CHOL_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, n, _ptr(a), _ptr(info))
        _check(_k_cholesky(), "linalg.cholesky")

    def geqrf(self, a, tau, batch, m, n):
        _GEQRF_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, _ptr(a), _ptr(tau))
        _check(_k_geqrf(), "geqrf")

    def orgqr(self, a, tau, batch, m, nc, k):
        _ORGQR_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, nc, k, _ptr(a), _ptr(tau))
        _check(_k_orgqr(), "orgqr")

    def trsm(self, a, a_strides, b, batch, n, k, upper, unit):
        _TRSM_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, n, k, _ptr(a), *a_strides, _ptr(b), 1 if upper else 0,
                            1 if unit else 0)
        _check(_k_trsm(), "linalg.solve_triangular")

    def svd_jacobi(self, a, v, s, batch, m, n):
        scratch = self.alloc(8 * (m * n + n * n + n))   # f64 work space, see kernel_abi's "svd"
        _SVD_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, _ptr(a), _ptr(v), _ptr(s), scratch.ptr)
        _check(_k_svd(), "linalg.svd")

    def eigh_jacobi(self, a, w, batch, n):
        scratch = self.alloc(8 * (2 * n * n + n))
        _EIGH_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, n, _ptr(a), _ptr(w), scratch.ptr)
        _check(_k_eigh(), "linalg.eigh")
