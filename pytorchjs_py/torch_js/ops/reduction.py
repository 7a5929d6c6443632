"""Reductions over dim tuples with keepdim (sum/mean/prod, max/min/argmax, all/any, var/std, logsumexp, norm),
softmax/log_softmax, cumsum/cumprod, and the named (values, indices) result types the selection ops return.

The backend reduces the trailing dims of a strided input, so each reduction permutes the reduced dims to the
end (a free view) and makes one kernel call."""

from .. import _dtype as D
from .._tensor import Tensor, _empty, _make, numel_of, wrap_dim
from ..backends.complex_data import real_view
from ._registry import COMPOSITE, NOT_DIFFERENTIABLE, backward, linalg_ops, register
from ._util import (GRAD_ENABLED, c_type_name, check, dims_arg, identity_backward, not_implemented_for, record,
                    rename_grad_fn, require_args, require_tensor, result_type, warn_at_caller)
from . import inplace as _ip
from .creation import ones, ones_like, zeros, zeros_like
from .elementwise import maximum, minimum
from .shape import cat


def _keepdim_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _reduce_dims(x, dim):
    nd = x.dim()
    if nd == 0:
        if dim is not None:
            for d in (dim if isinstance(dim, (tuple, list)) else (dim,)):
                wrap_dim(d, 0)
        return ()
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        return tuple(range(nd))
    return dims_arg(dim, nd)


def raw_reduce(op, x, dims, out_dtype, with_index=False):
    """Kernel call: reduce x over `dims` (sorted), returning the kept-dims result (and int64 indices)."""
    nd = x.dim()
    kept = [i for i in range(nd) if i not in dims]
    order = kept + list(dims)
    xp = x if order == list(range(nd)) else _make(x._storage, tuple(x._shape[i] for i in order),
                                                   tuple(x._stride[i] for i in order), x._offset, x._dtype)
    shape = tuple(x._shape[i] for i in kept)
    out = _empty(shape, out_dtype, x._storage.device)
    idx = _empty(shape, D.int64, x._storage.device) if with_index else None
    out._storage.backend.reduce(op, out, xp, len(dims), idx)
    return (out, idx) if with_index else out


def _finish(out, x, dims, keepdim):
    if keepdim and dims:
        return out._alias_without_history().view(_keepdim_shape(x._shape, dims)) if not out._requires_grad else \
            out.view(_keepdim_shape(x._shape, dims))
    return out


def _expand_grad(g, in_shape, dims, keepdim):
    if not keepdim and dims:
        g = g.reshape(_keepdim_shape(in_shape, dims))
    return g.expand(in_shape)


# ---- sum / mean --------------------------------------------------------------------------------------------

def _sum_back(ctx, g):
    in_shape, dims, keepdim = ctx.attrs
    return _expand_grad(g, in_shape, dims, keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    x = input
    if dtype is not None:
        x = x.to(dtype)
    dims = _reduce_dims(x, dim)
    od = dtype if dtype is not None else (x._dtype if x._dtype.is_floating_point or x._dtype.is_complex else D.int64)
    if not dims:
        r = x.to(od) if od is not x._dtype else x.clone()
        return _ip.write_out(out, r) if out is not None else r
    if od.is_complex:   # the real and imaginary parts summed apart, on the float view (its pair dim kept)
        parts = raw_reduce("sum", real_view(x), dims, od.to_real())
        r = _make(parts._storage, parts._shape[:-1], tuple(st // 2 for st in parts._stride[:-1]), 0, od)
    elif not od.is_floating_point and od is not D.int64:
        r = raw_reduce("sum", x, dims, D.int64).to(od)  # the kernel accumulates integers in int64
    else:
        r = raw_reduce("sum", x, dims, od)
    if keepdim:
        r = _finish(r, x, dims, keepdim)
        r._base = None   # a view of the fresh reduction only: the kept-dims result is a tensor of its own, as ATen's
    if GRAD_ENABLED[0] and x._requires_grad:   # on the result as returned: sum(dim, keepdim=True) reads SumBackward1
        record("SumBackward0" if dim is None else "SumBackward1", _sum_back, (x,), (r,),
               attrs=(x._shape, dims, keepdim))
    return _ip.write_out(out, r) if out is not None else r


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    return sum(input.masked_fill(input.isnan(), 0) if input._dtype.is_floating_point else input, dim, keepdim,
               dtype=dtype, out=out)


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    x = input if dtype is None else input.to(dtype)
    if not (x._dtype.is_floating_point or x._dtype.is_complex):
        which = "Input" if dtype is None else "Optional"
        raise RuntimeError(f"mean(): could not infer output dtype. {which} dtype must be either a floating point or "
                           f"complex dtype. Got: {D.scalar_type_name(x._dtype)}")
    dims = _reduce_dims(x, dim)
    n = 1
    for d in dims:
        n *= x._shape[d]
    r = sum(x, dims, keepdim) / n if dims else x.clone()
    rename_grad_fn(r, "MeanBackward0" if dim is None else "MeanBackward1")
    return _ip.write_out(out, r) if out is not None else r


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    check(input._dtype.is_floating_point, lambda: "nanmean(): expected input to have floating point or complex dtype "
          f"but got {D.scalar_type_name(input._dtype)}")
    notnan = input.isnan().logical_not()
    return _ip.maybe_write_out(out, nansum(input, dim, keepdim, dtype=dtype) / notnan.sum(dim, keepdim))


def sum_to_size(self, *size):
    require_args(size, "sum_to_size", "size")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(size)
    if self._shape == size:
        return self
    lead = self.dim() - len(size)
    check(lead >= 0, f"size {{{list(size)}}} is not expandable to size {{{list(self._shape)}}}.")
    dims = list(range(lead))
    for i, s in enumerate(size):
        if s == 1 and self._shape[lead + i] != 1:
            dims.append(lead + i)
        elif s != self._shape[lead + i]:
            raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(self._shape)}}}.")
    r = sum(self, tuple(dims), keepdim=True) if dims else self
    return r.reshape(size) if r._shape != size else r


