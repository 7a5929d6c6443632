"""In-place writes, `out=`, and how they rebase autograd history.

Without autograd an in-place op writes straight into its tensor with one kernel call (the optimizer's path).
With autograd the op runs out of place on a differentiable clone, the result is copied in (`commit`), and the
tensor's history moves to the new node. When the tensor is a view, its base gets a CopySlices node (the base with
the view's region replaced) and the view becomes an as_strided view of that base, as in PyTorch.

Sits right above _util: every op module writes its `out=` and in-place variants through here, so this module
calls other ops only as Tensor methods.
"""
from .. import _dtype as D
from .._storage import INT64_MAX, Storage, check_alloc
from .._tensor import Tensor, _contig, _make, check_view, checked_numel, int_tuple
from ._util import GRAD_ENABLED, broadcast_pair, c_type_name, expand_strides, is_dense, record

def can_cast(from_, to):
    """PyTorch's can_cast: no complex -> real, no float -> integral, no non-bool -> bool."""
    if from_.is_complex and not to.is_complex:
        return False
    if from_.is_floating_point and not (to.is_floating_point or to.is_complex):
        return False
    if from_ is not D.bool_ and to is D.bool_:
        return False
    return True


def check_leaf(self):
    if GRAD_ENABLED[0] and self._requires_grad:
        base = self._base
        if self._grad_fn is None:   # a leaf; a view made a leaf by requires_grad_() counts as a view of one
            raise RuntimeError(("a view of a leaf Variable" if base is not None else "a leaf Variable") +
                               " that requires grad is being used in an in-place operation.")
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


def check_cast(result_dtype, self):
    if not can_cast(result_dtype, self._dtype):
        raise RuntimeError(f"result type {_cap(result_dtype)} can't be cast to the desired output type "
                           f"{_cap(self._dtype)}")


_cap = D.scalar_type_name


def check_shape(self, shape):
    if shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape {list(shape)}")


def overlaps(a, b):
    """Whether b reads memory that a writes in a different pattern (then write through a temporary)."""
    if a._storage is not b._storage:
        return False
    return not (a._offset == b._offset and a._stride == b._stride and a._shape == b._shape)


def _span(t):
    return t._offset, t._offset + sum((n - 1) * s for n, s in zip(t._shape, t._stride)) + 1


def check_writable(out, *inputs, any_overlap=False):
    """PyTorch's overlap checks for a tensor about to be written in place (or as out=): assert_no_internal_overlap
    (a dim of stride 0 and size > 1 in a tensor with elements: the writes would race for one location), then
    partial overlap with an input when both are dense (sparser overlaps PyTorch calls "too hard" and allows)."""
    for n, s in zip(out._shape, out._stride):
        if s == 0 and n > 1 and 0 not in out._shape:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")
    for t in inputs:
        if any_overlap and isinstance(t, Tensor) and t._storage is out._storage and not overlaps(out, t):
            raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                               "refer to a single memory location. Please clone() the tensor before performing the "
                               "operation.")
    s = out._storage
    if not any(t.__class__ is not int and t.__class__ is not float and isinstance(t, Tensor) and t._storage is s
               for t in inputs) or not out.numel():
        return   # (no input shares out's memory: nothing more to check)
    lo, hi = _span(out)
    for t in inputs:
        if isinstance(t, Tensor) and t._storage is s and t.numel() and (any_overlap or overlaps(out, t)):
            tlo, thi = _span(t)
            if tlo < hi and lo < thi and is_dense(out) and is_dense(t):
                raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to "
                                   "tensor refer to a single memory location. Please clone() the tensor before "
                                   "performing the operation.")


def inplace_from(self, r):
    """Finish an in-place op whose result r was computed out of place from self."""
    check_writable(self)
    if GRAD_ENABLED[0] and (self._requires_grad or r._requires_grad):
        check_leaf(self)
    check_cast(r._dtype, self)
    return commit(self, r)


def inplace_of(self, op, *args, **kwargs):
    """Tensor.<op>_(...): op computed out of place, then written into self. Under autograd op reads a clone of
    self, so the values its nodes save are not the ones the write overwrites."""
    src = self.clone() if GRAD_ENABLED[0] and self._requires_grad else self
    return inplace_from(self, op(src, *args, **kwargs))


