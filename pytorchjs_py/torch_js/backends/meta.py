"""The meta device: tensors with a shape, dtype and strides but no memory (PyTorch's `device="meta"`).

A model built on it costs nothing to allocate (`with torch.device("meta"): model = Net()`, then
`model.to_empty(device="cpu")` or `load_state_dict(sd, assign=True)`), and ops on meta tensors compute only the
result's geometry. The ops layer works as on any device: it checks arguments, infers shapes and dtypes and
allocates outputs here (a MetaStorage: a byte length, no buffer), then calls a primitive, which has nothing to
compute and only checks that every tensor it was handed is a meta tensor.

Data never leaves or enters: read_bytes raises PyTorch's errors (Tensor.item() on a meta tensor, and the copy out
of one that .cpu()/.tolist() make), from_bytes keeps only the length. A MetaStorage has no address: reading its
`ptr` (the first thing a CPU kernel does with a tensor) raises instead of handing a kernel a null pointer, so a
meta tensor that reaches another device's kernel fails with an error rather than touching memory.
"""
import inspect

from .. import _dtype as D
from .._storage import META, META_NO_DATA as NO_DATA, Storage, device
from .._tensor import Tensor
from .interface import Backend, PRIMITIVES

__all__ = ["BACKEND", "MetaBackend", "MetaStorage", "NO_DATA"]


class MetaStorage(Storage):
    """A meta tensor's storage: its byte length (views are checked against it as on any device) and no memory."""
    __slots__ = ()

    def __init__(self, nbytes, backend):
        self.nbytes = nbytes
        self.device = META
        self.backend = backend
        self.buf = None
        self.version = 0
        self.owner = None

    @property
    def ptr(self):
        raise RuntimeError("torch_js: a kernel tried to reach the memory of a meta tensor, which has none (meta "
                           "tensors hold only a shape, dtype and strides; an op mixed one with a tensor on another "
                           "device?)")

    def alias(self):
        s = MetaStorage(self.nbytes, self.backend)
        s.owner = self.owner or self
        return s


def _check_all_meta(name, args):
    """A primitive's arguments: the tensors are all meta (a no-op must not leave another device's output
    unwritten)."""
    for a in args:
        if isinstance(a, Tensor) and a._storage.device is not META:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                               f"meta and {a._storage.device}! (torch_js meta primitive {name})")


def _shape_only(name):
    """The meta version of primitive `name`: its outputs are meta tensors with nothing to compute."""
    def primitive(self, *args, **kwargs):
        _check_all_meta(name, args)
        _check_all_meta(name, kwargs.values())
    primitive.__name__ = primitive.__qualname__ = name
    primitive.__signature__ = inspect.signature(getattr(Backend, name))   # the interface's, for its checks
    primitive.__doc__ = f"{name} on meta tensors: nothing to compute (the ops layer already set the outputs' shape)."
    return primitive


class MetaBackend(Backend):
    name = "meta"
    device = META
    wide_float = D.float64

    def alloc(self, nbytes):
        return MetaStorage(nbytes, self)

    def from_bytes(self, data):
        return MetaStorage(len(data), self)

    def read_bytes(self, storage, byte_offset, nbytes):
        """Only Tensor.item() reads a meta storage's bytes directly (the copies out, .cpu() and .tolist(), go
        through Tensor._raw_bytes, which raises PyTorch's NotImplementedError first)."""
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    async def read_bytes_async(self, storage, byte_offset, nbytes):
        raise NotImplementedError(NO_DATA)


for _name in PRIMITIVES:
    if _name not in ("alloc", "from_bytes", "read_bytes"):
        setattr(MetaBackend, _name, _shape_only(_name))

BACKEND = MetaBackend()
device._BACKENDS["meta"] = BACKEND
