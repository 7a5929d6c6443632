"""More shape ops and small composites, each a decomposition into existing ops (so every device and autograd
get them for free): tril/triu, diag/diag_embed/diagflat/trace, repeat/tile/repeat_interleave, rot90, meshgrid,
cartesian_prod, block_diag, narrow_copy, column_stack/row_stack, in-place view ops (squeeze_, unsqueeze_, t_,
transpose_), index_fill, heaviside, logaddexp(2), sinc, deg2rad/rad2deg, nan_to_num, float_power,
addcmul/addcdiv, diff, cross/linalg.cross, trapezoid/cumulative_trapezoid, hsplit/vsplit/dsplit,
tril_indices/triu_indices, combinations, bincount, histc.
"""
import math

from .. import _dtype as D
from .._tensor import Tensor, numel_of, wrap_dim
from ._registry import register
from ._util import GRAD_ENABLED, broadcast_shapes, check
from . import inplace as _ip


def _arange(n, dev, dtype=None):
    from .creation import arange
    return arange(n, device=dev) if dtype is None else arange(n, device=dev, dtype=dtype)


def _zeros(shape, dtype, dev):
    from .creation import zeros
    return zeros(tuple(shape), dtype=dtype, device=dev)


def _out(out, r):
    return _ip.write_out(out, r) if out is not None else r


def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    if len(args) == 1 and isinstance(args[0], Tensor):
        return tuple(args[0].tolist())
    return tuple(args)


# ---- triangles and diagonals ---------------------------------------------------------------------------------

def _tri_keep(x, diagonal, lower):
    r, c = x._shape[-2], x._shape[-1]
    dev = x._storage.device
    rel = _arange(c, dev).unsqueeze(0) - _arange(r, dev).unsqueeze(1)
    return rel <= diagonal if lower else rel >= diagonal


def tril(input, diagonal=0, *, out=None):
    check(input.dim() >= 2, "tril: input tensor must have at least 2 dimensions")
    r = input.masked_fill(_tri_keep(input, diagonal, True).logical_not(), 0)
    return _out(out, r)


def triu(input, diagonal=0, *, out=None):
    check(input.dim() >= 2, "triu: input tensor must have at least 2 dimensions")
    r = input.masked_fill(_tri_keep(input, diagonal, False).logical_not(), 0)
    return _out(out, r)