def commit(self, r):
    """Write r (broadcastable to self) into self, bump the version, and move self's history to r's node."""
    shape = broadcast_pair(self._shape, r._shape)
    check_shape(self, shape)
    if r._storage is self._storage and r._offset == self._offset and r._stride == self._stride:
        pass
    else:
        if r._storage is self._storage:
            r = r.clone()
        self._storage.backend.copy(self, r, expand_strides(r._shape, r._stride, shape))
    self._storage.version += 1
    if GRAD_ENABLED[0] and (r._requires_grad or self._requires_grad):
        if r._requires_grad:
            if r._shape != self._shape:
                r = r.expand(self._shape)
            if r._dtype is not self._dtype:
                r = r.to(self._dtype)
        if self._base is None:
            if r._requires_grad:
                self._grad_fn = r._grad_fn
                self._output_nr = r._output_nr
                self._requires_grad = True
            else:
                # overwritten by constants: the old history gets a zero gradient (PyTorch's FillBackward)
                record("FillBackward0", _zero_backward, (self,), (self,))
        else:
            _rebase_view(self, r)
    return self


def _zero_backward(ctx, g):
    return g * 0


# --- views written in place (CopySlices) ---------------------------------------------------------------------

def _geometry(view, base):
    if not base.is_contiguous():
        raise RuntimeError("torch_js: in-place operation on a view of a non-contiguous base is not supported "
                           "under autograd; call .contiguous() on the base first")
    return (view._shape, view._stride, view._offset - base._offset)


def region(t, geometry):
    """The view of t (laid out contiguously) that `geometry` (shape, stride, offset) describes."""
    shape, stride, off = geometry
    tc = t if t.is_contiguous() else t.contiguous()
    return tc.as_strided(shape, stride, tc._offset + off)


def _rebase_view(view, r):
    base = view._base
    geom = _geometry(view, base)
    # the base's new value is as_strided_scatter(base, r, geometry): it shares that op's backward
    record("torch::autograd::CopySlices", _as_strided_scatter_backward, (base, r if r._requires_grad else None),
           (base,), attrs=geom)
    base._requires_grad = True
    view._grad_fn = None
    record("AsStridedBackward0", _as_strided_backward, (base,), (view,), attrs=(geom, base._shape))


def _as_strided_backward(ctx, g):
    geom, base_shape = ctx.attrs
    return as_strided_scatter(g.new_zeros(base_shape), g, geom)


def as_strided_scatter(input, src, geometry):
    """input with the region `geometry` (relative to input laid out contiguously) replaced by src."""
    out = input.detach().contiguous().clone()
    dst = region(out, geometry)
    src_d = src.detach()
    out._storage.backend.copy(dst, src_d, expand_strides(src_d._shape, src_d._stride, dst._shape))
    if GRAD_ENABLED[0] and (input._requires_grad or src._requires_grad):
        record("AsStridedScatterBackward0", _as_strided_scatter_backward, (input, src), (out,), attrs=geometry)
    return out


def _as_strided_scatter_backward(ctx, g):
    geom = ctx.attrs
    ea, eb = ctx.edges
    g_region = region(g, geom)
    return (as_strided_scatter(g, g_region * 0, geom) if ea is not None else None,
            g_region if eb is not None else None)


# --- out= -----------------------------------------------------------------------------------------------------

def write_out(out, r):
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if GRAD_ENABLED[0] and (r._requires_grad or out._requires_grad):
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one of the arguments "
                           "requires grad.")
    check_cast(r._dtype, out)
    if out._shape != r._shape:
        resize_(out, r._shape)
    check_writable(out)
    out._storage.backend.copy(out, r, r._stride)
    out._storage.version += 1
    return out


def write_out_exact(out, r):
    """out= for the ops whose out must already have the result's dtype (PyTorch's kernels that do not cast)."""
    if out is None:
        return r
    if isinstance(out, Tensor) and out._dtype is not r._dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {c_type_name(r._dtype)}, but got "
                           f"{c_type_name(out._dtype)} instead")
    return write_out(out, r)


def write_outs(out, result):
    """out= of an op returning several tensors: a tuple or list of as many tensors, each given its result's values
    (resized to it; its dtype must be the result's, as PyTorch's kernels cast none of them). Returns `result`'s type
    (a torch.return_types tuple) over the out tensors, or `result` itself when no out was given."""
    if out is None:
        return result
    n = len(result)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        got = len(out) if isinstance(out, (tuple, list)) else type(out).__name__
        raise TypeError(f"expected tuple of {n} elements but got {got}")
    return type(result)(tuple(write_out_exact(o, r) for o, r in zip(out, result)))


