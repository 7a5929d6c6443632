"""torch_js._C (torch._C): the few names programs reach into PyTorch's C++ extension for.

torch_js has no C++ extension: the switches of TorchScript's executor and fusers (there is no TorchScript
executor) are accepted and report their setting, the classes that PyTorch's Python code re-exports are torch_js's
own, and any other name raises an AttributeError that says torch._C is PyTorch's C++ extension.
"""
from .._generator import Generator  # noqa: F401
from .._tensor import Tensor as TensorBase
from ..futures import Future  # noqa: F401
from ..backends import cudnn as _cudnn
from ..jit import ScriptFunction, ScriptModule, is_tracing as _is_tracing_now  # noqa: F401
from ..overrides import _disabled_torch_function_impl  # noqa: F401
from ..ops.linalg._common import LinAlgError as _LinAlgError  # noqa: F401  (torch.linalg.LinAlgError is this)

_TensorBase = TensorBase
_JIT_FLAGS = {"profiling_executor": True, "profiling_mode": True, "can_fuse_on_cpu": False,
              "can_fuse_on_gpu": False, "texpr_fuser": True, "nvfuser": False, "graph_executor_optimize": True}


def _flag(name):
    def set_flag(value):
        old = _JIT_FLAGS[name]
        _JIT_FLAGS[name] = bool(value)
        return old
    return set_flag


_jit_set_profiling_executor = _flag("profiling_executor")
_jit_set_profiling_mode = _flag("profiling_mode")
_jit_override_can_fuse_on_cpu = _flag("can_fuse_on_cpu")
_jit_override_can_fuse_on_gpu = _flag("can_fuse_on_gpu")
_jit_set_texpr_fuser_enabled = _flag("texpr_fuser")
_jit_set_nvfuser_enabled = _flag("nvfuser")
_set_graph_executor_optimize = _flag("graph_executor_optimize")


def _get_graph_executor_optimize():
    return _JIT_FLAGS["graph_executor_optimize"]


def _jit_texpr_fuser_enabled():
    return _JIT_FLAGS["texpr_fuser"]


def _jit_can_fuse_on_cpu():
    return _JIT_FLAGS["can_fuse_on_cpu"]


def _jit_can_fuse_on_gpu():
    return _JIT_FLAGS["can_fuse_on_gpu"]


def _get_tracing_state():
    return None


def _is_tracing():
    return _is_tracing_now()


def _is_torch_function_enabled():
    return True


def _log_api_usage_once(event):
    pass


def _cuda_getDeviceCount():
    return 0


def _get_cudnn_enabled():
    return bool(_cudnn.enabled)


def __getattr__(name):
    raise AttributeError(f"module 'torch._C' has no attribute '{name}': torch._C is PyTorch's C++ extension, which "
                         "torch_js (a Python implementation) does not have")
