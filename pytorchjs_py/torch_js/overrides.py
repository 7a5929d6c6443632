"""torch_js.overrides (torch.overrides): the __torch_function__ protocol's helpers for Python code that uses them.

A function written for PyTorch's protocol (`if has_torch_function(args): return handle_torch_function(f, args,
*args)`) dispatches here as there: to the __torch_function__ of argument types that define their own (plain
Tensors and Parameters never count), the most derived type first, TypeError when all return NotImplemented.
torch_js's own ops do not dispatch to __torch_function__ overrides or modes, so TorchFunctionMode refuses to be
entered rather than be silently skipped.
"""
import collections
import contextlib
import functools
import importlib
import warnings

from . import _functions
from ._tensor import Tensor
from .ops._registry import REGISTRY

__all__ = ["get_ignored_functions", "get_overridable_functions", "get_testing_overrides", "handle_torch_function",
           "has_torch_function", "resolve_name", "is_tensor_like", "is_tensor_method_or_property",
           "wrap_torch_function", "enable_reentrant_dispatch", "has_torch_function_unary",
           "has_torch_function_variadic", "TorchFunctionMode"]


def _disabled_torch_function_impl(func, types, args=(), kwargs=None):
    """torch._C._disabled_torch_function_impl: a subclass setting __torch_function__ to this opts out."""
    return func(*args, **(kwargs or {}))


def _overrides(arg_type):
    impl = getattr(arg_type, "__torch_function__", None)
    if impl is None or impl is _disabled_torch_function_impl:
        return False
    if issubclass(arg_type, Tensor):
        # Tensor's own (and a subclass that keeps it) is the default implementation, not an override
        return getattr(impl, "__func__", impl) is not Tensor.__dict__["__torch_function__"]
    return True


def _get_overloaded_args(relevant_args, get_type_fn=None):
    """The arguments whose __torch_function__ to call, in PyTorch's order (subclasses before their bases, else
    left to right; one per type)."""
    get_type_fn = type if get_type_fn is None else get_type_fn
    overloaded_types, overloaded_args = set(), []
    for arg in relevant_args:
        arg_type = get_type_fn(arg)
        if arg_type in overloaded_types or not _overrides(arg_type):
            continue
        index = len(overloaded_args)
        for i, old_arg in enumerate(overloaded_args):
            if issubclass(arg_type, get_type_fn(old_arg)):
                index = i
                break
        overloaded_types.add(arg_type)
        overloaded_args.insert(index, arg)
    return overloaded_args


def has_torch_function(relevant_args):
    """True when an argument's type defines its own __torch_function__."""
    return any(_overrides(type(a)) for a in relevant_args)


def has_torch_function_unary(arg):
    return _overrides(type(arg))


def has_torch_function_variadic(*args):
    return has_torch_function(args)


def handle_torch_function(public_api, relevant_args, *args, **kwargs):
    """Call the overriding __torch_function__ implementations of relevant_args in order; the first result that is
    not NotImplemented is returned."""
    overloaded_args = _get_overloaded_args(relevant_args)
    types = tuple(map(type, overloaded_args))
    for arg in overloaded_args:
        method = arg.__torch_function__
        if getattr(method, "__self__", None) is arg:
            warnings.warn("Defining your `__torch_function__ as a plain method is deprecated and will be an error "
                          "in future, please define it as a classmethod.", DeprecationWarning, stacklevel=2)
        result = method(public_api, types, args, kwargs)
        if result is not NotImplemented:
            return result
    func_name = f"{public_api.__module__}.{public_api.__name__}"
    raise TypeError(f"no implementation found for '{func_name}' on types that implement __torch_function__: "
                    f"{[type(arg) for arg in overloaded_args]}")


def wrap_torch_function(dispatcher):
    """Decorator: the function dispatches through __torch_function__ on the arguments dispatcher(*args) names."""
    def inner(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            relevant_args = dispatcher(*args, **kwargs)
            if has_torch_function(relevant_args):
                return handle_torch_function(wrapped, relevant_args, *args, **kwargs)
            return func(*args, **kwargs)
        return wrapped
    return inner


def is_tensor_like(inp):
    """A Tensor, or an object whose type has a __torch_function__ (PyTorch's duck-typed tensors)."""
    return type(inp) is Tensor or hasattr(inp, "__torch_function__")


def _tensor_methods():
    return {v for k, v in vars(Tensor).items() if callable(v) or isinstance(v, property)}


def is_tensor_method_or_property(func):
    return func in _tensor_methods() or getattr(func, "__name__", None) == "__get__"


def get_overridable_functions():
    """{namespace: [functions]} for the op namespaces (torch, torch.Tensor, torch.nn.functional, torch.linalg,
    torch.special, torch.fft): every declared op."""
    out = collections.defaultdict(list)
    package = __name__.rpartition(".")[0]
    modules = {"torch": package, "nn.functional": f"{package}.nn.functional", "linalg": f"{package}.linalg",
               "special": f"{package}.special", "fft": f"{package}.fft"}
    for (namespace, name), op in REGISTRY.items():
        if op.function and namespace in modules:
            module = importlib.import_module(modules[namespace])
            fn = getattr(module, name.rpartition(".")[2], None)
            if fn is not None and fn not in out[module]:
                out[module].append(fn)
        if op.method and hasattr(Tensor, name) and getattr(Tensor, name) not in out[Tensor]:
            out[Tensor].append(getattr(Tensor, name))
    return out


def get_ignored_functions():
    """The public torch.* functions that take no tensor to dispatch on (factories' helpers, queries, switches)."""
    return {getattr(_functions, n) for n in _functions.__all__}


def get_testing_overrides():
    """{overridable function: a dummy taking the same arguments and returning -1} (PyTorch's test helper)."""
    def dummy(*args, **kwargs):
        return -1
    return {fn: dummy for fns in get_overridable_functions().values() for fn in fns}


def resolve_name(f):
    """'torch.<name>' (or torch.Tensor.<name>, torch.nn.functional.<name>) of an overridable function, or None."""
    for namespace, fns in get_overridable_functions().items():
        if f in fns:
            prefix = "torch.Tensor" if namespace is Tensor else namespace.__name__.replace("torch_js", "torch")
            return f"{prefix}.{f.__name__}"
    return None


class TorchFunctionMode:
    """PyTorch's mode that intercepts every torch function call. torch_js's ops do not dispatch to modes, so a
    mode would see nothing: entering one raises rather than leave the program's interception silently off."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self):
        raise RuntimeError("TorchFunctionMode is not supported in torch_js: its ops do not dispatch to "
                           "__torch_function__ modes")

    def __exit__(self, *exc):
        return False


@contextlib.contextmanager
def enable_reentrant_dispatch():
    yield
