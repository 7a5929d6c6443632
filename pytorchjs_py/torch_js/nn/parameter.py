"""torch.nn.Parameter and torch.nn.Buffer for torch_js.

A Parameter is a Tensor subclass that shares the storage of the tensor it wraps (like PyTorch's
`data.detach()._make_subclass`), is a leaf, and requires grad by default. Ops on a Parameter return plain
Tensors (ops build results with `_tensor._make`).
"""
import copy
import sys

from .._tensor import Tensor, _make
from .._grad_mode import no_grad
from ..ops._registry import torch_ops


def _wrap(data, cls):
    t = _make(data._storage, data._shape, data._stride, data._offset, data._dtype)
    t.__class__ = cls
    return t


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = torch_ops.empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}")
        t = _wrap(data, cls)
        if data.__dict__:
            # keep user attributes, never autograd history
            for k, v in data.__dict__.items():
                if k not in ("_grad_fn", "_requires_grad", "_grad", "_output_nr", "_base", "_grad_acc", "_hooks",
                             "_post_acc_hooks", "_retains_grad"):
                    t.__dict__[k] = v
        t.requires_grad = requires_grad
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        with no_grad():
            result = type(self)(self.detach().clone(), self.requires_grad)
        if self._grad is not None:
            result._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = result
        return result

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.detach(), self.requires_grad))

    __hash__ = Tensor.__hash__


def _rebuild_parameter(data, requires_grad):
    """Target of Parameter.__reduce_ex__ (and an allowed global of torch_js.load): the Parameter wraps data's view,
    which its own rebuild validated; nothing else from the file reaches the Parameter's internals."""
    if not isinstance(data, Tensor):
        raise TypeError(f"_rebuild_parameter: data must be a Tensor, not {type(data).__name__}")
    if not isinstance(requires_grad, bool):
        raise TypeError(f"_rebuild_parameter: requires_grad must be a bool, not {type(requires_grad).__name__}")
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """torch.nn.Buffer: assigning one to a Module attribute registers it as a buffer. `Buffer(t)` returns a
    marked tensor sharing t's storage."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = torch_ops.empty(0)
        t = _wrap(data.detach(), cls)
        t.persistent = persistent
        return t

    def __init__(self, data=None, *, persistent=True):
        pass

    __hash__ = Tensor.__hash__


# ---- uninitialized parameters and buffers (the lazy modules') -------------------------------------------------

_SHAPE_SLOT = Tensor.__dict__["_shape"]      # the real shape field, under UninitializedTensorMixin's guard


def _uninitialized_use(cls, where):
    return ValueError(f"Attempted to use an uninitialized parameter in {where}. This error happens when you are "
                      f"using a `LazyModule` or explicitly manipulating `torch.nn.parameter.{cls.__name__}` objects. "
                      "When using LazyModules Call `forward` with a dummy batch to initialize the parameters before "
                      "calling torch functions")


class UninitializedTensorMixin:
    """A placeholder tensor (0 elements) until `materialize(shape)` gives it storage and turns it into
    `cls_to_become`. PyTorch refuses every op on one (its __torch_function__); torch_js ops read `_shape` first, which
    refuses here, so any op raises PyTorch's ValueError. The conversions PyTorch allows (to, float, cpu, ...), dtype,
    device, size() and `.data` work; `.shape` raises RuntimeError as there."""
    __slots__ = ()
    cls_to_become = None
    _converts_to_self = False       # conversions return a plain Tensor (a parameter's) or the same class (a buffer's)

    @property
    def _shape(self):
        raise _uninitialized_use(type(self), f"<function {sys._getframe(1).f_code.co_name}>")

    @_shape.setter
    def _shape(self, value):
        _SHAPE_SLOT.__set__(self, value)

    def _placeholder(self):
        """The 0-element tensor behind this one (same storage, dtype and device)."""
        return _make(self._storage, _SHAPE_SLOT.__get__(self), self._stride, self._offset, self._dtype)

    @property
    def data(self):
        return self._placeholder()

    @data.setter
    def data(self, value):
        Tensor.data.fset(self, value)

    def size(self, dim=None):
        return self._placeholder().size(dim)

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor storage of `shape` (uninitialized values) and make it a `cls_to_become`."""
        placeholder = self._placeholder()
        data = torch_ops.empty(shape, device=placeholder.device if device is None else device,
                               dtype=placeholder.dtype if dtype is None else dtype)
        self.__class__ = self.cls_to_become
        self.data = data

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
                           "the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{self.__class__.__name__}>"

    def __reduce_ex__(self, proto):
        return (self.__class__, (self.requires_grad,))

    __hash__ = Tensor.__hash__


def _allowed_conversion(name):
    def convert(self, *args, **kwargs):
        out = getattr(self._placeholder(), name)(*args, **kwargs)
        if self._converts_to_self and isinstance(out, Tensor):
            out = _wrap(out, type(self))
        return out
    convert.__name__ = name
    return convert


# what PyTorch lets through to an uninitialized tensor (UninitializedTensorMixin._allowed_methods there)
for _name in ("copy_", "is_complex", "is_floating_point", "half", "float", "double", "char", "short", "int", "long",
              "cuda", "cpu", "to", "get_device"):
    setattr(UninitializedTensorMixin, _name, _allowed_conversion(_name))


def is_lazy(param):
    """True for an uninitialized parameter or buffer."""
    return isinstance(param, UninitializedTensorMixin)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet (the lazy modules' weights); becomes a Parameter on `materialize`."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        t = _wrap(torch_ops.empty(0, device=device, dtype=dtype), cls)
        t.requires_grad = requires_grad
        return t

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            placeholder = self._placeholder()
            memo[id(self)] = type(self)(self.requires_grad, placeholder.device, placeholder.dtype)
        return memo[id(self)]


class UninitializedBuffer(UninitializedTensorMixin, Buffer):
    """A buffer whose shape is not known yet (the lazy norms' running stats); becomes a Tensor on `materialize`."""
    cls_to_become = Tensor
    _converts_to_self = True

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        t = _wrap(torch_ops.empty(0, device=device, dtype=dtype), cls)
        t.requires_grad = requires_grad
        t.persistent = persistent
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            placeholder = self._placeholder()
            memo[id(self)] = type(self)(self.requires_grad, placeholder.device, placeholder.dtype,
                                        self.__dict__.get("persistent", True))
        return memo[id(self)]
