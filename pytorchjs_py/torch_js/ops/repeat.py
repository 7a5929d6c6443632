"""Ops that replicate their input's elements: repeat, tile, repeat_interleave, and the grids built from
expanded copies (meshgrid, cartesian_prod, combinations). Written in other ops, so every device and autograd get
them for free."""

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ._registry import register
from ._util import as_op_result, check, require_args, warn_at_caller
from .creation import arange, zeros
from .shape import stack
from .sorting import searchsorted


def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    if len(args) == 1 and isinstance(args[0], Tensor):
        return tuple(args[0].tolist())
    return tuple(args)


def repeat(self, *sizes):
    require_args(sizes, "repeat", "repeats")
    sizes = _sizes(sizes)
    check(len(sizes) >= self.dim(), "Number of dimensions of repeat dims can not be smaller than number of "
          "dimensions of tensor")
    for s in sizes:
        check(s >= 0, lambda: f"Trying to create tensor with negative dimension {s}: {list(sizes)}")
    x = self.reshape((1,) * (len(sizes) - self.dim()) + self._shape)
    view, exp, final = [], [], []
    for r, s in zip(sizes, x._shape):
        view += [1, s]
        exp += [r, s]
        final.append(r * s)
    r = x.reshape(tuple(view)).expand(tuple(exp)).reshape(tuple(final))
    if r._storage is self._storage:   # all repeats 1: the reshapes were views, and repeat always copies
        r = r.clone()
    return as_op_result(r, "RepeatBackward0", (self,))


def tile(input, dims):
    dims = _sizes((dims,)) if not isinstance(dims, int) else (dims,)
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return repeat(input, dims)


def _repeat_index(repeats, output_size=None):
    """[0]*r0 + [1]*r1 + ... from a 1-D int64 tensor of counts (searchsorted over the running totals)."""
    dev = repeats._storage.device
    cs = repeats.cumsum(0)
    total = int(cs[-1].item()) if repeats.numel() else 0
    if output_size is not None:
        total = output_size
    return searchsorted(cs, arange(total, device=dev), right=True)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # repeat_interleave(repeats): the indices
        check(input.dim() <= 1, "repeat_interleave only accept 1D vector as repeat")
        reps = input.reshape(-1).to(D.int64)
        check(not reps.numel() or bool((reps >= 0).all().item()), "repeats can not be negative")
        return _repeat_index(reps, output_size)
    x = input
    if dim is None:
        x = x.reshape(-1)
        d = 0
    else:
        d = wrap_dim(dim, max(x.dim(), 1))
        if x.dim() == 0:
            x = x.reshape(1)
    n = x._shape[d]
    if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.dim() <= 1:
        repeats = int(repeats.reshape(()).item())
    if isinstance(repeats, int):
        check(repeats >= 0, "repeats can not be negative")
        shp = list(x._shape)
        u = x.unsqueeze(d + 1)
        exp = shp[:d + 1] + [repeats] + shp[d + 1:]
        # ATen's expand, clone, view: a view of a copy (of the input's storage even when repeats == 1)
        return u.expand(tuple(exp)).clone().view(tuple(shp[:d] + [n * repeats] + shp[d + 1:]))
    check(repeats.dim() == 1, "repeat_interleave only accept 1D vector as repeat")
    check(repeats._shape[0] == n, lambda: f"repeats must have the same size as input along dim, but got "
          f"repeats.size(0) = {repeats._shape[0]} and input.size({d}) = {n}")
    check(not repeats._dtype.is_floating_point, "repeats has to be Long or Int tensor")
    reps = repeats.to(D.int64)
    check(not reps.numel() or bool((reps >= 0).all().item()), "repeats can not be negative")
    return x.index_select(d, _repeat_index(reps, output_size))


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warn_at_caller("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.")
        indexing = "ij"
    check(indexing in ("ij", "xy"), lambda: f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
          f"received: {indexing}")
    check(len(tensors) > 0, "meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        check(t.dim() <= 1, lambda: f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        check(t._dtype is tensors[0]._dtype, "meshgrid expects all tensors to have the same dtype")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = []
    for i, t in enumerate(ts):
        vs = [1] * len(ts)
        vs[i] = -1
        grids.append(t.reshape(tuple(vs)).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    for t in tensors:
        check(t.dim() == 1, lambda: f"Expect a 1D vector, but got shape {list(t._shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    check(input.dim() == 1, lambda: f"Expect a 1D vector, but got shape {list(input._shape)}")
    check(r >= 0, lambda: f"Expect a non-negative number, but got {r}")
    n = input._shape[0]
    dev = input._storage.device
    if r == 0:
        return zeros((0,), dtype=input._dtype, device=dev)
    idx = [arange(n, device=dev)] * r
    grids = [g.reshape(-1) for g in meshgrid(*idx, indexing="ij")]
    mask = None
    for a, b in zip(grids, grids[1:]):
        m = (a <= b) if with_replacement else (a < b)
        mask = m if mask is None else mask.logical_and(m)
    if mask is None:
        return input.unsqueeze(1).clone()
    return stack([input.index_select(0, g[mask]) for g in grids], 1)


def _register_all():
    S = "shape"
    register("repeat", repeat, S, dtype="same", function=False)
    register("tile", tile, S, dtype="same")
    register("repeat_interleave", repeat_interleave, S, dtype="same")
    register("meshgrid", meshgrid, S, dtype="same", method=False)
    register("cartesian_prod", cartesian_prod, S, dtype="same", method=False)
    register("combinations", combinations, S, dtype="same", method=False)


_register_all()
