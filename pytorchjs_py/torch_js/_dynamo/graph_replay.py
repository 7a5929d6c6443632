"""torch.compile(mode="reduce-overhead") (and backend="cudagraphs") on webgpu: the callable's GPU work is captured
once as a graph and replayed, as PyTorch's CUDA graphs mode does, so a repeated step costs one call into the
bridge instead of its Python.

Per call signature (the tensors' shapes, strides, dtypes, devices and requires_grad, the other arguments' values,
grad mode, and for a module its submodules' training flags and the storages of its parameters and buffers):
  1st call   runs eagerly (compiling the pipelines, creating optimizer state);
  2nd call   is captured (_webgpu_graph.make_graphed_callables' forward and backward graphs, on copies of the
             arguments), then replayed;
  later      copy the arguments into the captured ones and replay.
A module's forward in training is graphed with its backward (autograd runs the captured backward), so
`loss = cmodel(x); loss.backward()` replays both. Outputs are cloned, so they stay valid after the next call
(PyTorch raises on reading an overwritten output instead).

What replay cannot repeat is run eagerly instead, for that signature (PyTorch "skips cudagraphs" likewise): work
on the CPU (arguments there, or CPU kernels run inside the callable), reading values back (.item(), print), random
ops, host uploads, an optimizer whose step reads host values (Adam without capturable=True), outputs that are not
tensors; a warning says why, once. A replay whose
frozen host values went stale (an optimizer's lr changed by a scheduler) captures again. As with CUDA graphs,
Python code inside the callable runs at the eager and the capturing call only: its side effects (printing,
counting, appending to lists) do not happen on replay, nor do changes to tensors it reads through globals
re-route the graph (in-place changes are seen; rebinding a global to a new tensor is not).
"""
import contextlib
import warnings

from .. import _grad_mode
from .._tensor import Tensor
from .._webgpu_graph import _flatten as _flatten_outputs, _graph_one, _unflatten as _unflatten_outputs
from ..backends.cpu import BACKEND as _CPU
from ..backends.interface import PRIMITIVES
from ..backends.webgpu import runtime as _rt

__all__ = ["GraphReplay", "wants_graphs"]

_TENSOR = object()   # (a tensor's place among a call's leaves)
MAX_CAPTURES = 8   # per callable (PyTorch's recompile limit): beyond it new signatures run eagerly


def wants_graphs(backend, mode, options):
    """Whether torch.compile's arguments ask for CUDA-graph replay."""
    return backend == "cudagraphs" or mode in ("reduce-overhead", "max-autotune") or \
        bool(options and options.get("triton.cudagraphs"))


def _flatten(tree, leaves):
    """Leaves of nested tuples, lists and dicts (in key order), appended to `leaves`; returns the structure."""
    if isinstance(tree, (tuple, list)):
        return type(tree), tuple(_flatten(t, leaves) for t in tree)
    if isinstance(tree, dict):
        return dict, tuple((k, _flatten(tree[k], leaves)) for k in tree)
    leaves.append(tree)
    return None


def _unflatten(spec, leaves):
    if spec is None:
        return next(leaves)
    kind, items = spec
    if kind is dict:
        return {k: _unflatten(s, leaves) for k, s in items}
    return kind([_unflatten(s, leaves) for s in items])


def _leaf_key(x):
    if isinstance(x, Tensor):
        return ("T", x.shape, x.stride(), x.dtype, x.device.type, x.requires_grad)
    try:
        hash(x)
        return ("V", type(x), x)
    except TypeError:
        return ("I", id(x))


class _Entry:
    __slots__ = ("calls", "graphed", "guards", "eager_reason")

    def __init__(self):
        self.calls, self.graphed, self.guards, self.eager_reason = 0, None, (), None


