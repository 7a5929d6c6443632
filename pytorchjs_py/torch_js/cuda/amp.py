"""torch.cuda.amp: PyTorch's deprecated CUDA spellings of torch.amp, with their FutureWarnings; on a build without
CUDA, autocast and GradScaler then disable themselves with PyTorch's warnings."""
import functools
import warnings

from .. import _dtype as D
from ..amp import autocast_mode as _autocast_mode
from ..amp._device_spellings import device_spellings

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


autocast, GradScaler = device_spellings("cuda", D.float16, __name__)


def custom_fwd(fwd=None, *, cast_inputs=None):
    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. "
                  "Please use `torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    if fwd is None:
        return functools.partial(_autocast_mode.custom_fwd, device_type="cuda", cast_inputs=cast_inputs)
    return _autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. "
                  "Please use `torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return _autocast_mode.custom_bwd(bwd, device_type="cuda")
