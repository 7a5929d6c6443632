"""torch_js.return_types (torch.return_types): the named-tuple classes of the ops that return several tensors.

Each name is the very class the op returns (torch.max(x, 0) is a torch.return_types.max), so isinstance checks and
pytree handling agree with what the ops give. The classes live beside their ops; the few PyTorch names whose op
torch_js does not yet return as a named tuple (or has not) are defined here with PyTorch's fields.
"""
from .ops import (histogram as _histogram, number_functions as _number_functions, reduction as _reduction,
                  sorting as _sorting)
from .ops.linalg import (_common as _linalg_common, cholesky as _cholesky, eig as _eig, lstsq as _lstsq, lu as _lu,
                         qr as _qr, spectral as _spectral, triangular as _triangular)

max = _reduction.MaxResult
min = _reduction.MinResult
sort = _reduction.SortResult
topk = _reduction.TopkResult
mode = _reduction.ModeResult
kthvalue = _reduction.KthvalueResult
median = _sorting.MedianResult
nanmedian = _sorting.NanmedianResult
cummax = _sorting.CummaxResult
cummin = _sorting.CumminResult
svd = _spectral.TorchSvdResult
linalg_svd = _spectral.SvdResult
linalg_eigh = _spectral.EighResult
qr = _qr.TorchQRResult
linalg_qr = _qr.QRResult
geqrf = _qr.GeqrfResult
slogdet = _lu.TorchSlogdetResult
linalg_slogdet = _lu.SlogdetResult
linalg_inv_ex = _lu.InvExResult
linalg_solve_ex = _lu.SolveExResult
linalg_lu_factor = _lu.LuFactorResult
linalg_lu_factor_ex = _lu.LuFactorExResult
linalg_lu = _lu.LuResult
lu_unpack = _lu.LuUnpackResult
triangular_solve = _triangular.TriangularSolveResult
linalg_cholesky_ex = _cholesky.CholeskyExResult
linalg_lstsq = _lstsq.LstsqResult
linalg_eig = _eig.EigResult
frexp = _number_functions.FrexpResult
frexp_out = _number_functions.FrexpOutResult

_make = _linalg_common._result_type
histogram = getattr(_histogram, "HistogramResult", None) or _make("histogram", ("hist", "bin_edges"))
histogramdd = getattr(_histogram, "HistogramddResult", None) or _make("histogramdd", ("hist", "bin_edges"))
aminmax = _reduction.AminmaxResult
linalg_ldl_factor = _make("linalg_ldl_factor", ("LD", "pivots"))
linalg_ldl_factor_ex = _make("linalg_ldl_factor_ex", ("LD", "pivots", "info"))

all_return_types = [max, min, sort, topk, mode, kthvalue, median, nanmedian, cummax, cummin, svd, linalg_svd,
                    linalg_eigh, qr, linalg_qr, geqrf, slogdet, linalg_slogdet, linalg_inv_ex, linalg_solve_ex,
                    linalg_lu_factor, linalg_lu_factor_ex, linalg_lu, lu_unpack, triangular_solve, linalg_cholesky_ex,
                    histogram, histogramdd, aminmax, frexp, frexp_out, linalg_eig, linalg_lstsq, linalg_ldl_factor,
                    linalg_ldl_factor_ex]
__all__ = [t.__name__ for t in all_return_types]
