"""The COO kernels of ops declared for strided tensors: what torch.add, Tensor.t, x * 2, ... do when an operand is a
COO tensor (ops/_api.LAYOUT_KERNELS routes them here). Arithmetic, copies and conversions, transposes, the
zero-preserving elementwise functions, sums; matrix products are in _matmul.py.

Functions of the values alone (x * 2, x.sin(), ...) keep the pattern and differentiate through the function on the
values (values_map); ops that combine patterns (sparse + sparse, sparse * sparse, dense + sparse) record their own
nodes, with PyTorch's names.
"""
from .. import _dtype as D
from .._grad_mode import GRAD_ENABLED, enable_grad, no_grad
from .._tensor import NotStridedError, Tensor, sparse_coo
from ..autograd.engine import grad as autograd_grad
from ..ops._api import LAYOUT_KERNELS
from ..ops._util import broadcast_shapes, check, identity_backward, record
from ..ops._registry import torch_ops
from ..ops.convert import _parse_to
from ._coo import coalesced_parts, gather_at, linear_index
from ._layout import CooParts, make_coo, replace_parts


def kernel(*names):
    """Declare fn as the COO kernel of the ops `names` (their public names; "add_" for the in-place variant)."""
    def declare(fn):
        for name in names:
            LAYOUT_KERNELS[("torch", name)] = fn
        return fn
    return declare


def _sparse(t):
    return isinstance(t, Tensor) and t._sparse is not None


def sparse_error(message):
    """PyTorch's RuntimeError for an op it refuses on sparse tensors, as a NotStridedError (a RuntimeError too), so an
    op that reached it inside another op's code is named by the outer op (ops/_api.layout_kernel)."""
    e = NotStridedError(sparse_coo)
    e.args = (message,)
    return e


def _no_inplace_history(self, name):
    check(not (GRAD_ENABLED[0] and self._requires_grad), lambda: f"torch_js: in-place {name} on a sparse tensor that "
          "requires grad is not supported (use the out-of-place op)")


# ---- functions of the values -------------------------------------------------------------------------------------

def _linear_map_back(ctx, g):
    fn = ctx.attrs
    if g._sparse is None:
        return fn(g)
    p = g._sparse
    return make_coo(p.indices, fn(p.values), g._shape, p.coalesced)


def scaled(self, fn, name):
    """values_map for fn linear in the values (x * 2, x / 3, -x): the gradient is fn of the incoming gradient, which
    keeps the gradient's own pattern (PyTorch's backward of these ops)."""
    p = self._sparse
    with no_grad():
        out = make_coo(p.indices, fn(p.values), self._shape, p.coalesced)
    if GRAD_ENABLED[0] and self._requires_grad:
        record(name, _linear_map_back, (self,), (out,), attrs=fn)
    return out


def _values_map_back(ctx, g):
    indices, shape, coalesced, v, out_v = ctx.attrs
    gv = gather_at(g, indices, shape)
    (gin,) = autograd_grad(out_v, v, gv.to(out_v._dtype), retain_graph=True, create_graph=GRAD_ENABLED[0])
    # flagged coalesced as g is: PyTorch's backward computes on g (a sparse_mask result is not flagged)
    return make_coo(indices, gin, shape, coalesced and g._sparse is not None and g._sparse.coalesced)


def values_map(self, fn, name, dtype=None):
    """The COO tensor with self's pattern and fn(values) (fn maps 0 to 0); its gradient is fn's on the values."""
    p = self._sparse
    if GRAD_ENABLED[0] and self._requires_grad:
        v = p.values.detach().requires_grad_()
        with enable_grad():
            out_v = fn(v)
        out = make_coo(p.indices, out_v.detach(), self._shape, p.coalesced)
        record(name, _values_map_back, (self,), (out,), attrs=(p.indices, self._shape, p.coalesced, v, out_v))
        return out
    with no_grad():
        return make_coo(p.indices, fn(p.values), self._shape, p.coalesced)


