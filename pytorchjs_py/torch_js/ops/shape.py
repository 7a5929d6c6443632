"""Views and the shape ops around them: reshape/view, permutations, expand/squeeze, slicing views (narrow,
select, diagonal, unfold, as_strided) and the in-place view ops; copies (clone, contiguous, narrow_copy); cat and
stack; split/chunk/tensor_split/unbind and their unsafe_* forms.

A view shares its input's storage; its backward maps the gradient back to the input's shape (permute back, sum
an expand, scatter a slice into zeros)."""
from .. import _dtype as D
from .._storage import INT64_MAX, MAX_ALLOC_BYTES
from .._memory_format import contiguous_format, preserve_format
from .._tensor import (Tensor, _contig, _empty, _empty_strided, _make, check_view, checked_numel, int_tuple,
                       numel_of, wrap_dim)
from ._registry import backward, register
from ._util import (GRAD_ENABLED, INT64_MIN, check, dense_strides, expand_strides, identity_backward, record,
                    rename_grad_fn, require_args)
from . import inplace as _ip
from .creation import arange, zeros


def make_view(x, shape, stride, offset, name, backward, attrs):
    v = _make(x._storage, shape, stride, offset, x._dtype)
    v._base = x._base if x._base is not None else x
    if GRAD_ENABLED[0] and x._requires_grad:
        record(name, backward, (x,), (v,), attrs=attrs)
    return v


def _reshape_back(ctx, g):
    return g.reshape(ctx.attrs)


# ---- view / reshape -------------------------------------------------------------------------------------------

def _infer_shape(shape, numel, name="view"):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = int_tuple(shape, name, "size", 1)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for i, s in enumerate(shape):
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
    if neg:
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if known == 0 and numel == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                               "unspecified dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // known,) + shape[neg[0] + 1:]
    if numel_of(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    if not numel:  # sizes with a 0 among them: the others are otherwise unbounded
        checked_numel(shape)
    return shape


def _view_strides(old_shape, old_stride, new_shape):
    """Strides that view (old_shape, old_stride) memory as new_shape, or None (PyTorch's computeStride)."""
    if not old_shape:
        return tuple(1 for _ in new_shape)
    numel = numel_of(old_shape)
    if numel == 0:
        return _contig(new_shape) if old_shape != new_shape else old_stride
    new_stride = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_stride[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_stride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_stride[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_stride[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_stride)


def view(self, *shape):
    if not shape:
        raise TypeError("view() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (torch.dtype dtype)\n * (tuple of ints size)\n")
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        return view_as_dtype(self, shape[0])
    shape = _infer_shape(shape, self.numel())
    if shape == self._shape:
        stride = self._stride
    else:
        stride = _view_strides(self._shape, self._stride, shape)
        if stride is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return make_view(self, shape, stride, self._offset, "ViewBackward0", _reshape_back, self._shape)


def view_as_dtype(self, d):
    if d.itemsize != self._dtype.itemsize:
        raise RuntimeError("torch_js: view(dtype) needs dtypes of the same size")
    return _make(self._storage, self._shape, self._stride, self._offset, d)


def reshape(self, *shape):
    require_args(shape, "reshape", "shape")
    shape = _infer_shape(shape, self.numel(), "reshape")
    stride = _view_strides(self._shape, self._stride, shape)
    if stride is not None:
        return make_view(self, shape, stride, self._offset, "ViewBackward0", _reshape_back, self._shape)
    return _unsafe_reshape_copy(self.contiguous(), shape)


def _unsafe_reshape_copy(c, shape):
    # c is a fresh contiguous tensor: reshaping it is a view of that copy
    return make_view(c, shape, _contig(shape), c._offset, "UnsafeViewBackward0", _reshape_back, c._shape)


def view_as(self, other):
    return view(self, other._shape)


def reshape_as(self, other):
    return reshape(self, other._shape)


def flatten(self, start_dim=0, end_dim=-1):
    nd = self.dim()
    if nd == 0:
        return reshape(self, (1,))
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return self
    shape = self._shape[:s] + (numel_of(self._shape[s:e + 1]),) + self._shape[e + 1:]
    return reshape(self, shape)


def unflatten(self, dim, sizes):
    d = wrap_dim(dim, self.dim())
    sizes = tuple(sizes)
    check(sizes, "unflatten: sizes must be non-empty")
    if -1 not in sizes and numel_of(sizes) != self._shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
                           f"({self._shape[d]}) in the input tensor")
    inner = _infer_shape(sizes, self._shape[d])
    return view(self, self._shape[:d] + inner + self._shape[d + 1:]) if _view_strides(
        self._shape, self._stride, self._shape[:d] + inner + self._shape[d + 1:]) is not None else \
        reshape(self, self._shape[:d] + inner + self._shape[d + 1:])


def ravel(self):
    return reshape(self, (-1,))


# ---- permutations ------------------------------------------------------------------------------------------

def _permute_back(ctx, g):
    return g.permute(ctx.attrs)


def permute(self, *dims):
    require_args(dims, "permute", "dims")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    nd = self.dim()
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    inv = [0] * nd
    for i, d in enumerate(dims):
        inv[d] = i
    return make_view(self, tuple(self._shape[d] for d in dims), tuple(self._stride[d] for d in dims), self._offset,
                     "PermuteBackward0", _permute_back, tuple(inv))


def transpose(self, dim0, dim1):
    nd = self.dim()
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return make_view(self, (), (), self._offset, "TransposeBackward0", _permute_back, ())
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    perm = list(range(nd))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return rename_grad_fn(permute(self, perm), "TransposeBackward0")


def t(self):
    nd = len(self._shape)
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd == 2:   # transpose(self, 0, 1)'s view and node, made directly (linear takes it on every call)
        (m, n), (sm, sn) = self._shape, self._stride
        return make_view(self, (n, m), (sn, sm), self._offset, "TBackward0", _permute_back, (1, 0))
    return rename_grad_fn(self.view(self._shape), "TBackward0")


def movedim(self, source, destination):
    nd = self.dim()
    src_in = list(source) if isinstance(source, (tuple, list)) else [source]
    dst_in = list(destination) if isinstance(destination, (tuple, list)) else [destination]
    if len(src_in) != len(dst_in):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src_in} dims) should contain the "
                           f"same number of dims as destination ({dst_in} dims)")
    src = [wrap_dim(s, nd) for s in src_in]
    dst = [wrap_dim(d, nd) for d in dst_in]
    for name, given, norm in (("source", src_in, src), ("destination", dst_in, dst)):
        if len(set(norm)) != len(norm):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({given})")
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(self, order)


