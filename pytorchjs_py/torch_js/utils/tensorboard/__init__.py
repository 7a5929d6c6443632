"""torch.utils.tensorboard: `from torch.utils.tensorboard import SummaryWriter` works without TensorBoard.

The writer draws live charts in a notebook and writes CSV/JSON files elsewhere; it produces no TensorBoard event
files (writer.py says what goes where).
"""
from .writer import SummaryWriter  # noqa: F401

__all__ = ["SummaryWriter"]
