"""Indexing: `t[key]`, `t[key] = v`, gather/scatter, index_select/index_put/index_fill/index_copy, take, masks
(nonzero, masked_select/masked_scatter), flip and roll (index_add: scatter_reduce.py).

Basic indexing (ints, slices, None, ...) makes views. Advanced indexing turns the index tensors into element
offsets with one bounds-checked kernel per indexed dim, then one take (read) or put (write) kernel moves the
data; gather, scatter, index_select (and index_add) are the same two primitives with other layouts.
"""
from .. import _dtype as D
from .._tensor import Tensor, _empty, numel_of, wrap_dim
from ..backends.interface import KernelIndexError
from ._registry import NOT_DIFFERENTIABLE, backward, register
from ._util import (GRAD_ENABLED, as_op_result, broadcast_shapes, c_type_name, check, checked_scalar,
                    expand_strides, not_implemented_backward, record, rename_grad_fn, same_device, warn_once_at_caller)
from . import inplace as _ip
from . import shape as S
from .convert import copy_, fill_
from .creation import arange, full, ones, tensor, zeros

_int_types = (int,)


# ---- offsets and layouts -------------------------------------------------------------------------------------

def _as_index(idx, like):
    if isinstance(idx, Tensor):
        if idx._storage.device is not like._storage.device and idx._storage.device.type == "cpu":
            idx = idx.to(like._storage.device)     # t[cpu_index] works on any device, as in PyTorch
        if idx._dtype is D.bool_ or idx._dtype is D.uint8:
            return idx
        if idx._dtype.is_floating_point or idx._dtype in (D.int8, D.int16):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return idx if idx._dtype is D.int64 else idx.to(D.int64)
    t = tensor(idx, device=like._storage.device)
    if t.numel() == 0 and t._dtype is not D.bool_:
        return t.to(D.int64)   # [] indexes nothing, as an empty int64 index
    if t._dtype.is_floating_point:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if t._dtype is not D.bool_ and t._dtype is not D.int64:
        t = t.to(D.int64)
    return t


def _offsets(t, dims, idxs, bshape, wrap_negative=True):
    """int64 offsets (in t's elements, relative to t's storage offset) for index tensors on `dims`."""
    offs = _empty(bshape, D.int64, t._storage.device)   # the first index writes every offset, later ones add
    be = t._storage.backend
    for k, (d, idx) in enumerate(zip(dims, idxs)):
        same_device(t, idx)
        if idx.numel() and numel_of(bshape):
            try:
                be.index_offsets(offs, idx, expand_strides(idx._shape, idx._stride, bshape), t._shape[d],
                                 t._stride[d], k > 0, wrap_negative)
            except KernelIndexError as e:
                raise _out_of_bounds(e, d) from None
        elif numel_of(bshape) and t._shape[d] == 0:
            raise IndexError(f"index is out of bounds for dimension {d} with size 0")
    return offs


def _bounds_message(err, dim):
    """The backend's KernelIndexError (index, size) as PyTorch words it, with the dimension."""
    return f"index {err.index} is out of bounds for dimension {dim} with size {err.size}"


def _out_of_bounds(err, dim):
    """t[idx]'s IndexError for an index past its dim (the backend's KernelIndexError `err`), carrying the index and
    the dim's size for ops that word it otherwise (index_select)."""
    e = IndexError(_bounds_message(err, dim))
    e.bad_index, e.dim_size = err.index, err.size
    return e


class _Plan:
    """Where the broadcast index dims and the remaining dims of t land in the result. wrap_negative: t[-1] reads the
    last element; index_select refuses negative indices."""
    __slots__ = ("dims", "idxs", "bshape", "rest", "front", "out_shape", "wrap_negative")

    def __init__(self, t, dims, idxs, wrap_negative=True):
        self.wrap_negative = wrap_negative
        self.dims = dims
        self.idxs = idxs
        try:
            self.bshape = broadcast_shapes(*[i._shape for i in idxs])
        except RuntimeError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes " +
                             ", ".join(str(list(i._shape)) for i in idxs)) from None
        self.rest = [d for d in range(t.dim()) if d not in dims]
        adjacent = list(dims) == list(range(dims[0], dims[0] + len(dims)))
        self.front = dims[0] if adjacent else 0
        before = [t._shape[d] for d in self.rest if d < self.front] if adjacent else []
        after = [t._shape[d] for d in self.rest if not adjacent or d > dims[-1]]
        self.out_shape = tuple(before) + self.bshape + tuple(after)

    def strides_for(self, t, offs):
        """(t strides, offs strides) per result dim."""
        nb = len(self.bshape)
        rest_strides = [t._stride[d] for d in self.rest]
        n_before = len([d for d in self.rest if d < self.front]) if self.front else 0
        src = tuple(rest_strides[:n_before]) + (0,) * nb + tuple(rest_strides[n_before:])
        o = (0,) * n_before + offs._stride + (0,) * (len(rest_strides) - n_before)
        return src, o