def swapaxes(self, axis0, axis1):
    return transpose(self, axis0, axis1)


# ---- expand / squeeze ----------------------------------------------------------------------------------------

def _expand_back(ctx, g):
    return g.sum_to_size(ctx.attrs)


def expand(self, *sizes):
    require_args(sizes, "expand", "size")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    sizes = int_tuple(sizes, "expand", "size", 1)
    nd = self.dim()
    if len(sizes) < nd:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(self._shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({nd})")
    pad = len(sizes) - nd
    shape, stride = [0] * len(sizes), [0] * len(sizes)
    for i in reversed(range(len(sizes))):   # from the last dim, as ATen: its error names the last mismatch
        s = sizes[i]
        if i < pad:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing "
                                   f"dimension {i}")
            shape[i] = s
            continue
        cur, st = self._shape[i - pad], self._stride[i - pad]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size ({cur}) at "
                               f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                               f"{list(self._shape)}")
        shape[i], stride[i] = s, (st if cur == s else 0)
    shape = tuple(shape)
    if shape == self._shape:
        return make_view(self, shape, self._stride, self._offset, "ExpandBackward0", _expand_back, self._shape)
    checked_numel(shape)  # a negative size on a broadcast dim, or sizes whose product leaves int64
    return make_view(self, shape, tuple(stride), self._offset, "ExpandBackward0", _expand_back, self._shape)


def expand_as(self, other):
    return expand(self, other._shape)


def broadcast_to(self, size):
    return expand(self, tuple(size))


def squeeze(self, dim=None):
    nd = self.dim()
    if dim is None:
        keep = [i for i in range(nd) if self._shape[i] != 1]
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        drop = {wrap_dim(d, nd) for d in dims} if nd else set()
        keep = [i for i in range(nd) if not (i in drop and self._shape[i] == 1)]
    shape = tuple(self._shape[i] for i in keep)
    stride = tuple(self._stride[i] for i in keep)
    name = "SqueezeBackward0" if dim is None else "SqueezeBackward2" if isinstance(dim, (tuple, list)) else \
        "SqueezeBackward1"
    return make_view(self, shape, stride, self._offset, name, _reshape_back, self._shape)


