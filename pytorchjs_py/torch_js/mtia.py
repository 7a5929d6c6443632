"""torch_js.mtia (torch.mtia): Meta's MTIA accelerator as a PyTorch build without it reports it: is_available()
False, device_count() 0, seeding and the memory counters accepted, the rest PyTorch's errors."""

from ._absent_device import (device_count, is_available, is_initialized, manual_seed,  # noqa: F401
                             manual_seed_all, memory_allocated)

__all__ = ["current_device", "current_stream", "default_stream", "device_count", "empty_cache", "get_rng_state",
           "init", "initial_seed", "is_available", "is_bf16_supported", "is_initialized", "manual_seed",
           "manual_seed_all", "max_memory_allocated", "memory_allocated", "memory_stats", "reset_peak_memory_stats",
           "seed", "seed_all", "set_device", "set_rng_state", "set_stream", "synchronize"]

_NOT_COMPILED = ("Torch not compiled with MTIA enabled. Ensure you have `import "
                 "mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and include "
                 "`//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!")


def _without_mtia(what):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"Cannot execute {what}() without MTIA backend.")
    return refuse


def _not_compiled(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


def is_bf16_supported(including_emulation=True):
    return True


def seed():
    pass


def seed_all():
    pass


max_memory_allocated = memory_allocated


def memory_stats(device=None):
    return {}


def reset_peak_memory_stats(device=None):
    pass


def set_stream(stream):
    pass


init = initial_seed = get_rng_state = _not_compiled
current_device = current_stream = default_stream = synchronize = set_rng_state = _without_mtia("getCurrentDevice")
set_device = _without_mtia("setCurrentDevice")
empty_cache = _without_mtia("emptyCache")
