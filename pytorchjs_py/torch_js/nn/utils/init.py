"""torch.nn.utils.skip_init: a module whose parameters are left uninitialised."""
import inspect

from ..modules.module import Module

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs) built on the meta device (its initialisation allocates and draws nothing, so
    the random stream is left as it was) and then given uninitialised memory on `device` (the CPU by default), as
    PyTorch does. The parameters' values are unspecified."""
    if not isinstance(module_cls, type) or not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    final_device = kwargs.pop("device", "cpu")
    kwargs["device"] = "meta"
    return module_cls(*args, **kwargs).to_empty(device=final_device)