# ---- prod --------------------------------------------------------------------------------------------------

def _prod_back(ctx, g):
    (x,) = ctx.saved_tensors
    in_shape, dim, keepdim = ctx.attrs
    if dim is None:
        flat = x.reshape(-1)
        return (_prod_grad_1d(flat, g.reshape(1).expand(flat._shape[0]).contiguous(), 0)).reshape(in_shape)
    gk = g if keepdim else g.unsqueeze(dim)
    return _prod_grad_1d(x, gk.expand(in_shape), dim)


def _prod_grad_1d(x, g, dim):
    # gradient of prod along dim, exact with zeros: product of everything left of i times everything right of i
    n = x._shape[dim]
    if n == 0:
        return g
    ones_shape = x._shape[:dim] + (1,) + x._shape[dim + 1:]
    one = ones(ones_shape, dtype=x._dtype, device=x._storage.device)
    left = cumprod(x.narrow(dim, 0, n - 1), dim) if n > 1 else None
    left = one if left is None else cat([one, left], dim)
    xr = x.flip(dim)
    right = cumprod(xr.narrow(dim, 0, n - 1), dim) if n > 1 else None
    right = one if right is None else cat([one, right], dim)
    return g * left * right.flip(dim)


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    x = input if dtype is None else input.to(dtype)
    od = x._dtype if x._dtype.is_floating_point else D.int64
    if dim is None:
        dims = tuple(range(x.dim()))
        if not dims:
            r = x.to(od) if od is not x._dtype else x.clone()
        else:
            r = raw_reduce("prod", x, dims, od)
        keep = False
    else:
        d = wrap_dim(dim, x.dim()) if x.dim() else None
        dims = (d,) if d is not None else ()
        r = raw_reduce("prod", x, dims, od) if dims else x.to(od).clone()
        keep = keepdim
    r = _finish(r, x, dims, keep)
    if GRAD_ENABLED[0] and x._requires_grad:   # on the result as returned: prod(dim, keepdim=True) reads ProdBackward1
        node = record("ProdBackward1" if dim is not None else "ProdBackward0", _prod_back, (x,), (r,),
                      attrs=(x._shape, dims[0] if dim is not None and dims else None, keep))
        node.save((x,))
    return _ip.write_out(out, r) if out is not None else r


# ---- max / min / argmax ------------------------------------------------------------------------------------

def _amax_back(ctx, g):
    x, y = ctx.saved_tensors
    in_shape, dims, keepdim = ctx.attrs
    yk = y if keepdim or not dims else y.reshape(_keepdim_shape(in_shape, dims))
    gk = g if keepdim or not dims else g.reshape(_keepdim_shape(in_shape, dims))
    mask = (x == yk)
    count = mask.sum(dims, keepdim=True) if dims else 1
    return gk * mask / count


