"""torch_js.amp (torch.amp): autocast and GradScaler. Autocast on "cpu" casts as PyTorch's CPU autocast does
(ops/_autocast.py); on "webgpu" it declines with a warning, as PyTorch's does where it cannot run; GradScaler scales
for real off "cuda"."""
from . import autocast_mode, grad_scaler
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "custom_bwd", "custom_fwd", "GradScaler", "is_autocast_available"]
