"""torch_js.jit (torch.jit): TorchScript's Python API, running the Python code it is given.

torch_js has no TorchScript compiler or interpreter (it is a Python program in the browser). script() and trace()
return ScriptFunction / ScriptModule objects that behave as the compiled ones do when called, trained, inspected
through parameters() and state_dict() (see _script.py and _trace.py); the decorators (ignore, unused, export,
interface, script_if_tracing, ...) mark functions as PyTorch's do; fork() runs its function at once and returns a
completed Future. What needs compiled code — .code and .graph, saving or loading a TorchScript archive, compiling
TorchScript source (CompilationUnit) — raises a RuntimeError that says so.
"""
import contextlib
import functools
import typing
import warnings

from ..futures import Future
from ._script import (Attribute, Error, FunctionModifiers, RecursiveScriptModule,  # noqa: F401  (re-exported)
                      ScriptFunction, ScriptModule, archive_error, freeze_module as _freeze_module, script,
                      script_method, warn_deprecated as _warn_deprecated)
from ._trace import (TopLevelTracedModule, TracedModule, TracerWarning,  # noqa: F401  (re-exported)
                     TracingCheckError, is_tracing, trace, trace_module)

__all__ = ["Attribute", "CompilationUnit", "Error", "Future", "ScriptFunction", "ScriptModule", "annotate",
           "enable_onednn_fusion", "export", "export_opnames", "fork", "freeze", "interface", "ignore", "isinstance",
           "load", "onednn_fusion_enabled", "optimize_for_inference", "save", "script", "script_if_tracing",
           "set_fusion_strategy", "strict_fusion", "trace", "trace_module", "unused", "wait"]

_builtin_isinstance = isinstance

Final = typing.Final


class ScriptWarning(Warning):
    pass


def is_scripting():
    """False: torch_js never runs compiled TorchScript (code under `if not torch.jit.is_scripting():` runs)."""
    return False


def annotate(the_type, the_value):
    """A type hint for the TorchScript compiler: returns the value."""
    return the_value


def interface(obj):
    """@torch.jit.interface: marks a class as a TorchScript interface; returns it unchanged."""
    _warn_deprecated("interface", "use `torch.compile` instead")
    if not _builtin_isinstance(obj, type):
        raise RuntimeError("interface must be applied to a class")
    return obj


def export(fn):
    """@torch.jit.export: compile this method too (torch_js's scripted modules have every method anyway)."""
    fn._torchscript_modifier = FunctionModifiers.EXPORT
    return fn


def unused(fn):
    """@torch.jit.unused: a scripted module's call of this method raises torch.jit.Error, as PyTorch's stub does."""
    if _builtin_isinstance(fn, property):
        fn.fget._torchscript_modifier = FunctionModifiers.UNUSED
        if fn.fset:
            fn.fset._torchscript_modifier = FunctionModifiers.UNUSED
        return fn
    fn._torchscript_modifier = FunctionModifiers.UNUSED
    return fn


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore / @torch.jit.ignore(drop=...): leave the function as a Python call (drop: as unused)."""
    if callable(drop):
        drop._torchscript_modifier = FunctionModifiers.IGNORE
        return drop
    if not _builtin_isinstance(drop, bool):
        raise RuntimeError(f"Argument to @torch.jit.ignore must be a bool or a function but got {drop}")
    drop = kwargs.pop("drop_on_export", None) or drop

    def decorator(fn):
        fn._torchscript_modifier = FunctionModifiers.UNUSED if drop else FunctionModifiers.IGNORE
        return fn
    return decorator


def _drop(fn):
    fn._torchscript_modifier = FunctionModifiers._DROP
    return fn


def _overload(func):
    return func


def _overload_method(func):
    return func


def script_if_tracing(fn):
    """Scripts `fn` only when it is called while tracing; here both run the function."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    wrapper.__original_fn = fn
    wrapper.__script_if_tracing_wrapper = True
    return wrapper


def fork(func, *args, **kwargs):
    """torch.jit.fork: runs func(*args, **kwargs) now (there is no other thread) and returns its completed Future;
    an error func raises propagates from fork, as in PyTorch's Python mode."""
    _warn_deprecated("fork", "use `torch.compile` instead")
    fut = Future()
    fut.set_result(func(*args, **kwargs))
    return fut