def _extreme_all(op, input, dim, keepdim, name):
    """amax/amin (and max()/min() with no dim): values only, gradient shared evenly among ties."""
    if input.numel() == 0 and dim is None:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    dims = _reduce_dims(input, dim)
    for d in dims:
        if input._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input.numel() == 0 and not dims:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    r = _finish(raw_reduce(op, input, dims, input._dtype) if dims else input.clone(), input, dims, keepdim)
    if GRAD_ENABLED[0] and input._requires_grad:   # on the result as returned, as sum's
        node = record(name.capitalize() + "Backward0", _amax_back, (input,), (r,), attrs=(input._shape, dims, keepdim))
        node.save((input,), (r,))
    return r


def _same_dtype_out(input, out):
    if out is not None and out._dtype is not input._dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                           f"{D.scalar_type_name(input._dtype)} for input's dtype and "
                           f"{D.scalar_type_name(out._dtype)} for out's dtype.")


def amax(input, dim=(), keepdim=False, *, out=None):
    _same_dtype_out(input, out)
    r = _extreme_all("max", input, dim if dim != () else None, keepdim, "amax")
    return _ip.write_out(out, r) if out is not None else r


def amin(input, dim=(), keepdim=False, *, out=None):
    _same_dtype_out(input, out)
    r = _extreme_all("min", input, dim if dim != () else None, keepdim, "amin")
    return _ip.write_out(out, r) if out is not None else r


class _MinMaxResult(tuple):
    """torch.return_types.max / min: (values, indices) with names."""
    __slots__ = ()
    _name = "max"

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _named_result(name):
    return type(name, (_MinMaxResult,), {"_name": name, "__slots__": ()})


MaxResult = _named_result("max")
MinResult = _named_result("min")
SortResult = _named_result("sort")
TopkResult = _named_result("topk")
ModeResult = _named_result("mode")
KthvalueResult = _named_result("kthvalue")


def _index_back(ctx, g, gi=None):
    (idx,) = ctx.saved_tensors
    in_shape, d, keepdim = ctx.attrs
    if g is None:
        return None
    gk = g if keepdim else g.unsqueeze(d)
    ik = idx if keepdim else idx.unsqueeze(d)
    z = zeros(in_shape, dtype=g._dtype, device=g._storage.device)
    return z.scatter(d, ik, gk)


def _minmax_dim(op, input, dim, keepdim, name, result_cls):
    nd = input.dim()
    d = wrap_dim(dim, nd) if nd else None
    if d is None:
        vals, idx = input.clone(), _zeros_index(input)
        dims = ()
    else:
        if input._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        dims = (d,)
        vals, idx = raw_reduce(op + "_index", input, dims, input._dtype, with_index=True)
    vals, idx = _finish(vals, input, dims, keepdim), _finish(idx, input, dims, keepdim)
    if GRAD_ENABLED[0] and input._requires_grad and d is not None:   # on the results as returned, as sum's
        node = record(name.capitalize() + "Backward0", _index_back, (input,), (vals, None),
                      attrs=(input._shape, d, keepdim))
        node.save((idx,))
    return result_cls((vals, idx))


def _zeros_index(x):
    return zeros((), dtype=D.int64, device=x._storage.device)


def max(input, dim=None, keepdim=False, *, out=None):
    require_tensor("max", input, dim)
    if isinstance(dim, Tensor):
        return maximum(input, dim, out=out)
    if dim is None:
        r = rename_grad_fn(_extreme_all("max", input, None, False, "max"), "MaxBackward1")
        return _ip.write_out_exact(out, r)
    return _ip.write_outs(out, _minmax_dim("max", input, dim, keepdim, "max", MaxResult))


def min(input, dim=None, keepdim=False, *, out=None):
    require_tensor("min", input, dim)
    if isinstance(dim, Tensor):
        return minimum(input, dim, out=out)
    if dim is None:
        r = rename_grad_fn(_extreme_all("min", input, None, False, "min"), "MinBackward1")
        return _ip.write_out_exact(out, r)
    return _ip.write_outs(out, _minmax_dim("min", input, dim, keepdim, "min", MinResult))


