"""torch_js.compiler (torch.compiler): torch.compile's public companions. torch_js compiles nothing (torch.compile
runs the model eagerly, see _dynamo/eval_frame.py), so is_compiling() is always False, the markers return what they
mark, and the settings are accepted."""
import functools

from .. import _dynamo
from .._dynamo.eval_frame import compile_model as compile  # noqa: F401  (torch.compiler.compile is torch.compile)

__all__ = ["compile", "assume_constant_result", "reset", "allow_in_graph", "substitute_in_graph", "list_backends",
           "disable", "set_default_backend", "get_default_backend", "set_stance", "cudagraph_mark_step_begin",
           "wrap_numpy", "is_compiling", "is_dynamo_compiling", "is_exporting", "nested_compile_region"]

_default_backend = ["inductor"]


def is_compiling():
    return False


def is_dynamo_compiling():
    return False


def is_exporting():
    return False


def reset():
    _dynamo.reset()


def allow_in_graph(fn):
    return _dynamo.allow_in_graph(fn)


def assume_constant_result(fn):
    return _dynamo.assume_constant_result(fn)


def disable(fn=None, recursive=True, *, reason=None):
    return _dynamo.disable(fn, recursive, reason=reason)


def list_backends(exclude_tags=("debug", "experimental")):
    return _dynamo.list_backends(exclude_tags)


def set_default_backend(backend):
    _dynamo.lookup_backend(backend)
    _default_backend[0] = backend


def get_default_backend():
    return _default_backend[0]


def cudagraph_mark_step_begin():
    """Marks a new iteration for CUDA graphs; there are none."""


def wrap_numpy(fn):
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through=False, skip_signature_check=False):
    """A polyfill the compiler traces in place of original_fn; called eagerly, it is original_fn."""
    def wrapper(traceable_fn):
        @functools.wraps(original_fn)
        def wrapped(*args, **kwargs):
            return original_fn(*args, **kwargs)
        wrapped.__torch_dynamo_polyfill__ = traceable_fn
        return wrapped
    return wrapper


def nested_compile_region(fn=None, options=None):
    return fn if fn is not None else (lambda f: f)


class set_stance:
    """How compiled code is run (force_eager, ...): everything runs eagerly here; the stance is kept.
    Usable as a call, a `with` block or a decorator, as PyTorch's."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        self.stance = stance

    def __call__(self, fn):
        return fn

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
