"""Sorting, selection and search: sort/argsort/msort, topk, kthvalue, median/nanmedian, mode, unique,
unique_consecutive, searchsorted/bucketize, isin, cummax/cummin, logcumsumexp.

One backend primitive family (`sort_rows`, wasm_ext/sort.c) sorts or selects along the last dim of a contiguous
[outer, n] buffer; ops move the dim last, copy, call it once and move the dim back. The kernel transcribes the
algorithms ATen uses, so the index order among ties matches PyTorch CPU. Derivatives scatter the gradient back
through the returned indices (gather/scatter ops, so they differentiate again).
"""
from .. import _dtype as D
from .._tensor import Tensor, _empty, numel_of, wrap_dim
from ._registry import NOT_DIFFERENTIABLE, backward, register
from ._util import GRAD_ENABLED, check, not_implemented_for, record, same_device
from . import inplace as _ip
from .creation import arange, full, ones, tensor, zeros
from .reduction import KthvalueResult, ModeResult, SortResult, TopkResult, _named_result
from .shape import cat

MedianResult = _named_result("median")
NanmedianResult = _named_result("nanmedian")
CummaxResult = _named_result("cummax")
CumminResult = _named_result("cummin")


# ---- the primitive, on any device ---------------------------------------------------------------------------

def _rows_kernel(op, x, d, descending=False, sorted=True, k=0):
    """Kernel along dim d of x (ndim >= 1): (values, indices) with dim d of size n / k / 1. No autograd."""
    n = x._shape[d]
    nd = x.dim()
    last = d == nd - 1
    src = x.detach()
    if not last:
        src = src.movedim(d, -1)
    src = src.contiguous()
    dev = x._storage.device
    kout = n if op in ("stable", "sort") else (k if op == "topk" else 1)
    shape = src._shape[:-1] + (kout,)
    v = _empty(shape, x._dtype, dev)
    i = _empty(shape, D.int64, dev)
    src._storage.backend.sort_rows(op, v, i, src, n, descending, sorted, k)
    if not last:
        v = v.movedim(-1, d).contiguous()
        i = i.movedim(-1, d).contiguous()
    return v, i


def _scatter_back(ctx, g, gi=None):
    """d(values)/d(input) for values = input.gather(d, indices) (keepdim=False squeezed dim re-added)."""
    (idx,) = ctx.saved_tensors
    in_shape, d, squeezed = ctx.attrs
    if g is None:
        return None
    if squeezed:
        g = g.unsqueeze(d)
        idx = idx.unsqueeze(d)
    if not in_shape:
        return g.reshape(())
    return zeros(in_shape, dtype=g._dtype, device=g._storage.device).scatter(d, idx, g)


def _record_select(name, x, vals, idx, d, squeezed=False):
    if GRAD_ENABLED[0] and x._requires_grad and x._dtype.is_floating_point:
        node = record(name, _scatter_back, (x,), (vals, None), attrs=(x._shape, d, squeezed))
        node.save((idx,))


def _not_impl(x, kernel, allowed_bool=False, float_only=False):
    d = x._dtype
    if (d is D.bool_ and not allowed_bool) or (float_only and not d.is_floating_point):
        raise not_implemented_for(kernel, d)


def _zero_index(x):
    return zeros((), dtype=D.int64, device=x._storage.device)


def _write_pair(out, v, i, inp=None):
    if out is None:
        return v, i
    check(isinstance(out, (tuple, list)) and len(out) == 2, "out must be a tuple of two tensors", TypeError)
    if inp is not None:
        for o in out:
            _ip.check_writable(o, inp, any_overlap=True)
    return _ip.write_out(out[0], v), _ip.write_out(out[1], i)


# ---- sort ----------------------------------------------------------------------------------------------------

def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    if isinstance(dim, bool) and not isinstance(descending, bool):  # sort(x, stable, dim=...) is not valid
        pass
    nd = input.dim()
    if nd == 0:
        wrap_dim(dim, 0)
        v, i = input.clone(), _zero_index(input)
        return SortResult(_write_pair(out, v, i, input))
    d = wrap_dim(dim, nd)
    v, i = _rows_kernel("stable" if stable else "sort", input, d, descending)
    _record_select("SortBackward0", input, v, i, d)
    return SortResult(_write_pair(out, v, i, input))


def argsort(input, dim=-1, descending=False, stable=False):
    nd = input.dim()
    if nd == 0:
        wrap_dim(dim, 0)
        return _zero_index(input)
    d = wrap_dim(dim, nd)
    return _rows_kernel("stable" if stable else "sort", input, d, descending)[1]