def _arg(op, input, dim, keepdim, name):
    check(input._dtype is not D.bool_, lambda: f"{name}(): does not support bool input")
    if dim is None:
        if input.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        flat = input.reshape(-1)
        r = raw_reduce(op, flat, (0,), D.int64)
        return r.reshape((1,) * input.dim()) if keepdim else r
    nd = input.dim()
    if nd == 0:
        wrap_dim(dim, 0)
        return _zeros_index(input)
    d = wrap_dim(dim, nd)
    if input._shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    r = raw_reduce(op, input, (d,), D.int64)
    return _finish(r, input, (d,), keepdim)


def argmax(input, dim=None, keepdim=False, *, out=None):
    return _ip.write_out_exact(out, _arg("argmax", input, dim, keepdim, "argmax"))


def argmin(input, dim=None, keepdim=False, *, out=None):
    return _ip.write_out_exact(out, _arg("argmin", input, dim, keepdim, "argmin"))


def aminmax(input, *, dim=None, keepdim=False, out=None):
    if out is not None:
        for o in out:
            if o._dtype is not input._dtype:
                raise RuntimeError(f"Expected out tensor to have dtype {c_type_name(input._dtype)}, but got "
                                   f"{c_type_name(o._dtype)} instead")
    if input.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    d = dim if dim is not None else ()
    lo = _extreme_all("min", input, None if d == () else d, keepdim, "aminmax")
    hi = _extreme_all("max", input, None if d == () else d, keepdim, "aminmax")
    if out is not None:
        return AminmaxResult((_ip.write_out(out[0], lo), _ip.write_out(out[1], hi)))
    return AminmaxResult((lo, hi))


AminmaxResult = result_type("aminmax", ("min", "max"))


# ---- logical reductions ------------------------------------------------------------------------------------

def _bool_reduce(op, input, dim, keepdim):
    od = D.uint8 if input._dtype is D.uint8 else D.bool_  # PyTorch keeps uint8 for all/any
    dims = _reduce_dims(input, dim)
    if not dims:
        return (input != 0).to(od)
    r = _finish(raw_reduce(op, input, dims, D.bool_), input, dims, keepdim)
    return r.to(od) if od is not D.bool_ else r


def _bool_out(name, out, r):
    if out is None:
        return r
    check(out._dtype in (D.bool_, D.uint8), lambda: f"{name} only supports bool tensor for result, got: "
          f"{D.scalar_type_name(out._dtype)}")
    return _ip.write_out(out, r.to(out._dtype))


def all(input, dim=None, keepdim=False, *, out=None):
    return _bool_out("all", out, _bool_reduce("all", input, dim, keepdim))


def any(input, dim=None, keepdim=False, *, out=None):
    return _bool_out("any", out, _bool_reduce("any", input, dim, keepdim))


def count_nonzero(input, dim=None):
    dims = _reduce_dims(input, dim)
    if not dims:
        return (input != 0).to(D.int64)
    return raw_reduce("count_nonzero", input, dims, D.int64)


# ---- statistics --------------------------------------------------------------------------------------------

def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var(name, input, dim, unbiased, keepdim, correction):
    """var of input, warning as PyTorch does (as op `name`) when no degree of freedom is left."""
    if not input._dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    c = _correction(unbiased, correction)
    dims = _reduce_dims(input, dim)
    n = 1
    for d in dims:
        n *= input._shape[d]
    if n - c <= 0:
        warn_at_caller(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                       "factor (input numel divided by output numel).")
    mu = mean(input, dims, keepdim=True) if dims else input
    dev = input - mu
    ss = sum(dev * dev, dims, keepdim) if dims else dev * dev
    denom = n - c
    r = ss / denom if denom > 0 else ss / 0.0 if denom == 0 else ss * float("nan")
    if denom < 0:
        r = ss * float("nan")
    return rename_grad_fn(r, "VarBackward0")


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    r = _var("var", input, dim, unbiased, keepdim, correction)
    return _ip.write_out(out, r) if out is not None else r


def _std(name, input, dim, unbiased, keepdim, correction):
    return rename_grad_fn(_var(name, input, dim, unbiased, keepdim, correction).sqrt(), "StdBackward0")


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    r = _std("std", input, dim, unbiased, keepdim, correction)
    return _ip.write_out(out, r) if out is not None else r


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return _var("var_mean", input, dim, unbiased, keepdim, correction), mean(input, _none_dims(dim), keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    return _std("std_mean", input, dim, unbiased, keepdim, correction), mean(input, _none_dims(dim), keepdim)


def _none_dims(dim):
    return None if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0) else dim


