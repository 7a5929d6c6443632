"""Shared test setup: torch_js importable from the source tree; each test starts with default global state."""
import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_PKG = os.path.join(os.path.dirname(_HERE), "pytorchjs_py")
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
try:
    import torch_js  # an installed torch_js (the wheel, in the Pyodide run) is the one under test
except ImportError:
    sys.path.insert(0, _PKG)  # else the source tree
    import torch_js


@pytest.fixture(autouse=True)
def _torch_js_global_state():
    """Restore grad mode and the default dtype after every test, so one test's leak can't fail another."""
    grad = torch_js.is_grad_enabled()
    default = torch_js.get_default_dtype()
    yield
    torch_js.set_grad_enabled(grad)
    torch_js.set_default_dtype(default)