def _take(src, plan):
    out = _empty(plan.out_shape, src._dtype, src._storage.device)
    if out.numel():   # an empty result reads no index, so none is bounds-checked (as PyTorch's kernel)
        offs = _offsets(src, plan.dims, plan.idxs, plan.bshape, plan.wrap_negative)
        s_str, o_str = plan.strides_for(src, offs)
        out._storage.backend.take(out, src, offs, s_str, o_str)
    return out


def _put(dst, plan, values, accumulate):
    """In place into dst (no autograd): dst[plan] (+)= values broadcast to the plan's result shape."""
    try:
        shape = broadcast_shapes(values._shape, plan.out_shape)
    except RuntimeError:
        shape = None
    if shape != plan.out_shape:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._shape)} cannot be broadcast to "
                           f"indexing result of shape {list(plan.out_shape)}")
    if not numel_of(plan.out_shape):
        return
    offs = _offsets(dst, plan.dims, plan.idxs, plan.bshape, plan.wrap_negative)
    if values._dtype is not dst._dtype:
        values = values.to(dst._dtype)
    d_str, o_str = plan.strides_for(dst, offs)
    dst._storage.backend.put(dst, values, offs, plan.out_shape, expand_strides(values._shape, values._stride, shape),
                             d_str, o_str, accumulate)


def _index_back(ctx, g):
    plan, in_shape = ctx.attrs
    z = zeros(in_shape, dtype=g._dtype, device=g._storage.device)
    return index_put_plan(z, plan, g, accumulate=True)


def index_plan(src, plan):
    out = _take(src, plan)
    if GRAD_ENABLED[0] and src._requires_grad:
        record("IndexBackward0", _index_back, (src,), (out,), attrs=(plan, src._shape))
    return out


def _index_put_back(ctx, g):
    plan, accumulate, v_shape = ctx.attrs
    ea, eb = ctx.edges
    ga = gb = None
    if ea is not None:
        ga = g if accumulate else index_put_plan(g, plan, g.new_zeros(()), accumulate=False)
    if eb is not None:
        gb = index_plan(g, plan)
    return ga, gb


def index_put_plan(input, plan, values, accumulate):
    """Out of place: a copy of input with input[plan] (+)= values (differentiable in input and values)."""
    out = input.detach().clone()
    _put(out, plan, values.detach(), accumulate)
    if GRAD_ENABLED[0] and (input._requires_grad or values._requires_grad):
        record("IndexPutBackward0", _index_put_back, (input, values), (out,),
               attrs=(plan, accumulate, values._shape))
    return out


# ---- __getitem__ / __setitem__ -------------------------------------------------------------------------------

def _expand_key(t, key):
    """Apply basic indexing; return (view, advanced dims, advanced index tensors)."""
    if not isinstance(key, tuple):
        key = (key,)
    consumed = 0
    for k in key:
        if k is None or k is Ellipsis:
            continue
        if isinstance(k, Tensor) and k._dtype in (D.bool_, D.uint8):
            consumed += k.dim()
        elif isinstance(k, bool):
            continue
        else:
            consumed += 1
    nd = t.dim()
    if consumed > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    view = t
    dim = 0
    adv_dims, adv_idx = [], []
    seen_ellipsis = False
    for k in key:
        if k is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            dim += nd - consumed
        elif k is None:
            view = S.unsqueeze(view, dim)
            adv_dims = [d + 1 if d >= dim else d for d in adv_dims]
            dim += 1
        elif isinstance(k, bool):
            view = S.unsqueeze(view, dim)
            adv_dims.append(dim)
            adv_idx.append(zeros(1 if k else 0, dtype=D.int64, device=t._storage.device))
            dim += 1
        elif isinstance(k, int) or (hasattr(k, "__index__") and not isinstance(k, (Tensor, list, tuple, slice))):
            view = _int_index(view, dim, int(k))
        elif isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start = None if k.start is None else int(k.start)
            stop = None if k.stop is None else int(k.stop)
            if not (start is None and stop is None and step == 1):
                view = S.slice_dim(view, dim, start, stop, step)
            dim += 1
        else:
            idx = _as_index(k, t)
            if idx._dtype in (D.bool_, D.uint8):
                mask = idx if idx._dtype is D.bool_ else idx.to(D.bool_)
                for i in range(mask.dim()):
                    if mask._shape[i] != view._shape[dim + i]:
                        raise IndexError(f"The shape of the mask {list(mask._shape)} at index {i} does not match "
                                         f"the shape of the indexed tensor {list(view._shape)} at index {dim + i}")
                if mask.dim() == 0:
                    view = S.unsqueeze(view, dim)
                    adv_dims.append(dim)
                    adv_idx.append(nonzero(mask.reshape(1)).reshape(-1))
                    dim += 1
                    continue
                nz = nonzero(mask)
                for i in range(mask.dim()):
                    adv_dims.append(dim + i)
                    adv_idx.append(nz.select(1, i))
                dim += mask.dim()
            else:
                adv_dims.append(dim)
                adv_idx.append(idx)
                dim += 1
    return view, adv_dims, adv_idx


