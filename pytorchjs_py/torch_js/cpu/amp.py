"""torch.cpu.amp: PyTorch's deprecated CPU spellings of torch.amp (autocast("cpu"), GradScaler("cpu")), with their
FutureWarnings."""
from .. import _dtype as D
from ..amp._device_spellings import device_spellings

__all__ = ["autocast", "GradScaler"]

autocast, GradScaler = device_spellings("cpu", D.bfloat16, __name__)
