"""PyTorch's deprecated positional overloads, still called by programs written for PyTorch 0.x (the tutorials'
`p.data.add_(-learning_rate, p.grad.data)`, old optimizers' `exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)`):
the number comes before the tensors. PyTorch's argument parser accepts them with one UserWarning per process (a
single warn-once for all of them), worded with the method's signature."""
from numbers import Number

from .._tensor import Tensor
from ._util import warn_at_caller

_WARNED = [False]

# name -> (the deprecated signature, the one to use), as PyTorch words them for the Tensor methods
_SIGNATURES = {
    "add": ("(Number alpha, Tensor other)", "(Tensor other, *, Number alpha = 1)"),
    "sub": ("(Number alpha, Tensor other)", "(Tensor other, *, Number alpha = 1)"),
    "addcmul": ("(Number value, Tensor tensor1, Tensor tensor2)",
                "(Tensor tensor1, Tensor tensor2, *, Number value = 1)"),
    "addcdiv": ("(Number value, Tensor tensor1, Tensor tensor2)",
                "(Tensor tensor1, Tensor tensor2, *, Number value = 1)"),
}


def number_first(name, number, tensors, keyword_value, keyword_default=1):
    """The (number, tensors) of a call op(input, number, *tensors) in the deprecated order; `name` is the op's
    (an in-place one ends in _). Anything else in that position is PyTorch's TypeError."""
    base = name.rstrip("_")
    old, new = _SIGNATURES[base]
    n_tensors = old.count("Tensor")
    if (isinstance(number, Tensor) or not isinstance(number, Number) or len(tensors) != n_tensors
            or not all(isinstance(t, Tensor) for t in tensors) or keyword_value != keyword_default):
        got = ", ".join(f"!{type(a).__name__}!" for a in (number, *tensors))
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}), but expected {new}")
    if not _WARNED[0]:
        _WARNED[0] = True
        warn_at_caller(f"This overload of {name} is deprecated:\n\t{name}{old}\nConsider using one of the following "
                       f"signatures instead:\n\t{name}{new}")
    return number, tuple(tensors)