def _int_index(t, dim, i):
    """t[..., i, ...]: the bounds error reads as PyTorch's indexing error, not select()'s."""
    size = t._shape[dim] if t.dim() > dim else None
    if size is not None and not -size <= i < size:
        raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
    return S.select(t, dim, i)


def getitem(self, key):
    if key.__class__ is int:
        if not self._shape:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        return _int_index(self, 0, key)
    if key.__class__ is slice and key.step is None:
        if key.start is None and key.stop is None:
            return S.slice_dim(self, 0, None, None, 1) if self.dim() else self.view(())
        return S.slice_dim(self, 0, key.start, key.stop, 1) if self.dim() else _too_many()
    view, adv_dims, adv_idx = _expand_key(self, key)
    if not adv_dims:
        return view if view is not self else S.make_view(self, self._shape, self._stride, self._offset,
                                                         "AliasBackward0", lambda ctx, g: g, None)
    return index_plan(view, _Plan(view, adv_dims, adv_idx))


def _too_many():
    raise IndexError("too many indices for tensor of dimension 0")


def setitem(self, key, value):
    if isinstance(value, (int, float)):
        value = checked_scalar(value, self._dtype)   # PyTorch converts the value before it reads the key
    view, adv_dims, adv_idx = _expand_key(self, key)
    if not isinstance(value, Tensor):
        if not adv_dims:
            _ip.check_writable(view)  # t[:] = v on an expanded t raises in PyTorch, though fill_ itself does not
            fill_(view, value)
            return
        value = full((), value, dtype=self._dtype, device=self._storage.device)
    else:
        if value._storage.device != self._storage.device and value.dim() == 0:
            value = value.to(self._storage.device)
        lead = 0    # PyTorch drops the value's leading size-1 dims first (slicePrefix1sSize): t[0] = ones(1, 1, n)
        while lead < len(value._shape) and value._shape[lead] == 1:
            lead += 1
        if lead:
            value = value.view(value._shape[lead:])
    if not adv_dims:
        if value._shape != view._shape:
            value = value.expand(view._shape)  # PyTorch's "expanded size" error for a mismatched value
        copy_(view, value)
        return
    _check_put_dtype(self, value)
    plan = _Plan(view, adv_dims, adv_idx)
    if GRAD_ENABLED[0] and (self._requires_grad or value._requires_grad):
        _ip.check_leaf(self)
        r = index_put_plan(view, plan, value.to(self._dtype), accumulate=False)
        _ip.commit(view, r)
        return
    _put(view, plan, value, False)
    self._storage.version += 1


# ---- the op family -------------------------------------------------------------------------------------------

def _check_put_dtype(dst, values):
    check(values._dtype is dst._dtype, lambda: "Index put requires the source and destination dtypes match, got "
          f"{D.scalar_type_name(dst._dtype)} for the destination and {D.scalar_type_name(values._dtype)} for the "
          "source.")


def index_put(input, indices, values, accumulate=False):
    _check_put_dtype(input, values)
    dims = list(range(len(indices)))
    idxs = [_as_index(i, input) for i in indices]
    if any(i._dtype is D.bool_ for i in idxs):
        view, dims, idxs = _expand_key(input, tuple(indices))
    return index_put_plan(input, _Plan(input, dims, idxs), values, accumulate)


