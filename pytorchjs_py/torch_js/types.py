"""torch_js.types (torch.types): the type aliases PyTorch's annotations use (Number, Device, _size, ...).

torch_js has no symbolic shapes, so the Sym* parts of PyTorch's aliases (IntLikeType = int | SymInt, ...) are the
plain Python types.
"""
import os
from builtins import (bool as _bool, bytes as _bytes, complex as _complex, float as _float, int as _int,  # noqa: F401
                      str as _str)
from collections.abc import Sequence
from typing import IO, Union

from ._dtype import dtype as _dtype  # noqa: F401
from ._storage import device as _device
from ._tensor import Size, Tensor
from .storage import _StorageBase as Storage

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
