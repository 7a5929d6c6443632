"""torch_js.accelerator (torch.accelerator): the device-generic view of the one accelerator torch_js has, WebGPU.

Where the host loaded the WebGPU bridge, the accelerator is device("webgpu"), as PyTorch names "cuda" or "mps" on
theirs, so `torch.accelerator.current_accelerator()` picks it in device-generic code. Elsewhere (CPython, Pyodide
without the bridge) there is none, and the calls that need one raise PyTorch's RuntimeError.
"""
from ._storage import device as _device
from . import webgpu as _webgpu

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "set_device_index",
           "synchronize", "empty_cache", "memory_allocated", "memory_reserved"]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def _has_webgpu():
    """The webgpu device was registered: this runtime was built (loaded) with the accelerator."""
    return "webgpu" in _device._BACKENDS


def is_available():
    return _has_webgpu() and _webgpu.is_available()


def current_accelerator(check_available=False):
    """device("webgpu") where the runtime has it (and, with check_available, where it works), else None."""
    if not _has_webgpu() or (check_available and not is_available()):
        return None
    return _device("webgpu")


def device_count():
    return 1 if is_available() else 0


def _require():
    if not is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def current_device_index():
    _require()
    return 0


def set_device_index(device):
    _require()
    index = device.index if isinstance(device, _device) else device
    if index not in (None, 0, -1):
        raise RuntimeError(f"set_device_index(): invalid device index {index}: webgpu has one device, index 0")


def synchronize(device=None):
    _require()
    _webgpu.synchronize()


def empty_cache():
    _require()
    _webgpu.empty_cache()


def memory_allocated(device_index=None):
    _require()
    return _webgpu.memory_allocated()


def memory_reserved(device_index=None):
    _require()
    return _webgpu.memory_reserved()
