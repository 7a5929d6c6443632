"""Order statistics and second moments: quantile / nanquantile (sort, then gather and lerp between neighbouring
ranks), cov and corrcoef (weighted centred products through one mm).

All four are composites, as in PyTorch: their gradients come from sort, gather, lerp, mm and the elementwise ops
they are written in."""

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ._registry import register
from ._util import check, warn_at_caller
from . import inplace as _ip
from .complex import complex as _complex
from .creation import full, zeros_like
from .pointwise_composites import lerp

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


# ---- quantile / nanquantile ----------------------------------------------------------------------------------

def _quantile_shape(input, q, dim, d, keepdim):
    """The result's shape: q's length first (a 1-D q), then the input's shape without (or with 1 at) the dim."""
    if dim is not None and input.dim() > 0:
        shape = list(input._shape)
        if keepdim:
            shape[d] = 1
        else:
            del shape[d]
    else:
        shape = [1] * input.dim() if keepdim else []
    return ([q.numel()] if q.dim() > 0 else []) + shape


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, out):
    if not isinstance(q, Tensor):
        qf = float(q)
        check(0 <= qf <= 1, lambda: f"quantile() q must be in the range [0, 1] but got {qf}")
        q = full((), qf, dtype=input._dtype, device=input._storage.device)
    check(interpolation in _INTERPOLATIONS, lambda: "quantile() interpolation must be one of linear, lower, higher, "
          f"midpoint or nearest, but got {interpolation}")
    check(input.numel() > 0, "quantile() input tensor must be non-empty")
    check(q.dim() <= 1, "quantile() q must be a scalar or 1D tensor")
    check(input._dtype in (D.float32, D.float64), "quantile() input tensor must be either float or double dtype")
    check(q._dtype is input._dtype, "quantile() q tensor must be same dtype as the input tensor")
    check(out is None or out._dtype is input._dtype, "quantile() out tensor must be same dtype as the input tensor")
    d = wrap_dim(dim, max(input.dim(), 1)) if dim is not None else None
    out_shape = _quantile_shape(input, q, dim, d, keepdim)
    check(bool(((q >= 0) & (q <= 1)).all().item()), "quantile() q values must be in the range [0, 1]")

    # the reduced values sorted along a new last dim (NaN sort last); q runs along that dim from here on
    if dim is None:
        flat = input.reshape(-1)
        sorted_ = flat.sort().values.reshape(tuple(out_shape[1:] if q.dim() else out_shape) + (flat._shape[0],))
    else:
        x = input if input.dim() else input.reshape(1)
        sorted_ = x.unsqueeze(-1).transpose(d, -1).sort().values
        if not keepdim:
            sorted_ = sorted_.squeeze(d)
    n = sorted_._shape[-1]
    q1 = q.reshape(-1)
    if ignore_nan:
        # ranks among the non-NaN values; an all-NaN row gets rank 0, whose value is NaN
        ranks = q1 * (sorted_.isnan().logical_not().sum(-1, keepdim=True) - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        # a row with a NaN reads its last value, the NaN
        has_nan = sorted_.isnan().any(-1, keepdim=True)
        ranks = (q1 * (n - 1)).masked_fill(has_nan, n - 1)
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()   # half to even, as PyTorch's (and numpy's) nearest
    below = ranks.to(D.int64)
    values = sorted_.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        if interpolation == "midpoint":
            weights = full(ranks._shape, 0.5, dtype=ranks._dtype, device=ranks._storage.device)
            weights = weights.masked_fill(below == ranks, 0)
        else:
            weights = ranks - below
        values = lerp(values, sorted_.gather(-1, ranks.ceil().to(D.int64)), weights)
    # q's dim moves from last to first (or goes, for a 0-d q)
    r = values.squeeze(-1) if q.dim() == 0 else values.movedim(-1, 0)
    r = r.reshape(out_shape)
    return _ip.write_out(out, r) if out is not None else r


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile(input, q, dim, keepdim, interpolation, False, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile(input, q, dim, keepdim, interpolation, True, out)


# ---- cov / corrcoef ------------------------------------------------------------------------------------------

def _check_weights(w, kind, n, dtype_ok, dtype_words):
    check(w.dim() <= 1, lambda: f"cov(): expected {kind} to have one or fewer dimensions but got {kind} with "
          f"{w.dim()} dimensions")
    check(dtype_ok(w._dtype), lambda: f"cov(): expected {kind} to have {dtype_words} dtype but got {kind} with "
          f"{D.scalar_type_name(w._dtype)} dtype")
    check(w.numel() == n, lambda: f"cov(): expected {kind} to have the same numel as there are observations in the "
          f"input but got {w.numel()} != {n}")
    check(n == 0 or bool((w.min() >= 0).item()), lambda: f"cov(): {kind} cannot be negative")


def cov(input, *, correction=1, fweights=None, aweights=None):
    check(input.dim() <= 2, lambda: "cov(): expected input to have two or fewer dimensions but got an input with "
          f"{input.dim()} dimensions")
    check(input._dtype is not D.bool_, "cov(): bool dtype is not supported for input")
    x = input if input.dim() == 2 else input.reshape(1, -1)   # (variables, observations)
    n = x._shape[1]
    w = None
    if fweights is not None:
        _check_weights(fweights, "fweights", n, lambda d: not (d.is_floating_point or d.is_complex or d is D.bool_),
                       "integral")
        w = fweights
    if aweights is not None:
        _check_weights(aweights, "aweights", n, lambda d: d.is_floating_point, "floating point")
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n
    else:
        w_sum = w.sum()
        check(bool((w_sum != 0).item()), "cov(): weights sum to zero, can't be normalized")
    avg = (x if w is None else x * w).sum(1) / w_sum
    if w is None:
        norm = n - correction
    elif correction == 0:
        norm = w_sum
    elif aweights is None:
        norm = w_sum - correction
    elif fweights is None and n == 1 and correction == 1:
        norm = 0   # PyTorch's special case: numpy's exact zero where the formula below rounds
    else:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    if bool(norm <= 0) if not isinstance(norm, Tensor) else bool((norm <= 0).item()):
        warn_at_caller("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                       "observations.")
        norm = 0 if not isinstance(norm, Tensor) else norm * 0
    if n == 1 and (fweights is None) != (aweights is None):
        # one observation with one kind of weight: the centred value is exactly zero (PyTorch's numpy match)
        centred = zeros_like(x) if x._dtype.is_floating_point or x._dtype.is_complex else \
            zeros_like(x, dtype=D.float32)
    else:
        centred = x - avg.unsqueeze(1)
    c = centred.mm((centred if w is None else centred * w).t().conj())
    return c.true_divide(norm).squeeze()


def corrcoef(input):
    check(input.dim() <= 2, lambda: "corrcoef(): expected input to have two or fewer dimensions but got an input "
          f"with {input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c   # one variable: 1, or NaN where its variance is 0, inf or NaN
    d = c.diagonal()
    std = (d.real if d._dtype.is_complex else d).sqrt()
    c = c / std.view(-1, 1)
    c = c / std.view(1, -1)
    if c._dtype.is_complex:
        return _complex(c.real.clip(-1, 1), c.imag.clip(-1, 1))
    return c.clip(-1, 1)


def _register_all():
    R = "reduction"
    register("quantile", quantile, R, dtype="same")
    register("nanquantile", nanquantile, R, dtype="same")
    register("cov", cov, R, dtype="float")
    register("corrcoef", corrcoef, R, dtype="float")


_register_all()
