"""Argument normalisers shared by the modules (torch.nn.modules.utils): an int repeated n times, or a sequence
kept as given (PyTorch does not check its length here; the functional op does)."""
from collections.abc import Iterable

__all__ = ["_ntuple", "_single", "_pair", "_triple", "_quadruple", "_sextuple"]


def _ntuple(n):
    def parse(x):
        if isinstance(x, Iterable) and not isinstance(x, str):
            return tuple(x)
        return (x,) * n
    return parse


_single = _ntuple(1)
_pair = _ntuple(2)
_triple = _ntuple(3)
_quadruple = _ntuple(4)
_sextuple = _ntuple(6)
