"""torch_js.mps (torch.mps): Apple's Metal device as a PyTorch build without MPS reports it.

is_available() is False and device_count() 0; manual_seed is accepted (queued for a device that never comes, as
PyTorch's builds without MPS do); everything that needs the device raises PyTorch's "without MPS backend"
RuntimeError. torch_js's GPU is "webgpu" (torch_js.webgpu).
"""

from ._absent_device import device_count, is_available, manual_seed  # noqa: F401

__all__ = ["Event", "compile_shader", "current_allocated_memory", "device_count", "driver_allocated_memory",
           "empty_cache", "get_rng_state", "is_available", "manual_seed", "recommended_max_memory", "seed",
           "set_per_process_memory_fraction", "set_rng_state", "synchronize"]


def _without_mps(what):
    return RuntimeError(f"Cannot execute {what}() without MPS backend.")


def seed():
    raise _without_mps("getDefaultGenerator")


def get_rng_state(device="mps"):
    raise _without_mps("getDefaultGenerator")


def set_rng_state(new_state, device="mps"):
    raise _without_mps("getDefaultGenerator")


def synchronize():
    raise _without_mps("deviceSynchronize")


def empty_cache():
    raise _without_mps("emptyCache")


def set_per_process_memory_fraction(fraction):
    raise _without_mps("setMemoryFraction")


def current_allocated_memory():
    raise _without_mps("getCurrentAllocatedMemory")


def driver_allocated_memory():
    raise _without_mps("getDriverAllocatedMemory")


def recommended_max_memory():
    raise _without_mps("getRecommendedMaxMemory")


def compile_shader(source):
    raise RuntimeError("MPS is not available")


class Event:
    """torch.mps.Event: needs the Metal device."""

    def __init__(self, enable_timing=False):
        raise _without_mps("acquireEvent")
