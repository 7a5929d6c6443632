"""torch_js.cuda (torch.cuda): the CUDA API as a PyTorch build without CUDA reports it.

So device-generic scripts (`device = "cuda" if torch.cuda.is_available() else "cpu"`, `torch.cuda.manual_seed_all(0)`,
`torch.cuda.empty_cache()`) run unchanged. What PyTorch's CPU wheels accept is accepted here and does nothing; what
they refuse ("Torch not compiled with CUDA enabled") is refused with the same AssertionError. torch_js's GPU is
"webgpu" (torch_js.webgpu, torch_js.accelerator), never "cuda".
"""
import contextlib
import warnings
from collections import OrderedDict

from . import amp
from .._absent_device import (device_count, dummy_class, get_arch_list, get_gencode_flags, is_available,  # noqa: F401
                             is_bf16_supported, is_initialized, is_tf32_supported, manual_seed, manual_seed_all,
                             memory_allocated, memory_stats)
from ._errors import NOT_COMPILED as _NOT_COMPILED, no_cuda_runtime as _no_cuda_runtime, no_nvml as _no_nvml
from ._errors import not_compiled as _not_compiled
from .._storage import device as _torch_device
from ..storage import _warn_typed_storage_removal

__all__ = ["amp", "is_available", "device_count", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
           "synchronize", "empty_cache", "ipc_collect", "current_device", "get_device_name",
           "get_device_properties", "get_device_capability", "mem_get_info", "current_stream", "default_stream",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_stats",
           "is_bf16_supported", "is_tf32_supported", "get_arch_list", "get_gencode_flags", "OutOfMemoryError"]


class OutOfMemoryError(RuntimeError):
    """torch.OutOfMemoryError (torch.cuda.OutOfMemoryError): never raised by torch_js, caught by scripts."""


def init():
    raise _not_compiled()


# Seeding is queued until CUDA initialises, which never happens here: accepted and dropped, as PyTorch's CPU wheels
# do (manual_seed/manual_seed_all: _absent_device).

def seed():
    pass


def seed_all():
    pass


def initial_seed():
    raise _not_compiled()


def get_rng_state(device="cuda"):
    raise _not_compiled()


def get_rng_state_all():
    return []


def set_rng_state(new_state, device="cuda"):
    pass   # queued until CUDA initialises, as seeding is


def set_rng_state_all(new_states):
    pass


def synchronize(device=None):
    raise _not_compiled()


def empty_cache():
    pass


def ipc_collect():
    raise _not_compiled()


def current_device():
    raise _not_compiled()


def get_device_name(device=None):
    raise _not_compiled()


def get_device_properties(device=None):
    raise _not_compiled()


def get_device_capability(device=None):
    raise _not_compiled()


def mem_get_info(device=None):
    raise _not_compiled()


def current_stream(device=None):
    raise _not_compiled()


def default_stream(device=None):
    raise _not_compiled()


# The allocator's counters exist without CUDA and read zero (_absent_device.memory_allocated).
max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


# ---- streams, events, graphs: the classes exist; constructing them needs CUDA ---------------------------------------