def maybe_write_out(out, r):
    """r written into `out` when an out= tensor was given, else r itself."""
    return write_out(out, r) if out is not None else r


def resize_(self, *sizes, memory_format=None):
    """Tensor.resize_: self becomes a contiguous view of the new sizes from its storage offset, the storage
    growing (its old bytes kept) when too small. Sizes are checked before anything is allocated."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    shape = int_tuple(shape, "resize_", "size", 1)
    n = checked_numel(shape)
    itemsize = self._dtype.itemsize
    need = (self._offset + n) * itemsize if n else 0
    if need > INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    if need > self._storage.nbytes:
        check_alloc(need)
        old = self._storage
        new = old.backend.alloc(need)
        keep = min(old.nbytes, need)
        if keep:
            new.backend.copy(_make(new, (keep,), (1,), 0, D.uint8), _make(old, (keep,), (1,), 0, D.uint8), (1,))
        self._storage = new
    stride = _contig(shape)
    check_view(self._storage, shape, stride, self._offset, self._dtype, "resize_")
    self._shape = shape
    self._stride = stride
    return self


def resize_as_(self, the_template, *, memory_format=None):
    """Tensor.resize_as_: resize_ to the template's sizes."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                        f"{type(the_template).__name__}")
    return resize_(self, the_template._shape)


def set_(self, source=None, storage_offset=None, size=None, stride=None):
    """Tensor.set_: self becomes a view of `source` (a tensor: its storage and geometry, or the geometry given; a
    storage: from storage_offset, contiguous unless stride is given, all of it if no size), or of a new empty
    storage. The dtype stays self's; the version counter moves on."""
    if isinstance(self, Tensor) and GRAD_ENABLED[0] and self._requires_grad:
        check_leaf(self)
    if source is None:
        storage, shape, stride_, offset = self._storage.backend.alloc(0), (0,), (1,), 0
    else:
        if isinstance(source, Tensor):
            if source._dtype is not self._dtype:
                raise RuntimeError(f"Could not set tensor of type {c_type_name(source._dtype)} to a tensor of type "
                                   f"{c_type_name(self._dtype)}")
            storage = source._storage
            if storage_offset is None and size is None:
                shape, stride_, offset = source._shape, source._stride, source._offset
        else:
            # a TypedStorage wraps an UntypedStorage, which wraps the internal storage
            storage = getattr(source, "_untyped_storage", source)
            storage = getattr(storage, "_storage", storage)
            if not isinstance(storage, Storage):
                raise TypeError(f"set_(): argument 'source' (position 1) must be torch.Storage or Tensor, not "
                                f"{type(source).__name__}")
            if size is None:
                if storage_offset is not None:
                    raise TypeError("set_() received an invalid combination of arguments - got (Storage, int): "
                                    "storage_offset needs size")
                shape, stride_, offset = (storage.nbytes // self._dtype.itemsize,), (1,), 0
        if storage_offset is not None or size is not None:
            if size is None or storage_offset is None:
                raise TypeError("set_() received an invalid combination of arguments: storage_offset and size go "
                                "together")
            shape = int_tuple(size, "set_", "size", 3)
            stride_ = _contig(shape) if stride is None else stride
            offset = storage_offset
        shape, stride_, offset = check_view(storage, shape, stride_, offset, self._dtype, "set_")
    self._storage = storage
    self._shape, self._stride, self._offset = shape, stride_, offset
    storage.version += 1
    return self


# --- torch.<name>_ functions --------------------------------------------------------------------------------------

# The in-place ops PyTorch exposes as torch.<name>_ functions as well as Tensor methods (nn ones such as torch.relu_
# come with the other nn aliases, torch_js/_functional_aliases.py); the others (add_, mul_, ...) are methods only.
TORCH_INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
    "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_",
    "conj_physical_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_",
    "fix_", "floor_", "frac_", "gcd_", "i0_", "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_",
    "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "resize_as_", "resize_as_sparse_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_",
    "zero_")


def _method_as_function(name, method):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return method(input, *args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.{name}(input, ...) is input.{name}(...)."
    return function


def method_functions():
    """{name: torch.<name>} for each of TORCH_INPLACE_FUNCTIONS (and detach) that Tensor has as a method: the method
    called on its first argument. Run once the ops are declared (a method declared later gets no function)."""
    return {name: _method_as_function(name, getattr(Tensor, name))
            for name in TORCH_INPLACE_FUNCTIONS + ("detach",) if hasattr(Tensor, name)}
