"""torch.jit.trace / trace_module: run once on the example inputs, as PyTorch does, and return what runs the code.

PyTorch records the ops one run executes and returns a function or module that replays that record. torch_js has
no recorder: trace() checks the example inputs and outputs as PyTorch's tracer does (Tensors and nested
lists/tuples/dicts of Tensors only; a dict output only with strict=False), runs the function once with
torch.jit.is_tracing() True, and returns a ScriptFunction / TopLevelTracedModule that calls the Python code.
A replayed trace follows the branches the example took; the Python code follows the inputs it is given, which is
what a program whose trace is correct computes anyway.
"""
import warnings

from .._tensor import Tensor
from ..nn.modules.module import Module
from ._script import ScriptFunction, ScriptModule, convert_module, warn_deprecated

_TRACING = [0]   # how many traces are running (trace() can run inside a traced function's example run)


def is_tracing():
    """True while trace() runs a function on its example inputs."""
    return _TRACING[0] > 0


class TracerWarning(Warning):
    pass


class TracingCheckError(Exception):
    def __init__(self, graph_diff_error, tensor_compare_error, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n" + graph_diff_error
        if tensor_compare_error is not None:
            self.message += tensor_compare_error
        super().__init__(self.message)


class TracedModule(ScriptModule):
    """The class of a traced module's submodules: `Name(original_name=Name)`."""
    original_name = "Module"

    def _get_name(self):
        return self.original_name

    def extra_repr(self):
        return f"original_name={self.original_name}"


class TopLevelTracedModule(TracedModule):
    """What torch.jit.trace(module) returns."""


_CANNOT_TRACE = ("Type '{}' cannot be traced. Only Tensors and (possibly nested) Lists, Dicts, and Tuples of Tensors "
                 "can be traced")


def _type_name(v):
    """TorchScript's name for the type of a Python value, as the tracer's errors print it."""
    if isinstance(v, Tensor):
        return "Tensor"
    if isinstance(v, tuple):
        return "Tuple[" + ", ".join(_type_name(x) for x in v) + "]"
    if isinstance(v, list):
        return f"List[{_type_name(v[0]) if v else 'Tensor'}]"
    if isinstance(v, dict):
        k, x = next(iter(v.items()), ("", None))
        return f"Dict[{_type_name(k)}, {_type_name(x) if v else 'Tensor'}]"
    return type(v).__name__


def _traceable(v):
    if isinstance(v, Tensor):
        return True
    if isinstance(v, (list, tuple)):
        return all(_traceable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, (str, int, float, bool, Tensor)) for k in v) and all(_traceable(x)
                                                                                    for x in v.values())
    return False


def _check_inputs(args):
    for a in args:
        if isinstance(a, list) and len({_type_name(x) for x in a}) > 1:
            kinds = []
            for x in a:
                if _type_name(x) not in kinds:
                    kinds.append(_type_name(x))
            raise RuntimeError(f"Tracer cannot infer type of {args!r}\n:List inputs to traced functions must have "
                               f"consistent element type. Found {kinds[0]} and {kinds[1]}")
    if not _traceable(tuple(args)):
        raise RuntimeError(_CANNOT_TRACE.format(_type_name(tuple(args))))


def _check_output(out, strict):
    if out is None:
        raise RuntimeError("The traced function didn't return any values! Side-effects are not captured in traces, "
                           "so it would be a no-op.")

    def walk(v):
        if isinstance(v, Tensor):
            return
        if isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
            return
        if isinstance(v, dict):
            if strict:
                raise RuntimeError(
                    "Encountering a dict at the output of the tracer might cause the trace to be incorrect, this is "
                    "only valid if the container structure does not change based on the module's inputs. Consider "
                    "using a constant container instead (e.g. for `list`, use a `tuple` instead. for `dict`, use a "
                    "`NamedTuple` instead). If you absolutely need this and know the side effects, pass "
                    "strict=False to trace() to allow this behavior.")
            for x in v.values():
                walk(x)
            return
        raise RuntimeError("Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from "
                           "traced functions")
    walk(out)


def _as_args(example_inputs):
    if example_inputs is None:
        return ()
    return (example_inputs,) if isinstance(example_inputs, Tensor) else tuple(example_inputs)


def _run_traced(fn, args, kwargs, strict):
    _check_inputs(args + tuple(kwargs.values()))
    _TRACING[0] += 1
    try:
        out = fn(*args, **kwargs)
    finally:
        _TRACING[0] -= 1
    _check_output(out, strict)
    return out


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs=True):
    """torch.jit.trace: runs `func` once on the example inputs (see the module docstring) and returns a
    ScriptFunction, or for an nn.Module a TopLevelTracedModule, that runs it."""
    warn_deprecated("trace")
    if isinstance(func, (ScriptModule, ScriptFunction)):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. Returning the object as "
                      "is.", stacklevel=2)
        return func
    if isinstance(func, Module):
        inputs = example_kwarg_inputs if example_kwarg_inputs is not None else example_inputs
        return trace_module(func, {"forward": inputs}, strict=strict,
                            example_inputs_is_kwarg=example_kwarg_inputs is not None)
    owner = getattr(func, "__self__", None)
    if isinstance(owner, Module) and getattr(func, "__name__", None) == "forward":
        return trace(owner, example_inputs, strict=strict, example_kwarg_inputs=example_kwarg_inputs)
    if example_kwarg_inputs is not None and not isinstance(example_kwarg_inputs, dict):
        raise AssertionError("example_kwarg_inputs should be a dict")
    _run_traced(func, _as_args(example_inputs), dict(example_kwarg_inputs or {}), strict)
    return ScriptFunction(func)


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5, strict=True,
                 _force_outplace=False, _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs=True):
    """torch.jit.trace_module: runs each method named in `inputs` on its example inputs; a TopLevelTracedModule."""
    warn_deprecated("trace_method")
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    traced = convert_module(mod, TopLevelTracedModule, TracedModule)
    for method_name, example in inputs.items():
        method = traced if method_name == "forward" else getattr(traced, method_name)
        if example_inputs_is_kwarg:
            _run_traced(method, (), dict(example), strict)
        else:
            _run_traced(method, _as_args(example), {}, strict)
    return traced