_UNARY = ("abs", "absolute", "asin", "asinh", "atan", "atanh", "ceil", "deg2rad", "erf", "erfinv", "expm1", "floor",
          "frac", "log1p", "neg", "negative", "rad2deg", "relu", "round", "sgn", "sign", "sin", "sinh", "sqrt",
          "square", "tan", "tanh", "trunc", "fix", "signbit", "isnan", "isinf", "nan_to_num")


def _unary_kernel(name):
    grad_name = {"absolute": "AbsBackward0", "negative": "NegBackward0", "fix": "TruncBackward0"}.get(
        name, "".join(w.capitalize() for w in name.split("_")) + "Backward0")

    linear = name in ("neg", "negative")   # the others are not additive: PyTorch coalesces first

    def unary(self, *args, **kwargs):
        kwargs.pop("out", None)
        if linear:
            return scaled(self, lambda v: getattr(v, name)(*args, **kwargs), grad_name)
        return values_map(self.coalesce(), lambda v: getattr(v, name)(*args, **kwargs), grad_name)
    unary.__name__ = name
    return unary


for _name in _UNARY:
    kernel(_name)(_unary_kernel(_name))


@kernel("pow")
def pow(self, exponent):
    check(_sparse(self) and (not isinstance(exponent, Tensor) or (not _sparse(exponent) and exponent.dim() == 0)),
          "pow: only a sparse tensor to a scalar power is supported")
    return values_map(self.coalesce(), lambda v: v.pow(exponent), "PowBackward0")


# ---- arithmetic ----------------------------------------------------------------------------------------------

def _same_size(a, b, op):
    check(a._shape == b._shape, lambda: f"{op}: expected 'self' and 'other' to have same size, but self has size "
          f"{list(a._shape)} while other has size {list(b._shape)} (FYI: dense-sparse addition does not currently "
          "support broadcasting)")


def _add_merge(a, b, alpha, dtype):
    """PyTorch's sparse + sparse: one pass over both index lists in order, summing entries with equal indices (sorted
    and unique when both are coalesced; on uncoalesced inputs the same merge, so the entries land as PyTorch's). When
    either values tensor is not contiguous PyTorch concatenates the entries instead, and so does this."""
    pa, pb = a._sparse, b._sparse
    va, vb = pa.values.to(dtype), pb.values.to(dtype)
    if pb.nnz == 0:
        return CooParts(pa.indices.clone(), va.clone(), pa.coalesced)
    if pa.nnz == 0:
        return CooParts(pb.indices.clone(), vb * alpha if alpha != 1 else vb.clone(), pb.coalesced)
    if not (va.is_contiguous() and vb.is_contiguous()):   # PyTorch's path for strided values: concatenated
        return CooParts(torch_ops.cat([pa.indices, pb.indices], 1),
                        torch_ops.cat([va, vb * alpha if alpha != 1 else vb]), False)
    if pa.coalesced and pb.coalesced:
        indices, values = coalesced_parts(torch_ops.cat([pa.indices, pb.indices], 1),
                                          torch_ops.cat([va, vb * alpha if alpha != 1 else vb]), a._shape)
        return CooParts(indices, values, True)
    sizes = a._shape[:pa.indices._shape[0]]
    la, lb = linear_index(pa.indices, sizes).tolist(), linear_index(pb.indices, sizes).tolist()
    from_a, to_a, from_b, to_b, keys = [], [], [], [], []
    i = j = 0
    while i < len(la) or j < len(lb):
        out = len(keys)
        if j >= len(lb) or (i < len(la) and la[i] <= lb[j]):
            keys.append(la[i])
            from_a.append(i)
            to_a.append(out)
            if j < len(lb) and la[i] == lb[j]:
                from_b.append(j)
                to_b.append(out)
                j += 1
            i += 1
        else:
            keys.append(lb[j])
            from_b.append(j)
            to_b.append(out)
            j += 1
    dev = va._storage.device
    values = va.new_zeros((len(keys),) + tuple(va._shape[1:]))
    values.index_add_(0, torch_ops.tensor(to_a, dtype=D.int64, device=dev), va[torch_ops.tensor(from_a, dtype=D.int64)])
    values.index_add_(0, torch_ops.tensor(to_b, dtype=D.int64, device=dev), vb[torch_ops.tensor(from_b, dtype=D.int64)],
                      alpha=alpha)
    rows = [pa.indices, pb.indices]
    indices = torch_ops.zeros((pa.indices._shape[0], len(keys)), dtype=D.int64, device=dev)
    indices[:, torch_ops.tensor(to_a, dtype=D.int64)] = rows[0][:, torch_ops.tensor(from_a, dtype=D.int64)]
    indices[:, torch_ops.tensor(to_b, dtype=D.int64)] = rows[1][:, torch_ops.tensor(from_b, dtype=D.int64)]
    return CooParts(indices, values, False)


