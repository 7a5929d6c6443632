"""Tensor methods that are not ops: where a tensor's memory lives and how it may be shared (pinning, sharing, streams,
storage identity, dim order), devices this build lacks (xpu, ipu, mtia, ...), inference tensors, subclass views,
the load_state_dict hook and Tensor.grad (with its assignment checks). Installed on Tensor here, as _printing and the
autograd engine install theirs (core's Tensor cannot import what these need, or has no room for them).
"""
import weakref

from . import _dtype as D
from ._memory_format import channels_last, channels_last_3d, contiguous_format, memory_format
from ._tensor import Tensor
from .ops._util import PACKAGE_DIRS, identity_backward, warn_at_caller
from .ops.shape import make_view

__all__ = ["contiguous_as"]

_SHARED = weakref.WeakSet()   # storages share_memory_() has been called on (is_shared)


def pin_memory(self, device=None):
    """PyTorch pins memory for an accelerator's transfers; a build without one (PyTorch's CPU wheel, torch_js
    without WebGPU) refuses. With WebGPU the copy is the plain CPU tensor: uploads read any CPU memory."""
    from . import accelerator   # here: accelerator imports webgpu, which torch_js sets up after these methods
    if accelerator.current_accelerator() is None:
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    return self.clone()


def share_memory_(self):
    """Marks the storage shared (is_shared). Browser and Pyodide have no other processes: the memory stays put."""
    if self.device.type == "cpu":
        _SHARED.add(self._storage.owner or self._storage)
    return self


def is_shared(self):
    return self.device.type == "cpu" and (self._storage.owner or self._storage) in _SHARED


def record_stream(self, stream):
    if not (hasattr(stream, "synchronize") and hasattr(stream, "query")):   # a torch.Stream or a device's Stream
        raise RuntimeError("unknown parameter type")
    if self.device.type == "cpu":
        raise NotImplementedError("Could not run 'aten::record_stream' with arguments from the 'CPU' backend.")


def is_set_to(self, tensor):
    """Whether self and tensor are the same view: same storage, offset, sizes and strides."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"is_set_to(): argument 'tensor' (position 1) must be Tensor, not {type(tensor).__name__}")
    return (self._storage.owner or self._storage) is (tensor._storage.owner or tensor._storage) and \
        self._offset == tensor._offset and self._shape == tensor._shape and self._stride == tensor._stride


def contiguous_as(t, fmt):
    """Whether t is laid out as `fmt` asks (contiguous_format, channels_last for 4-d, channels_last_3d for 5-d):
    the strides of the dims in that format's order grow from the last, size-1 dims excepted."""
    nd = len(t._shape)
    if fmt is None or fmt is contiguous_format:
        order = tuple(range(nd))
    elif (fmt is channels_last and nd == 4) or (fmt is channels_last_3d and nd == 5):
        order = (0,) + tuple(range(2, nd)) + (1,)
    elif fmt in (channels_last, channels_last_3d):
        return False
    else:
        raise RuntimeError(f"Unknown memory format {fmt}")
    if 0 in t._shape:
        return True
    expected = 1
    for d in reversed(order):
        n, st = t._shape[d], t._stride[d]
        if n != 1 and st != expected:
            return False
        expected *= n
    return True


def _ge(x, y):
    return y == 0 or (x != 0 and x >= y)


def _stride_order(t, a, b):
    """-1 when dim a lies inside dim b in memory, 1 when outside, 0 when their order is undetermined (ATen's
    elementwise output order: a zero stride tells nothing; equal strides go by size)."""
    sa, sb = t._stride[a], t._stride[b]
    if sa == 0 or sb == 0:
        return 0
    if sa == sb:
        return 0 if _ge(t._shape[b], t._shape[a]) else 1
    if _ge(sb, sa):
        return -1
    return 1 if _ge(sa, sb) else 0


def dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory. ambiguity_check=True raises when the order is not unique
    (size-1 dims, equal strides); a list of memory formats accepts a tensor laid out as exactly one of them."""
    if self._sparse is not None:
        raise AttributeError(f"Can't get dim order on sparse type: {self.type()} Use Tensor.to_dense() to convert to "
                             "a dense tensor first.")
    if not isinstance(ambiguity_check, bool) and not (
            isinstance(ambiguity_check, list) and all(isinstance(f, memory_format) for f in ambiguity_check)):
        raise TypeError("The ambiguity_check argument must be a bool or a list of memory formats.")
    nd = self.dim()
    formats = ambiguity_check if isinstance(ambiguity_check, list) else []
    check = ambiguity_check if isinstance(ambiguity_check, bool) else True
    if check:
        strides, sizes = self._stride, self._shape
        multiple = any(a == b for a, b in zip(strides, strides[1:])) or 1 in sizes
        if multiple and sum(contiguous_as(self, f) for f in formats) != 1:
            raise RuntimeError("The tensor does not have unique dim order, or cannot map to exact one of the given "
                               "memory formats.")
    if nd <= 1:
        return tuple(range(nd))
    is_contiguous, is_cl = contiguous_as(self, contiguous_format), contiguous_as(self, channels_last)
    if is_contiguous and not is_cl:
        return tuple(range(nd))
    if is_cl and not is_contiguous:
        return (0,) + tuple(range(2, nd)) + (1,)
    perm = list(reversed(range(nd)))    # innermost first; insertion sort that leaves undetermined pairs in place
    for i in range(1, nd):
        j = i
        for k in reversed(range(i)):
            order = _stride_order(self, perm[k], perm[j])
            if order > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif order < 0:
                break
    if ambiguity_check and any(_stride_order(self, perm[i], perm[i + 1]) != -1 for i in range(nd - 1)):
        raise RuntimeError("The tensor does not have unique dim order.")
    return tuple(reversed(perm))


def is_same_size(self, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"is_same_size(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return self._shape == other._shape


def is_nonzero(self):
    """The truth of a one-element tensor (PyTorch's error for any other)."""
    n = self.numel()
    if n == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if n > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


def const_data_ptr(self):
    return self.data_ptr()


def is_distributed(self):
    return False


def get_device(self):
    """The device index: -1 on the CPU (and meta), else the device's index (0 if it has none)."""
    dev = self._storage.device
    if dev.type in ("cpu", "meta"):
        return -1
    return dev.index if dev.index is not None else 0


def is_inference(self):
    """Whether the tensor's memory was allocated under inference mode."""
    return getattr(self._storage, "inference", False)


def as_subclass(self, cls):
    """An alias of self (same memory; gradients flow back to self through AliasBackward0) as an instance of the
    Tensor subclass cls."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is not possible. "
                        "Make sure your class inherits from Tensor.")
    alias = make_view(self, self._shape, self._stride, self._offset, "AliasBackward0", identity_backward, None)
    return alias._as_subclass(cls)


def module_load(self, other, assign=False):
    """How load_state_dict turns a state-dict value into this parameter's new value: other itself (detached) with
    assign, else self with other's values copied in (detached)."""
    if assign:
        return other.detach()
    return self.copy_(other).detach()


def chalf(self, memory_format=None):
    raise RuntimeError("chalf: torch_js has no complex32 (ComplexHalf) dtype; use cfloat() for complex64")


def _no_device(attr, error):
    def method(self, *args, **kwargs):
        raise error
    method.__name__ = method.__qualname__ = attr
    return method


def _set_grad(self, value):
    """Tensor.grad = value: PyTorch's checks of an assigned gradient."""
    if value is not None:
        if not isinstance(value, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of {type(value).__name__}")
        if value._shape != self._shape:
            raise RuntimeError(f"attempting to assign a gradient of size '{list(value._shape)}' to a tensor of size "
                               f"'{list(self._shape)}'. Please ensure that the gradient and the tensor are the same "
                               "size")
        if value._dtype is not self._dtype:
            raise RuntimeError(f"attempting to assign a gradient with dtype '{D.c_type_name(value._dtype)}' to a "
                               f"tensor with grad_dtype '{D.scalar_type_name(self._dtype)}'. The gradient must match "
                               "the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
                               "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype "
                               "with caution. Diverging the dtypes of a tensor and its gradient may break downstream "
                               "systems that assume they match.")
        if value.device.type != self.device.type:
            raise RuntimeError(f"attempting to assign a gradient with device type '{value.device.type}' to a tensor "
                               f"with device type '{self.device.type}'. Please ensure that the gradient and the "
                               "tensor are on the same device")
    self._grad = value


def _del_grad(self):
    self._grad = None


def _get_grad(self):
    g = self._grad
    if g is None and self._grad_fn is not None and not self._retains_grad:
        warn_at_caller(_NON_LEAF_GRAD, inside=PACKAGE_DIRS)
    return g


_NON_LEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                  "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                  "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                  "Tensor by mistake, make sure you access the leaf Tensor instead. See "
                  "github.com/pytorch/pytorch/pull/30531 for more information.")
Tensor.grad = property(_get_grad, _set_grad, _del_grad)

_MTIA_MISSING = ("Torch not compiled with MTIA enabled. Ensure you have `import "
                 "mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and include "
                 "`//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!")

for _name, _fn in [("pin_memory", pin_memory), ("share_memory_", share_memory_), ("is_shared", is_shared),
                   ("record_stream", record_stream), ("is_set_to", is_set_to), ("dim_order", dim_order),
                   ("const_data_ptr", const_data_ptr), ("is_same_size", is_same_size), ("is_nonzero", is_nonzero),
                   ("is_distributed", is_distributed),
                   ("get_device", get_device), ("is_inference", is_inference), ("as_subclass", as_subclass),
                   ("module_load", module_load), ("chalf", chalf),
                   ("xpu", _no_device("xpu", AssertionError("Torch not compiled with XPU enabled"))),
                   ("ipu", _no_device("ipu", RuntimeError("PyTorch is not linked with support for ipu devices"))),
                   ("mtia", _no_device("mtia", AssertionError(_MTIA_MISSING)))]:
    setattr(Tensor, _name, _fn)
for _name in ("is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan", "is_mkldnn"):
    setattr(Tensor, _name, False)   # devices and layouts this build has no tensors of
