"""torch.testing: assert_close (PyTorch's tolerances and messages) and make_tensor (PyTorch's random draws)."""
from ._comparison import assert_allclose, assert_close, default_tolerances  # noqa: F401
from ._creation import make_tensor  # noqa: F401

__all__ = ["assert_close", "assert_allclose", "make_tensor"]
