"""Scatters that combine with what is there: scatter_reduce (sum, prod, mean, amax, amin of the values scattered
to each place, with or without the place's own value), index_reduce (the same along one dim, whole slices at a
time), index_add (their sum, scaled) and put (writes, or sums, at flat indices).

scatter_reduce works on the flat contiguous result: each index element's target offset (indexing's
scatter_targets), then one accumulating put (sum, mean), indexing's multiply_into (prod, in index order), or a
segment extreme (amax, amin: the values sorted by target, then by value, and each target's last or first taken).
Its derivative is PyTorch's ScatterReduceBackward0, written in gather/scatter ops so it differentiates again."""
from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ._registry import backward, register
from ._util import GRAD_ENABLED, check, not_implemented_for, record, rename_grad_fn
from . import inplace as _ip
from .creation import ones, ones_like, zeros, zeros_like
from .elementwise import maximum, minimum, where
from .indexing import _as_index, _check_scatter, _scatter_back, _scatter_impl, index_put, multiply_into, scatter_targets
from .shape import cat, view_scatter

_SCATTER_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_INDEX_REDUCTIONS = ("prod", "mean", "amax", "amin")


def _identity(reduce):
    """The value a place starts from when its own value is left out (include_self=False) of a sum, mean or prod."""
    return 1 if reduce == "prod" else 0


def _segment_extreme(target, vals, reduce):
    """(targets, extreme value per target): each distinct target's amax/amin of its values, NaN if any is NaN."""
    dev = target._storage.device
    order = vals.argsort(stable=True)                     # by value (NaN last), then by target, stably
    order = order[target[order].argsort(stable=True)]
    st, sv = target[order], vals[order]
    change = st[1:] != st[:-1]
    last = cat([change, ones(1, dtype=D.bool_, device=dev)])
    ext = sv[last]
    if reduce == "amin":
        low = sv[cat([ones(1, dtype=D.bool_, device=dev), change])]
        ext = where(ext.isnan(), ext, low) if ext._dtype.is_floating_point else low
    return st[last], ext


def _reduced(input, d, index, src, reduce, include_self):
    """The forward value (no autograd): input with src's values reduced into the places index names."""
    dtype = input._dtype
    work = D.int64 if dtype is D.bool_ else D.float32 if dtype in (D.float16, D.bfloat16) else dtype
    out = input.detach().contiguous().to(work).clone()
    if index.numel() == 0:
        return out.to(dtype)
    flat = out.view(-1)
    target = scatter_targets(out, d, index)
    vals = src.detach()[tuple(slice(0, n) for n in index._shape)].reshape(-1).to(work)
    extreme = reduce in ("amax", "amin")
    if not include_self and not extreme:
        flat[target] = _identity(reduce)
    if reduce in ("sum", "mean"):
        flat.index_put_((target,), vals, accumulate=True)
    elif reduce == "prod":
        multiply_into(flat, target, vals)
    else:
        places, ext = _segment_extreme(target, vals, reduce)
        # without self, each place takes its extreme as it is (no identity: int64's bounds do not survive
        # webgpu's 32-bit integer arithmetic)
        flat[places] = (maximum if reduce == "amax" else minimum)(flat[places], ext) if include_self else ext
    if reduce == "mean":
        count = (ones if include_self else zeros)(flat._shape, dtype=work, device=flat._storage.device)
        count.index_put_((target,), ones_like(vals), accumulate=True)
        count = count.masked_fill(count == 0, 1).view(out._shape)
        out = out / count if work.is_floating_point or work.is_complex else out.div(count, rounding_mode="floor")
    return (out != 0) if dtype is D.bool_ else out.to(dtype)


def _to_src_shape(g, src):
    """A gradient of index's shape as src's (zero where src is wider than index)."""
    if g._shape == src._shape:
        return g
    keep = tuple(slice(0, n) for n in g._shape)
    return view_scatter(zeros_like(src), g, lambda t: t[keep])


