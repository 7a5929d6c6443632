"""Checkpoints: torch_js.save / torch_js.load in PyTorch's zip format, and safetensors. With weights_only=True
(the default) nothing in a file runs, and a damaged or hostile file raises an exception naming the problem (never a crash, a hang or an unbounded
allocation).

- `_checkpoint`: save / load, PyTorch's zip checkpoint format (the pickler that writes what torch.save writes).
- `_legacy`: load of the legacy (pre-1.6, non-zip) format: a sequence of pickles, then the storages' raw bytes.
- `_zip`: the archive reader: declared member sizes checked before anything is inflated, bounded reads.
- `_unpickler`: the restricted unpickler (allowed opcodes and globals, nesting and allocation bounds) and the
  validated tensor constructors it calls.
- `_safe_globals`: add_safe_globals / safe_globals: the globals a weights_only load may also resolve.
- `_trusted`: the unpickler of weights_only=False (a whole pickled nn.Module), torch.* resolved to torch_js.*.
- `_safetensors`: save_safetensors / load_safetensors, validated as the safetensors crate validates.
- `_gguf`: load_gguf, llama.cpp's GGUF files (metadata, plain and block-quantised tensors), validated before use.
"""
from ._checkpoint import load, save
from ._gguf import GGUFError, GGUFQuantized, load_gguf
from ._safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._safetensors import SafetensorError, load_safetensors, save_safetensors
from ._unpickler import rebuild_from_bytes as _rebuild_from_bytes  # noqa: F401  (plain pickles name it here)
from ._unpickler import rebuild_meta as _rebuild_meta_tensor_no_storage  # noqa: F401  (... and this, meta tensors)

__all__ = ["save", "load", "save_safetensors", "load_safetensors", "SafetensorError", "load_gguf",
           "GGUFError", "GGUFQuantized", "add_safe_globals",
           "clear_safe_globals", "get_safe_globals", "safe_globals"]
