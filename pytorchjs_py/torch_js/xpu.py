"""torch_js.xpu (torch.xpu): Intel GPUs as a PyTorch build without XPU reports them.

What PyTorch's builds without XPU accept (seeding, the memory counters, is_available()) is accepted here; what they
refuse raises the same AssertionError "Torch not compiled with XPU enabled"; Stream/Event/StreamContext exist as
classes whose construction raises, as PyTorch's dummy classes do.
"""
from collections import OrderedDict

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


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


init = current_device = synchronize = get_device_name = get_device_properties = get_device_capability = _refuse
get_rng_state = initial_seed = current_stream = set_device = mem_get_info = _refuse
empty_cache = seed = seed_all = set_rng_state = set_rng_state_all = set_stream = _accept


def manual_seed(seed):
    int(seed)


def manual_seed_all(seed):
    int(seed)


def get_rng_state_all():
    return []


def memory_allocated(device=None):
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def memory_stats(device=None):
    return OrderedDict()


def is_bf16_supported(including_emulation=True):
    return False


def is_tf32_supported():
    return False


def get_arch_list():
    return []


def get_gencode_flags():
    return ""


def _dummy(name):
    class Dummy:
        def __init__(self, *args, **kwargs):
            raise RuntimeError(f"Tried to instantiate dummy base class {name}")
    Dummy.__name__ = Dummy.__qualname__ = name
    return Dummy


Stream = _dummy("Stream")
Event = _dummy("Event")


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