def _scatter_reduce_back(ctx, g):
    self, src, result = ctx.saved_tensors
    d, index, reduce, include_self = ctx.attrs
    if reduce == "sum":
        g_self, g_src = g, g.gather(d, index)
    elif reduce == "mean":
        n = (ones_like(g) if include_self else zeros_like(g)).scatter_add(d, index, ones_like(g.gather(d, index)))
        n = n.masked_fill(n == 0, 1)
        g_self, g_src = g / n, g.gather(d, index) / n.gather(d, index)
    elif reduce == "prod":
        # the products without each zero factor, so a single zero still passes a gradient
        masked_self = self.masked_fill(self == 0, 1)
        g_self = g * scatter_reduce(masked_self, d, index, src, reduce, include_self=include_self) / masked_self
        src_i = src[tuple(slice(0, n) for n in index._shape)]
        src_zero = src_i == 0
        zeros_there = zeros_like(self).scatter_add(d, index, src_zero.to(self._dtype)).gather(d, index)
        single_zero = src_zero & (zeros_there == 1)
        without_it = scatter_reduce(self, d, index, src_i.masked_fill(single_zero, 1), reduce,
                                    include_self=include_self)
        g_src = where(single_zero, (g * without_it).gather(d, index),
                      (g * result).gather(d, index) / src_i.masked_fill(src_zero, 1))
    else:
        # amax / amin: the gradient shared evenly among the values that equal the result
        value = result.gather(d, index)
        self_is = (self == result).to(self._dtype)
        src_is = (src[tuple(slice(0, n) for n in index._shape)] == value).to(self._dtype)
        share = g / self_is.scatter_add(d, index, src_is)
        g_self, g_src = self_is * share, src_is * share.gather(d, index)
    if not include_self:
        g_self = g_self.scatter(d, index, 0)
    ea, eb = ctx.edges
    return (g_self if ea is not None else None, _to_src_shape(g_src, src) if eb is not None else None)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)   # PyTorch takes the old names silently
    check(reduce in _SCATTER_REDUCTIONS, lambda: "reduce argument must be either sum, prod, mean, amax or amin, got "
          f"{reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    if input.dim() == 0:   # one element along dim 0, as PyTorch's scatter treats a 0-d tensor
        wrap_dim(dim, 0)
        r = scatter_reduce(input.reshape(1), 0, index.reshape(1), src.reshape(1), reduce, include_self=include_self)
        return _ip.maybe_write_out(out, r.reshape(()))
    d = wrap_dim(dim, input.dim())
    if index._dtype is not D.int64:
        check(index._dtype is D.int32, "scatter_reduce(): Expected dtype int64 for index")
        index = index.to(D.int64)
    _check_scatter(input, d, index, src)
    check(src._dtype is input._dtype, "scatter(): Expected self.dtype to be equal to src.dtype")
    if reduce == "mean" and input._dtype is D.bool_:
        raise not_implemented_for("scatter_gather_tensor_cpu_reduce_mean", input._dtype)
    r = _reduced(input, d, index, src, reduce, include_self)
    if GRAD_ENABLED[0] and (input._requires_grad or src._requires_grad):
        record("ScatterReduceBackward0", _scatter_reduce_back, (input, src), (r,),
               attrs=(d, index, reduce, include_self), save_inputs=(input, src), save_outputs=(r,))
    return _ip.maybe_write_out(out, r)


def _scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    return _ip.inplace_of(self, scatter_reduce, dim, index, src, reduce, include_self=include_self)


# ---- index_reduce ------------------------------------------------------------------------------------------

def _index_reduce_checks(input, d, index, source, reduce):
    """PyTorch's checks for index_reduce, in its order, with its messages."""
    name = "index_reduce_(): "
    check(reduce in _INDEX_REDUCTIONS, lambda: "index_reduce(): Expected reduce to be one of prod, mean, amax or amin "
          f"but got {reduce}.")
    check(index.dim() <= 1, lambda: f"{name}Index is supposed to be a vector, but got dim: {index.dim()} with type: "
          f"{D.scalar_type_name(index._dtype)} and size: {list(index._shape)}", IndexError)
    check(index._dtype in (D.int64, D.int32), lambda: f"{name}Expected dtype int32/int64 for index but got: "
          f"{D.scalar_type_name(index._dtype)}")
    check(input._dtype is source._dtype, lambda: f"{name}self ({D.scalar_type_name(input._dtype)}) and source "
          f"({D.scalar_type_name(source._dtype)}) must have the same scalar type")
    if source.dim() or input.dim():
        same = source.dim() == input.dim() and all(
            a == b for i, (a, b) in enumerate(zip(input._shape, source._shape)) if i != d)
        check(same, lambda: "source tensor shape must match self tensor shape, excluding the specified dimension. "
              f"Got self.shape = {list(input._shape)} source.shape = {list(source._shape)}")
    n = index.numel()
    along = source._shape[d] if source.dim() else 1
    check(n == along, lambda: f"{name}Number of indices ({n}) should be equal to source.size(dim): ({along}), for "
          f"dim: {d}")
    size = input._shape[d] if input.dim() else 1
    if n:
        check(bool(((index >= 0) & (index < size)).all().item()), "index out of range in self", IndexError)


def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """input.select(dim, index[i]) reduced with source.select(dim, i): scatter_reduce with index spread along dim."""
    d = wrap_dim(dim, max(input.dim(), 1))
    _index_reduce_checks(input, d, index, source, reduce)
    if input.dim() == 0:
        r = index_reduce(input.reshape(1), 0, index.reshape(1), source.reshape(1), reduce, include_self=include_self)
        return _ip.maybe_write_out(out, r.reshape(()))
    idx = index.reshape(-1).to(D.int64)
    spread = idx.reshape(tuple(-1 if i == d else 1 for i in range(source.dim()))).expand(source._shape).contiguous()
    r = rename_grad_fn(scatter_reduce(input, d, spread, source, reduce, include_self=include_self),
                       "IndexReduceBackward0")
    return _ip.maybe_write_out(out, r)


def _index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    return _ip.inplace_of(self, index_reduce, dim, index, source, reduce, include_self=include_self)


# ---- put -----------------------------------------------------------------------------------------------------

def put(input, index, source, accumulate=False):
    """input with input.flatten()[index] = source (or += with accumulate); negative indices count from the end."""
    check(index._dtype is D.int64, lambda: "put_(): Expected a long tensor for index, but got "
          f"{D.scalar_type_name(index._dtype)}")
    check(input._dtype is source._dtype, lambda: "put_(): self and source expected to have the same dtype, but got "
          f"self.dtype = {D.scalar_type_name(input._dtype)} and source.dtype = {D.scalar_type_name(source._dtype)}")
    check(source.numel() == index.numel(), lambda: "put_(): Expected source and index to have the same number of "
          f"elements, but got source.numel() = {source.numel()}, index.numel() = {index.numel()}", IndexError)
    n = input.numel()
    idx = index.reshape(-1)
    if idx.numel():
        bad = (idx >= n) | (idx < -n)
        if bool(bad.any().item()):
            first = int(idx[bad][0].item())
            raise IndexError(f"out of range: tried to access index {first} on a tensor of {n} elements.")
    r = index_put(input.reshape(-1), (idx,), source.reshape(-1), accumulate).reshape(input._shape)
    return rename_grad_fn(r, "PutBackward0")


def put_(self, index, source, accumulate=False):
    return _ip.inplace_of(self, put, index, source, accumulate)


def index_add(input, dim, index, source, *, alpha=1):
    d = wrap_dim(dim, input.dim()) if input.dim() else 0
    check(index.dim() <= 1, lambda: f"index_add_(): Index is supposed to be a vector, but got dim: {index.dim()} "
          f"with type: {D.scalar_type_name(index._dtype)} and size: {list(index._shape)}", IndexError)
    check(index._dtype is D.int64 or index._dtype is D.int32, lambda: f"index_add_(): Expected dtype int32/int64 "
          f"for index but got: {D.scalar_type_name(index._dtype)}")
    check(input._dtype is source._dtype, lambda: f"index_add_(): self ({D.scalar_type_name(input._dtype)}) and "
          f"source ({D.scalar_type_name(source._dtype)}) must have the same scalar type")
    src = source if alpha == 1 else source * alpha
    idx = _as_index(index, input).reshape(-1)
    if source.dim() == 0 and input.dim() > 1:
        # a 0-d source into a matrix would scatter one value across a whole slice (PyTorch refuses, as here)
        if d == 0:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        raise RuntimeError(f"index_add_(): Indexing dim {d} is out of bounds of the source tensor with dim 0")
    if (source.dim() == 0) != (input.dim() == 0) or (source.dim() and input.dim() and (
            source.dim() != input.dim() or any(i != d and n != input._shape[i] for i, n in enumerate(source._shape)))):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input._shape)} source.shape = {list(source._shape)}")
    if src.dim() and src._shape[d] != idx._shape[0]:
        raise RuntimeError(f"index_add_(): Number of indices ({idx._shape[0]}) should be equal to source.size(dim): "
                           f"({src._shape[d]}), for dim: {d}")
    shape = src._shape
    expanded = idx.reshape(tuple(-1 if i == d else 1 for i in range(len(shape)))).expand(shape) if shape else idx
    # a vector's bad index is index_select's IndexError, a bigger tensor's the gather kernel's RuntimeError
    error = IndexError("index out of range in self") if input.dim() <= 1 else None
    return _scatter_impl(input, d, expanded.contiguous() if shape else idx, src, True, checked=True,
                         node="IndexAddBackward0", bounds_error=error)


def _register_all():
    I = "index"
    register("index_add", index_add, I, primitive="index_offsets/put", dtype="any", derivative=backward(_scatter_back),
             inplace=lambda self, dim, index, source, *, alpha=1: _ip.inplace_from(
                 self, index_add(self, dim, index, source, alpha=alpha)))
    register("scatter_reduce", scatter_reduce, I, dtype="any", derivative=backward(_scatter_reduce_back),
             inplace=_scatter_reduce_)
    register("index_reduce", index_reduce, I, dtype="any", inplace=_index_reduce_)
    register("put", put, I, dtype="any", inplace=put_)


_register_all()
