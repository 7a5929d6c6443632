"""torch_js.accelerator (torch.accelerator): the device-generic view of the one accelerator torch_js has, WebGPU.

Where the host has the WebGPU bridge, the accelerator is device("webgpu"), as PyTorch names "cuda" or "mps" on
theirs: `current_accelerator()` is webgpu there (the runtime's accelerator, as PyTorch's is the build's). Whether it
is *available* (is_available(), current_accelerator(check_available=True), device_count()) depends on the adapter:
only a hardware one counts. A software adapter (SwiftShader, llvmpipe: `isFallbackAdapter`) runs WebGPU on the CPU,
slower than torch_js's WebAssembly kernels, so device-generic code picks the CPU there; device("webgpu") still works
when named. reason() says in one line why. Elsewhere (CPython, Pyodide without the bridge) there is none, and the
calls that need one raise PyTorch's RuntimeError.

    device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
    print(torch.accelerator.reason())   # e.g. "cpu: the WebGPU adapter is a software one (google swiftshader ...)"
"""
import warnings
from collections import OrderedDict

from ._storage import device as _device
from . import webgpu as _webgpu

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index", "set_device_index",
           "synchronize", "empty_cache", "memory_allocated", "memory_reserved", "device_index", "current_device_idx",
           "set_device_idx", "memory_stats", "max_memory_allocated", "max_memory_reserved", "reset_peak_memory_stats",
           "reset_accumulated_memory_stats", "get_memory_info", "empty_host_cache", "get_device_capability",
           "current_stream", "set_stream", "Graph"]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def _has_webgpu():
    """The webgpu device was registered: this runtime was built (loaded) with the accelerator."""
    return "webgpu" in _device._BACKENDS or _webgpu.register_backend()


def _choose():
    """(device("webgpu") or None, why in one line). Creates the webgpu device (once) to see its adapter."""
    if not _has_webgpu():
        return None, ("cpu: this runtime has no accelerator (torch_js's is WebGPU, in Pyodide with its bridge: a "
                      "browser with WebGPU or Node)")
    if not _webgpu.is_available():
        return None, f"cpu: webgpu is not available ({_webgpu.unavailable_reason()})"
    try:
        info = _webgpu.device_info()
    except RuntimeError as e:
        return None, f"cpu: webgpu is not available ({str(e).removeprefix('torch_js: ')})"
    name = _webgpu.adapter_name(info)
    if _webgpu.is_software_adapter(info):
        return None, (f"cpu: the WebGPU adapter is a software one ({name}), slower than the CPU's WebAssembly "
                      "kernels (device 'webgpu' still works when asked for)")
    return _device("webgpu"), f"webgpu: a hardware WebGPU adapter ({name})"


def reason():
    """Why is_available() / current_accelerator(check_available=True) answer as they do, in one line starting with
    the device they pick ("webgpu: ..." or "cpu: ..."). torch_js's own: PyTorch has no such call."""
    return _choose()[1]


def is_available():
    """True where the runtime has the webgpu device on a hardware adapter (see the module's docstring)."""
    return _choose()[0] is not None


def current_accelerator(check_available=False):
    """device("webgpu") where the runtime has it (and, with check_available, where is_available()), else None."""
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


def current_device_idx():
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_idx(device):
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


class device_index:
    """`with torch.accelerator.device_index(i):` makes i the current device inside the block; None changes
    nothing. WebGPU has the one device 0, so entering checks the index and leaving has nothing to restore."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            set_device_index(self.idx)
            self.prev_idx = 0

    def __exit__(self, *exc_info):
        return False


def memory_stats(device_index=None, /):
    """The allocator's counters under PyTorch's key names; WebGPU's bridge counts the current bytes only."""
    stats = _webgpu_stats()
    return OrderedDict([("allocated_bytes.all.current", stats["allocated"]),
                        ("reserved_bytes.all.current", stats["reserved"])])


def _webgpu_stats():
    _require()
    return _webgpu.memory_stats()


def _untracked(what):
    _require()
    raise RuntimeError(f"torch.accelerator.{what}(): the webgpu device does not track peak or accumulated memory "
                       "(memory_allocated() and memory_reserved() give the current bytes)")


def max_memory_allocated(device_index=None, /):
    _untracked("max_memory_allocated")


def max_memory_reserved(device_index=None, /):
    _untracked("max_memory_reserved")


def reset_peak_memory_stats(device_index=None, /):
    _untracked("reset_peak_memory_stats")


def reset_accumulated_memory_stats(device_index=None, /):
    _untracked("reset_accumulated_memory_stats")


def get_memory_info(device_index=None, /):
    _require()
    raise RuntimeError("torch.accelerator.get_memory_info(): WebGPU does not report a device's free and total memory")


def empty_host_cache():
    _require()   # webgpu keeps no cache of pinned host memory: nothing to empty


def get_device_capability(device=None, /):
    """What the WebGPU adapter reports about itself (its features and limits)."""
    _require()
    return dict(_webgpu.device_info())


def current_stream(device=None, /):
    _require()
    raise RuntimeError("torch.accelerator.current_stream(): torch_js's webgpu device runs one queue and exposes no "
                       "streams")


def set_stream(stream):
    _require()
    raise RuntimeError("torch.accelerator.set_stream(): torch_js's webgpu device runs one queue and exposes no "
                       "streams")


class Graph:
    """torch.accelerator.Graph: captures device work to replay it; WebGPU has no graph capture."""

    def __init__(self, keep_graph=False, *, pool=None, capture_error_mode="default"):
        _require()
        raise RuntimeError("torch.accelerator.Graph: the webgpu device has no graph capture")
