"""The op catalogue. Importing this package declares every op in the registry (ops/_registry.py).

The modules import one way, in this order (each imports only modules before it; an op of a later module is
called as a Tensor method or through _registry's torch_ops/linalg_ops namespaces):
  _util -> inplace -> creation -> convert -> elementwise -> clamp, operators, pointwise_composites
  -> shape -> joining -> reduction -> indexing -> sorting -> repeat, matrix_shape, calculus, histogram, random,
  scatter_reduce, coordinates -> complex -> statistics, view_copies -> linalg.
"""
from . import (inplace, creation, convert, elementwise, clamp, operators, pointwise_composites,  # noqa: F401
               shape, joining, reduction, indexing, sorting, repeat, matrix_shape, calculus, histogram, random,
               scatter_reduce, coordinates, complex, statistics, view_copies)
from . import linalg  # noqa: F401
from . import special_functions, number_functions, windows, spectral, random_samplers  # noqa: F401
from ._registry import REGISTRY, ops_in
from .creation import zeros, ones, zeros_like, ones_like, full_like, empty, tensor  # noqa: F401
from . import buffers  # noqa: F401,E402  (frombuffer, from_file: tensors over Python-held memory)
