"""Linear algebra ops. Importing the package declares them all (torch.* and torch.linalg.* namespaces).

Modules, low to high (each imports only those before it; an op declared higher is reached through
`_registry.linalg_ops`):
  _common       LinAlgError, result types, checks, kernel operands, triangle / identity helpers
  products      gemm and the matrix products (mm, bmm, matmul, dot, ...), the `@` operator
  norms         vector / matrix norms
  contractions  einsum, tensordot, kron, multi_dot, vecdot, cdist
  structured    vander, linalg.diagonal
  triangular    triangular solves
  cholesky      Cholesky and its solves
  qr            QR, geqrf, householder_product
  lu            LU and what it solves: inv, det, slogdet, solve, lu_factor / lu / lu_solve, matrix_power, ...
  spectral      SVD, eigh and what builds on them: pinv, matrix_rank, cond
  lstsq         least squares (QR, or the SVD's pseudo-inverse)
  eig           eigenvalues and eigenvectors of general real matrices (QR iteration, the SVD's null vectors)
  matrix_functions  matrix_exp
  removed       the names PyTorch removed in 1.9 and still exposes, raising its error (torch.solve, eig, ...)
"""
from . import (products, norms, contractions, structured, triangular, cholesky, qr, lu, spectral,  # noqa: F401
               lstsq, eig, matrix_functions, removed)
from ._common import LinAlgError  # noqa: F401  (torch_js.linalg.LinAlgError)
from .products import gemm  # noqa: F401  (nn's convolutions)
