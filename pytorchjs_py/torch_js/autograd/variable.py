"""torch.autograd.Variable: the deprecated pre-0.4 wrapper. Since PyTorch 0.4 every tensor is a Variable: calling it
returns a plain Tensor (an alias of `data`, detached from its history, sharing its version counter) with
requires_grad as given, and isinstance(tensor, Variable) is True."""
import warnings

from .._graph import Node
from .._tensor import Tensor
from ..ops._registry import torch_ops


class VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=VariableMeta):
    _execution_engine = None

    def __new__(cls, data=None, requires_grad=False, volatile=False, _grad_fn=None, name=None):
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          stacklevel=2)
        if volatile and requires_grad:
            raise ValueError("Variable can't be volatile and require_grad at the same time!")
        if _grad_fn is not None and not isinstance(_grad_fn, Node):
            raise TypeError(f"_grad_fn has to be a Function object or None, but got {type(_grad_fn).__name__}")
        if data is None:
            var = torch_ops.empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        else:
            var = data.detach()
        if requires_grad:
            if not (var.dtype.is_floating_point or var.dtype.is_complex):
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            var.requires_grad_(True)
        if name is not None:
            var.name = name
        return var


__all__ = ["Variable"]
