"""torch_js.cuda (torch.cuda): the CUDA API as a PyTorch build without CUDA reports it.

So device-generic scripts (`device = "cuda" if torch.cuda.is_available() else "cpu"`, `torch.cuda.manual_seed_all(0)`,
`torch.cuda.empty_cache()`) run unchanged. What PyTorch's CPU wheels accept is accepted here and does nothing; what
they refuse ("Torch not compiled with CUDA enabled") is refused with the same AssertionError. torch_js's GPU is
"webgpu" (torch_js.webgpu, torch_js.accelerator), never "cuda".
"""
from collections import OrderedDict

from . import amp

__all__ = ["amp", "is_available", "device_count", "is_initialized", "init", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "get_rng_state", "get_rng_state_all", "set_rng_state", "set_rng_state_all",
           "synchronize", "empty_cache", "ipc_collect", "current_device", "get_device_name",
           "get_device_properties", "get_device_capability", "mem_get_info", "current_stream", "default_stream",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved", "memory_stats",
           "is_bf16_supported", "is_tf32_supported", "get_arch_list", "get_gencode_flags", "OutOfMemoryError"]

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


class OutOfMemoryError(RuntimeError):
    """torch.OutOfMemoryError (torch.cuda.OutOfMemoryError): never raised by torch_js, caught by scripts."""


def _not_compiled():
    return AssertionError(_NOT_COMPILED)


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def init():
    raise _not_compiled()


# Seeding is queued until CUDA initialises, which never happens here: accepted and dropped, as PyTorch's CPU wheels
# do. The seed is still read as an int, so a bad one raises int()'s error there too.

def manual_seed(seed):
    int(seed)


def manual_seed_all(seed):
    int(seed)


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


# The allocator's counters exist without CUDA and read zero.

def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


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


# ---- streams, events, graphs: the classes exist; constructing them needs CUDA ---------------------------------------

def _dummy(name):
    class Dummy:
        def __init__(self, *args, **kwargs):
            raise RuntimeError(f"Tried to instantiate dummy base class {name}")
    Dummy.__name__ = Dummy.__qualname__ = name
    return Dummy


class Stream:
    """torch.cuda.Stream: needs CUDA."""

    def __init__(self, device=None, priority=0, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class ExternalStream(Stream):
    pass


Event = _dummy("Event")
CUDAGraph = _dummy("CUDAGraph")


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
