"""torch_js.amp (torch.amp): autocast and GradScaler. torch_js has no autocast kernels, so autocast on "cpu" and
"webgpu" declines with a warning, as PyTorch's does where it cannot run; GradScaler scales for real off "cuda"."""
from . import autocast_mode, grad_scaler
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler", "is_autocast_available"]