def index_put_(self, indices, values, accumulate=False):
    r = index_put(self if not (GRAD_ENABLED[0] and self._requires_grad) else self, indices, values, accumulate)
    return _ip.inplace_from(self, r)


def index_select(input, dim, index, *, out=None):
    d = wrap_dim(dim, input.dim()) if input.dim() else 0
    check(index.dim() <= 1, "index_select(): Index is supposed to be a vector", IndexError)
    check(index._dtype in (D.int64, D.int32), "index_select(): Expected dtype int32 or int64 for index")
    if out is not None:
        _ip.check_writable(out, input, index, any_overlap=True)
    idx = _as_index(index, input).reshape(-1)
    x = input if input.dim() else input.reshape(1)
    try:
        r = index_plan(x, _Plan(x, [d], [idx], wrap_negative=False))
    except IndexError as e:   # in the words of PyTorch's CPU kernels: a dim-1 gather names the index
        if not hasattr(e, "bad_index"):
            raise
        if input.dim() > 1 and d == 1:
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={e.bad_index} axis_dim={e.dim_size}") \
                from None
        raise IndexError("index out of range in self") from None
    r = r if input.dim() else r.reshape(())
    r = as_op_result(r, "IndexSelectBackward0", (input,))
    return _ip.write_out(out, r) if out is not None else r


class _GatherPlan:
    """gather/scatter's offsets: negative indices are out of bounds there (PyTorch does not wrap them); a bad
    index is a RuntimeError, unlike t[idx]'s IndexError, unless the caller gives its own exception (error)."""
    __slots__ = ("dim", "index", "error")

    def __init__(self, t, dim, index, error=None):
        self.dim, self.index, self.error = dim, index, error

    def offsets(self, t):
        offs = _empty(self.index._shape, D.int64, t._storage.device)   # index_offsets writes each one
        if self.index.numel():
            try:
                t._storage.backend.index_offsets(offs, self.index, self.index._stride, t._shape[self.dim],
                                                 t._stride[self.dim], False, False)
            except KernelIndexError as e:
                raise (self.error or RuntimeError(_bounds_message(e, self.dim))) from None
        return offs

    def strides(self, t):
        return tuple(0 if d == self.dim else s for d, s in enumerate(t._stride))


def _check_gather(input, dim, index, name):
    if index._dtype is not D.int64 and index._dtype is not D.int32 and index.numel():
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if input.dim() != index.dim() and not (input.dim() == 0 and index.dim() <= 1) and not (index.dim() == 0):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for d in range(index.dim()):
        if d != dim and index._shape[d] > (input._shape[d] if input.dim() else 1):
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index._shape)} to be "
                               f"smaller than self {list(input._shape)} apart from dimension {dim}")


def gather(input, dim, index, *, sparse_grad=False, out=None):
    if index.numel() == 0:
        wrap_dim(dim, max(input.dim(), 1))
        r = _empty(index._shape, input._dtype, input._storage.device)
        if GRAD_ENABLED[0] and input._requires_grad:
            record("GatherBackward0", lambda ctx, g: g.new_zeros(ctx.attrs), (input,), (r,), attrs=input._shape)
        return _ip.write_out(out, r) if out is not None else r
    src = input if input.dim() else input.reshape(1)
    idx = index if index.dim() else index.reshape(1)
    d = wrap_dim(dim, src.dim())
    _check_gather(src, d, idx, "gather")
    if idx._dtype is not D.int64:
        idx = idx.to(D.int64)
    plan = _GatherPlan(src, d, idx)
    offs = plan.offsets(src)
    r = _empty(idx._shape, src._dtype, src._storage.device)
    if r.numel():
        r._storage.backend.take(r, src, offs, plan.strides(src), offs._stride)
    if GRAD_ENABLED[0] and src._requires_grad:
        record("GatherBackward0", _gather_back, (src,), (r,), attrs=(d, idx, src._shape))
    if index.dim() == 0:
        r = r.reshape(())
    if out is not None:
        if out._dtype is not input._dtype:
            raise RuntimeError(f"Expected out tensor to have dtype {c_type_name(input._dtype)}, but got "
                               f"{c_type_name(out._dtype)} instead")
        _ip.check_writable(out, input, index, any_overlap=True)
    return _ip.write_out(out, r) if out is not None else r


def _gather_back(ctx, g):
    d, idx, in_shape = ctx.attrs
    return scatter_add(zeros(in_shape, dtype=g._dtype, device=g._storage.device), d, idx, g)