def unsqueeze(self, dim):
    nd = self.dim()
    d = wrap_dim(dim, nd + 1)
    st = self._stride[d] * self._shape[d] if d < nd else 1
    shape = self._shape[:d] + (1,) + self._shape[d:]
    stride = self._stride[:d] + (st,) + self._stride[d:]
    return make_view(self, shape, stride, self._offset, "UnsqueezeBackward0", _reshape_back, self._shape)


# ---- in-place view ops: self becomes the view ------------------------------------------------------------

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


def as_strided_(self, size, stride, storage_offset=None):
    return _inplace_view(self, self.as_strided(size, stride, storage_offset))


# ---- slicing views -------------------------------------------------------------------------------------------

def _slice_back(ctx, g):
    view_fn, in_shape = ctx.attrs
    z = zeros(in_shape, dtype=g._dtype, device=g._storage.device)
    return view_scatter(z, g, view_fn)


def view_scatter(input, src, view_fn):
    """input with view_fn(input)'s elements replaced by src (differentiable in both)."""
    out = input.detach().clone()
    dst = view_fn(out)
    s = src.detach()
    out._storage.backend.copy(dst, s, expand_strides(s._shape, s._stride, dst._shape))
    if GRAD_ENABLED[0] and (input._requires_grad or src._requires_grad):
        record("SliceScatterBackward0", _view_scatter_backward, (input, src), (out,), attrs=view_fn)
    return out


def _view_scatter_backward(ctx, g):
    view_fn = ctx.attrs
    ea, eb = ctx.edges
    g_src = view_fn(g)
    return (view_scatter(g, g_src * 0, view_fn) if ea is not None else None, g_src if eb is not None else None)


def slice_dim(self, dim, start, stop, step=1):
    """self[..., start:stop:step, ...] on one dim (Python slice semantics, clamped)."""
    size = self._shape[dim]
    if step <= 0:
        raise ValueError("step must be greater than zero")
    start, stop, _ = slice(start, stop, 1).indices(size)
    n = max(0, (stop - start + step - 1) // step) if stop > start else 0
    shape = self._shape[:dim] + (n,) + self._shape[dim + 1:]
    st = self._stride[dim] * step
    if n <= 1 and st > INT64_MAX:  # t[::2**70]: one element, whose stride is never used (and must fit int64)
        st = self._stride[dim]
    stride = self._stride[:dim] + (st,) + self._stride[dim + 1:]
    offset = self._offset + start * self._stride[dim]
    return make_view(self, shape, stride, offset, "SliceBackward0", _slice_back,
                     ((lambda t, d=dim, a=start, b=stop, s=step: slice_dim(t, d, a, b, s)), self._shape))


def narrow(self, dim, start, length):
    nd = self.dim()
    check(nd > 0, "narrow() cannot be applied to a 0-dim tensor.")
    if not isinstance(length, Tensor) and isinstance(length, int) and length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")   # checked before dim and start, as PyTorch
    d = wrap_dim(dim, nd)
    if isinstance(start, Tensor):
        if start.dim() != 0 or start._dtype.is_floating_point or start._dtype is D.bool_:
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start.item())
    if not (INT64_MIN <= start <= INT64_MAX and INT64_MIN <= length <= INT64_MAX):
        raise ValueError("Overflow when unpacking long long")
    size = self._shape[d]
    if start < -size or start > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_dim(self, d, start, start + length, 1)


def select(self, dim, index):
    nd = self.dim()
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    size = self._shape[d]
    if isinstance(index, Tensor):
        index = int(index.item())
    elif not isinstance(index, int) or isinstance(index, bool):
        if not hasattr(index, "__index__") or isinstance(index, bool):
            raise TypeError(f"select(): argument 'index' (position 3) must be int, not {type(index).__name__}")
        index = index.__index__()
    if index < -size or index >= size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(self._shape)} at "
                         f"dimension {d}")
    if index < 0:
        index += size
    shape = self._shape[:d] + self._shape[d + 1:]
    stride = self._stride[:d] + self._stride[d + 1:]
    return make_view(self, shape, stride, self._offset + index * self._stride[d], "SelectBackward0", _slice_back,
                     ((lambda t, d=d, i=index: select(t, d, i)), self._shape))


def as_strided(self, size, stride, storage_offset=None):
    off = self._offset if storage_offset is None else storage_offset
    size, stride, off = check_view(self._storage, size, stride, off, self._dtype, "as_strided")
    return make_view(self, size, stride, off, "AsStridedBackward0", _as_strided_back,
                     ((size, stride, off - self._offset), self._shape))


