"""torch.version: the PyTorch release whose semantics torch_js follows (as __version__, a TorchVersion whose
local label names torch_js's own version), the builds it has (none: no CUDA, ROCm or XPU), and `torchjs`, the
version of the torch_js package itself."""
from .torch_version import TorchVersion

__all__ = ["__version__", "torchjs", "torch_semantics", "cuda", "debug", "git_version", "hip", "rocm", "xpu"]

torchjs = "0.1.0"              # the torch_js package's own version
torch_semantics = "2.13.0"     # the PyTorch release torch_js follows
__version__ = TorchVersion(f"{torch_semantics}+torchjs.{torchjs}")
cuda = None
debug = False
git_version = "Unknown"
hip = None
rocm = None
xpu = None
