"""torch.<device>.amp.autocast / GradScaler: PyTorch's deprecated per-device spellings of torch.amp's, each a
subclass with the device fixed that warns as PyTorch's does (torch.cpu.amp, torch.cuda.amp)."""
import warnings

from . import autocast_mode as _autocast_mode
from . import grad_scaler as _grad_scaler


def device_spellings(device, default_dtype, module):
    """(autocast, GradScaler) for `device`, as classes of `module` (torch_js.cpu.amp, torch_js.cuda.amp)."""

    class autocast(_autocast_mode.autocast):
        __doc__ = f'torch.{device}.amp.autocast(args...): torch.amp.autocast("{device}", args...).'

        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            warnings.warn(f"`torch.{device}.amp.autocast(args...)` is deprecated. "
                          f"Please use `torch.amp.autocast('{device}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)

    class GradScaler(_grad_scaler.GradScaler):
        __doc__ = f'torch.{device}.amp.GradScaler(args...): torch.amp.GradScaler("{device}", args...).'

        def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            warnings.warn(f"`torch.{device}.amp.GradScaler(args...)` is deprecated. "
                          f"Please use `torch.amp.GradScaler('{device}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)

    for cls in (autocast, GradScaler):
        cls.__module__ = module
        cls.__qualname__ = cls.__name__
    return autocast, GradScaler
