"""What the distributions package uses of torch_js, under short names: the public ops (T.<op>, F.<op> for
nn.functional, LA.<op> for linalg, late-bound), dtypes, Size, grad modes and the special functions."""
from .. import _dtype as D
from .._grad_mode import enable_grad, no_grad
from .._tensor import Size, Tensor
from ..autograd.engine import grad
from ..ops._util import broadcast_shapes as _broadcast_shapes
from ..autograd.function import Function
from ..special._common import F, LA, T, broadcast

__all__ = ["D", "F", "LA", "T", "Size", "Tensor", "Function", "broadcast", "broadcast_shapes", "enable_grad", "grad",
           "no_grad"]


def broadcast_shapes(*shapes):
    """torch.broadcast_shapes, as a Size."""
    return Size(_broadcast_shapes(*[tuple(s) for s in shapes]))