def _check_scatter(input, d, index, src):
    if index.dim() != input.dim() and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor) and src.dim() != index.dim() and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for i in range(index.dim()):
        if i != d and index._shape[i] > input._shape[i]:
            raise RuntimeError(f"Expected index {list(index._shape)} to be no larger than self "
                               f"{list(input._shape)} apart from dimension {d}")
        if isinstance(src, Tensor) and index._shape[i] > src._shape[i]:
            raise RuntimeError(f"Expected index {list(index._shape)} to be no larger than src {list(src._shape)}")


def _scatter_impl(input, dim, index, src, accumulate, checked=False, node=None, bounds_error=None):
    if input.dim() == 0:
        # 0-d: PyTorch treats it as one element along dim 0
        wrap_dim(dim, 0)
        src1 = src.reshape(1) if isinstance(src, Tensor) else src
        return _scatter_impl(input.reshape(1), 0, index.reshape(1), src1, accumulate,
                             bounds_error=bounds_error).reshape(())
    d = wrap_dim(dim, input.dim())
    # scatter_add and scatter_reduce share scatter's checks, messages included
    if index._dtype is not D.int64:
        if index._dtype is not D.int32:
            raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
        index = index.to(D.int64)
    if isinstance(src, Tensor) and src._dtype is not input._dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.dim() == 0:
        index = index.reshape((1,) * input.dim())
        if isinstance(src, Tensor) and src.dim() == 0:
            src = src.reshape((1,) * input.dim())
    if not checked:
        _check_scatter(input, d, index, src)
    if isinstance(src, Tensor):
        val = src.detach()
        v_strides = val._stride[:index.dim()] if val.dim() == index.dim() else val._stride
    else:
        val = _empty((), input._dtype, input._storage.device)
        val._storage.backend.fill(val, src)
        v_strides = (0,) * index.dim()
    out = input.detach().clone()
    if index.numel():
        plan = _GatherPlan(out, d, index, bounds_error)
        offs = plan.offsets(out)
        out._storage.backend.put(out, val, offs, index._shape, v_strides, plan.strides(out), offs._stride,
                                 accumulate)
    if GRAD_ENABLED[0] and (input._requires_grad or (isinstance(src, Tensor) and src._requires_grad)):
        record(node or ("ScatterAddBackward0" if accumulate else "ScatterBackward0"), _scatter_back,
               (input, src if isinstance(src, Tensor) else None), (out,), attrs=(d, index, accumulate))
    return out


def _scatter_back(ctx, g):
    d, index, accumulate = ctx.attrs
    ea, eb = ctx.edges
    gi = (g if accumulate else g.scatter(d, index, 0)) if ea is not None else None
    gs = g.gather(d, index) if eb is not None else None
    return gi, gs


def scatter_targets(out, d, index):
    """Where each element of `index` scatters along dim d: flat offsets into contiguous `out`, index's order."""
    dev = out._storage.device
    target = _GatherPlan(out, d, index).offsets(out)
    for k, (n, st) in enumerate(zip(index._shape, out._stride)):
        if k != d:
            target = target + arange(n, device=dev).reshape((n,) + (1,) * (index.dim() - k - 1)) * st
    return target.reshape(-1)


def multiply_into(flat, target, vals):
    """flat[target[i]] *= vals[i] in place, in i's order (as PyTorch's CPU kernel). Duplicate targets are applied
    in rounds, the k-th occurrence of each target in round k, so every round writes distinct targets with one
    gather and one put: exact, and a composite on every device."""
    dev = flat._storage.device
    order = target.argsort(stable=True)
    sorted_target = target[order]
    pos = arange(target.numel(), device=dev)
    starts = S.cat([ones(1, dtype=D.bool_, device=dev), sorted_target[1:] != sorted_target[:-1]])
    rank = zeros(target.numel(), dtype=D.int64, device=dev)
    rank[order] = pos - pos.where(starts, 0).cummax(0).values
    for r in range(rank.max().item() + 1):
        sel = rank == r
        t, v = target[sel], vals[sel]
        flat[t] = flat[t] * v