def _as_strided_back(ctx, g):
    # Windows of an as_strided view may overlap: every view element adds its gradient to the input element it
    # reads (offsets relative to the input laid out contiguously).
    (size, stride, off), in_shape = ctx.attrs
    dev = g._storage.device
    offs = zeros((), dtype=D.int64, device=dev) + off
    for i, (n, st) in enumerate(zip(size, stride)):
        offs = offs.unsqueeze(-1) + arange(n, device=dev) * st
    flat = zeros(numel_of(in_shape), dtype=g._dtype, device=dev)
    return flat.index_put((offs.reshape(-1),), g.reshape(-1), accumulate=True).reshape(in_shape)


def diagonal(self, offset=0, dim1=0, dim2=1):
    if not INT64_MIN <= offset <= INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    nd = self.dim()
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    if offset >= 0:
        n = max(0, min(self._shape[d1], self._shape[d2] - offset))
        start = self._offset + offset * self._stride[d2] if n else self._offset
    else:
        n = max(0, min(self._shape[d1] + offset, self._shape[d2]))
        start = self._offset - offset * self._stride[d1] if n else self._offset
    keep = [i for i in range(nd) if i not in (d1, d2)]
    shape = tuple(self._shape[i] for i in keep) + (n,)
    stride = tuple(self._stride[i] for i in keep) + (self._stride[d1] + self._stride[d2],)
    return make_view(self, shape, stride, start, "DiagonalBackward0", _slice_back,
                     ((lambda t, o=offset, a=d1, b=d2: diagonal(t, o, a, b)), self._shape))


def unfold(self, dimension, size, step):
    nd = self.dim()
    d = wrap_dim(dimension, max(nd, 1))   # a 0-d tensor unfolds as if 1-d: dims -1 and 0
    dim_size = self._shape[d] if nd else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > dim_size:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {dim_size} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if step > INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    n = (dim_size - size) // step + 1
    if nd == 0:
        return make_view(self, (size,), (1,), self._offset, "UnfoldBackward0", _as_strided_back,
                         (((size,), (1,), 0), self._shape))
    shape = self._shape[:d] + (n,) + self._shape[d + 1:] + (size,)
    win = self._stride[d] * step
    if n <= 1 and win > INT64_MAX:  # one window: its stride is never used (and must fit int64)
        win = self._stride[d]
    stride = self._stride[:d] + (win,) + self._stride[d + 1:] + (self._stride[d],)
    shape, stride, _ = check_view(self._storage, shape, stride, self._offset, self._dtype, "unfold")
    v = _make(self._storage, shape, stride, self._offset, self._dtype)
    v._base = self._base if self._base is not None else self
    if GRAD_ENABLED[0] and self._requires_grad:
        record("UnfoldBackward0", _unfold_back, (self,), (v,), attrs=(d, size, step, self._shape))
    return v


def _unfold_back(ctx, g):
    d, size, step, in_shape = ctx.attrs
    n = g._shape[d]
    # each window position w covers input positions w*step + k
    idx = (arange(n, device=g._storage.device) * step).unsqueeze(1) + arange(size, device=g._storage.device)
    gm = g.movedim(-1, d + 1).flatten(d, d + 1)  # (..., n*size, ...)
    z = zeros(in_shape, dtype=g._dtype, device=g._storage.device)
    return z.index_add(d, idx.reshape(-1), gm)


# ---- copies ---------------------------------------------------------------------------------------------------

def clone(self, *, memory_format=None):
    # preserve_format (the default): a dense permuted tensor keeps its strides, as in PyTorch
    strides = None
    if memory_format is None or memory_format is preserve_format:
        if self.numel() == 0:
            strides = self._stride
        elif not self.is_contiguous():
            strides = dense_strides(self)
    if strides is not None:
        out = _empty_strided(self._shape, strides, self._dtype, self._storage.device)
    else:
        out = _empty(self._shape, self._dtype, self._storage.device)
    out._storage.backend.copy(out, self, self._stride)
    if GRAD_ENABLED[0] and self._requires_grad:
        record("CloneBackward0", identity_backward, (self,), (out,))
    return out


def contiguous(self, memory_format=None):
    if self.is_contiguous():
        return self
    return clone(self, memory_format=contiguous_format)


def narrow_copy(input, dim, start, length, *, out=None):
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
    return _ip.maybe_write_out(out, input.narrow(dim, start, length).clone())


