"""torch_js._dynamo (torch._dynamo): TorchDynamo's Python API for a runtime without a graph compiler.

torch.compile runs models eagerly here (eval_frame.py); this module gives programs the knobs they reach for:
config (settings with PyTorch's names and defaults), reset(), disable, mark_dynamic/mark_static (hints with
nothing to hint), allow_in_graph, optimize, the backend registry, is_compiling() False. What needs a compiled graph
(explain, export) raises a RuntimeError saying torch_js has none.
"""
from . import config, eval_frame
from .eval_frame import DisableContext, InvalidBackend, OptimizedModule, disable, innermost_fn  # noqa: F401

__all__ = ["allow_in_graph", "assume_constant_result", "config", "disable", "disallow_in_graph", "explain",
           "export", "forbid_in_graph", "graph_break", "is_compiling", "is_dynamo_supported",
           "is_inductor_supported", "list_backends", "lookup_backend", "mark_dynamic", "mark_static",
           "mark_static_address", "maybe_mark_dynamic", "nonstrict_trace", "optimize", "OptimizedModule",
           "register_backend", "reset", "run"]

_REGISTERED = {}


def _no_graphs(name):
    return RuntimeError(f"torch._dynamo.{name} needs TorchDynamo's graph capture, which torch_js does not have "
                        "(torch.compile runs the model eagerly in the browser)")


def is_compiling():
    return False


def is_dynamo_supported():
    """False: there is no TorchDynamo in torch_js (torch.compile still runs, eagerly)."""
    return False


def is_inductor_supported():
    return False


def reset():
    """Clear compiled code caches: there are none."""


def allow_in_graph(fn):
    return fn


def disallow_in_graph(fn):
    return fn


def forbid_in_graph(fn):
    return fn


def nonstrict_trace(traceable_fn):
    return traceable_fn


def assume_constant_result(fn):
    fn._dynamo_marked_constant = True
    return fn


def graph_break(msg=""):
    """A graph break: there is no graph to break."""


def mark_dynamic(t, index, *, min=None, max=None, specialize_on=None):
    """A hint that dimension(s) `index` of `t` vary between calls: nothing to hint here."""


def maybe_mark_dynamic(t, index):
    pass


def mark_static(t, index=None):
    pass


def mark_static_address(t, guard=True):
    pass


def list_backends(exclude_tags=("debug", "experimental")):
    names = set(eval_frame.BACKENDS) | set(_REGISTERED)
    if not exclude_tags or "debug" not in exclude_tags:
        names |= set(eval_frame.DEBUG_BACKENDS)
    return sorted(names)


def lookup_backend(compiler_fn):
    if isinstance(compiler_fn, str):
        if compiler_fn not in list_backends(exclude_tags=()):
            raise InvalidBackend(compiler_fn)
        return _REGISTERED.get(compiler_fn, compiler_fn)
    return compiler_fn


def register_backend(compiler_fn=None, name=None, tags=()):
    """Register a backend by name (torch.compile(backend=name) accepts it; the model still runs eagerly)."""
    if compiler_fn is None:
        return lambda fn: register_backend(fn, name=name, tags=tags)
    _REGISTERED[name or compiler_fn.__name__] = compiler_fn
    eval_frame.BACKENDS = tuple(sorted(set(eval_frame.BACKENDS) | {name or compiler_fn.__name__}))
    return compiler_fn


class _OptimizeContext:
    def __init__(self, **options):
        self.options = options

    def __call__(self, fn):
        return eval_frame.compile_model(fn, **self.options)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def optimize(backend="inductor", *, nopython=False, guard_export_fn=None, guard_fail_fn=None,
             guard_filter_fn=None, disable=False, dynamic=None, **kwargs):
    """torch._dynamo.optimize(backend)(fn): as torch.compile(fn, backend=backend)."""
    lookup_backend(backend)
    return _OptimizeContext(backend=backend, fullgraph=nopython, dynamic=dynamic, disable=disable)


def run(fn=None):
    return fn if fn is not None else DisableContext()


def explain(f, *extra_args, **extra_kwargs):
    raise _no_graphs("explain")


def export(f, *extra_args, **extra_kwargs):
    raise _no_graphs("export")
