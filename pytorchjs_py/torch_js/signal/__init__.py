"""torch_js.signal: PyTorch's torch.signal namespace (its windows)."""
from . import windows  # noqa: F401

__all__ = ["windows"]
