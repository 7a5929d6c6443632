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
the parameters yet): the bridge logs every primitive called during capture (its argument block) and every buffer
allocation and release, and replay() re-applies the log in one call into JS (js_bridge/webgpu/graph.mjs), which
runs the work on the GPU from cached pipelines and bind groups. Python code is not re-run, so
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

from .backends.webgpu import runtime as _rt

__all__ = ["Graph", "graph", "is_current_stream_capturing"]

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
        self._primitives = 0

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
        _rt.capturing = self

    def capture_end(self):
        """Finish the capture begun by capture_begin()."""
        if _rt.capturing is not self:
            raise RuntimeError("torch_js webgpu: capture_end() without a matching capture_begin()")
        _rt.capturing = None
        self._primitives = _bridge_call("capture_end", _rt.bridge.graphEnd, self._handle)
        self._captured = True

    def _abort(self):
        """A capture that raised: drop what it logged."""
        if _rt.capturing is self:
            _rt.capturing = None
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
        self._primitives = 0

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
        state = f"{self._primitives} primitives" if self._captured else "not captured"
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