def wait(future):
    """torch.jit.wait: the Future's result."""
    _warn_deprecated("wait", "use `torch.compile` instead")
    return future.wait()


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """torch.jit.freeze: a scripted module in eval mode with its parameters and buffers turned into constants."""
    return _freeze_module(mod, preserved_attrs, "Freezing")


def optimize_for_inference(mod, other_methods=None):
    """torch.jit.optimize_for_inference: freezes the module (in eval mode); no further optimization here."""
    _warn_deprecated("optimize_for_inference", "use `torch.compile` instead")
    if not _builtin_isinstance(mod, ScriptModule):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # warned once, as optimize_for_inference
        return _freeze_module(mod.eval(), other_methods, "optimize_for_inference")


def run_frozen_optimizations(mod, optimize_numerics=True, preserved_methods=None):
    return None


def save(m, f, _extra_files=None):
    """torch.jit.save: TorchScript archives cannot be written here (RuntimeError; use state_dict)."""
    _warn_deprecated("save", "switch to `torch.export`")
    raise archive_error("torch.jit.save", m)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """torch.jit.load: TorchScript archives cannot be read here (RuntimeError)."""
    _warn_deprecated("load", "switch to `torch.export`")
    raise RuntimeError("torch.jit.load: TorchScript archives are not supported in torch_js (it has no TorchScript "
                       "interpreter); load a state_dict saved with torch.save(model.state_dict(), f) into the model "
                       "defined in Python instead")


class CompilationUnit:
    """torch.jit.CompilationUnit: compiles TorchScript source, which torch_js cannot."""

    def __init__(self, lang=None, _frames_up=0):
        raise RuntimeError("torch.jit.CompilationUnit compiles TorchScript source code, which torch_js cannot (it "
                           "has no TorchScript compiler); define the functions in Python")


def export_opnames(m):
    raise RuntimeError("torch.jit.export_opnames lists the ops of compiled TorchScript code; torch_js has none")


def isinstance(obj, target_type):
    """torch.jit.isinstance: isinstance that also checks the contents of List/Dict/Tuple/Optional types."""
    return _matches(obj, target_type)


def _matches(obj, t):
    if t is typing.Any:
        return True
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin is None:
        if t in (list, dict, tuple, typing.List, typing.Dict, typing.Tuple):
            name = {typing.List: "List", typing.Dict: "Dict", typing.Tuple: "Tuple"}.get(t, getattr(t, "__name__", t))
            raise RuntimeError(f"Attempted to use {name} without a contained type. Please add a contained type, "
                               f"e.g. {name}[int]")
        if t is None or t is type(None):
            return obj is None
        return _builtin_isinstance(obj, t)
    if origin is typing.Union or type(t).__name__ == "UnionType":
        return any(_matches(obj, a) for a in args)
    if origin is list:
        return _builtin_isinstance(obj, list) and all(_matches(x, args[0]) for x in obj)
    if origin is dict:
        return _builtin_isinstance(obj, dict) and all(_matches(k, args[0]) and _matches(v, args[1])
                                                      for k, v in obj.items())
    if origin is tuple:
        return (_builtin_isinstance(obj, tuple) and len(obj) == len(args)
                and all(_matches(x, a) for x, a in zip(obj, args)))
    return _builtin_isinstance(obj, origin)


# ---- fusion settings: there is no fuser; the settings are kept so code that sets and reads them runs -------------

_fusion_strategy = [("STATIC", 2), ("DYNAMIC", 10)]
_onednn_fusion = [False]


def set_fusion_strategy(strategy):
    _warn_deprecated("set_fusion_strategy", "use `torch.compile` instead")
    old = list(_fusion_strategy)
    _fusion_strategy[:] = list(strategy)
    return old


def enable_onednn_fusion(enabled):
    _onednn_fusion[0] = bool(enabled)


def onednn_fusion_enabled():
    return _onednn_fusion[0]


@contextlib.contextmanager
def fuser(name):
    yield


@contextlib.contextmanager
def optimized_execution(should_optimize):
    yield


class strict_fusion:
    """Checks, in compiled code, that everything in the block fused; there is no fuser here, so nothing to check."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _script_if_tracing(fn):
    return script_if_tracing(fn)


_fork = fork
_wait = wait
