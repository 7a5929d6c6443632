"""torch_js.signal.windows: PyTorch's torch.signal.windows. Every op registered with namespace "signal.windows"
(ops/windows.py) is exported here under its own name."""
from ..ops._registry import ops_in as _ops_in

globals().update({name: op.api for name, op in _ops_in("signal.windows").items()})
__all__ = sorted(_ops_in("signal.windows"))
