"""What the device modules of a device this build does not have (torch.cuda, torch.xpu, torch.mtia, torch.mps)
answer alike, as PyTorch's builds without that device do: none is available or initialised, seeding is queued for a
device that never comes (the seed is still read as an int, so a bad one raises int()'s error), the allocator's
counters read zero, no precision or architecture is supported, and the stream/event classes exist but refuse to be
constructed."""
from collections import OrderedDict


def is_available():
    return False


def device_count():
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    int(seed)


def manual_seed_all(seed):
    int(seed)


def memory_allocated(device=None):
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


def dummy_class(name):
    """PyTorch's _dummy_type: a class of that name whose construction raises."""
    class Dummy:
        def __init__(self, *args, **kwargs):
            raise RuntimeError(f"Tried to instantiate dummy base class {name}")
    Dummy.__name__ = Dummy.__qualname__ = name
    return Dummy