class GraphReplay:
    """The callable torch.compile returns in reduce-overhead mode (module docstring); `fn` is the original
    function or module, called as it is."""

    def __init__(self, fn, module=None):
        self.fn, self.module = fn, module
        self.entries, self.captures, self.warned = {}, 0, set()

    def _module_key(self):
        m = self.module
        if m is None:
            return ()
        return (tuple(s.training for s in m.modules()),
                tuple(id(p._storage) for p in m.parameters()), tuple(id(b._storage) for b in m.buffers()))

    def _eager_because(self, entry, reason, args, kwargs):
        entry.eager_reason = reason
        if reason not in self.warned:
            self.warned.add(reason)
            name = getattr(self.module or self.fn, "__qualname__", type(self.module or self.fn).__name__)
            warnings.warn(f"torch.compile(mode='reduce-overhead'): {name} runs eagerly for these arguments, without "
                          f"graph replay: {reason}", stacklevel=3)
        return self.fn(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        leaves = []
        spec = _flatten((args, kwargs), leaves)
        tensors = [x for x in leaves if isinstance(x, Tensor)]
        if _rt.capturing is not None or _rt.bridge is None or any(t.device.type != "webgpu" for t in tensors):
            return self.fn(*args, **kwargs)        # (nothing to replay: no webgpu work, or inside a capture)
        key = (spec, tuple(_leaf_key(x) for x in leaves), _grad_mode.GRAD_ENABLED[0], self._module_key())
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = _Entry()
        if entry.eager_reason is not None:
            return self.fn(*args, **kwargs)
        entry.calls += 1
        if entry.calls == 1:                       # the warm-up: an eager call, which also vets the outputs
            buffers = _rt._next_id[0]
            out = self.fn(*args, **kwargs)
            leaves_out = [] if out is None else _flatten_outputs(out)[0]
            bad = [type(o).__name__ for o in leaves_out if not isinstance(o, Tensor)]
            if bad:
                entry.eager_reason = f"it returns {bad[0]}, not tensors (or tuples or lists of them)"
            elif not tensors and _rt._next_id[0] == buffers:
                entry.eager_reason = "no webgpu work"          # (a CPU function: nothing to say)
                self.warned.add(entry.eager_reason)
            return out
        if entry.graphed is not None and entry.graphed._awaiting_backward():
            return self.fn(*args, **kwargs)        # the last replay's backward has not run: its activations stay
        if entry.graphed is not None and not all(g() for g in entry.guards):
            entry.graphed = None                   # a host value frozen into the graph changed: capture again
        if entry.graphed is None:
            if self.captures >= MAX_CAPTURES:
                return self._eager_because(entry, f"{MAX_CAPTURES} graphs captured already (as PyTorch's "
                                                  f"recompile limit)", args, kwargs)
            error = self._capture(entry, spec, leaves)
            if error is not None:
                return self._eager_because(entry, error, args, kwargs)
        out = entry.graphed(*tensors)
        if isinstance(out, tuple) and not out:
            return None
        outputs, out_spec = _flatten_outputs(out)
        return _unflatten_outputs([o.clone() for o in outputs], out_spec)   # (the graph's own are overwritten)

    def _capture(self, entry, spec, leaves):
        """Capture the callable on copies of this call's tensors (other leaves are baked in); returns why it could
        not be captured, or None."""
        # the leaves with each tensor's place marked: the copies made here take those places at capture
        constants = [_TENSOR if isinstance(x, Tensor) else x for x in leaves]
        tensors = tuple(x.detach().clone().requires_grad_(x.requires_grad) for x in leaves if isinstance(x, Tensor))
        fn = self.fn

        def on_tensors(*tensors):
            it = iter(tensors)
            args, kwargs = _unflatten(spec, iter([next(it) if c is _TENSOR else c for c in constants]))
            out = fn(*args, **kwargs)
            return () if out is None else out       # (a step that returns nothing: no outputs to keep)

        params = tuple(self.module.parameters()) if self.module is not None else ()
        guards = []
        _rt.capture_guards = guards
        try:
            with _cpu_refused():
                graphed = _graph_one(on_tensors, tensors, tensors + params, len(tensors), 0, True)
        except RuntimeError as e:   # what replay cannot repeat (a readback, an upload, a host-side optimizer)
            return str(e).split(". ")[0]
        finally:
            _rt.capture_guards = None
        self.captures += 1
        entry.graphed, entry.guards = graphed, tuple(guards)
        return None


@contextlib.contextmanager
def _cpu_refused():
    """CPU kernels raise while a compiled callable is captured: a replay runs only the GPU work, so CPU results
    would be computed once and then stay frozen (the backend's methods are shadowed on the instance meanwhile)."""
    def refuse(name):
        def refused(*_args, **_kwargs):
            raise RuntimeError(f"torch_js: CPU work ({name}) is not permitted while a graph is being captured: a "
                               f"replay runs only the webgpu work")
        return refused
    for name in PRIMITIVES:
        setattr(_CPU, name, refuse(name))
    try:
        yield
    finally:
        for name in PRIMITIVES:
            delattr(_CPU, name)
