"""torch_js.linalg: PyTorch's torch.linalg namespace.

Every op registered with namespace "linalg" (the ops/linalg/ package, ops/calculus.py for cross) is
exported here under its own name, plus LinAlgError.
"""
import sys as _sys

from .ops.linalg import LinAlgError  # importing ops.linalg declares the ops exported below
from .ops._registry import ops_in as _ops_in


def _export():
    g = globals()
    for name, op in _ops_in("linalg").items():
        g[name] = op.api
    # the torch-namespace ops declared next to them (einsum, kron, cdist, det, ...) reach torch_js.<name> even
    # when this module is imported after torch_js's own export pass
    pkg = _sys.modules.get(__name__.rpartition(".")[0])
    if pkg is not None:
        for name, op in _ops_in("torch").items():
            if not hasattr(pkg, name):
                setattr(pkg, name, op.api)


_export()
__all__ = sorted(n for n in globals() if not n.startswith("_"))