def _scatter_multiply(input, dim, index, src):
    """scatter(reduce='multiply'): every target is multiplied by each value scattered to it, in index order."""
    if input.dim() == 0:
        wrap_dim(dim, 0)
        src1 = src.reshape(1) if isinstance(src, Tensor) else src
        return _scatter_multiply(input.reshape(1), 0, index.reshape(1), src1).reshape(())
    d = wrap_dim(dim, input.dim())
    if index._dtype is not D.int64:
        check(index._dtype is D.int32, "scatter(): Expected dtype int64 for index")
        index = index.to(D.int64)
    if index.dim() == 0:
        index = index.reshape((1,) * input.dim())
        src = src.reshape((1,) * input.dim()) if isinstance(src, Tensor) and src.dim() == 0 else src
    _check_scatter(input, d, index, src)
    if isinstance(src, Tensor):
        check(src._dtype is input._dtype, "scatter(): Expected self.dtype to be equal to src.dtype")
    out = input.detach().contiguous().clone()   # contiguous: `target` indexes its flat view
    if index.numel():
        target = scatter_targets(out, d, index)
        if isinstance(src, Tensor):
            vals = src.detach()[tuple(slice(0, n) for n in index._shape)].reshape(-1)
        else:
            vals = full((target.numel(),), src, dtype=input._dtype, device=out._storage.device)
        multiply_into(out.view(-1), target, vals)
    if GRAD_ENABLED[0] and (input._requires_grad or (isinstance(src, Tensor) and src._requires_grad)):
        record("NotImplemented", not_implemented_backward, (input, src if isinstance(src, Tensor) else None),
               (out,), attrs="aten::scatter")
    return out


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    if reduce is None:
        return _scatter_impl(input, dim, index, src, False)
    if isinstance(src, Tensor):
        warn_once_at_caller("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in "
                            "a future PyTorch release. Use torch.scatter_reduce instead for more reduction options.")
    if reduce == "add":
        return _scatter_impl(input, dim, index, src, True)
    if reduce == "multiply":
        return _scatter_multiply(input, dim, index, src)
    raise RuntimeError("reduce argument must be either add or multiply.")


def scatter_add(input, dim, index, src):
    return _scatter_impl(input, dim, index, src, True)


def take_along_dim(input, indices, dim=None, *, out=None):
    # negative indices count from the end here (unlike gather's): shifted by the dim's size first, as PyTorch does
    if dim is None:
        n = input.numel()
        r = gather(input.reshape(-1), 0, (indices + (indices < 0) * n).reshape(-1))
    else:
        d = wrap_dim(dim, input.dim())
        indices = indices + (indices < 0) * input._shape[d]
        shape = list(broadcast_shapes(input._shape[:d] + (1,) + input._shape[d + 1:],
                                      indices._shape[:d] + (1,) + indices._shape[d + 1:]))
        in_shape = shape.copy()
        in_shape[d] = input._shape[d]
        idx_shape = shape.copy()
        idx_shape[d] = indices._shape[d]
        r = gather(input.expand(in_shape), d, indices.expand(idx_shape).contiguous())
    return _ip.write_out(out, r) if out is not None else r


def take(input, index, *, out=None):
    if out is not None:
        _ip.check_writable(out, input, index, any_overlap=True)
    flat = input.reshape(-1)
    idx = _as_index(index, flat).reshape(-1)   # take wraps negative indices, as t[idx] does
    r = as_op_result(index_plan(flat, _Plan(flat, [0], [idx])).reshape(index._shape), "TakeBackward0", (input,))
    return _ip.write_out(out, r) if out is not None else r


def nonzero(input, *, as_tuple=False, out=None):
    """Coordinates of non-zero elements, computed with kernels (cumsum positions + one put)."""
    flat = (input != 0).reshape(-1) if input._dtype is not D.bool_ else input.reshape(-1)
    n = flat._shape[0]
    count = int(flat.sum().item()) if n else 0
    pos = (flat.to(D.int64).cumsum(0) - 1).masked_fill(flat.logical_not(), count) if n else flat.to(D.int64)
    lin = zeros(count + 1, dtype=D.int64, device=input._storage.device)
    if n:
        src = arange(n, device=input._storage.device)
        lin._storage.backend.put(lin, src, pos, (n,), src._stride, (0,), pos._stride, False)
    lin = lin[:count]
    coords = []
    rem = lin
    for s in reversed(input._shape):
        coords.append(rem.remainder(s) if s else rem)
        rem = rem.div(s, rounding_mode="floor") if s else rem
    coords.reverse()
    if as_tuple:
        return tuple(coords) if input.dim() else (lin * 0,)
    r = S.stack(coords, 1) if coords else zeros((count, 0), dtype=D.int64, device=input._storage.device)
    if out is not None:
        check(out._dtype is D.int64, lambda: "nonzero: Expected out tensor to have scalar type Long but got scalar "
              f"type{D.scalar_type_name(out._dtype)}")
        return _ip.write_out(out, r)
    return r


