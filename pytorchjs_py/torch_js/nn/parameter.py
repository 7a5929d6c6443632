"""torch.nn.Parameter and torch.nn.Buffer for torch_js.

A Parameter is a Tensor subclass that shares the storage of the tensor it wraps (like PyTorch's
`data.detach()._make_subclass`), is a leaf, and requires grad by default. Ops on a Parameter return plain
Tensors (ops build results with `_tensor._make`).
"""
import copy

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


def is_lazy(param):
    return False


class UninitializedParameter(Parameter):
    pass
