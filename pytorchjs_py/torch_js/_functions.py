"""The torch.* functions that are not ops: type and state queries, runtime switches. torch_js/__init__ re-exports
them; they live here because the package namespace binds bool, float and int to dtypes (torch.bool, ...), and
code there would call those instead of the builtins.

The switches keep PyTorch's state and checks; what they switch is mostly absent here: torch_js computes float32
matmuls in full float32 (which every precision setting allows), its kernels are deterministic whatever the thread
count (backends/cpu/threads.py), and it cannot flush denormals (set_flush_denormal says so by returning False, as
PyTorch does where the CPU cannot).
"""
import importlib
import warnings

from . import _dtype as D
from ._dtype import dtype, result_type_of
from ._grad_mode import INFERENCE_MODE, is_grad_enabled
from ._legacy_types import tensor_type_named, tensortype
from ._storage import Storage, device as _device
from ._tensor import Tensor
from .backends.cpu import threads as _threads
from .ops._util import PACKAGE_DIRS, WARN_ALWAYS, warn_once_at_caller
from .ops.inplace import can_cast

__all__ = ["is_tensor", "is_floating_point", "numel", "is_nonzero", "can_cast", "result_type",
           "is_grad_enabled_", "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "set_warn_always", "is_warn_always_enabled", "set_flush_denormal", "get_num_threads", "set_num_threads",
           "get_num_interop_threads", "set_num_interop_threads", "init_num_threads", "set_default_tensor_type",
           "is_inference_mode_enabled", "is_inference", "typename", "is_storage", "is_same_size", "is_signed",
           "is_distributed", "is_vulkan_available", "compiled_with_cxx11_abi",
           "get_device", "get_device_module", "compile"]

def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()


