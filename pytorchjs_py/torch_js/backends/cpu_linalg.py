"""CPU bindings for the dense factorizations (wasm_ext/linalg.c), added as CPUBackend methods.

Same conventions as cpu.py: the ops layer has validated shapes, made the matrices contiguous (batch, rows, cols)
float32/float64 copies the kernel may overwrite, and allocated the outputs; each method packs the argument block
with one precompiled struct and makes one zero-argument call. `info` arrays are int64, LAPACK's convention
(0 = success, i > 0 = the 1-based position where the factorization broke down).
"""
import struct

from . import _native
from ._native import ARGS
from .cpu import CPUBackend, _check, _ptr

_ARGS = memoryview(ARGS).cast("B")

_k_lu = _native.kernel("lu")
_k_lu_solve = _native.kernel("lu_solve")
_k_cholesky = _native.kernel("cholesky")
_k_geqrf = _native.kernel("geqrf")
_k_orgqr = _native.kernel("orgqr")
_k_trsm = _native.kernel("trsm")
_k_svd = _native.kernel("svd")
_k_eigh = _native.kernel("eigh")

_LU_FMT = struct.Struct("<" + "q" * 7)
_LU_SOLVE_FMT = struct.Struct("<" + "q" * 7)
_CHOL_FMT = struct.Struct("<" + "q" * 5)
_GEQRF_FMT = struct.Struct("<" + "q" * 6)
_ORGQR_FMT = struct.Struct("<" + "q" * 7)
_TRSM_FMT = struct.Struct("<" + "q" * 11)
_SVD_FMT = struct.Struct("<" + "q" * 8)
_EIGH_FMT = struct.Struct("<" + "q" * 6)


def lu(self, a, piv, info, batch, m, n):
    """a (batch, m, n) in place -> packed L\\U; piv int64 (batch, min(m, n)) 1-based; info int64 (batch,)."""
    _LU_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, _ptr(a), _ptr(piv), _ptr(info))
    _check(_k_lu(), "linalg.lu_factor")


def lu_solve(self, lu, piv, b, batch, n, k):
    """b (batch, n, k) in place <- A^{-1} b from lu/piv (as written by `lu`)."""
    _LU_SOLVE_FMT.pack_into(_ARGS, 0, lu._dtype.code, batch, n, k, _ptr(lu), _ptr(piv), _ptr(b))
    _check(_k_lu_solve(), "linalg.lu_solve")


def cholesky(self, a, info, batch, n):
    """a (batch, n, n) in place -> L (reads the lower triangle, zeros the upper)."""
    _CHOL_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, n, _ptr(a), _ptr(info))
    _check(_k_cholesky(), "linalg.cholesky")


def geqrf(self, a, tau, batch, m, n):
    """a (batch, m, n) in place -> R and Householder vectors (LAPACK geqrf layout); tau (batch, min(m, n))."""
    _GEQRF_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, _ptr(a), _ptr(tau))
    _check(_k_geqrf(), "geqrf")


def orgqr(self, a, tau, batch, m, nc, k):
    """a (batch, m, nc) whose first k columns hold reflectors -> Q's first nc columns; tau (batch, k)."""
    _ORGQR_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, nc, k, _ptr(a), _ptr(tau))
    _check(_k_orgqr(), "orgqr")


def trsm(self, a, a_strides, b, batch, n, k, upper, unit):
    """b (contiguous batch, n, k) in place <- A^{-1} b, A triangular given by (batch, row, col) strides."""
    _TRSM_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, n, k, _ptr(a), *a_strides, _ptr(b), 1 if upper else 0,
                        1 if unit else 0)
    _check(_k_trsm(), "linalg.solve_triangular")


def svd_jacobi(self, a, v, s, batch, m, n):
    """a (batch, m, n), m >= n, in place -> U·S (columns unnormalised); v (batch, n, n) = V; s (batch, n)
    singular values in column order (unsorted)."""
    scratch = self.alloc(8 * (m * n + n * n + n))
    _SVD_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, _ptr(a), _ptr(v), _ptr(s), scratch.ptr)
    _check(_k_svd(), "linalg.svd")


def eigh_jacobi(self, a, w, batch, n):
    """a (batch, n, n) symmetric (both triangles) in place -> eigenvectors as columns; w (batch, n) eigenvalues
    in column order (unsorted)."""
    scratch = self.alloc(8 * (2 * n * n + n))
    _EIGH_FMT.pack_into(_ARGS, 0, a._dtype.code, batch, n, _ptr(a), _ptr(w), scratch.ptr)
    _check(_k_eigh(), "linalg.eigh")


CPUBackend.lu = lu
CPUBackend.lu_solve = lu_solve
CPUBackend.cholesky = cholesky
CPUBackend.geqrf = geqrf
CPUBackend.orgqr = orgqr
CPUBackend.trsm = trsm
CPUBackend.svd_jacobi = svd_jacobi
CPUBackend.eigh_jacobi = eigh_jacobi