def logsumexp(input, dim, keepdim=False, *, out=None):
    x = input if input._dtype.is_floating_point else input.to(D.get_default_dtype())
    dims = _reduce_dims(x, dim)
    if x.numel() == 0:
        return sum(x.exp(), dims, keepdim).log()
    if not dims:
        return x.clone()
    m = raw_reduce("max", x.detach(), dims, x._dtype)
    mk = m.view(_keepdim_shape(x._shape, dims))
    mk = mk.masked_fill(mk.isinf(), 0)
    r = sum((x - mk).exp(), dims, keepdim=True).log() + mk
    r = r if keepdim else r.reshape(tuple(s for i, s in enumerate(x._shape) if i not in dims))
    rename_grad_fn(r, "LogsumexpBackward0")
    return _ip.write_out(out, r) if out is not None else r


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, out=None):
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("torch_js: nuclear norm is not implemented")
    return linalg_ops.vector_norm(input, p, dim, keepdim, dtype=dtype, out=out)  # declared by ops/linalg, above


# ---- softmax -----------------------------------------------------------------------------------------------

def _softmax_back(ctx, g):
    (y,) = ctx.saved_tensors
    dim, log = ctx.attrs
    if log:
        return g - y.exp() * g.sum(dim, keepdim=True)
    return y * (g - (g * y).sum(dim, keepdim=True))


def _softmax(input, dim, dtype, log, name):
    x = input if dtype is None else input.to(dtype)
    if not x._dtype.is_floating_point:
        lastdim = dim is None or dim in (-1, x.dim() - 1)   # PyTorch's kernel names differ by the dim reduced
        raise not_implemented_for(f"{name}_lastdim_kernel_impl" if lastdim else f"{name}_kernel_impl", x._dtype)
    nd = x.dim()
    if dim is None:
        dim = 0 if nd in (0, 1, 3) else 1
    d = wrap_dim(dim, nd) if nd else 0
    if nd == 0:
        r = zeros_like(x) if log else ones_like(x)
        if GRAD_ENABLED[0] and x._requires_grad:
            record("SoftmaxBackward0", lambda ctx, g: g * 0, (x,), (r,))
        return r
    last = d == nd - 1
    src = x.detach() if last else x.detach().movedim(d, -1)
    src = src.contiguous()
    half = src._dtype in (D.float16, D.bfloat16)
    work = src.to(D.float32) if half else src
    y = _empty(work._shape, work._dtype, work._storage.device)
    y._storage.backend.softmax(y, work, log)
    if half:
        y = y.to(src._dtype)
    if not last:
        y = y.movedim(-1, d).contiguous()
    if GRAD_ENABLED[0] and x._requires_grad:
        node = record("LogSoftmaxBackward0" if log else "SoftmaxBackward0", _softmax_back, (x,), (y,),
                      attrs=(d, log))
        node.save((), (y,))
    return y


def softmax(input, dim=None, dtype=None, *, _stacklevel=3, out=None):
    require_args(() if dim is None else (dim,), "softmax", "dim")   # (torch.softmax takes no implicit dim)
    return _ip.write_out_exact(out, _softmax(input, dim, dtype, False, "softmax"))


def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3, out=None):
    require_args(() if dim is None else (dim,), "log_softmax", "dim")
    return _ip.write_out_exact(out, _softmax(input, dim, dtype, True, "log_softmax"))


# ---- scans -------------------------------------------------------------------------------------------------

def _cum(op, input, dim, dtype):
    x = input if dtype is None else input.to(dtype)
    if not x._dtype.is_floating_point and dtype is None:
        x = x.to(D.int64)
    nd = x.dim()
    if nd == 0:
        wrap_dim(dim, 0)
        return x, 0, x.detach().clone()
    d = wrap_dim(dim, nd)
    xc = x.detach().contiguous()
    half = xc._dtype in (D.float16, D.bfloat16) or (not xc._dtype.is_floating_point and xc._dtype is not D.int64)
    work = (xc.to(D.float32) if xc._dtype.is_floating_point else xc.to(D.int64)) if half else xc
    outer = numel_of(x._shape[:d])
    inner = numel_of(x._shape[d + 1:])
    y = _empty(x._shape, work._dtype, x._storage.device)
    if y.numel():
        y._storage.backend.cumulative(op, y, work, outer, x._shape[d], inner)
    if half:
        y = y.to(xc._dtype)
    return x, d, y


