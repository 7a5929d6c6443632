"""Between flat indices and coordinates: unravel_index (the coordinates of flat indices into a shape) and
nonzero_static (nonzero's coordinates in a result of fixed size, padded or cut)."""
from .. import _dtype as D
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import check
from .creation import full, tensor
from .indexing import nonzero
from .shape import cat


def unravel_index(indices, shape):
    """A tuple of int64 tensors, one per dim of shape, each of indices' shape (PyTorch's Python function: indices
    wrap modulo the shape's size)."""
    d = indices._dtype
    check(not (d.is_complex or d.is_floating_point or d is D.bool_),
          lambda: f"expected 'indices' to be integer dtype, but got {d}", TypeError)
    check(isinstance(shape, (int, tuple, list)) and not isinstance(shape, bool),
          lambda: f"expected 'shape' to be int or sequence of ints, but got {type(shape)}", TypeError)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    for s in shape:
        check(isinstance(s, int), lambda: f"expected 'shape' sequence to only contain ints, but got {type(s)}",
              TypeError)
    check(all(s >= 0 for s in shape), lambda: f"'shape' cannot have negative values, but got {shape}", ValueError)
    coefs = [1] * len(shape)
    for i in range(len(shape) - 2, -1, -1):
        coefs[i] = coefs[i + 1] * shape[i + 1]
    dev = indices._storage.device
    coords = indices.unsqueeze(-1).floor_divide(tensor(coefs, dtype=D.int64, device=dev)) % \
        tensor(list(shape), dtype=D.int64, device=dev)
    return coords.unbind(-1)


def nonzero_static(input, *, size, fill_value=-1):
    """The first `size` rows of nonzero(input), padded with fill_value rows when there are fewer."""
    check(isinstance(size, int) and size >= 0, "nonzero_static: 'size' must be an non-negative integer")
    nz = nonzero(input)
    count = nz._shape[0]
    if count >= size:
        return nz[:size]
    pad = full((size - count, nz._shape[1]), fill_value, dtype=D.int64, device=nz._storage.device)
    return cat([nz, pad], 0)


def _register_all():
    register("unravel_index", unravel_index, "index", dtype="index", derivative=NOT_DIFFERENTIABLE, method=False)
    register("nonzero_static", nonzero_static, "index", dtype="index", derivative=NOT_DIFFERENTIABLE)


_register_all()