def msort(input, *, out=None):
    r = sort(input, 0)[0]
    return _ip.write_out(out, r) if out is not None else r


# ---- topk / kthvalue -----------------------------------------------------------------------------------------

def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    check(input._dtype is not D.bool_, "topk does not support bool dtypes on CPU")
    nd = input.dim()
    d = wrap_dim(dim, nd) if nd else (wrap_dim(dim, 0) or 0)
    n = input._shape[d] if nd else 1
    check(0 <= k <= n, "selected index k out of range")
    if nd == 0:
        v = input.clone() if k else input.reshape(1)[:0].clone()
        i = _zero_index(input) if k else _empty((0,), D.int64, input._storage.device)
        if k:
            _record_select("TopkBackward0", input, v, i, 0)
        return TopkResult(_write_pair(out, v, i, input))
    v, i = _rows_kernel("topk", input, d, largest, sorted, k)
    _record_select("TopkBackward0", input, v, i, d)
    return TopkResult(_write_pair(out, v, i, input))


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    _not_impl(input, "kthvalue_cpu")
    nd = input.dim()
    d = wrap_dim(dim, nd) if nd else (wrap_dim(dim, 0) or 0)
    n = input._shape[d] if nd else 1
    if not (1 <= k <= n):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if nd == 0:
        v, i = input.clone(), _zero_index(input)
        _record_select("KthvalueBackward0", input, v, i, 0)
        return KthvalueResult(_write_pair(out, v, i, input))
    v, i = _rows_kernel("kthvalue", input, d, k=k)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    _record_select("KthvalueBackward0", input, v, i, d, squeezed=not keepdim)
    return KthvalueResult(_write_pair(out, v, i, input))


# ---- median / nanmedian / mode -------------------------------------------------------------------------------

