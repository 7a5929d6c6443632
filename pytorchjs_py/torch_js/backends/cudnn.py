"""torch.backends.cudnn: cuDNN's switches, as a build without CUDA has them. Scripts set them (benchmark = True,
deterministic = True) whatever the device; they are kept and read back, and choose nothing in torch_js, which has
no cuDNN and whose kernels are deterministic."""
import contextlib

__all__ = ["enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32", "is_available", "version",
           "is_acceptable", "flags", "set_flags"]

enabled = True
benchmark = False
benchmark_limit = None   # None where cuDNN is absent, as PyTorch reports it
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def is_acceptable(tensor):
    """Whether cuDNN would take this tensor: never, here (it takes only CUDA tensors)."""
    return False


def set_flags(_enabled=None, _benchmark=None, _benchmark_limit=None, _deterministic=None, _allow_tf32=None):
    """Set the given flags; return their previous values, in this order. benchmark_limit stays None: it is cuDNN's
    own setting, and there is no cuDNN to hold it."""
    global enabled, benchmark, deterministic, allow_tf32
    previous = (enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    if _enabled is not None:
        enabled = _enabled
    if _benchmark is not None:
        benchmark = _benchmark
    if _deterministic is not None:
        deterministic = _deterministic
    if _allow_tf32 is not None:
        allow_tf32 = _allow_tf32
    return previous


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """`with torch.backends.cudnn.flags(...)`: these flags inside, the previous ones restored after."""
    previous = set_flags(enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
    try:
        yield
    finally:
        set_flags(*previous)
