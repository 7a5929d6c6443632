"""torch_js.xpu (torch.xpu): Intel GPUs as a PyTorch build without XPU reports them.

What PyTorch's builds without XPU accept (seeding, the memory counters, is_available()) is accepted here; what they
refuse raises the same AssertionError "Torch not compiled with XPU enabled"; Stream/Event/StreamContext exist as
classes whose construction raises, as PyTorch's dummy classes do.
"""
from ._absent_device import (device_count, dummy_class, get_arch_list, get_gencode_flags, is_available,  # noqa: F401
                             is_bf16_supported, is_initialized, is_tf32_supported, manual_seed,
                             manual_seed_all, memory_allocated, memory_stats)

__all__ = ["Event", "Stream", "StreamContext", "current_device", "current_stream", "device_count", "empty_cache",
           "get_arch_list", "get_device_capability", "get_device_name", "get_device_properties",
           "get_gencode_flags", "get_rng_state", "get_rng_state_all", "init", "initial_seed", "is_available",
           "is_bf16_supported", "is_initialized", "is_tf32_supported", "manual_seed", "manual_seed_all",
           "max_memory_allocated", "max_memory_reserved", "mem_get_info", "memory_allocated", "memory_reserved",
           "memory_stats", "seed", "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "set_stream",
           "stream", "synchronize"]


def _not_compiled():
    return AssertionError("Torch not compiled with XPU enabled")


def _refuse(*args, **kwargs):
    raise _not_compiled()


def _accept(*args, **kwargs):
    return None


init = current_device = synchronize = get_device_name = get_device_properties = get_device_capability = _refuse
get_rng_state = initial_seed = current_stream = set_device = mem_get_info = _refuse
empty_cache = seed = seed_all = set_rng_state = set_rng_state_all = set_stream = _accept


def get_rng_state_all():
    return []


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


Stream = dummy_class("Stream")
Event = dummy_class("Event")


class StreamContext:
    """Selects an XPU stream; with stream None (the only kind there can be here) it does nothing."""

    def __init__(self, stream):
        self.stream = stream
        if stream is not None:
            raise _not_compiled()

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)