def _embed_last(x, offset):
    """x[..., n] -> [..., N, N] (N = n + |offset|) with x on the `offset` diagonal of the last two dims."""
    n = x._shape[-1]
    big = n + abs(offset)
    batch = x._shape[:-1]
    dev = x._storage.device
    start = offset if offset >= 0 else -offset * big
    pos = _arange(n, dev) * (big + 1) + start
    flat = _zeros(batch + (big * big,), x._dtype, dev)
    if n:
        flat = flat.scatter(-1, pos.expand(batch + (n,)).contiguous(), x)
    return flat.reshape(batch + (big, big))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    nd = input.dim() + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    check(d1 != d2, lambda: f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    x = input if input.dim() else input.reshape(1)
    e = _embed_last(x, offset)
    perm = [None] * nd
    perm[d1], perm[d2] = nd - 2, nd - 1
    rest = iter(range(nd - 2))
    perm = [p if p is not None else next(rest) for p in perm]
    return e if perm == list(range(nd)) else e.permute(perm)


def diag(input, diagonal=0, *, out=None):
    nd = input.dim()
    check(nd in (1, 2), lambda: f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    r = _embed_last(input, diagonal) if nd == 1 else input.diagonal(diagonal).clone()
    return _out(out, r)


def diagflat(input, offset=0):
    return _embed_last(input.reshape(-1), offset)


def trace(input):
    check(input.dim() == 2, lambda: f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return input.diagonal().sum()


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, True, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices(row, col, offset, False, dtype, device)


def _tri_indices(row, col, offset, lower, dtype, device):
    from .creation import zeros
    dt = dtype or D.int64
    m = zeros((row, col), dtype=D.bool_, device=device)
    keep = _tri_keep(m, offset, lower)
    nz = keep.nonzero()
    return nz.t().to(dt).contiguous() if nz.numel() else zeros((2, 0), dtype=dt, device=device)


# ---- repeat / tile / repeat_interleave -----------------------------------------------------------------------

def repeat(self, *sizes):
    sizes = _sizes(sizes)
    check(len(sizes) >= self.dim(), "Number of dimensions of repeat dims can not be smaller than number of "
          "dimensions of tensor")
    for s in sizes:
        check(s >= 0, lambda: f"Trying to create tensor with negative dimension {s}: {list(sizes)}")
    x = self.reshape((1,) * (len(sizes) - self.dim()) + self._shape)
    view, exp, final = [], [], []
    for r, s in zip(sizes, x._shape):
        view += [1, s]
        exp += [r, s]
        final.append(r * s)
    return x.reshape(tuple(view)).expand(tuple(exp)).reshape(tuple(final))


def tile(input, dims):
    dims = _sizes((dims,)) if not isinstance(dims, int) else (dims,)
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return repeat(input, dims)


def _repeat_index(repeats, output_size=None):
    """[0]*r0 + [1]*r1 + ... from a 1-D int64 tensor of counts (searchsorted over the running totals)."""
    from .sorting import searchsorted
    dev = repeats._storage.device
    cs = repeats.cumsum(0)
    total = int(cs[-1].item()) if repeats.numel() else 0
    if output_size is not None:
        total = output_size
    return searchsorted(cs, _arange(total, dev), right=True)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # repeat_interleave(repeats): the indices
        check(input.dim() <= 1, "repeat_interleave only accept 1D vector as repeat")
        reps = input.reshape(-1).to(D.int64)
        check(not reps.numel() or bool((reps >= 0).all().item()), "repeats can not be negative")
        return _repeat_index(reps, output_size)
    x = input
    if dim is None:
        x = x.reshape(-1)
        d = 0
    else:
        d = wrap_dim(dim, max(x.dim(), 1))
        if x.dim() == 0:
            x = x.reshape(1)
    n = x._shape[d]
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.dim() <= 1:
        repeats = int(repeats.reshape(()).item())
    if isinstance(repeats, int):
        check(repeats >= 0, "repeats can not be negative")
        shp = list(x._shape)
        u = x.unsqueeze(d + 1)
        exp = shp[:d + 1] + [repeats] + shp[d + 1:]
        return u.expand(tuple(exp)).reshape(tuple(shp[:d] + [n * repeats] + shp[d + 1:]))
    check(repeats.dim() == 1, "repeat_interleave only accept 1D vector as repeat")
    check(repeats._shape[0] == n, "repeats must have the same size as input along dim")
    check(not repeats._dtype.is_floating_point, "repeats has to be Long or Int tensor")
    reps = repeats.to(D.int64)
    check(not reps.numel() or bool((reps >= 0).all().item()), "repeats can not be negative")
    return x.index_select(d, _repeat_index(reps, output_size))


# ---- rotations, grids, blocks --------------------------------------------------------------------------------

def rot90(input, k=1, dims=(0, 1)):
    dims = list(dims)
    check(len(dims) == 2, lambda: f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input.dim()
    check(nd >= 2, lambda: f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    check(d0 != d1, lambda: f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip([d1]).transpose(d0, d1)
    if k == 2:
        return input.flip([d0, d1])
    if k == 3:
        return input.flip([d0]).transpose(d0, d1)
    return input.clone()


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    check(indexing in ("ij", "xy"), lambda: f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
          f"received: {indexing}")
    check(len(tensors) > 0, "meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        check(t.dim() <= 1, lambda: f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        check(t._dtype is tensors[0]._dtype, "meshgrid expects all tensors to have the same dtype")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = []
    for i, t in enumerate(ts):
        vs = [1] * len(ts)
        vs[i] = -1
        grids.append(t.reshape(tuple(vs)).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for t in tensors:
        check(t.dim() == 1, lambda: f"Expect a 1D vector, but got shape {list(t._shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .shape import stack
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    check(input.dim() == 1, lambda: f"Expect a 1D vector, but got shape {list(input._shape)}")
    check(r >= 0, lambda: f"Expect a non-negative number, but got {r}")
    from .shape import stack
    n = input._shape[0]
    dev = input._storage.device
    if r == 0:
        return _zeros((0,), input._dtype, dev)
    idx = [_arange(n, dev)] * r
    grids = [g.reshape(-1) for g in meshgrid(*idx, indexing="ij")]
    mask = None
    for a, b in zip(grids, grids[1:]):
        m = (a <= b) if with_replacement else (a < b)
        mask = m if mask is None else mask.logical_and(m)
    if mask is None:
        return input.unsqueeze(1).clone()
    return stack([input.index_select(0, g[mask]) for g in grids], 1)


def block_diag(*tensors):
    from .shape import cat
    ts = []
    for i, t in enumerate(tensors):
        check(t.dim() <= 2, lambda: f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} "
              f"has {t.dim()} dimensions")
        ts.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
    if not ts:
        return _zeros((1, 0), D.get_default_dtype(), None)
    dt = D.result_type_of([t._dtype for t in ts], [], ()) if len({t._dtype for t in ts}) > 1 else ts[0]._dtype
    dev = ts[0]._storage.device
    cols = sum(t._shape[1] for t in ts)
    rows, c0 = [], 0
    for t in ts:
        r, c = t._shape
        parts = []
        if c0:
            parts.append(_zeros((r, c0), dt, dev))
        parts.append(t.to(dt))
        if cols - c0 - c:
            parts.append(_zeros((r, cols - c0 - c), dt, dev))
        rows.append(cat(parts, 1) if len(parts) > 1 else parts[0])
        c0 += c
    return cat(rows, 0)


def narrow_copy(input, dim, start, length):
    nd = input.dim()
    check(dim < max(nd, 1), "Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but "
          "got false.  (Could this error message be improved?  If so, please report an enhancement request to "
          "PyTorch.)")
    if nd:
        size = input._shape[wrap_dim(dim, nd)]
        if not -size <= start <= size:
            raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
        s = start + size if start < 0 else start
        check(length >= 0 and s + length <= size, lambda: f"start ({start}) + length ({length}) exceeds dimension "
              f"size ({size}).")
    return input.narrow(dim, start, length).clone()


def column_stack(tensors, *, out=None):
    from .shape import hstack
    check(len(tensors) > 0, "column_stack expects a non-empty TensorList")
    ts = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
    return _out(out, hstack(ts))


def row_stack(tensors, *, out=None):
    from .shape import vstack
    return vstack(tensors, out=out)


def _split_dim(input, indices_or_sections, dim, name, need):
    if not isinstance(indices_or_sections, (int, list, tuple, Tensor)) or isinstance(indices_or_sections, bool):
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"{type(indices_or_sections).__name__}), but expected one of: (Tensor input, int sections) "
                        "(Tensor input, tuple of ints indices)")
    check(input.dim() >= need, lambda: f"torch.{name} requires a tensor with at least {need} dimension, but got a "
          f"tensor with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, int):
        n = input._shape[dim]
        check(indices_or_sections != 0 and n % indices_or_sections == 0,
              lambda: f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension {n} "
              f"is not divisible by the split_size {indices_or_sections}!")
    return input.tensor_split(indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    return _split_dim(input, indices_or_sections, 1 if input.dim() > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):
    return _split_dim(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    return _split_dim(input, indices_or_sections, 2, "dsplit", 3)


# ---- in-place view ops ---------------------------------------------------------------------------------------

def _inplace_view(self, r):
    """Make self the view r (same storage) and move its history to r's node."""
    if GRAD_ENABLED[0] and self._requires_grad:
        _ip.check_leaf(self)
    self._shape, self._stride, self._offset = r._shape, r._stride, r._offset
    if r._grad_fn is not None:
        self._grad_fn = r._grad_fn
        self._output_nr = r._output_nr
    return self


def squeeze_(self, dim=None):
    return _inplace_view(self, self.squeeze(dim) if dim is not None else self.squeeze())


def unsqueeze_(self, dim):
    return _inplace_view(self, self.unsqueeze(dim))


def t_(self):
    return _inplace_view(self, self.t())


def transpose_(self, dim0, dim1):
    return _inplace_view(self, self.transpose(dim0, dim1))


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
    mask = _zeros((n,), D.bool_, dev)
    if index.numel():
        mask = mask.scatter(0, index.reshape(-1), True)
    mask = mask.reshape((n,) + (1,) * (x.dim() - d - 1))
    r = x.masked_fill(mask, value)
    return r if nd else r.reshape(())


def index_fill_(self, dim, index, value):
    return _ip.inplace_from(self, index_fill(self, dim, index, value))


# ---- elementwise composites ----------------------------------------------------------------------------------

def _float_of(x):
    return x if x._dtype.is_floating_point else x.to(D.get_default_dtype())


def _tensor_args(name, *pairs):
    for pos, (argname, v) in enumerate(pairs, 1):
        if not isinstance(v, Tensor):
            raise TypeError(f"{name}(): argument '{argname}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")


def heaviside(input, values, *, out=None):
    _tensor_args("heaviside", ("input", input), ("values", values))
    check(input._dtype is values._dtype, "heaviside is not yet implemented for tensors with different dtypes")
    x, v = input.detach(), values.detach()
    from .elementwise import where
    r = where(x == 0, v, (x > 0).to(x._dtype))
    shape = broadcast_shapes(x._shape, v._shape)
    if r._shape != shape:
        r = r.expand(shape).contiguous()
    return _out(out, r)


def _need_float(name, *ts):
    for t in ts:
        if isinstance(t, Tensor) and not t._dtype.is_floating_point:
            raise RuntimeError(f'"{name}_cpu" not implemented for \'{D.scalar_type_name(t._dtype)}\'')


def logaddexp(input, other, *, out=None):
    _tensor_args("logaddexp", ("input", input), ("other", other))
    _need_float("logaddexp", input, other)
    m = input.maximum(other)
    r = m + (-(input - other).abs()).exp().log1p()
    from .elementwise import where
    r = where(input.isinf() & (input == other), input.expand(r._shape) if input._shape != r._shape else input, r)
    return _out(out, r)


def logaddexp2(input, other, *, out=None):
    _tensor_args("logaddexp2", ("input", input), ("other", other))
    _need_float("logaddexp2", input, other)
    m = input.maximum(other)
    r = m + (-(input - other).abs()).exp2().log1p() / math.log(2.0)
    from .elementwise import where
    r = where(input.isinf() & (input == other), input.expand(r._shape) if input._shape != r._shape else input, r)
    return _out(out, r)


def sinc(input, *, out=None):
    x = _float_of(input)
    zero = x == 0
    safe = x.masked_fill(zero, 1.0)  # keeps the gradient at 0 finite (it is 0 there, as in PyTorch)
    px = safe * math.pi
    r = (px.sin() / px).masked_fill(zero, 1.0)
    return _out(out, r)


def deg2rad(input, *, out=None):
    return _out(out, _float_of(input) * (math.pi / 180.0))


def rad2deg(input, *, out=None):
    return _out(out, _float_of(input) * (180.0 / math.pi))


_FMAX = {"float32": 3.4028234663852886e38, "float64": 1.7976931348623157e308, "float16": 65504.0,
         "bfloat16": 3.3895313892515355e38}


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if not input._dtype.is_floating_point:
        return _out(out, input.clone())
    big = _FMAX[input._dtype.name]
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    r = input.masked_fill(input.isnan(), nan).masked_fill(input.isposinf(), posinf) \
        .masked_fill(input.isneginf(), neginf)
    return _out(out, r)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return _ip.inplace_from(self, nan_to_num(self, nan, posinf, neginf))


def float_power(input, exponent, *, out=None):
    a = input.to(D.float64) if isinstance(input, Tensor) else float(input)
    b = exponent.to(D.float64) if isinstance(exponent, Tensor) else float(exponent)
    from .elementwise import pow as _pow
    r = _pow(a, b)
    if out is not None:
        check(out._dtype is D.float64, lambda: f"the output given to float_power has dtype "
              f"{D.scalar_type_name(out._dtype)} but the operation's result requires dtype Double")
    return _out(out, r)


def float_power_(self, exponent):
    check(self._dtype is D.float64, lambda: f"the base given to float_power_ has dtype "
          f"{D.scalar_type_name(self._dtype)} but the operation's result requires dtype Double")
    return _ip.inplace_from(self, float_power(self, exponent))


def _addc_check(input, t1, t2, value, name):
    if name == "addcdiv":
        check(t1._dtype.is_floating_point or t2._dtype.is_floating_point,
              "Integer division with addcdiv is no longer supported, and in a future release addcdiv will perform "
              "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
              "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
              "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
              "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    if isinstance(value, float) and not value.is_integer():
        dts = [t._dtype for t in (input, t1, t2)]
        check(any(d.is_floating_point for d in dts),
              "For integral input tensors, argument alpha must not be a floating point number.")


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    _addc_check(input, tensor1, tensor2, value, "addcmul")
    # PyTorch's kernel evaluates self + value * t1 * t2 left to right: (value * t1) * t2
    r = input + ((tensor1 * value if value != 1 else tensor1) * tensor2)
    return _out(out, r)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    _addc_check(input, tensor1, tensor2, value, "addcdiv")
    r = input + ((tensor1 * value if value != 1 else tensor1) / tensor2)  # (value * t1) / t2, as PyTorch
    return _out(out, r)


def addcmul_(self, tensor1, tensor2, *, value=1):
    _addc_check(self, tensor1, tensor2, value, "addcmul")
    return self.add_((tensor1 * value if value != 1 else tensor1) * tensor2)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    _addc_check(self, tensor1, tensor2, value, "addcdiv")
    return self.add_((tensor1 * value if value != 1 else tensor1) / tensor2)


# ---- differences, cross products, integration ----------------------------------------------------------------

def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    check(input.dim() >= 1, "diff expects input to be at least one-dimensional")
    check(n >= 0, lambda: f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.dim())
    from .shape import cat
    parts = []
    for extra, name in ((prepend, "prepend"), (append, "append")):
        if extra is not None and not isinstance(extra, Tensor):
            from .creation import full
            shp = list(input._shape)
            shp[d] = 1
            extra = full(tuple(shp), extra, dtype=input._dtype, device=input._storage.device)
        if extra is not None:
            check(extra.dim() == input.dim(), lambda: f"diff expects prepend or append to be the same dimension as "
                  f"input")
        parts.append(extra)
    x = input
    if parts[0] is not None or parts[1] is not None:
        x = cat([t for t in (parts[0], input, parts[1]) if t is not None], d)
    for _ in range(n):
        L = x._shape[d]
        if L == 0:
            break
        a, b = x.narrow(d, 1, L - 1), x.narrow(d, 0, L - 1)
        x = a.logical_xor(b) if x._dtype is D.bool_ else a - b
    if n == 0:
        x = x.clone() if x is input else x
    return _out(out, x)


def _cross(a, b, d):
    from .shape import stack
    a0, a1, a2 = a.select(d, 0), a.select(d, 1), a.select(d, 2)
    b0, b1, b2 = b.select(d, 0), b.select(d, 1), b.select(d, 2)
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def linalg_cross(input, other, *, dim=-1, out=None):
    check(input.dim() == other.dim(), lambda: f"linalg.cross: inputs must have the same number of dimensions.")
    shape = broadcast_shapes(input._shape, other._shape)
    d = wrap_dim(dim, len(shape))
    check(input._shape[d] == 3 and other._shape[d] == 3, lambda: f"linalg.cross: inputs dimension {dim} must have "
          f"length 3. Got {input._shape[d]} and {other._shape[d]}")
    a = input.expand(shape) if input._shape != shape else input
    b = other.expand(shape) if other._shape != shape else other
    return _out(out, _cross(a, b, d))


def cross(input, other, dim=None, *, out=None):
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = broadcast_shapes(input._shape, other._shape)
        dims = [i for i, s in enumerate(shape) if s == 3]
        check(bool(dims), "no dimension of size 3 in input")
        dim = dims[0]
    check(input.dim() == other.dim(), lambda: f"linalg.cross: inputs must have the same number of dimensions.")
    return linalg_cross(input, other, dim=dim, out=out)


def _x_diffs(y, x, d):
    """dx along d, shaped to broadcast against y (ATen's x_viewed slicing)."""
    if x.dim() == 1:
        check(x._shape[0] == y._shape[d], "trapezoid: There must be one `x` value for each sample point")
        shp = [1] * y.dim()
        shp[d] = x._shape[0]
        xv = x.reshape(tuple(shp))
    elif x.dim() < y.dim():
        xv = x.reshape((1,) * (y.dim() - x.dim()) + x._shape)
    else:
        xv = x
    m = xv._shape[d]
    return xv.narrow(d, 1, max(m - 1, 0)) - xv.narrow(d, 0, max(m - 1, 0))


def _pair_sum(y, d):
    n = y._shape[d]
    return y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    if isinstance(x, (int, float)) and dx is None:
        x, dx = None, x
    d = wrap_dim(dim, y.dim())
    if y._shape[d] == 0:
        return _zeros(y._shape[:d] + y._shape[d + 1:], y._dtype, y._storage.device)
    if x is not None:
        return ((_x_diffs(y, x, d) * _pair_sum(y, d)) / 2.0).sum(d)
    dx = 1.0 if dx is None else dx
    return (y.sum(d) - (y.select(d, 0) + y.select(d, -1)) * 0.5) * dx


def trapz(y, x=None, *, dx=None, dim=-1):
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    if isinstance(x, (int, float)) and dx is None:
        x, dx = None, x
    d = wrap_dim(dim, y.dim())
    if y._shape[d] == 0:
        return _zeros(y._shape, y._dtype, y._storage.device)
    if x is not None:
        return ((_x_diffs(y, x, d) * _pair_sum(y, d)) / 2.0).cumsum(d)
    dx = 1.0 if dx is None else dx
    return (dx / 2.0 * _pair_sum(y, d)).cumsum(d)


# ---- counting ------------------------------------------------------------------------------------------------

def bincount(input, weights=None, minlength=0):
    check(input.dim() == 1, "bincount only supports 1-d non-negative integral inputs.")
    check(not input._dtype.is_floating_point and input._dtype is not D.bool_,
          "bincount only supports 1-d non-negative integral inputs.")
    check(minlength >= 0, "minlength should be >= 0")
    dev = input._storage.device
    n = input.numel()
    if n:
        check(bool((input >= 0).all().item()), "bincount only supports 1-d non-negative integral inputs.")
    length = max(int(input.max().item()) + 1 if n else 0, minlength)
    idx = input.to(D.int64)
    if weights is None:
        from .creation import ones
        return _zeros((length,), D.int64, dev).index_add(0, idx, ones((n,), dtype=D.int64, device=dev))
    check(weights._shape == input._shape, "weights should be 1-d and have the same length as input")
    wd = weights._dtype if weights._dtype.is_floating_point else D.float64
    if weights._dtype is D.float32:
        wd = D.float32
    else:
        wd = D.float64
    return _zeros((length,), wd, dev).index_add(0, idx, weights.to(wd))


def histc(input, bins=100, min=0, max=0, *, out=None):
    check(input._dtype.is_floating_point, lambda: f'"histogram_cpu" not implemented for '
          f"'{D.scalar_type_name(input._dtype)}'")
    check(bins > 0, lambda: f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    x = input.detach().reshape(-1)
    if lo == hi and x.numel():
        lo, hi = float(x.min().item()), float(x.max().item())
    check(lo <= hi, "torch.histc(): max must be larger than min")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    check(math.isfinite(lo) and math.isfinite(hi), lambda: f"torch.histc(): range of [{lo}, {hi}] is not finite")
    keep = (x >= lo) & (x <= hi)
    xs = x[keep]
    pos = ((xs - lo) * bins / (hi - lo)).to(D.int64).clamp(max=bins - 1)
    r = _zeros((bins,), x._dtype, x._storage.device).index_add(0, pos, xs * 0 + 1)
    return _out(out, r)


# ---- registration --------------------------------------------------------------------------------------------

def _register_all():
    S = "shape"
    register("tril", tril, S, inplace=lambda self, diagonal=0: _ip.inplace_from(self, tril(self, diagonal)))
    register("triu", triu, S, inplace=lambda self, diagonal=0: _ip.inplace_from(self, triu(self, diagonal)))
    register("diag", diag, S)
    register("diag_embed", diag_embed, S)
    register("diagflat", diagflat, S)
    register("trace", trace, S)
    register("tril_indices", tril_indices, S, method=False, derivative=False)
    register("triu_indices", triu_indices, S, method=False, derivative=False)
    register("repeat", repeat, S, function=False)
    register("tile", tile, S)
    register("repeat_interleave", repeat_interleave, S)
    register("rot90", rot90, S)
    register("meshgrid", meshgrid, S, method=False)
    register("cartesian_prod", cartesian_prod, S, method=False)
    register("combinations", combinations, S, method=False)
    register("block_diag", block_diag, S, method=False)
    register("narrow_copy", narrow_copy, S)
    register("column_stack", column_stack, S, method=False)
    register("row_stack", row_stack, S, method=False, opinfo=())
    register("hsplit", hsplit, S)
    register("vsplit", vsplit, S)
    register("dsplit", dsplit, S)
    for name, fn in (("squeeze_", squeeze_), ("unsqueeze_", unsqueeze_), ("t_", t_), ("transpose_", transpose_)):
        setattr(Tensor, name, fn)
    register("index_fill", index_fill, "index", inplace=index_fill_)
    register("heaviside", heaviside, "binary", derivative=False,
             inplace=lambda self, values: _ip.inplace_from(self, heaviside(self, values)))
    register("logaddexp", logaddexp, "binary")
    register("logaddexp2", logaddexp2, "binary")
    register("sinc", sinc, "unary", inplace=lambda self: _ip.inplace_from(self, sinc(self)))
    register("deg2rad", deg2rad, "unary", inplace=lambda self: _ip.inplace_from(self, deg2rad(self)))
    register("rad2deg", rad2deg, "unary", inplace=lambda self: _ip.inplace_from(self, rad2deg(self)))
    register("nan_to_num", nan_to_num, "unary", inplace=nan_to_num_)
    register("float_power", float_power, "binary", inplace=float_power_)
    register("addcmul", addcmul, "ternary", inplace=addcmul_)
    register("addcdiv", addcdiv, "ternary", inplace=addcdiv_)
    register("diff", diff, S)
    register("cross", cross, "linalg")
    register("cross", linalg_cross, "linalg", namespace="linalg", method=False, opinfo=("linalg.cross",))
    register("trapezoid", trapezoid, "reduction", method=False)
    register("trapz", trapz, "reduction", method=False)
    register("cumulative_trapezoid", cumulative_trapezoid, "reduction", method=False)
    register("bincount", bincount, "index", derivative=False)
    register("histc", histc, "index", derivative=False)


_register_all()
