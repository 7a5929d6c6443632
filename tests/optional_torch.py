"""The oracle where it exists: real PyTorch under CPython; absent in Pyodide, where tests use recorded fixtures."""
import pytest

try:
    import torch
except ImportError:
    torch = None

HAVE_TORCH = torch is not None
needs_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch not importable")