def _cumsum_back(ctx, g):
    d = ctx.attrs
    return g.flip(d).cumsum(d).flip(d)


def cumsum(input, dim, *, dtype=None, out=None):
    x, d, y = _cum("sum", input, dim, dtype)
    if GRAD_ENABLED[0] and x._requires_grad:
        record("CumsumBackward0", _cumsum_back if x.dim() else identity_backward, (x,), (y,), attrs=d)
    return _ip.write_out(out, y) if out is not None else y


def _cumprod_back(ctx, g):
    x, y = ctx.saved_tensors
    d = ctx.attrs
    n = x._shape[d]
    # exact for inputs with zeros: d y_j / d x_i = prod_{k<=j, k!=i} x_k, accumulated per position
    result = []
    for i in range(n):
        xi = x.narrow(d, i, 1)
        rest = x.narrow(d, i + 1, n - i - 1)
        left = y.narrow(d, i - 1, 1) if i > 0 else ones(xi._shape, dtype=x._dtype, device=x._storage.device)
        tail = cat([ones(xi._shape, dtype=x._dtype, device=x._storage.device), rest], d).cumprod(d)
        result.append((g.narrow(d, i, n - i) * tail).sum(d, keepdim=True) * left)
    return cat(result, d) if n else g


def cumprod(input, dim, *, dtype=None, out=None):
    x, d, y = _cum("prod", input, dim, dtype)
    if GRAD_ENABLED[0] and x._requires_grad:
        node = record("CumprodBackward0", _cumprod_back if x.dim() else identity_backward, (x,), (y,), attrs=d)
        node.save((x,), (y,))
    return _ip.write_out(out, y) if out is not None else y


def _register_all():
    R = "reduction"

    def reduce_op(name, fn, derivative, dtype="reduction", primitive="reduce", inplace=None):
        register(name, fn, R, primitive=primitive, dtype=dtype, derivative=derivative, inplace=inplace)

    reduce_op("sum", sum, backward(_sum_back))
    reduce_op("prod", prod, backward(_prod_back))
    reduce_op("amax", amax, backward(_amax_back))
    reduce_op("amin", amin, backward(_amax_back))
    # max/min: over everything as amax/amin, along a dim with indices, or elementwise against a tensor (maximum)
    reduce_op("max", max, backward(_amax_back, _index_back))
    reduce_op("min", min, backward(_amax_back, _index_back))
    reduce_op("aminmax", aminmax, backward(_amax_back))
    reduce_op("argmax", argmax, NOT_DIFFERENTIABLE, dtype="index")
    reduce_op("argmin", argmin, NOT_DIFFERENTIABLE, dtype="index")
    reduce_op("all", all, NOT_DIFFERENTIABLE, dtype="logical")
    reduce_op("any", any, NOT_DIFFERENTIABLE, dtype="logical")
    reduce_op("count_nonzero", count_nonzero, NOT_DIFFERENTIABLE, dtype="index")
    # the max that shifts the exponentials is a constant (computed on the detached input); the gradient comes
    # from the ops the rest is written in
    reduce_op("logsumexp", logsumexp, COMPOSITE, dtype="float")
    reduce_op("softmax", softmax, backward(_softmax_back), dtype="softmax", primitive="softmax")
    reduce_op("log_softmax", log_softmax, backward(_softmax_back), dtype="softmax", primitive="softmax")
    reduce_op("cumsum", cumsum, backward(_cumsum_back, identity_backward), primitive="cumulative",
              inplace=lambda self, dim, *, dtype=None: _ip.inplace_from(self, cumsum(self, dim, dtype=dtype)))
    reduce_op("cumprod", cumprod, backward(_cumprod_back, identity_backward), primitive="cumulative",
              inplace=lambda self, dim, *, dtype=None: _ip.inplace_of(self, cumprod, dim, dtype=dtype))
    for name, fn in [("nansum", nansum), ("mean", mean), ("nanmean", nanmean), ("var", var), ("std", std),
                     ("norm", norm)]:
        register(name, fn, R, dtype="reduction")
    for name, fn in [("var_mean", var_mean), ("std_mean", std_mean)]:
        register(name, fn, R, dtype="reduction", method=False)   # functions only, as in PyTorch
    register("sum_to_size", sum_to_size, R, dtype="same", function=False, opinfo=())


_register_all()
