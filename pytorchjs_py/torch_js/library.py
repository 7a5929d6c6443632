"""torch_js.library (torch.library): custom ops written in Python.

torch.library.custom_op turns a Python function into an op; in torch_js the op is the function, called eagerly,
with what PyTorch's registrations add: register_autograd (its backward and setup_context, through an
autograd.Function), register_kernel (a per-device implementation), register_fake (kept: there are no fake tensors
to run it on). Registering kernels for ops by schema string (Library, define, impl) needs PyTorch's C++ dispatcher,
which torch_js does not have: those raise a RuntimeError that says so.
"""
import inspect

from ._tensor import Tensor
from .autograd.function import Function

__all__ = ["custom_op", "register_autograd", "register_fake", "register_kernel", "CustomOpDef", "Library",
           "define", "impl", "get_ctx", "opcheck"]


def _dispatcher_unavailable(name):
    return RuntimeError(f"torch.library.{name}: registering ops by schema needs PyTorch's C++ dispatcher, which "
                        "torch_js does not have; write the op as a Python function with @torch.library.custom_op")


class CustomOpDef:
    """An op made by custom_op: calling it runs the function (or the kernel registered for the inputs' device),
    differentiable through register_autograd's backward when one is registered."""

    def __init__(self, namespace, name, fn, mutates_args, device_types=None):
        self._namespace = namespace
        self._name = name
        self._init_fn = fn
        self._signature = inspect.signature(fn)
        self._mutates_args = mutates_args
        self._kernels = {}
        if device_types is not None:
            for d in ([device_types] if isinstance(device_types, str) else device_types):
                self._kernels[d] = fn
        self._abstract_fn = None
        self._backward_fn = None
        self._setup_context_fn = None
        self._function = None
        self.__name__ = name
        self.__doc__ = fn.__doc__

    def __repr__(self):
        return f"<CustomOpDef({self._namespace}::{self._name})>"

    def _kernel_for(self, args):
        for a in args:
            if isinstance(a, Tensor) and a.device.type in self._kernels:
                return self._kernels[a.device.type]
        return self._init_fn

    def register_kernel(self, device_types, fn=None):
        def register(fn):
            for d in ([device_types] if isinstance(device_types, str) else device_types or ()):
                self._kernels[d] = fn
            return fn
        return register if fn is None else register(fn)

    def register_fake(self, fn):
        self._abstract_fn = fn
        return fn

    def register_autograd(self, backward, *, setup_context=None):
        self._backward_fn = backward
        self._setup_context_fn = setup_context
        self._function = None

    def _autograd_function(self):
        if self._function is None:
            op = self

            class CustomOp(Function):
                @staticmethod
                def forward(ctx, kwargs, *args):
                    output = op._kernel_for(args)(*args, **kwargs)
                    if op._setup_context_fn is not None:
                        op._setup_context_fn(ctx, args, output)
                    return output

                @staticmethod
                def backward(ctx, *grads):
                    result = op._backward_fn(ctx, *grads)
                    return (None,) + (tuple(result) if isinstance(result, (tuple, list)) else (result,))
            CustomOp.__name__ = CustomOp.__qualname__ = self._name
            self._function = CustomOp
        return self._function

    def __call__(self, *args, **kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        positional = []
        keyword_only = {}
        for name, value in bound.arguments.items():
            if self._signature.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY:
                keyword_only[name] = value
            else:
                positional.append(value)
        if self._backward_fn is None:
            return self._kernel_for(positional)(*positional, **keyword_only)
        return self._autograd_function().apply(keyword_only, *positional)


def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """torch.library.custom_op("namespace::name", mutates_args=...): the function as an op (CustomOpDef)."""
    if "::" not in name:
        raise ValueError(f"Expected there to be a namespace in {name}, i.e. The operator name should look something "
                         "like ns::foo")
    namespace, _, opname = name.partition("::")

    def make(fn):
        return CustomOpDef(namespace, opname, fn, mutates_args, device_types)
    return make if fn is None else make(fn)


def _as_op(op, name):
    if not isinstance(op, CustomOpDef):
        raise _dispatcher_unavailable(name)
    return op


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    _as_op(op, "register_autograd").register_autograd(backward, setup_context=setup_context)


def register_fake(op, fn=None, /, *, lib=None, _stacklevel=1, allow_override=False):
    op = _as_op(op, "register_fake")
    return op.register_fake if fn is None else op.register_fake(fn)


def register_kernel(op, device_types, func=None, /, *, lib=None):
    return _as_op(op, "register_kernel").register_kernel(device_types, func)


def get_ctx():
    raise RuntimeError("torch.library.get_ctx() is only valid inside a fake (meta) implementation, which torch_js "
                       "never runs")


def opcheck(op, args, kwargs=None, *, test_utils=None, raise_exception=True, atol=None, rtol=None):
    raise RuntimeError("torch.library.opcheck tests an op's registrations against PyTorch's dispatcher (fake "
                       "tensors, schema, autograd), which torch_js does not have")


class Library:
    def __init__(self, ns, kind, dispatch_key=""):
        raise _dispatcher_unavailable("Library")


def define(qualname, schema, *, lib=None, tags=()):
    raise _dispatcher_unavailable("define")


def impl(qualname, types, func=None, *, lib=None):
    raise _dispatcher_unavailable("impl")