def argwhere(input):
    return nonzero(input)


def masked_select(input, mask, *, out=None):
    check(mask._dtype is D.bool_, "masked_select: expected BoolTensor for mask")
    if out is not None:
        _ip.check_writable(out, input, mask, any_overlap=True)
    shape = broadcast_shapes(input._shape, mask._shape)
    r = rename_grad_fn(getitem(input.expand(shape), mask.expand(shape)), "MaskedSelectBackward0")
    return _ip.write_out(out, r) if out is not None else r


def masked_scatter(input, mask, source):
    check(input._dtype is source._dtype, lambda: f"masked_scatter: expected self and source to have same dtypes but "
          f"got{D.scalar_type_name(input._dtype)} and {D.scalar_type_name(source._dtype)}")
    if mask._dtype is not D.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{D.scalar_type_name(mask._dtype)}")
    shape = broadcast_shapes(input._shape, mask._shape)
    if not shape:  # 0-d: scatter as one element
        return masked_scatter(input.reshape(1), mask.reshape(1), source).reshape(())
    m = mask.expand(shape)
    n = int(m.sum().item())
    vals = source.reshape(-1)[:n]
    return index_put(input.expand(shape), (m,), vals) if shape == input._shape else \
        index_put(input.expand(shape).contiguous(), (m,), vals)


def flip(input, dims):
    dims = [wrap_dim(d, input.dim()) for d in (dims if isinstance(dims, (tuple, list)) else (dims,))]
    if input.dim() == 0:
        return rename_grad_fn(input.clone(), "FlipBackward0")
    r = input
    for d in dims:
        n = r._shape[d]
        r = index_select(r, d, arange(n - 1, -1, -1, device=input._storage.device)) if n > 1 else r.clone()
    return rename_grad_fn(r if dims else input.clone(), "FlipBackward0")


