"""torch_js.webgpu.Graph and torch_js.webgpu.graph: capture a step once, replay it with no Python, as
torch.cuda.CUDAGraph and torch.cuda.graph do.

    g = torch.webgpu.Graph()
    static_in = torch.zeros(8, 4, device="webgpu")
    ...warm up: run fn a few times eagerly (pipelines compiled, optimizer state created)...
    with torch.webgpu.graph(g):
        static_out = fn(static_in)
    static_in.copy_(new_batch)     # new data goes into the captured input
    g.replay()                     # static_out now holds fn(new_batch)

As in CUDA, capture runs nothing on the GPU (outputs hold no values, an optimizer step inside it has not updated
the parameters yet): the bridge plans the work as usual (fusion included) and logs every kernel dispatch (pipeline,
buffers, parameters) and every buffer allocation and release; replay() re-issues the log in one call into JS
(js_bridge/webgpu/graph.mjs), from cached pipelines and bind groups. Python code is not re-run, so
anything Python decided during capture is frozen: shapes, branches on values, host scalars such as a learning
rate or Adam's step count and bias correction (use a constant lr, or an optimizer whose state lives in tensors).
Static inputs: copy new data into the tensors used during capture. Static outputs: the tensors created during
capture are overwritten by every replay; the graph keeps their buffers (and those of the inputs it reads) until
reset(), as a CUDA graph's private memory pool.

Not capturable (RuntimeError at the call, as CUDA's "operation not permitted when stream is capturing"): reading
a tensor back (.item(), .cpu(), .tolist(), print), synchronize(), copying host data to the device
(torch.tensor(..., device='webgpu'), .to('webgpu') from the CPU) and with it random ops (dropout, rand, ...):
torch_js draws random numbers on the CPU and uploads them, so a replay could only repeat the captured numbers
(PyTorch advances its Philox offset on replay; here no Python runs), and they are refused instead.
"""
import gc
import weakref

from ._tensor import Tensor
from .autograd.engine import grad as _autograd_grad
from .autograd.function import Function
from .backends.webgpu import runtime as _rt
from .ops._util import _SCALAR_CACHE

__all__ = ["Graph", "graph", "is_current_stream_capturing", "make_graphed_callables"]

_CAPTURE_ERROR_MODES = ("global", "thread_local", "relaxed")


def is_current_stream_capturing():
    """True while a graph is being captured (torch.cuda.is_current_stream_capturing)."""
    return _rt.capturing is not None


def _bridge_call(what, fn, *args):
    try:
        return fn(*args)
    except Exception as e:   # a JS Error from the bridge: PyTorch raises RuntimeError
        raise RuntimeError(f"torch_js webgpu: {what} failed: {e}") from None