# ---- joining and splitting -----------------------------------------------------------------------------------

def _cat_back(ctx, g):
    dim, sizes = ctx.attrs
    outs = []
    start = 0
    for s, e in zip(sizes, ctx.edges):
        if s is None:  # a legacy empty 1-D input that cat skipped
            outs.append(g.new_zeros((0,)) if e is not None else None)
            continue
        outs.append(narrow(g, dim, start, s) if e is not None else None)
        start += s
    return tuple(outs)


def cat(tensors, dim=0, *, out=None):
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if out is not None:
        _ip.check_writable(out, *tensors, any_overlap=True)
    check(len(tensors) > 0, "torch.cat(): expected a non-empty list of Tensors", ValueError)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    # legacy: 1-D empty tensors are skipped
    ts = [t for t in tensors if not (t.dim() == 1 and t._shape[0] == 0)] or tensors[:1]
    ref = ts[0]
    nd = ref.dim()
    check(nd > 0, "zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd)
    dt = ts[0]._dtype
    for t in ts[1:]:
        dt = D.promote_types(dt, t._dtype)
    total = 0
    for i, t in enumerate(ts):
        check(t.dim() == nd, f"Tensors must have same number of dimensions: got {nd} and {t.dim()}")
        for k in range(nd):
            if k != d and t._shape[k] != ref._shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._shape[k]} but got size {t._shape[k]} for tensor number {i} in the list.")
        if t._storage.device != ref._storage.device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices")
        total += t._shape[d]
    shape = ref._shape[:d] + (total,) + ref._shape[d + 1:]
    r = _empty(shape, dt, ref._storage.device)
    start = 0
    for t in ts:
        n = t._shape[d]
        if n:
            dst = _make(r._storage, t._shape, r._stride, start * r._stride[d], dt)
            r._storage.backend.copy(dst, t, t._stride)
        start += n
    if GRAD_ENABLED[0] and (dt.is_floating_point or dt.is_complex) and any(t._requires_grad for t in tensors):
        kept = set(map(id, ts))
        record("CatBackward0", _cat_back, tuple(tensors), (r,),
               attrs=(d, tuple(t._shape[d] if id(t) in kept else None for t in tensors)))
    return _ip.write_out(out, r) if out is not None else r


def stack(tensors, dim=0, *, out=None):
    if isinstance(tensors, Tensor):
        raise TypeError("stack(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    check(len(tensors) > 0, "stack expects a non-empty TensorList")
    shape0 = tensors[0]._shape
    for i, t in enumerate(tensors):
        if t._shape != shape0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape0)} at entry 0 and "
                               f"{list(t._shape)} at entry {i}")
    d = wrap_dim(dim, len(shape0) + 1)
    r = cat([unsqueeze(t, d) for t in tensors], d, out=out)
    return rename_grad_fn(r, "StackBackward0") if out is None else r


def _check_output_count(n):
    """Ops returning one tensor per slice: PyTorch reserves their vector first and fails with std::bad_alloc
    where n tensors cannot exist (each costs a few hundred bytes), instead of building them until memory runs out."""
    if n * 256 > MAX_ALLOC_BYTES[0]:
        raise RuntimeError("std::bad_alloc")


