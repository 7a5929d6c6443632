"""`import torch` gives torch_js: the `torch` that the offline JupyterLite site installs beside torch_js.

This package holds no PyTorch code. Importing it imports torch_js and turns on torch_js.install_as_torch(), so
`torch`, `torch.nn.functional`, `from torch.utils.data import DataLoader` ... are torch_js's own modules, the same
objects as under `torch_js.` (one copy of every module and its state). It takes itself out of sys.modules first:
install_as_torch() refuses to run while another module answers to `torch` (there, this shim), and the import
statement that is loading this file then returns what sys.modules["torch"] holds at its end, torch_js.
"""
import sys

del sys.modules[__name__]

import torch_js  # noqa: E402

torch_js.install_as_torch()
