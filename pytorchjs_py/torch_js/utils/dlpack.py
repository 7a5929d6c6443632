"""torch.utils.dlpack: from_dlpack / to_dlpack.

torch_js reads no DLPack capsules (other libraries' device memory is out of reach in a browser), so it takes what it
can share without one: its own tensors (the same memory, detached, as PyTorch's round trip gives) and NumPy arrays
(their memory, through from_numpy). Anything else, and exporting a capsule, raise saying so.
"""
from .._tensor import Tensor
from ..ops._numpy_interop import from_numpy

__all__ = ["from_dlpack", "to_dlpack"]


def from_dlpack(ext_tensor):
    if isinstance(ext_tensor, Tensor):
        return ext_tensor.detach()
    if type(ext_tensor).__module__ == "numpy" and hasattr(ext_tensor, "__array_interface__"):
        return from_numpy(ext_tensor)
    raise RuntimeError(f"from_dlpack: torch_js shares memory only with its own tensors and NumPy arrays, not "
                       f"{type(ext_tensor).__name__} (it cannot read DLPack capsules)")


def to_dlpack(tensor):
    raise RuntimeError("to_dlpack: torch_js cannot export DLPack capsules; share a CPU tensor with NumPy through "
                       "tensor.numpy() instead")
