"""`tqdm` in the torch_js JupyterLite site: torch_js's progress bar (torch_js.utils.progress) under tqdm's names.

Pyodide has no tqdm and the site cannot fetch one, so `from tqdm import tqdm`, `from tqdm.auto import tqdm`,
`tqdm.notebook`, `trange` ... give torch_js.utils.progress.tqdm: tqdm's calling convention and text format, drawn
in place as HTML in a notebook and as a text line elsewhere. Holds no tqdm code.
"""
from torch_js.utils.progress import TqdmKeyError, tqdm, trange

__version__ = "4.70.1"   # the tqdm release whose API this follows (a subset of it)
__all__ = ["tqdm", "trange", "TqdmKeyError"]
