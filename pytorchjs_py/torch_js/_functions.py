"""The torch.* functions that are not ops: type and state queries, runtime switches. torch_js/__init__ re-exports
them; they live here because the package namespace binds bool, float and int to dtypes (torch.bool, ...), and
code there would call those instead of the builtins.
"""
from ._dtype import dtype, result_type_of
from ._grad_mode import is_grad_enabled
from ._tensor import Tensor
from .ops.inplace import can_cast

__all__ = ["is_tensor", "is_floating_point", "numel", "is_nonzero", "can_cast", "result_type",
           "is_grad_enabled_", "use_deterministic_algorithms", "get_num_threads", "set_num_threads", "compile"]


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


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


def use_deterministic_algorithms(mode, *, warn_only=False):
    pass


def get_num_threads():
    return 1


def set_num_threads(n):
    pass


def compile(model=None, **kwargs):
    """torch.compile without a compiler: checks the arguments as PyTorch does and returns the model wrapped as
    PyTorch's compiled models are (an OptimizedModule for an nn.Module), running eagerly (_dynamo/eval_frame.py)."""
    from ._dynamo.eval_frame import compile_model   # _dynamo imports nn, which the package loads after this module
    return compile_model(model, **kwargs)
