"""torch.nn.utils.skip_init: a module whose parameters are left uninitialised."""
import inspect

from ...ops.random import get_rng_state, set_rng_state
from ..modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) without its initialisation's effect on the random stream. PyTorch builds it on
    the meta device (its init draws nothing) and then allocates; torch_js builds it normally and restores the
    default generator, so the random numbers a program draws next are PyTorch's. The parameters' values are
    unspecified, as with PyTorch's uninitialised memory."""
    if not isinstance(module_cls, type) or not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    state = get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
    return module.to(final_device)
