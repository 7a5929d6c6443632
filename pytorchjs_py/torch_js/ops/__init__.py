"""The op catalogue. Importing this package declares every op in the registry (ops/_registry.py)."""
from . import elementwise, inplace, shape, reduction, creation, convert, linalg, indexing, operators, sorting, shape_extra  # noqa: F401
from ._registry import REGISTRY, ops_in
from .creation import zeros, ones, zeros_like, ones_like, full_like, empty, tensor  # noqa: F401
