"""tqdm.std: the same bar as `tqdm` (torch_js.utils.progress; it picks HTML or text by itself)."""
from torch_js.utils.progress import tqdm, trange

__all__ = ["tqdm", "trange"]