class Graph:
    """A captured sequence of webgpu work, replayed by replay() (torch.cuda.CUDAGraph). `keep_graph` is accepted
    for torch's signature; there is no separate instantiate step here, so it changes nothing."""

    def __init__(self, keep_graph=False):
        self._handle = None
        self._captured = False
        self._kernels = 0

    def capture_begin(self, pool=None, capture_error_mode="global"):
        """Start capturing the webgpu work that follows. `pool` (sharing a memory pool between graphs) is accepted
        and ignored: each graph keeps its own buffers. `capture_error_mode` is checked; with one Python thread the
        three modes behave alike."""
        if capture_error_mode not in _CAPTURE_ERROR_MODES:
            raise RuntimeError(f"Unknown capture error mode. Expected `global`, `thread_local`, or `relaxed`, got "
                               f"{capture_error_mode}")
        if self._handle is not None:
            raise RuntimeError("This Graph instance already owns a captured graph. To capture a new graph, create "
                               "a new instance or call reset() first.")
        if _rt.capturing is not None:
            raise RuntimeError("torch_js webgpu: another graph is being captured (captures cannot nest)")
        b = _rt.ensure()
        self._handle = _bridge_call("capture_begin", b.graphBegin)
        self._scalars_before = set(_SCALAR_CACHE)
        _rt.capturing = self

    def capture_end(self):
        """Finish the capture begun by capture_begin()."""
        if _rt.capturing is not self:
            raise RuntimeError("torch_js webgpu: capture_end() without a matching capture_begin()")
        _rt.capturing = None
        self._forget_captured_scalars()
        self._kernels = _bridge_call("capture_end", _rt.bridge.graphEnd, self._handle)
        self._captured = True

    def _forget_captured_scalars(self):
        """Scalar operands made during the capture (ops/_util.scalar_tensor) are filled only when the graph runs:
        out of the shared cache with them, or eager ops after the capture would read them unfilled. (The graph
        keeps their buffers.)"""
        for key in [k for k in _SCALAR_CACHE if k not in self._scalars_before]:
            del _SCALAR_CACHE[key]

    def _abort(self):
        """A capture that raised: drop what it logged."""
        if _rt.capturing is self:
            _rt.capturing = None
            self._forget_captured_scalars()
        self.reset()

    def instantiate(self):
        """Nothing to do: the log is ready to replay at capture_end() (torch's keep_graph=True step)."""
        if not self._captured:
            raise RuntimeError("torch_js webgpu: instantiate() without a preceding successful capture")

    def replay(self):
        """Run the captured work again, on the current contents of its input tensors, into its output tensors."""
        if not self._captured:
            raise RuntimeError("Called Graph.replay without a preceding successful capture.")
        if _rt.capturing is not None:
            raise RuntimeError("torch_js webgpu: replay() is not permitted while a graph is being captured")
        _bridge_call("replay", _rt.bridge.graphReplay, self._handle)

    def reset(self):
        """Drop the captured work; buffers only the graph kept (outputs Python no longer holds) are freed."""
        if self._handle is not None and _rt.bridge is not None:
            _rt.bridge.graphReset(self._handle)
        self._handle = None
        self._captured = False
        self._kernels = 0

    def pool(self):
        """An opaque token for torch's `pool=` arguments (ignored here: graphs do not share memory)."""
        return (id(self),)

    def __del__(self):
        try:
            if self._handle is not None and _rt.capturing is not self:
                self.reset()
        except Exception:   # interpreter shutdown, bridge gone
            pass

    def __repr__(self):
        state = f"{self._kernels} kernels" if self._captured else "not captured"
        return f"torch_js.webgpu.Graph({state})"


class graph:
    """`with torch.webgpu.graph(g): out = fn(static_in)` captures the block into Graph g (torch.cuda.graph).
    Entering flushes pending work and collects garbage, so no earlier tensor is freed inside the capture. An
    exception inside the block abandons the capture (g stays empty) and propagates. `stream` is accepted for
    torch's signature: the webgpu device has one queue."""

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="global"):
        if not isinstance(cuda_graph, Graph):
            raise TypeError(f"torch_js.webgpu.graph expects a torch_js.webgpu.Graph, got {type(cuda_graph).__name__}")
        self.cuda_graph = cuda_graph
        self.pool = () if pool is None else (pool,)
        self.capture_error_mode = capture_error_mode

    def __enter__(self):
        if _rt.bridge is not None:
            _rt.bridge.flush()
        gc.collect()
        self.cuda_graph.capture_begin(*self.pool, capture_error_mode=self.capture_error_mode)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.cuda_graph._abort()
            return False
        self.cuda_graph.capture_end()
        return False


def _flatten(tree):
    """The leaves of nested tuples / lists (a graphed callable's arguments and outputs), and how to rebuild them
    (_unflatten). utils._pytree is not imported: utils -> data -> webgpu would make an import cycle."""
    if not isinstance(tree, (tuple, list)):
        return [tree], None
    leaves, specs = [], []
    for t in tree:
        sub, spec = _flatten(t)
        leaves += sub
        specs.append((len(sub), spec))
    return leaves, (type(tree), specs)


def _unflatten(leaves, spec):
    if spec is None:
        return leaves[0]
    kind, specs = spec
    out, i = [], 0
    for n, sub in specs:
        out.append(_unflatten(leaves[i:i + n], sub))
        i += n
    return kind(out) if kind in (tuple, list) else kind(*out)   # namedtuples take fields


def _is_module(fn):
    """An nn.Module, told by its interface: importing nn here would make an import cycle (nn -> ... -> webgpu)."""
    return callable(getattr(fn, "parameters", None)) and hasattr(fn, "training") and hasattr(fn, "_forward_hooks")


