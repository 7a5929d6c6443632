"""PyTorch's legacy sparse tensor types: torch.sparse.FloatTensor(indices, values, size) (older code, pygcn among it,
builds its adjacency matrices so), torch.sparse.FloatTensor(*sizes) and torch.sparse.FloatTensor() (no entries).
isinstance() asks for a COO tensor of the type's dtype; Tensor.type() names them ("torch.sparse.FloatTensor")."""
from .. import _dtype as D
from .._legacy_types import tensortype
from .._tensor import Size, Tensor, sparse_coo
from ..ops._registry import torch_ops
from ._coo import sparse_coo_tensor

_NAMES = (("FloatTensor", D.float32), ("DoubleTensor", D.float64), ("HalfTensor", D.float16),
          ("BFloat16Tensor", D.bfloat16), ("LongTensor", D.int64), ("IntTensor", D.int32), ("ShortTensor", D.int16),
          ("CharTensor", D.int8), ("ByteTensor", D.uint8))


def _empty_of(dtype, sizes):
    sizes = tuple(int(s) for s in sizes)
    for n in sizes:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(sizes)}")
    return sparse_coo_tensor(torch_ops.zeros((len(sizes), 0), dtype=D.int64), torch_ops.zeros((0,), dtype=dtype),
                             sizes)


def _make_type(name, dtype):
    def __new__(cls, *args, **kwargs):
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"new() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
        if args and isinstance(args[0], Tensor):   # (indices, values[, size]): the values keep their dtype
            if len(args) not in (2, 3) or not isinstance(args[1], Tensor):
                raise TypeError(f"new(): expected (Tensor indices, Tensor values[, tuple of ints size]), got "
                                f"{len(args)} arguments")
            return sparse_coo_tensor(args[0], args[1], tuple(args[2]) if len(args) == 3 else None)
        if len(args) == 1 and isinstance(args[0], (Size, tuple, list)):
            args = tuple(args[0])
        if not args:
            return _empty_of(cls.dtype, (0,))
        for i, a in enumerate(args):
            if isinstance(a, (bool, float)) or not hasattr(a, "__index__"):
                raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {i + 1} with error \"type "
                                f"must be tuple of ints,but got {type(a).__name__}\"")
        return _empty_of(cls.dtype, args)

    return tensortype(name, (), {"__new__": __new__, "dtype": dtype, "is_cuda": False, "is_sparse": True,
                                 "layout": sparse_coo, "__module__": "torch.sparse", "__doc__": None})


SPARSE_TYPES = {name: _make_type(name, d) for name, d in _NAMES}