def is_nonzero(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"is_nonzero(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.is_nonzero()


def result_type(*args):
    """PyTorch's result_type of tensors, dtypes and Python scalars."""
    dims, zeros, scalars = [], [], []
    for a in args:
        if isinstance(a, Tensor):
            (dims if a._shape else zeros).append(a._dtype)
        elif isinstance(a, dtype):
            dims.append(a)
        else:
            scalars.append(a)
    return result_type_of(dims, zeros, scalars)


def is_grad_enabled_():
    return is_grad_enabled()


def _require_bool(fn, name, value, position=None):
    if type(value) is not bool:
        where = f" (position {position})" if position else ""
        raise TypeError(f"{fn}(): argument '{name}'{where} must be bool, not {type(value).__name__}")


# ---- determinism ------------------------------------------------------------------------------------------------
_DETERMINISTIC = [False, False]   # [mode, warn_only]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Kept for the queries below: every torch_js kernel is deterministic, so there is nothing to refuse."""
    _require_bool("_set_deterministic_algorithms", "mode", mode, 1)
    _require_bool("_set_deterministic_algorithms", "warn_only", warn_only)
    _DETERMINISTIC[0], _DETERMINISTIC[1] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _DETERMINISTIC[0]


def is_deterministic_algorithms_warn_only_enabled():
    return _DETERMINISTIC[1]


_DEBUG_MODES = ("default", "warn", "error")


def set_deterministic_debug_mode(debug_mode):
    """0/"default": off; 1/"warn": deterministic, warn only; 2/"error": deterministic."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _DETERMINISTIC[0]:
        return 0
    return 1 if _DETERMINISTIC[1] else 2


# ---- float32 matmul precision -----------------------------------------------------------------------------------
_MATMUL_PRECISION = ["highest"]


def set_float32_matmul_precision(precision):
    """"highest" | "high" | "medium": how much precision float32 matmuls may trade for speed (TF32, bfloat16 passes
    on GPUs). torch_js's matmuls are full float32 whatever the setting, which every setting allows."""
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision():
    return _MATMUL_PRECISION[0]


# ---- warnings, denormals, threads -------------------------------------------------------------------------------
def set_warn_always(b):
    """Whether warnings PyTorch gives once per process are given every time."""
    if type(b) is not bool:
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    WARN_ALWAYS[0] = b


def is_warn_always_enabled():
    return WARN_ALWAYS[0]


def set_flush_denormal(mode):
    """False: this build cannot flush denormals (wasm has no such mode), so nothing changes."""
    if type(mode) is not bool:
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False


def get_num_threads():
    return _threads.get_num_threads()


def set_num_threads(n):
    """The CPU kernels' intra-op threads (backends/cpu/threads.py)."""
    _threads.set_num_threads(n)


def get_num_interop_threads():
    return _threads.get_num_interop_threads()


def set_num_interop_threads(n):
    _threads.set_num_interop_threads(n)


def init_num_threads():
    pass   # the kernels' pool starts its threads on first use


# ---- default tensor type ----------------------------------------------------------------------------------------
def set_default_tensor_type(t):
    """Deprecated: a floating legacy type (torch.DoubleTensor) or its name sets the default dtype."""
    warn_once_at_caller("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                        inside=PACKAGE_DIRS)
    if isinstance(t, str):
        t = tensor_type_named(t)
    if not isinstance(t, tensortype):
        raise TypeError("invalid type object: only floating-point types are supported as the default type")
    if t.is_cuda:
        raise TypeError(f"type torch.cuda.{t.__name__} not available. Torch not compiled with CUDA enabled.")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    D.set_default_dtype(t.dtype)


# ---- inference mode, introspection ------------------------------------------------------------------------------
def is_inference_mode_enabled():
    return INFERENCE_MODE[0]


def is_inference(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"is_inference(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.is_inference()


def _package():
    return importlib.import_module(__package__)


def typename(obj):
    """PyTorch's name for obj's type: a tensor's legacy type ('torch.FloatTensor'), else module.qualname, with
    torch_js's modules named as PyTorch's ('torch.nn.modules.linear.Linear', 'torch.Size')."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    if module in ("", "builtins"):
        return qualname
    if module == __package__ or module.startswith(__package__ + "."):
        cls = obj if isinstance(obj, type) else type(obj)
        if getattr(_package(), cls.__qualname__, None) is cls:
            return f"torch.{cls.__qualname__}"   # a class PyTorch exports at the top level (torch.Size, torch.dtype)
        module = "torch" + module[len(__package__):]
    return f"{module}.{qualname}"


def is_storage(obj):
    """Whether obj is a storage (what Tensor.untyped_storage() returns, or a torch.*Storage)."""
    if isinstance(obj, Storage):
        return True
    pkg = _package()
    kinds = tuple(k for k in (getattr(pkg, n, None) for n in ("UntypedStorage", "TypedStorage"))
                  if isinstance(k, type))
    return bool(kinds) and isinstance(obj, kinds)


def is_same_size(input, other):
    return input.is_same_size(other)


def is_signed(input):
    return input.is_signed()


def is_distributed(input):
    return input.is_distributed()


def is_vulkan_available():
    return False


def compiled_with_cxx11_abi():
    return True   # as every PyTorch 2.x wheel; torch_js has no C++ extension ABI of its own


def get_device(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"get_device(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.get_device()


def get_device_module(device=None):
    """The torch.<type> module of a device (torch.cpu, torch.cuda, ...); None: the current accelerator's, or the
    CPU's when there is none."""
    if isinstance(device, _device):
        name = device.type
    elif isinstance(device, str):
        name = _device(device).type
    elif device is None:
        pkg = _package()
        accelerator = pkg.accelerator.current_accelerator()
        name = accelerator.type if accelerator is not None else "cpu"
    else:
        raise RuntimeError(f"Invalid value of device '{device}', expect torch.device, str, or None")
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError:
        raise RuntimeError(f"Device '{name}' does not have a corresponding module registered as "
                           f"'torch.{name}'.") from None


def compile(model=None, **kwargs):
    """torch.compile without a compiler: checks the arguments as PyTorch does and returns the model wrapped as
    PyTorch's compiled models are (an OptimizedModule for an nn.Module), running eagerly (_dynamo/eval_frame.py)."""
    from ._dynamo.eval_frame import compile_model   # _dynamo imports nn, which the package loads after this module
    return compile_model(model, **kwargs)