def _median_pick(x, d, ignore_nan):
    """(values, indices) keepdim along d: the lower median by a stable ascending sort (NaN last)."""
    v, i = _rows_kernel("stable", x, d)
    n = x._shape[d]
    if x._dtype.is_floating_point:
        nnan = x.detach().isnan().sum(d, keepdim=True)
    else:
        nnan = zeros(tuple(1 if j == d else s for j, s in enumerate(x._shape)), dtype=D.int64,
                     device=x._storage.device)
    if ignore_nan:
        pos = (n - nnan - 1).clamp(min=0).div(2, rounding_mode="floor")
    else:
        pos = (nnan * 0 + (n - 1) // 2).where(nnan == 0, n - nnan)
    return v.gather(d, pos), i.gather(d, pos)


def _even_back(ctx, g):
    x, y = ctx.saved_tensors
    mask = (x == y)
    if x._dtype.is_floating_point:
        mask = mask | (x.isnan() & y.isnan())
    return g * mask / mask.sum()


def _median_all(input, ignore_nan, name):
    x = input.reshape(-1)
    if x.numel() == 0:
        r = full((), float("nan"), dtype=input._dtype, device=input._storage.device)
    else:
        r = _median_pick(x, 0, ignore_nan)[0].reshape(())
    if GRAD_ENABLED[0] and input._requires_grad and input._dtype.is_floating_point:
        node = record(name, _even_back, (input,), (r,))
        node.save((input,), (r,))
    return r


def _median_dim(input, dim, keepdim, ignore_nan, name, cls, out):
    nd = input.dim()
    if nd == 0:
        wrap_dim(dim, 0)
        v, i = input.clone(), _zero_index(input)
        _record_select(name, input, v, i, 0)
        return cls(_write_pair(out, v, i, input))
    d = wrap_dim(dim, nd)
    check(input._shape[d] > 0, lambda: f"{name[:-9].lower()}(): Expected reduction dim {d} to have non-zero size.",
          IndexError)
    v, i = _median_pick(input, d, ignore_nan)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    _record_select(name, input, v, i, d, squeezed=not keepdim)
    return cls(_write_pair(out, v, i, input))


def median(input, dim=None, keepdim=False, *, out=None):
    _not_impl(input, "median_cpu" if dim is None else "median_out")
    if dim is None:
        r = _median_all(input, False, "MedianBackward0")
        return _ip.write_out(out, r) if out is not None else r
    return _median_dim(input, dim, keepdim, False, "MedianBackward1", MedianResult, out)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    _not_impl(input, "median_cpu" if dim is None else "median_out")
    if dim is None:
        r = _median_all(input, True, "NanmedianBackward0")
        return _ip.write_out(out, r) if out is not None else r
    return _median_dim(input, dim, keepdim, True, "NanmedianBackward1", NanmedianResult, out)


def mode(input, dim=-1, keepdim=False, *, out=None):
    nd = input.dim()
    if nd == 0:
        wrap_dim(dim, 0)
        v, i = input.clone(), _zero_index(input)
        _record_select("ModeBackward0", input, v, i, 0)
        return ModeResult(_write_pair(out, v, i, input))
    d = wrap_dim(dim, nd)
    if input._shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    v, i = _rows_kernel("mode", input, d)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    _record_select("ModeBackward0", input, v, i, d, squeezed=not keepdim)
    return ModeResult(_write_pair(out, v, i, input))


# ---- unique --------------------------------------------------------------------------------------------------

def _groups(keys_sorted_change, n, dev):
    """From a bool mask `change` (len n-1: element j+1 starts a new group) -> (group id per position, starts)."""
    first = ones(1, dtype=D.bool_, device=dev)
    starts_mask = cat([first, keys_sorted_change]) if n else keys_sorted_change
    gid = starts_mask.to(D.int64).cumsum(0) - 1
    starts = starts_mask.nonzero().reshape(-1)
    return gid, starts


def _counts_from_starts(starts, n):
    ends = cat([starts[1:], tensor([n], dtype=D.int64, device=starts._storage.device)])
    return ends - starts


def _unique_flat(x, consecutive, return_inverse, return_counts):
    dev = x._storage.device
    flat = x.reshape(-1)
    n = flat._shape[0]
    if consecutive:
        vals, perm = flat, None
    else:
        vals, perm = _rows_kernel("stable", flat, 0)
    if n == 0:
        u = vals.clone()
        inv = zeros(x._shape, dtype=D.int64, device=dev)
        cnt = zeros((0,), dtype=D.int64, device=dev)
        return u, inv, cnt
    change = vals[1:] != vals[:-1]
    gid, starts = _groups(change, n, dev)
    u = vals.index_select(0, starts)
    inv = cnt = None
    if return_inverse:
        if perm is None:
            inv = gid.reshape(x._shape)
        else:
            inv = zeros((n,), dtype=D.int64, device=dev).scatter(0, perm, gid).reshape(x._shape)
    if return_counts:
        cnt = _counts_from_starts(starts, n)
    return u, inv, cnt


def _unique_dim(x, dim, consecutive, return_inverse, return_counts):
    dev = x._storage.device
    d = wrap_dim(dim, x.dim())
    moved = x.movedim(d, 0)
    n = moved._shape[0]
    rows = moved.reshape(n, -1) if n else moved.reshape(0, numel_of(moved._shape[1:]))
    if n == 0:
        # PyTorch: unique of an empty dim gives the empty input back
        u = x.clone()
        return u, zeros((0,), dtype=D.int64, device=dev), zeros((0,), dtype=D.int64, device=dev)
    perm = arange(n, device=dev)
    if not consecutive:
        # lexicographic order: stable sorts from the last column to the first
        m = rows._shape[1]
        for c in range(m - 1, -1, -1):
            col = rows.select(1, c).index_select(0, perm)
            perm = perm.index_select(0, _rows_kernel("stable", col, 0)[1])
    srt = rows.index_select(0, perm)
    if rows._shape[1]:
        change = (srt[1:] != srt[:-1]).any(1)
    else:
        change = zeros((n - 1,), dtype=D.bool_, device=dev)
    gid, starts = _groups(change, n, dev)
    u = moved.index_select(0, perm.index_select(0, starts)).movedim(0, d)
    inv = zeros((n,), dtype=D.int64, device=dev).scatter(0, perm, gid) if return_inverse else None
    cnt = _counts_from_starts(starts, n) if return_counts else None
    return u, inv, cnt


def _unique_result(u, inv, cnt, return_inverse, return_counts):
    if return_inverse and return_counts:
        return u, inv, cnt
    if return_inverse:
        return u, inv
    if return_counts:
        return u, cnt
    return u


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        u, inv, cnt = _unique_flat(input.detach(), False, return_inverse, return_counts)
    else:
        u, inv, cnt = _unique_dim(input.detach(), dim, False, return_inverse, return_counts)
    return _unique_result(u, inv, cnt, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    if dim is None:
        u, inv, cnt = _unique_flat(input.detach(), True, return_inverse, return_counts)
    else:
        u, inv, cnt = _unique_dim(input.detach(), dim, True, return_inverse, return_counts)
    return _unique_result(u, inv, cnt, return_inverse, return_counts)


# ---- searchsorted / bucketize --------------------------------------------------------------------------------

def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    if side is not None:
        check(side in ("left", "right"), f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        check(not (right and side == "left"), "torch.searchsorted(): side and right can't be set to opposites, got "
              "side of left while right was True")
        right = side == "right"
    if out is not None and isinstance(out, Tensor) and out._dtype is not (D.int32 if out_int32 else D.int64):
        raise RuntimeError("torch.searchsorted(): output tensor's dtype is wrong, it can only be Int(int32) or "
                           "Long(int64) depending on whether out_int32 flag is True, but we got output tensor's dtype "
                           f"{D.scalar_type_name(out._dtype)} and out_int32 flag is {bool(out_int32)}")
    seq = sorted_sequence
    scalar = not isinstance(input, Tensor)
    vals = tensor(input, device=seq._storage.device) if scalar else input
    same_device(seq, vals)
    check(seq.dim() >= 1, "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
          "dimension")
    if seq.dim() > 1:
        check(not scalar and seq._shape[:-1] == vals._shape[:-1],
              lambda: "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
              f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
              f"{list(seq._shape)} and input value tensor {list(vals._shape)}")
    if sorter is not None:
        check(sorter._dtype is D.int64, "torch.searchsorted(): sorter must be a tensor of long dtype.")
        check(sorter._shape == seq._shape, lambda: f"torch.searchsorted(): boundary and sorter must have the same "
              f"size, but got boundary tensor {list(seq._shape)}and got sorter tensor {list(sorter._shape)}")
        seq = seq.gather(-1, sorter)
    cd = D.promote_types(seq._dtype, vals._dtype) if not scalar else seq._dtype
    _not_impl(vals if not scalar else seq, "searchsorted_out_cpu")
    if scalar and isinstance(input, float) and not cd.is_floating_point:
        cd = D.get_default_dtype()
    kd = seq._storage.backend.wide_float if cd.is_floating_point else D.int64
    b = seq.detach().to(cd).to(kd).contiguous()
    v = vals.detach().to(cd).to(kd).contiguous()
    nb = b._shape[-1]
    shared = b.dim() == 1
    nv = v._shape[-1] if (v.dim() and not shared) else v.numel()
    rows = (v.numel() // nv if nv else 0) if not shared else 1
    if not shared:
        rows = numel_of(b._shape[:-1])
    res = _empty(v._shape, D.int64, v._storage.device)
    if res.numel():
        b._storage.backend.searchsorted(res, b, v, rows, nb, nv, right, shared)
    if out_int32:
        res = res.to(D.int32)
    if out is not None:
        return _ip.write_out(out, res)
    return res


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    check(boundaries.dim() == 1, lambda: f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


# ---- cummax / cummin / logcumsumexp --------------------------------------------------------------------------

def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element occurs in test_elements (a binary search of the sorted test elements), in the two
    arguments' promoted dtype; either may be a Python scalar. NaN is in nothing."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
                        f"{type(test_elements).__name__}), but expected one of: (Tensor elements, Tensor "
                        "test_elements, ...)")
    like = elements if isinstance(elements, Tensor) else test_elements
    for t in (elements, test_elements):
        if isinstance(t, Tensor):
            check(not (t._dtype is D.bool_ or t._dtype.is_complex), lambda: "Unsupported input type encountered for "
                  f"isin(): {D.scalar_type_name(t._dtype)}")
    dims = [t._dtype for t in (elements, test_elements) if isinstance(t, Tensor) and t.dim()]
    zero = [t._dtype for t in (elements, test_elements) if isinstance(t, Tensor) and not t.dim()]
    scalars = [v for v in (elements, test_elements) if not isinstance(v, Tensor)]
    cd = D.result_type_of(dims, zero, scalars)
    dev = like._storage.device
    el = (elements if isinstance(elements, Tensor) else tensor(elements, device=dev)).detach().to(cd)
    test = (test_elements if isinstance(test_elements, Tensor) else tensor(test_elements, device=dev))
    test = test.detach().to(cd).reshape(-1)
    if cd.is_floating_point:
        test = test[test.isnan().logical_not()]   # NaN equals nothing (and would spoil the binary search)
    test = test.sort().values
    if test.numel() == 0:
        found = zeros(el._shape, dtype=D.bool_, device=dev)
    else:
        pos = searchsorted(test, el.contiguous()).clamp(max=test.numel() - 1)
        found = test[pos] == el
    return found.logical_not() if invert else found


def _cumext_back(ctx, g, gi=None):
    (idx,) = ctx.saved_tensors
    in_shape, d = ctx.attrs
    if g is None:
        return None
    if not in_shape:
        return g
    return zeros(in_shape, dtype=g._dtype, device=g._storage.device).scatter_add(d, idx, g)


def _cumext(op, input, dim, cls, name, out):
    nd = input.dim()
    dev = input._storage.device
    if nd == 0:
        wrap_dim(dim, 0)
        v, i = input.clone(), _zero_index(input)
        d = 0
    else:
        d = wrap_dim(dim, nd)
        x = input.detach().contiguous()
        v = _empty(x._shape, x._dtype, dev)
        i = _empty(x._shape, D.int64, dev)
        if x.numel():
            x._storage.backend.cumext(op, v, i, x, numel_of(x._shape[:d]), x._shape[d], numel_of(x._shape[d + 1:]))
    if GRAD_ENABLED[0] and input._requires_grad and input._dtype.is_floating_point:
        node = record(name, _cumext_back, (input,), (v, None), attrs=(input._shape, d))
        node.save((i,))
    return cls(_write_pair(out, v, i, input))


def cummax(input, dim, *, out=None):
    return _cumext("max", input, dim, CummaxResult, "CummaxBackward0", out)


def cummin(input, dim, *, out=None):
    return _cumext("min", input, dim, CumminResult, "CumminBackward0", out)


def _lcse_back(ctx, g):
    x, y = ctx.saved_tensors
    d = ctx.attrs
    if x.dim() == 0:
        return g
    # ATen's logcumsumexp_backward: positive and negative parts of g in log space, reverse scans
    lowest = D.finfo(g._dtype).min
    log_abs = g.abs().log()
    lpos = log_abs.where(g > 0, lowest)
    lneg = log_abs.where(g < 0, lowest)

    def rev(t):
        return logcumsumexp(t.flip(d), d).flip(d)

    return (rev(lpos - y) + x).exp() - (rev(lneg - y) + x).exp()


def logcumsumexp(input, dim, *, out=None):
    _not_impl(input, "logcumsumexp_out_cpu", float_only=True)
    x = input
    nd = x.dim()
    dev = x._storage.device
    if nd == 0:
        wrap_dim(dim, 0)
        d = 0
        y = x.detach().clone()
    else:
        d = wrap_dim(dim, nd)
        xc = x.detach().contiguous()
        y = _empty(xc._shape, xc._dtype, dev)
        if xc.numel():
            xc._storage.backend.logcumsumexp(y, xc, numel_of(xc._shape[:d]), xc._shape[d],
                                             numel_of(xc._shape[d + 1:]))
    if GRAD_ENABLED[0] and x._requires_grad:
        node = record("LogcumsumexpBackward0", _lcse_back, (x,), (y,), attrs=d)
        node.save((x,), (y,))
    return _ip.write_out(out, y) if out is not None else y


# ---- registration --------------------------------------------------------------------------------------------

def _register_all():
    K = "sort"
    select = backward(_scatter_back)  # values = input.gather(dim, indices): the gradient scatters back
    register("sort", sort, K, primitive="sort_rows", dtype="any", derivative=select)
    register("argsort", argsort, K, primitive="sort_rows", dtype="index", derivative=NOT_DIFFERENTIABLE)
    register("msort", msort, K, dtype="any")
    register("topk", topk, K, primitive="sort_rows", dtype="any", derivative=select)
    register("kthvalue", kthvalue, K, primitive="sort_rows", dtype="any", derivative=select)
    # over everything the gradient is shared among the elements equal to the median, along a dim it scatters
    register("median", median, K, primitive="sort_rows", dtype="any", derivative=backward(_even_back, _scatter_back))
    register("nanmedian", nanmedian, K, primitive="sort_rows", dtype="any",
             derivative=backward(_even_back, _scatter_back))
    register("mode", mode, K, primitive="sort_rows", dtype="any", derivative=select)
    register("unique", unique, K, primitive="sort_rows", dtype="any", derivative=NOT_DIFFERENTIABLE)
    register("unique_consecutive", unique_consecutive, K, dtype="any", derivative=NOT_DIFFERENTIABLE)
    register("searchsorted", searchsorted, K, primitive="searchsorted", dtype="index", derivative=NOT_DIFFERENTIABLE,
             method=False)
    register("bucketize", bucketize, K, dtype="index", derivative=NOT_DIFFERENTIABLE, method=False)
    register("isin", isin, K, dtype="bool", derivative=NOT_DIFFERENTIABLE, method=False)
    register("cummax", cummax, K, primitive="cumext", dtype="any", derivative=backward(_cumext_back))
    register("cummin", cummin, K, primitive="cumext", dtype="any", derivative=backward(_cumext_back))
    register("logcumsumexp", logcumsumexp, K, primitive="logcumsumexp", dtype="same", derivative=backward(_lcse_back))


_register_all()
