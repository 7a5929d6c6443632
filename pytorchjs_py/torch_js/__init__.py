"""torch_js: PyTorch semantics in the browser. `import torch_js as torch`.

Tensors, autograd and the op catalogue in Python; compute in the wasm_ext kernel library (CPU: native in
CPython, WebAssembly SIMD in Pyodide) and, through js_bridge, in WebGPU.
"""
import importlib as _importlib

from .version import __version__  # noqa: F401  (a TorchVersion: PyTorch's release with torch_js's own as its label)

from . import _dtype
from ._dtype import (bfloat16, complex64, complex128, dtype, finfo, float16, float32, float64, get_default_dtype,
                     iinfo, int8, int16, int32, int64, promote_types, set_default_dtype, uint8)
from ._storage import device, get_default_device, set_default_device
from ._tensor import Size, Tensor
from ._tensor import (_mkldnn, jagged, layout, sparse_bsc, sparse_bsr, sparse_coo, sparse_csc,  # noqa: F401
                      sparse_csr, strided)
from .backends import cpu as _cpu_backend, meta as _meta_backend  # noqa: F401  (registers the meta device)
from . import _tensor

_tensor.set_cpu_backend(_cpu_backend.BACKEND)

from . import ops as _ops  # noqa: E402  (declares every op)
from .ops import random as _random_ops  # noqa: E402
from .ops._registry import REGISTRY, ops_in  # noqa: E402
from . import autograd  # noqa: E402
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from ._generator import Generator, default_generator  # noqa: E402
from ._printing import set_printoptions, get_printoptions  # noqa: E402
from .ops._util import broadcast_shapes  # noqa: E402
from .ops.random import manual_seed, seed, initial_seed, get_rng_state, set_rng_state  # noqa: E402

inf = float("inf")
nan = float("nan")
half = float16
double = float64
long = int64
short = int16
cfloat = complex64
cdouble = complex128
from ._memory_format import (channels_last, channels_last_3d, contiguous_format,  # noqa: E402,F401
                             legacy_contiguous_format, memory_format, preserve_format)
newaxis = None
pi = 3.141592653589793
e = 2.718281828459045


from . import linalg  # noqa: E402  (torch_js.linalg; registers the factorizations and einsum & co.)
from ._lowrank import pca_lowrank, svd_lowrank  # noqa: E402,F401
from . import sparse  # noqa: E402  (torch_js.sparse; declares sparse_coo_tensor & co. and the sparse kernels)
from .ops import quant_matmul as _quant_matmul  # noqa: E402,F401  (declares torch._weight_int8pack_mm)


def _export_ops():
    g = globals()
    for name, op in ops_in("torch").items():
        if name not in g or name in ("max", "min", "all", "any", "sum", "abs", "round", "pow"):
            g[name] = op.api


_export_ops()


from ._functions import *  # noqa: E402,F401,F403  (is_tensor, numel, settings and introspection: its __all__)
from . import _tensor_methods  # noqa: E402,F401  (Tensor.pin_memory, dim_order, get_device, is_inference, ...)
from ._sym import *  # noqa: E402,F401,F403  (sym_int, sym_max, ..., SymInt/SymFloat/SymBool: plain Python numbers)
from .utils.dlpack import from_dlpack, to_dlpack  # noqa: E402,F401

# ---- WebGPU device: registers device._BACKENDS['webgpu'] when the host loaded js_bridge/webgpu ------------------
from . import webgpu  # noqa: E402,F401

# ---- nn / optim / utils.data / checkpoints ----------------------------------------------------------------------
from . import nn, optim, utils  # noqa: E402,F401
from . import special  # noqa: E402,F401  (torch.special)
from . import signal  # noqa: E402,F401  (torch.signal.windows)
from . import func  # noqa: E402,F401  (torch.func)
from . import fft  # noqa: E402,F401  (torch.fft: the discrete Fourier transforms)
from ._functional_aliases import exported as _functional_aliases  # noqa: E402
globals().update(_functional_aliases())      # torch.conv2d, torch.layer_norm, torch.dropout, ... (ATen's signatures)
from .func import vmap  # noqa: E402,F401

# ---- the device API of a PyTorch build without CUDA: torch.cuda, torch.amp, torch.accelerator, torch.backends.* --
from . import accelerator, amp, cuda  # noqa: E402,F401
from .amp import GradScaler  # noqa: E402,F401
from .amp.autocast_mode import (LEGACY_FUNCTIONS as _LEGACY_AUTOCAST, autocast,  # noqa: E402,F401
                                autocast_decrement_nesting, autocast_increment_nesting, clear_autocast_cache,
                                get_autocast_dtype, is_autocast_cache_enabled, is_autocast_enabled,
                                set_autocast_cache_enabled, set_autocast_dtype, set_autocast_enabled)
