"""torch.functional: the tensor functions PyTorch writes in Python over its ops (broadcast_tensors)."""
from ._tensor import Tensor

__all__ = ["broadcast_tensors"]


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views; a tensor already of that shape is itself)."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    shape = ()
    for t in tensors:
        shape = _broadcast_two(shape, tuple(t.shape))
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


def _broadcast_two(a, b):
    """The broadcast shape of a (earlier tensors) and b, with PyTorch's message for sizes that do not match."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {i}")
        out.append(y if x == 1 else x)
    return tuple(out)