class Stream:
    """torch.cuda.Stream: needs CUDA."""

    def __init__(self, device=None, priority=0, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class ExternalStream(Stream):
    pass


Event = dummy_class("Event")
CUDAGraph = dummy_class("CUDAGraph")


class StreamContext:
    """Selects a CUDA stream inside the block; without CUDA there is none to select, and it does nothing (as
    PyTorch's does on a build without CUDA)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


def set_stream(stream):
    pass


__all__ += ["Stream", "ExternalStream", "Event", "CUDAGraph", "StreamContext", "stream", "set_stream"]


# ---- the rest of torch.cuda's public names, as PyTorch's CPU wheels answer them -------------------------------------

def _device_index(device, optional=False):
    """The CUDA device index device names (torch.cuda._utils._get_device_index): an int as is, "cuda:1" or
    torch.device("cuda", 1) as 1; another device type is a ValueError; no index is None where optional (there is
    no current CUDA device to default to)."""
    if isinstance(device, int):
        return device
    if isinstance(device, str):
        device = _torch_device(device)
    index = None
    if isinstance(device, _torch_device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        index = device.index
    elif isinstance(device, _DeviceContext):
        return device.idx
    if index is None and not optional:
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
    return index


def set_device(device):
    """A negative index selects nothing and is accepted; selecting a CUDA device needs CUDA."""
    if _device_index(device) >= 0:
        raise _no_cuda_runtime("set_device")


class _DeviceContext:
    """torch.cuda.device(index): makes index the current CUDA device inside the block. Index -1 (a CPU tensor's
    device_of) selects nothing; a CUDA index needs CUDA."""

    def __init__(self, device):
        self.idx = _device_index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is None:
            raise TypeError("torch.cuda.device: no device index (and no current CUDA device to default to)")
        if self.idx >= 0:
            raise RuntimeError("PyTorch was compiled without CUDA support")

    def __exit__(self, *exc):
        return False


_DeviceContext.__name__ = _DeviceContext.__qualname__ = "device"
device = _DeviceContext


class device_of(device):
    """torch.cuda.device_of(tensor): the tensor's CUDA device as the current one; a CPU tensor selects nothing."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def memory_cached(device=None):
    warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`", FutureWarning,
                  stacklevel=2)
    return memory_reserved(device)


def max_memory_cached(device=None):
    warnings.warn("`torch.cuda.max_memory_cached` has been renamed to `torch.cuda.max_memory_reserved`",
                  FutureWarning, stacklevel=2)
    return max_memory_reserved(device)


def reset_max_memory_allocated(device=None):
    warnings.warn("torch.cuda.reset_max_memory_allocated now calls torch.cuda.reset_peak_memory_stats, which resets "
                  "/all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def reset_max_memory_cached(device=None):
    warnings.warn("torch.cuda.reset_max_memory_cached now calls torch.cuda.reset_peak_memory_stats, which resets "
                  "/all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def memory_stats_as_nested_dict(device=None):
    return {}


def host_memory_stats():
    return OrderedDict()


def host_memory_stats_as_nested_dict():
    return {}


def memory_summary(device=None, abbreviated=False):
    raise KeyError("allocated_bytes.all.current")   # the summary reads counters an allocator without CUDA lacks


def list_gpu_processes(device=None):
    return "pynvml module not found, please install nvidia-ml-py"


def caching_allocator_enable(value=True):
    pass   # takes effect when CUDA initialises, which never happens here


@contextlib.contextmanager
def caching_allocator_disabled():
    raise _no_cuda_runtime("caching_allocator_disabled")
    yield


@contextlib.contextmanager
def use_mem_pool(pool, device=None):
    raise _not_compiled()
    yield


def is_current_stream_capturing():
    raise RuntimeError("Tried to instantiate dummy base class _cuda_isCurrentStreamCapturing")


def graph_pool_handle():
    raise RuntimeError("Tried to instantiate dummy base class _graph_pool_handle")


class graph:
    """torch.cuda.graph(cuda_graph): captures CUDA work into a graph, on a side stream that needs CUDA."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global"):
        Stream()


def make_graphed_callables(callables, sample_args, num_warmup_iters=3, allow_unused_input=False, pool=None):
    CUDAGraph()


# what needs CUDA (AssertionError), a CUDA runtime binding (AttributeError) or NVIDIA's management library
_REFUSED = {
    _not_compiled: ("cudart current_blas_handle current_solver_handle get_per_process_memory_fraction "
                    "set_per_process_memory_fraction get_sync_debug_mode set_sync_debug_mode get_stream_from_external "
                    "caching_allocator_alloc can_device_access_peer"),
    _no_cuda_runtime: ("caching_allocator_delete change_current_allocator get_allocator_backend memory_snapshot "
                       "reset_accumulated_host_memory_stats reset_accumulated_memory_stats "
                       "reset_peak_host_memory_stats reset_peak_memory_stats check_error"),
    _no_nvml: "clock_rate device_memory_used memory_usage power_draw temperature utilization",
}


def _refusing(name, error):
    def refuse(*args, **kwargs):
        raise error(name) if error is _no_cuda_runtime else error()
    refuse.__name__ = refuse.__qualname__ = name
    return refuse


for _error, _names in _REFUSED.items():
    for _name in _names.split():
        globals()[_name] = _refusing(_name, _error)
    __all__ += _names.split()


class _CudaLegacyStorage:
    def __init__(self, *args, **kwargs):
        _warn_typed_storage_removal()
        raise _not_compiled()


_STORAGES = ("BFloat16Storage BoolStorage ByteStorage CharStorage ComplexDoubleStorage ComplexFloatStorage "
             "DoubleStorage FloatStorage HalfStorage IntStorage LongStorage ShortStorage").split()
for _name in _STORAGES:
    globals()[_name] = type(_name, (_CudaLegacyStorage,), {"__module__": __name__})


class CudaError(RuntimeError):
    def __init__(self, code):
        raise _no_cuda_runtime("CudaError")   # its message comes from the CUDA runtime


class DeferredCudaCallError(Exception):
    pass


class cudaStatus:
    SUCCESS = 0
    ERROR_NOT_READY = 34


MemPool = dummy_class("MemPool")


class CUDAPluggableAllocator:
    """A CUDA allocator loaded from a shared library: torch_js loads no native CUDA library."""

    def __init__(self, path_to_so_file, alloc_fn_name, free_fn_name):
        raise OSError(f"{path_to_so_file}: cannot load a CUDA allocator library: {_NOT_COMPILED}")


class GreenContext:
    """A CUDA green context (a partition of the GPU's SMs): one is made by create(), which needs CUDA."""

    @staticmethod
    def create(*args, **kwargs):
        raise _not_compiled()


default_generators = ()
has_half = True
has_magma = False

__all__ += _STORAGES + [
    "set_device", "device", "device_of", "memory_cached", "max_memory_cached", "memory_stats_as_nested_dict",
    "reset_max_memory_allocated", "reset_max_memory_cached", "host_memory_stats", "host_memory_stats_as_nested_dict",
    "memory_summary", "list_gpu_processes",
    "caching_allocator_enable", "caching_allocator_disabled", "use_mem_pool", "is_current_stream_capturing",
    "graph_pool_handle", "graph", "make_graphed_callables", "CudaError", "DeferredCudaCallError", "cudaStatus",
    "MemPool", "CUDAPluggableAllocator", "GreenContext", "default_generators", "has_half", "has_magma"]

from . import _submodules  # noqa: E402,F401  (torch.cuda.nccl, .nvtx, .memory, .random, ...)
