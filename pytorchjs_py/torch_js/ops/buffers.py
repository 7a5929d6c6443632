"""Tensors over memory Python already holds: torch.frombuffer (a writable buffer's own bytes, shared) and
torch.from_file (a file's bytes, read in, or mapped with shared=True).

A CPU storage is an address plus the object that keeps the memory alive (as numpy interop's is): ctypes gives the
address of a writable buffer, in CPython and in Pyodide alike (the buffer lives in the wasm heap the kernels read).
"""
import ctypes

from .. import _dtype as D
from .._storage import CPU, Storage
from .._tensor import _make
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import warn_at_caller
from .creation import tensor as _tensor, with_requires_grad

__all__ = ["frombuffer", "from_file"]


def _shared_tensor(holder, address, nbytes, count, dtype):
    storage = Storage(nbytes, CPU, CPU.backend, holder, address)
    return _make(storage, (count,), (1,), 0, dtype)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor over `count` elements of buffer (-1: all) from byte `offset`, sharing a writable buffer's memory.
    A read-only one (bytes) is copied: PyTorch shares it and lets the tensor write into it, which Python forbids."""
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    if not view.c_contiguous:
        raise ValueError("frombuffer: the buffer must be C-contiguous")
    view = view.cast("B")
    length = len(view)
    size = dtype.itemsize
    if length <= 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
                         f"({length} bytes) minus 1")
    if count < 0:
        if (length - offset) % size:
            raise ValueError(f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be a "
                             f"multiple of element size ({size})")
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not "
                         f"be greater than actual buffer length ({length} bytes)")
    if requires_grad and not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    window = view[offset:offset + count * size]
    if view.readonly:
        warn_at_caller("The given buffer is not writable: torch_js copies it (PyTorch shares it and lets the tensor "
                       "write into the supposedly read-only buffer). Pass a writable buffer (a bytearray) to share "
                       "memory.")
        holder = (ctypes.c_char * len(window)).from_buffer_copy(window)
    else:
        holder = (ctypes.c_char * len(window)).from_buffer(window)   # keeps the buffer exported, so alive
    t = _shared_tensor(holder, ctypes.addressof(holder), len(window), count, dtype)
    return with_requires_grad(t, requires_grad)


def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False):
    """`size` elements of dtype from the start of a file: read in (shared False/None), or, with shared=True, the
    file mapped so that writes to the tensor reach the file."""
    dtype = dtype or D.get_default_dtype()
    nbytes = size * dtype.itemsize
    mode = "read-write" if shared else "read-only"
    try:
        f = open(filename, "r+b" if shared else "rb")
    except OSError as e:
        raise RuntimeError(f"unable to open file <{filename}> in {mode} mode: {e.strerror} ({e.errno})") from None
    with f:
        f.seek(0, 2)
        available = f.tell()
        if available < nbytes:
            raise RuntimeError(f"file <{filename}> size <{available}> is smaller than the required mapping size "
                               f"<{nbytes}>")
        if not shared or nbytes == 0:
            f.seek(0)
            data = bytearray(f.read(nbytes))
            t = frombuffer(data, dtype=dtype) if nbytes else _tensor([], dtype=dtype)
            return with_requires_grad(t, requires_grad)
        import mmap
        try:
            mapping = mmap.mmap(f.fileno(), nbytes)
        except (OSError, ValueError) as e:
            raise RuntimeError(f"from_file: cannot map <{filename}> shared here ({e}); pass shared=False to read "
                               "it") from None
    holder = (ctypes.c_char * nbytes).from_buffer(mapping)
    return with_requires_grad(_shared_tensor(holder, ctypes.addressof(holder), nbytes, size, dtype), requires_grad)


register("frombuffer", frombuffer, "creation", dtype="factory", derivative=NOT_DIFFERENTIABLE, method=False,
         opinfo=())
register("from_file", from_file, "creation", dtype="factory", derivative=NOT_DIFFERENTIABLE, method=False,
         opinfo=())
