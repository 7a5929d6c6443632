"""torch_js.autograd: reverse-mode autodiff in Python (the graph in torch_js/_graph.py, engine.py), grad mode, custom Functions."""
from .._tensor import Tensor
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .._graph import Node
from . import functional  # noqa: F401  (torch.autograd.functional)
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from .variable import Variable  # noqa: F401
from . import anomaly_mode  # noqa: F401
from . import graph, profiler, profiler_util  # noqa: F401  (reachable as torch.autograd.<name> after `import torch`)
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: F401

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "Node", "gradcheck", "gradgradcheck", "Variable", "functional",
           "detect_anomaly", "set_detect_anomaly"]