globals().update(_LEGACY_AUTOCAST)           # torch.get_autocast_cpu_dtype, torch.set_autocast_gpu_dtype, ...
from .autograd.anomaly_mode import (is_anomaly_check_nan_enabled, is_anomaly_enabled,  # noqa: E402,F401
                                    set_anomaly_enabled)
from .cuda import OutOfMemoryError  # noqa: E402,F401
from .backends import cuda as _cuda_flags, cudnn as _cudnn_flags, mps as _mps_flags  # noqa: E402,F401
from .backends import mkldnn as _mkldnn_flags, openmp as _openmp_flags  # noqa: E402,F401

# ---- PyTorch's legacy tensor types, torch.functional, torch.version -----------------------------------------------
from . import functional, torch_version, version  # noqa: E402,F401
from . import __config__  # noqa: E402,F401  (torch.__config__: show(), parallel_info())
from .functional import broadcast_tensors  # noqa: E402,F401
from ._legacy_types import CPU_TYPES as _LEGACY_CPU_TYPES, CUDA_TYPES as _LEGACY_CUDA_TYPES  # noqa: E402
globals().update(_LEGACY_CPU_TYPES)          # torch.FloatTensor, torch.LongTensor, ...
for _name, _type in _LEGACY_CUDA_TYPES.items():
    setattr(cuda, _name, _type)                # torch.cuda.FloatTensor, ...

# ---- torch.abs_, torch.clamp_, torch.zero_, torch.detach, ...: the Tensor methods PyTorch also has as functions -----
from .ops.inplace import method_functions as _method_functions  # noqa: E402
globals().update(_method_functions())

# ---- torch.jit, torch.profiler, the other device modules, torch.compile's companions, storages, ... -----------------
from . import futures, random, cpu, mps, xpu, mtia  # noqa: E402,F401
from . import types, return_types, storage  # noqa: E402,F401
from ._streams import Event, Stream  # noqa: E402,F401
from .futures import Future  # noqa: E402,F401
from .storage import TypedStorage, UntypedStorage  # noqa: E402,F401
globals().update(storage.LEGACY_STORAGE_CLASSES)   # torch.FloatStorage, torch.LongStorage, ...

# ---- loaded on first use (PEP 562, as PyTorch loads torch._dynamo and torch.onnx): the submodules few programs need,
# so `import torch_js` stays short (issue 17). `torch_js.fx`, `import torch_js.fx`, `from torch_js import fx` and
# `torch_js.load` all work as if imported here.
_LAZY_SUBMODULES = frozenset({
    "distributions", "testing", "serialization", "hub", "distributed", "onnx", "quant", "jit", "profiler",
    "multiprocessing", "fx", "_dynamo", "compiler", "overrides", "export", "package", "library", "_C"})
_LAZY_NAMES = {   # top-level name -> (submodule, its attribute)
    "load": ("serialization", "load"), "save": ("serialization", "save"),
    "load_gguf": ("serialization", "load_gguf"), "load_safetensors": ("serialization", "load_safetensors"),
    "save_safetensors": ("serialization", "save_safetensors"),
    "fork": ("jit", "fork"), "wait": ("jit", "wait"),
    "_assert": ("fx._symbolic_trace", "_assert"),   # torch._assert: an assert symbolic tracing records
}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")   # the import binds it in this module's namespace
    if name in _LAZY_NAMES:
        submodule, attribute = _LAZY_NAMES[name]
        value = getattr(_importlib.import_module(f"{__name__}.{submodule}"), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY_SUBMODULES | set(_LAZY_NAMES))


def _pickle_tensor(self, protocol):
    """Tensor.__reduce_ex__ until serialization is loaded: loading it puts its own in place (serialization/_checkpoint)."""
    return _importlib.import_module(f"{__name__}.serialization._checkpoint")._tensor_reduce_ex(self, protocol)


Tensor.__reduce_ex__ = _pickle_tensor   # a plain pickle.dumps(tensor) works without torch_js.serialization imported


# ---- `import torch` as torch_js (python -m torch_js SCRIPT.py calls it) -------------------------------------------
from ._torch_alias import install as install_as_torch  # noqa: E402,F401

# torch.bool / torch.float / torch.int are dtypes. Bound last, so no code above (nor any function defined in this
# module) reads them instead of the builtins; the functions torch_js exports live in other modules.
globals().update({"bool": _dtype.bool_, "float": float32, "int": int32})
from .ops.creation import range_ as range  # noqa: E402,F401,A001  (torch.range, deprecated; bound last as the dtypes)