def fliplr(input):
    check(input.dim() >= 2, "Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    check(input.dim() >= 1, "Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None or (isinstance(dims, (tuple, list)) and len(dims) == 0):
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return as_op_result(roll(input.reshape(-1), shifts[0], 0).reshape(input._shape), "RollBackward0", (input,))
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if input.dim() == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    r = input
    for s, d in zip(shifts, dims):
        d = wrap_dim(d, r.dim())
        n = r._shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            r = S.cat([S.narrow(r, d, n - s, s), S.narrow(r, d, 0, n - s)], d)
    # a new tensor even when nothing moves, as in PyTorch; its node is RollBackward0
    return rename_grad_fn(input.clone() if r is input else r, "RollBackward0")


# ---- index_fill ----------------------------------------------------------------------------------------------

def index_fill(input, dim, index, value):
    nd = input.dim()
    d = wrap_dim(dim, max(nd, 1))
    check(index._dtype is D.int64, "index_fill_(): Expected dtype int64 for index.", IndexError)
    check(index.dim() <= 1, "Index has to be a vector/scalar", IndexError)
    if isinstance(value, Tensor):
        check(value.dim() == 0, lambda: f"index_fill_ only supports a 0-dimensional value tensor, but got tensor "
              f"with {value.dim()} dimension(s).")
    x = input if nd else input.reshape(1)
    n = x._shape[d]
    dev = x._storage.device
    mask = zeros((n,), dtype=D.bool_, device=dev)
    if index.numel():
        mask[index.reshape(-1)] = True   # negative indices count from the end, as PyTorch's index_fill does
    mask = mask.reshape((n,) + (1,) * (x.dim() - d - 1))
    r = x.masked_fill(mask, value)
    return r if nd else r.reshape(())


def index_fill_(self, dim, index, value):
    return _ip.inplace_from(self, index_fill(self, dim, index, value))


# ---- index_copy ----------------------------------------------------------------------------------------------

def _index_copy_checks(input, d, index, source):
    """PyTorch's checks for index_copy, in its order, with its messages."""
    name = "index_copy_(): "
    check(index.dim() <= 1, lambda: f"{name}Index should have dimension 1 or 0 (got {index.dim()})", IndexError)
    check(index._dtype is D.int64,
          lambda: f"{name}Expected a long tensor for index, but got {D.scalar_type_name(index._dtype)}")
    check(input._dtype is source._dtype, lambda: f"{name}self and source expected to have the same dtype, but got "
          f"(self) {D.scalar_type_name(input._dtype)} and (source) {D.scalar_type_name(source._dtype)}")
    n = index.numel()
    if source.dim() == 0:
        check(n == 1, lambda: f"{name}When source is scalar, index should have one element (got {n})", IndexError)
    elif input.dim() and source.dim() != input.dim():
        raise IndexError(f"{name}When source and destination are not scalars, their dimensionality must match. "
                         f"Source dimensionality ({source.dim()}), destination dimensionality ({input.dim()})")
    dst_slice = [s for i, s in enumerate(input._shape) if i != d]
    src_slice = [s for i, s in enumerate(source._shape) if i != d]
    check(dst_slice == src_slice, lambda: f"{name}Source/destination tensor must have same slice shapes. "
          f"Destination slice shape: {' '.join(map(str, dst_slice))} at dimension {d} and source slice shape: "
          f"{' '.join(map(str, src_slice))} at dimension 0.")
    if source.dim():
        check(n == source._shape[d], lambda: f"{name}Number of indices ({n}) should be equal to source.size(dim) "
              f"({source._shape[d]})", IndexError)
    size = input._shape[d] if input.dim() else 1
    # where index errors are deferred (webgpu), the put kernel checks the indices, negative ones too: index_copy
    # does not wrap them
    if n and not input._storage.backend.index_errors_deferred:
        bad = ((index < 0) | (index >= size)).reshape(-1)
        if bad.any().item():   # negative indices are out of bounds here, unlike in index_put
            first = index.reshape(-1)[bad.nonzero()[0, 0].item()].item()
            raise IndexError(f"{name}index {first} is out of bounds for dimension {d} with size {size}")


def index_copy(input, dim, index, source):
    """A copy of input with input.select(dim, index[i]) = source.select(dim, i); the last write wins."""
    d = wrap_dim(dim, input.dim())
    _index_copy_checks(input, d, index, source)
    x = input if input.dim() else input.reshape(1)
    src = source if source.dim() else source.reshape((1,) * x.dim())
    idx = index.reshape(-1)
    same_device(x, idx)
    r = index_put_plan(x, _Plan(x, [d], [idx], wrap_negative=False), src, accumulate=False)
    return rename_grad_fn(r if input.dim() else r.reshape(()), "IndexCopyBackward0")


def index_copy_(self, dim, index, source):
    return _ip.inplace_from(self, index_copy(self, dim, index, source))


def _register_all():
    Tensor.__getitem__ = getitem
    Tensor.__setitem__ = setitem
    I = "index"
    read, write = "index_offsets/take", "index_offsets/put"
    register("index_select", index_select, I, primitive=read, dtype="any", derivative=backward(_index_back))
    register("gather", gather, I, primitive=read, dtype="any", derivative=backward(_gather_back))
    register("scatter", scatter, I, primitive=write + "/fill", dtype="any", derivative=backward(_scatter_back),
             inplace=lambda self, dim, index, src=None, *, value=None, reduce=None: _ip.inplace_from(
                 self, scatter(self, dim, index, src, value=value, reduce=reduce)))
    register("scatter_add", scatter_add, I, primitive=write, dtype="any", derivative=backward(_scatter_back),
             inplace=lambda self, dim, index, src: _ip.inplace_from(self, scatter_add(self, dim, index, src)))
    register("index_put", index_put, I, primitive=write, dtype="any", derivative=backward(_index_put_back),
             inplace=index_put_)
    # nonzero writes each non-zero element's linear index with one put kernel, the rest is other ops
    register("nonzero", nonzero, I, primitive="put", dtype="index", derivative=NOT_DIFFERENTIABLE)
    register("argwhere", argwhere, I, dtype="index", derivative=NOT_DIFFERENTIABLE)
    for name, fn in [("take_along_dim", take_along_dim), ("take", take), ("masked_select", masked_select),
                     ("flip", flip), ("fliplr", fliplr), ("flipud", flipud), ("roll", roll)]:
        register(name, fn, I, dtype="any")
    register("masked_scatter", masked_scatter, I, dtype="any",
             inplace=lambda self, mask, source: _ip.inplace_from(self, masked_scatter(self, mask, source)))
    register("index_fill", index_fill, I, dtype="any", inplace=index_fill_)
    register("index_copy", index_copy, I, dtype="any", inplace=index_copy_)


_register_all()
