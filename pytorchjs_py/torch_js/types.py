"""torch_js.types (torch.types): the type aliases PyTorch's annotations use (Number, Device, _size, ...).

torch_js has no symbolic shapes, so the Sym* parts of PyTorch's aliases (IntLikeType = int | SymInt, ...) are the
plain Python types.
"""
import os
from builtins import bool as _bool, bytes as _bytes, complex as _complex, float as _float, int as _int, str as _str  # noqa: F401
from collections.abc import Sequence
from typing import IO, Union

from ._dtype import dtype as _dtype  # noqa: F401
from ._storage import device as _device
from ._tensor import Size, Tensor

__all__ = ["Number", "Device", "FileLike", "Storage"]

_layout = str   # torch_js's layouts (torch.strided, ...) are their names
_TensorOrTensors = Union[Tensor, Sequence[Tensor]]
_TensorOrOptionalTensors = Union[Tensor, Sequence[Union[Tensor, None]]]
_size = Union[Size, list, tuple]
_symsize = Union[Size, Sequence[int]]
IntLikeType = int
FloatLikeType = float
BoolLikeType = bool
Number = Union[int, float, bool]
_Number = (int, float, bool)
FileLike = Union[str, os.PathLike, IO[bytes]]
Device = Union[_device, str, int, None]


def __getattr__(name):
    if name == "Storage":   # the storage classes import the package; bound on first use
        from .storage import _StorageBase
        return _StorageBase
    raise AttributeError(f"module 'torch_js.types' has no attribute '{name}'")