def split(self, split_size_or_sections, dim=0):
    check(self.dim() > 0, "split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, self.dim())
    size = self._shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        check(s > 0 or (s == 0 and size == 0), f"split_size can only be 0 if dimension size is 0, but got "
                                               f"dimension size of {size}")
        if s == 0:
            return (self,)
        _check_output_count(size // s + 1)
        sections = [s] * (size // s) + ([size % s] if size % s else [])
        if not sections:
            sections = [0]
    else:
        sections = [int(s) for s in split_size_or_sections]
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
                               f"at dimension {d}), but got split_sizes={sections}")
    node = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
    out = []
    start = 0
    for s in sections:
        out.append(rename_grad_fn(narrow(self, d, start, s), node))
        start += s
    return tuple(out)


def split_with_sizes(self, split_sizes, dim=0):
    return split(self, list(split_sizes), dim)


def chunk(self, chunks, dim=0):
    check(chunks > 0, f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(dim, self.dim())
    size = self._shape[d]
    each = (size + chunks - 1) // chunks
    if each == 0:
        return tuple(narrow(self, d, 0, 0) for _ in range(min(chunks, 1) if size else chunks))
    return split(self, each, d)


def tensor_split(self, indices_or_sections, dim=0):
    d = wrap_dim(dim, self.dim())
    size = self._shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.item() if indices_or_sections.dim() == 0 else \
            indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        check(n > 0, f"number of sections must be larger than 0, got {n}")
        _check_output_count(n)
        base, extra = divmod(size, n)
        bounds = [0]
        for i in range(n):
            bounds.append(bounds[-1] + base + (i < extra))
        return tuple(slice_dim(self, d, bounds[i], bounds[i + 1]) for i in range(n))
    bounds = [0] + [min(max(int(i) if int(i) >= 0 else int(i) + size, 0), size) for i in indices_or_sections] + [size]
    return tuple(slice_dim(self, d, bounds[i], max(bounds[i], bounds[i + 1])) for i in range(len(bounds) - 1))


def unbind(self, dim=0):
    if self.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, self.dim())
    _check_output_count(self._shape[d])
    return tuple(rename_grad_fn(select(self, d, i), "UnbindBackward0") for i in range(self._shape[d]))


def _unsafe(pieces, name):
    """split's pieces as PyTorch's unsafe_* variants give them: not views (in-place changes to one are not tracked
    on the input), each recording `name`."""
    for p in pieces:
        p._base = None
        rename_grad_fn(p, name)
    return pieces


def unsafe_split(self, split_size, dim=0):
    return _unsafe(split(self, split_size, dim), "UnsafeSplitBackward0")


def unsafe_split_with_sizes(self, split_sizes, dim=0):
    return _unsafe(split(self, list(split_sizes), dim), "UnsafeSplitWithSizesBackward0")


def unsafe_chunk(self, chunks, dim=0):
    return _unsafe(chunk(self, chunks, dim), "UnsafeSplitBackward0")


def _register_all():
    V = "view"
    # views: no kernel, each records the backward that maps the gradient back to its input's shape
    for name, fn, back in [("view", view, _reshape_back), ("reshape", reshape, _reshape_back),
                           ("squeeze", squeeze, _reshape_back), ("unsqueeze", unsqueeze, _reshape_back),
                           ("permute", permute, _permute_back), ("transpose", transpose, _permute_back),
                           ("expand", expand, _expand_back), ("select", select, _slice_back),
                           ("diagonal", diagonal, _slice_back), ("as_strided", as_strided, _as_strided_back)]:
        register(name, fn, V, dtype="any", derivative=backward(back), function=name not in ("view", "expand"))
    register("unfold", unfold, V, dtype="any", derivative=backward(_unfold_back, _as_strided_back), function=False)
    # views written in the views above
    for name, fn in [("view_as", view_as), ("reshape_as", reshape_as), ("flatten", flatten), ("unflatten", unflatten),
                     ("ravel", ravel), ("t", t), ("expand_as", expand_as),
                     ("broadcast_to", broadcast_to), ("narrow", narrow), ("split", split), ("chunk", chunk),
                     ("tensor_split", tensor_split), ("unbind", unbind), ("split_with_sizes", split_with_sizes)]:
        register(name, fn, V, dtype="any", function=name not in ("view_as", "expand_as", "reshape_as"))
    register("unsafe_split", unsafe_split, V, dtype="any")
    register("unsafe_split_with_sizes", unsafe_split_with_sizes, V, dtype="any", opinfo=())
    register("unsafe_chunk", unsafe_chunk, V, dtype="any")
    register("movedim", movedim, V, dtype="any", aliases=("moveaxis",))
    register("swapaxes", swapaxes, V, dtype="any", opinfo=(), aliases=("swapdims",))
    register("clone", clone, "copy", primitive="copy", dtype="any", derivative=backward(identity_backward))
    register("contiguous", contiguous, "copy", dtype="any", function=False, opinfo=())
    register("narrow_copy", narrow_copy, "shape", dtype="any")
    register("cat", cat, "join", primitive="copy", dtype="promote", derivative=backward(_cat_back), method=False,
             aliases=("concat", "concatenate"))
    register("stack", stack, "join", dtype="promote", method=False)
    for name, fn in (("squeeze_", squeeze_), ("unsqueeze_", unsqueeze_), ("t_", t_), ("transpose_", transpose_),
                     ("swapaxes_", transpose_), ("swapdims_", transpose_), ("as_strided_", as_strided_)):
        setattr(Tensor, name, fn)
    Tensor.resize_ = _ip.resize_
    Tensor.resize_as_ = _ip.resize_as_
    Tensor.set_ = _ip.set_


_register_all()
