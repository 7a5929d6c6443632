"""torch.nn.attention: the scaled_dot_product_attention kernel choices. PyTorch picks among fused kernels (flash,
memory-efficient, cuDNN) and the math one; torch_js has one implementation, which stands for the kernels a CPU
build of PyTorch can run (math and flash): sdpa_kernel checks its arguments as PyTorch does and sets the switches in
torch.backends.cuda, and scaled_dot_product_attention refuses to run when neither of those two is enabled, as there."""
import contextlib
import enum

from ...backends import cuda as _cuda

__all__ = ["SDPBackend", "sdpa_kernel", "WARN_FOR_UNFUSED_KERNELS"]

# PyTorch warns, when True, why its fused kernels could not run a call; torch_js has no fused kernels to explain
WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.Enum):
    """The kernels scaled_dot_product_attention may use (torch._C._SDPBackend's values)."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self):
        return self.value


# backend -> its switch in torch.backends.cuda, in PyTorch's order (ERROR has none)
_SWITCHES = {SDPBackend.CUDNN_ATTENTION: "cudnn", SDPBackend.FLASH_ATTENTION: "flash",
             SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.MATH: "math",
             SDPBackend.OVERRIDEABLE: "overrideable"}
_priority = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH, SDPBackend.CUDNN_ATTENTION,
             SDPBackend.OVERRIDEABLE]


def _cur_sdpa_kernel_backends(with_priority=False):
    backends = [b for b, name in _SWITCHES.items() if _cuda._SDP.get(name, True)]
    if with_priority:
        backends.sort(key=_priority.index)
    return backends


def _sdpa_kernel(backends, set_priority=False):
    for backend, name in _SWITCHES.items():
        _cuda._SDP[name] = backend in backends
    if set_priority:
        _priority[:] = list(dict.fromkeys([b for b in backends if b in _SWITCHES] + _priority))


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """Within the block, scaled_dot_product_attention may use only `backends` (an SDPBackend or a list of them);
    `set_priority` also orders them first in the kernel priority."""
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _cur_sdpa_kernel_backends(with_priority=set_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous, set_priority)