def _add_back(ctx, g):
    alpha = ctx.attrs
    return g, (g * alpha if alpha != 1 else g)


def _dense_plus_sparse(dense, sparse, alpha, dtype):
    p = sparse._sparse
    out = dense.detach().to(dtype, copy=True)
    if p.nnz:
        vals = p.values.to(dtype)
        vals = vals * alpha if alpha != 1 else vals
        if p.indices._shape[0]:
            out.index_put_(tuple(p.indices), vals, accumulate=True)
        else:
            out.add_(vals.sum(0))
    return out


@kernel("add")
def add(input, other, *, alpha=1, out=None):
    check(out is None, "torch_js: add(..., out=) with sparse operands is not supported")
    if not _sparse(input):
        check(isinstance(input, Tensor), "add(scalar, sparse) is not supported")
        _same_size(input, other, "add")
        dtype = D.promote_types(input._dtype, other._dtype)
        with no_grad():
            r = _dense_plus_sparse(input, other, alpha, dtype)
    else:
        check(_sparse(other), "add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        _same_size(input, other, "add")
        dtype = D.promote_types(input._dtype, other._dtype)
        with no_grad():
            merged = _add_merge(input, other, alpha, dtype)
            r = make_coo(merged.indices, merged.values, input._shape, merged.coalesced)
    if GRAD_ENABLED[0] and (input._requires_grad or other._requires_grad):
        record("AddBackward0", _add_back, (input, other), (r,), attrs=alpha)
    return r


@kernel("sub")
def sub(input, other, *, alpha=1, out=None):
    r = add(input, other, alpha=-alpha, out=out)
    if r._grad_fn is not None:
        r._grad_fn._name = "SubBackward0"
    return r


@kernel("add_")
def add_(self, other, *, alpha=1):
    if not _sparse(self):   # dense += sparse: scatter-add into self
        _same_size(self, other, "add_")
        p = other._sparse
        vals = p.values.to(self._dtype)
        vals = vals * alpha if alpha != 1 else vals
        if p.indices._shape[0]:
            return self.index_put_(tuple(p.indices), vals, accumulate=True)
        return self.add_(vals.sum(0))
    check(_sparse(other), "add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    _same_size(self, other, "add_")
    _no_inplace_history(self, "add_")
    with no_grad():
        return replace_parts(self, _add_merge(self, other, alpha, self._dtype))


@kernel("sub_")
def sub_(self, other, *, alpha=1):
    return add_(self, other, alpha=-alpha)


def _other_pattern(a, b):
    """Which operand's entries sparse * sparse keeps (PyTorch's intersection kernel): both coalesced -> the matches
    only; else the uncoalesced one, or of two the one with fewer entries (the second on a tie)."""
    pa, pb = a._sparse, b._sparse
    if pa.coalesced != pb.coalesced:
        return (a, b) if not pa.coalesced else (b, a)
    return (a, b) if pa.nnz < pb.nnz else (b, a)


def _mul_back(ctx, g):
    a, b = ctx.saved_tensors
    return (mul(g, b) if ctx.edges[0] is not None else None,
            mul(g, a) if ctx.edges[1] is not None else None)


@kernel("mul", "multiply")
def mul(input, other, *, out=None):
    check(out is None, "torch_js: mul(..., out=) with sparse operands is not supported")
    if not _sparse(input):
        input, other = other, input
    if not isinstance(other, Tensor) or (not _sparse(other) and other.dim() == 0):
        return scaled(input, lambda v: v * other, "MulBackward0")
    with no_grad():
        if _sparse(other):
            _same_size(input, other, "mul")
            keep, by = _other_pattern(input, other)
            p = keep._sparse
            vals = p.values * gather_at(by, p.indices, by._shape)
            if p.coalesced and by._sparse.coalesced:
                match = gather_at(make_coo(by._sparse.indices, torch_ops.ones_like(by._sparse.values), by._shape, True),
                                  p.indices, by._shape)
                hit = match.reshape(match._shape[0], -1)[:, 0] != 0 if match.dim() > 1 else match != 0
                r = make_coo(p.indices[:, hit], vals[hit], input._shape, True)
            else:
                r = make_coo(p.indices, vals, input._shape, p.coalesced)
        else:
            check(broadcast_shapes(input._shape, other._shape) == input._shape, lambda: "mul(sparse, "
                  f"dense): the dense operand's size {list(other._shape)} must broadcast to {list(input._shape)}")
            p = input._sparse
            r = make_coo(p.indices, p.values * gather_at(other.expand(input._shape), p.indices, input._shape),
                         input._shape, p.coalesced)
    if GRAD_ENABLED[0] and (input._requires_grad or other._requires_grad):
        record("MulBackward0", _mul_back, (input, other), (r,), save_inputs=(input.detach(), other.detach()))
    return r


@kernel("mul_")
def mul_(self, other):
    check(_sparse(self), "mul_(dense, sparse) is not supported by torch_js")
    _no_inplace_history(self, "mul_")
    return replace_parts(self, mul(self.detach(), other)._sparse)


@kernel("div", "divide", "true_divide")
def div(input, other, *, rounding_mode=None, out=None):
    check(_sparse(input) and not _sparse(other) and (not isinstance(other, Tensor) or other.dim() == 0),
          "div: only a sparse tensor divided by a scalar is supported")
    if rounding_mode is None:
        return scaled(input, lambda v: v / other, "DivBackward0")
    return values_map(input.coalesce(), lambda v: v.div(other, rounding_mode=rounding_mode), "DivBackward0")


@kernel("div_")
def div_(self, other, *, rounding_mode=None):
    _no_inplace_history(self, "div_")
    return replace_parts(self, div(self.detach(), other, rounding_mode=rounding_mode)._sparse)


@kernel("zero_")
def zero_(self):
    p = self._sparse
    return replace_parts(self, CooParts(p.indices.new_zeros((p.indices._shape[0], 0)),
                                        p.values.new_zeros((0,) + tuple(p.values._shape[1:])), True))


# ---- copies and conversions ----------------------------------------------------------------------------------

@kernel("clone")
def clone(self, *, memory_format=None):
    name = repr(memory_format).rpartition(".")[2].strip("'")   # (a memory_format, or its name)
    if memory_format is not None and name != "preserve_format":
        raise sparse_error("unsupported memory format option "
                           f"{name.replace('_format', '').replace('_', ' ').title().replace(' ', '')}")
    p = self._sparse
    with no_grad():
        r = make_coo(p.indices.clone(), p.values.clone(), self._shape, p.coalesced)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("CloneBackward0", identity_backward, (self,), (r,))
    return r


@kernel("contiguous")
def contiguous(self, memory_format=None):
    raise sparse_error("unsupported memory format option Contiguous")


def _to_back(ctx, g):
    dtype, dev = ctx.attrs
    return g.to(device=dev, dtype=dtype)


@kernel("to")
def to(self, *args, **kwargs):
    dtype, dev, copy = _parse_to(args, dict(kwargs))
    p = self._sparse
    new_dtype = dtype or self._dtype
    new_dev = dev or self._storage.device
    if new_dtype is self._dtype and new_dev == self._storage.device and not copy:
        return self
    with no_grad():
        r = make_coo(p.indices.to(new_dev), p.values.to(device=new_dev, dtype=new_dtype), self._shape, p.coalesced)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("ToCopyBackward0", _to_back, (self,), (r,), attrs=(self._dtype, self._storage.device))
    return r


@kernel("type_as")
def type_as(self, other):
    return to(self, other._dtype)


@kernel("numpy")
def numpy(self, *, force=False):
    raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")


@kernel("tolist", "item")
def tolist(self):
    raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")


@kernel("reshape", "flatten", "unflatten", "ravel")
def reshape(self, *args, **kwargs):
    raise sparse_error("reshape is not implemented for sparse tensors")


# ---- dims ----------------------------------------------------------------------------------------------------

def _permute_back(ctx, g):
    return g.permute(ctx.attrs)


def _permuted(self, dims, name):
    p = self._sparse
    nd, sd = self.dim(), p.indices._shape[0]
    for i in range(nd):
        check((i < sd) == (dims[i] < sd), "permute(sparse_coo): transpositions between sparse and dense dimensions "
              "are not allowed. Only transpositions within sparse and dense dimensions are allowed.")
    with no_grad():
        indices = p.indices[torch_ops.tensor(list(dims[:sd]), dtype=D.int64)] if sd else p.indices
        values = p.values.permute([0] + [d - sd + 1 for d in dims[sd:]]) if nd > sd else p.values
        keep = p.coalesced and list(dims[:sd]) == list(range(sd))
        r = make_coo(indices, values, tuple(self._shape[d] for d in dims), keep)
    if GRAD_ENABLED[0] and self._requires_grad:
        inv = [0] * nd
        for i, d in enumerate(dims):
            inv[d] = i
        record(name, _permute_back, (self,), (r,), attrs=tuple(inv))
    return r


@kernel("permute")
def permute(self, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    nd = self.dim()
    check(len(dims) == nd, lambda: "permute(sparse_coo): number of dimensions in the tensor input does not match "
          f"the length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to len(dims) = "
          f"{len(dims)}")
    dims = tuple(d + nd if d < 0 else d for d in dims)
    check(len(set(dims)) == nd, "permute(): duplicate dims are not allowed.")
    return _permuted(self, dims, "PermuteBackward0")


@kernel("transpose", "swapaxes", "swapdims")
def transpose(self, dim0, dim1):
    nd = self.dim()
    d0, d1 = self._wrap_dim(dim0), self._wrap_dim(dim1)
    sd = self._sparse.indices._shape[0]
    check((d0 < sd) == (d1 < sd), lambda: f"transpose(): can't transpose a sparse dimension with a dense dimension "
          f"(dims {d0} and {d1}, sparse_dim = {sd})")
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return _permuted(self, perm, "TransposeBackward0")


@kernel("t")
def t(self):
    sd = self._sparse.indices._shape[0]
    check(sd <= 2 and sd == self.dim(), lambda: f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but "
          f"got {sd} sparse and {self.dim() - sd} dense dimensions")
    if self.dim() < 2:
        return self
    return _permuted(self, (1, 0), "TBackward0")


@kernel("adjoint")
def adjoint(self):
    return transpose(self, -2, -1)


def _unsqueeze_back(ctx, g):
    return g.squeeze(ctx.attrs)


@kernel("unsqueeze")
def unsqueeze(self, dim):
    p = self._sparse
    nd, sd = self.dim(), p.indices._shape[0]
    check(-nd - 1 <= dim <= nd, lambda: f"Dimension out of range (expected to be in range of [{-nd - 1}, {nd}], but "
          f"got {dim})", IndexError)
    d = dim + nd + 1 if dim < 0 else dim
    shape = self._shape[:d] + (1,) + self._shape[d:]
    with no_grad():
        if d <= sd:
            zero = p.indices.new_zeros((1, p.nnz))
            r = make_coo(torch_ops.cat([p.indices[:d], zero, p.indices[d:]]), p.values, shape, False)
        else:
            r = make_coo(p.indices, p.values.unsqueeze(d - sd + 1), shape, False)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("UnsqueezeBackward0", _unsqueeze_back, (self,), (r,), attrs=d)
    return r


@kernel("expand", "expand_as", "broadcast_to")
def expand(self, *args, **kwargs):
    raise sparse_error("expand is unsupported for Sparse tensors")