def make_graphed_callables(callables, sample_args, num_warmup_iters=3, allow_unused_input=False, pool=None):
    """Graphed versions of callables (functions or Modules), as torch.cuda.make_graphed_callables: each one's
    forward and its backward (autograd.grad of its outputs w.r.t. its tensor inputs and parameters) are captured
    as two graphs after `num_warmup_iters` eager runs on `sample_args`, and every later call copies its inputs into
    the static ones and replays (outputs alias the static outputs, overwritten by the next call). Arguments must
    have the sample args' shapes, dtypes and requires_grad; a Module is graphed in its current training mode (the
    other mode runs its original forward). `pool` is accepted and ignored."""
    just_one = not isinstance(callables, tuple)
    if just_one:
        callables, sample_args = (callables,), (sample_args,)
    graphed = []
    for fn, args in zip(callables, sample_args):
        if _is_module(fn):
            if fn._backward_hooks or fn._forward_hooks or fn._forward_pre_hooks:
                raise RuntimeError("Modules must not have hooks registered at the time they are passed. However, "
                                   "registering hooks on modules after passing them through make_graphed_callables "
                                   "is allowed.")
            if any(b.requires_grad for b in fn.buffers()):
                raise RuntimeError("In any :class:`~torch.nn.Module` passed to :func:`~make_graphed_callables`, "
                                   "only parameters may be trainable. All buffers must have ``requires_grad=False``.")
        flat_args, _ = _flatten(args)
        if not all(isinstance(a, Tensor) for a in flat_args):
            raise TypeError("In the beta API, sample_args for each callable must contain only Tensors. Other types "
                            "are not allowed.")
        params = tuple(fn.parameters()) if _is_module(fn) else ()
        graphed.append(_graph_one(fn, args, tuple(flat_args) + params, len(flat_args), num_warmup_iters,
                                  allow_unused_input))
    return graphed[0] if just_one else tuple(graphed)


def _graph_one(fn, args, surface, n_args, num_warmup_iters, allow_unused):
    """Capture fn's forward and backward on the static inputs `surface` (args, then parameters)."""
    needs_grad = tuple(i for i in surface if i.requires_grad)

    def backward_of(outputs, grad_outputs):
        outs = tuple(o for o in outputs if o.requires_grad)
        if not outs or not needs_grad:
            return ()
        return _autograd_grad(outs, needs_grad, tuple(g for g in grad_outputs if g is not None),
                              only_inputs=True, allow_unused=allow_unused)

    for _ in range(num_warmup_iters):
        outputs, _ = _flatten(fn(*args))
        backward_of(outputs, [o.new_empty(o.shape) if o.requires_grad else None for o in outputs])
        del outputs
    fwd, bwd = Graph(), Graph()
    with graph(fwd):
        static_out = fn(*args)
    static_outputs, out_spec = _flatten(static_out)
    static_outputs = tuple(static_outputs)
    static_grad_outputs = tuple(o.new_empty(o.shape) if o.requires_grad else None for o in static_outputs)
    with graph(bwd):
        grads = backward_of(static_outputs, static_grad_outputs)   # () when no output requires grad
        grads = iter(grads) if grads else None
        static_grad_inputs = tuple(next(grads) if grads is not None and i.requires_grad else None for i in surface)

    # the autograd node of the last replay whose outputs may still be backpropagated through (its backward reads the
    # static activations, which the next forward replay overwrites): torch.compile's replay waits for it
    awaiting = [None]

    class Graphed(Function):
        @staticmethod
        def forward(ctx, *inputs):
            for static, new in zip(surface, inputs):
                if static.data_ptr() != new.data_ptr():
                    static.copy_(new)
            fwd.replay()
            return tuple(o.detach() for o in static_outputs)

        @staticmethod
        def backward(ctx, *grad_outputs):
            awaiting[0] = None
            for static, new in zip(static_grad_outputs, grad_outputs):
                if static is not None and new is not None and static.data_ptr() != new.data_ptr():
                    static.copy_(new)
            bwd.replay()
            return tuple(g.detach() if g is not None else None for g in static_grad_inputs)

    def functionalized(*user_args):
        flat, _ = _flatten(user_args)
        if len(flat) != n_args:
            raise RuntimeError(f"graphed callable: expected {n_args} tensor arguments (as sample_args), got {len(flat)}")
        outputs = Graphed.apply(*flat, *surface[n_args:])
        node = next((o.grad_fn for o in outputs if o.grad_fn is not None), None)
        awaiting[0] = None if node is None else weakref.ref(node)
        return _unflatten(list(outputs), out_spec)

    functionalized._graphs = (fwd, bwd)   # kept alive with the callable
    functionalized._awaiting_backward = lambda: awaiting[0] is not None and awaiting[0]() is not None
    if _is_module(fn):
        training, plain_forward = fn.training, fn.forward

        def forward(*user_args, **user_kwargs):
            if fn.training == training:
                return functionalized(*user_args, **user_kwargs)
            return plain_forward(*user_args, **user_kwargs)
        fn.forward = forward
        return fn
    return functionalized
