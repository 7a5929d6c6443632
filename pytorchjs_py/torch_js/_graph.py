"""The autograd graph: a Node per recorded op, edges to the nodes that produced its inputs.

A Node is what `tensor.grad_fn` shows. `backward_fn(ctx, *grads)` returns one gradient per input (None where an
input needs none); it is written with tensor ops, so running it with grad mode on records a graph of its own
(`create_graph`, higher-order derivatives). Saved tensors carry the version they had when saved, and reading
them after an in-place change raises PyTorch's error.
"""
import itertools
import re
import weakref

from ._grad_mode import ANOMALY_MODE, GRAD_ENABLED, INFERENCE_MODE
from ._tensor import _RemovableHandle

_seq_counter = itertools.count()
_DEFERRED = []
_DRAINING = [False]


_INFERENCE_SAVED = ("Inference tensors cannot be saved for backward. Please do not use Tensors created in inference "
                    "mode in computation tracked by autograd. To work around this, you can make a clone to get a "
                    "normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
                    "`torch.inference_mode()`.")


class SavedTensor:
    """A tensor a node keeps for its backward.

    An op's own output is kept as a grad-less alias (same storage, no grad_fn): holding the output itself
    would make a reference cycle output -> grad_fn -> output, and memory would wait for the cycle collector.
    """
    __slots__ = ("tensor", "version", "is_output", "output_nr")

    def __init__(self, tensor, is_output, output_nr=0):
        if getattr(tensor._storage, "inference", False) and not INFERENCE_MODE[0]:   # (meta, sparse: no such flag)
            raise RuntimeError(_INFERENCE_SAVED)
        self.tensor = tensor._alias_without_history() if is_output else tensor
        self.version = tensor._storage.version
        self.is_output = is_output
        self.output_nr = output_nr  # which of the node's outputs this is, for create_graph

    def _modified_message(self, t, node):
        """PyTorch's error for a saved tensor written in place since: the node that made it (a saved output's own
        node; a saved input's grad_fn now, after the write), named without "Backward0"; none for a leaf."""
        producer, nr = (node, self.output_nr) if self.is_output else (t._grad_fn, t._output_nr)
        made = ""
        if producer is not None:
            made = f", which is output {nr} of {re.sub(r'Backward[0-9]*$', '', producer.name())},"
        hint = ("the backtrace further above shows the operation that failed to compute its gradient. The variable "
                "in question was changed in there or anywhere later. Good luck!" if ANOMALY_MODE[0] else
                "enable anomaly detection to find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False).")
        return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[{t._type_string()} {list(t._shape)}]{made} is at version {t._storage.version}; expected version "
                f"{self.version} instead. Hint: {hint}")

    def unpack(self, node):
        t = self.tensor
        if t._storage.version != self.version:
            raise RuntimeError(self._modified_message(t, node))
        if self.is_output:
            if GRAD_ENABLED[0]:
                # create_graph: the output must lead back to this node for higher-order gradients
                t = t._alias_without_history()
                t._grad_fn = node
                t._output_nr = self.output_nr
                t._requires_grad = True
        return t


_PACKAGE_DIR = __file__.rpartition("/")[0] + "/"


def _user_stack():
    """The current Python stack less torch_js's own frames, formatted as a traceback."""
    import traceback
    frames = [f for f in traceback.extract_stack() if not f.filename.startswith(_PACKAGE_DIR)]
    return "".join(traceback.format_list(frames))


_NO_EDGE = (None, 0)


class Node:
    __slots__ = ("_name", "backward_fn", "edges", "_saved", "attrs", "seq", "input_meta",
                 "n_outputs", "pre_hooks", "post_hooks", "_released", "ctx", "forward_stack", "__weakref__")

    def __init__(self, name, backward_fn, inputs, n_outputs=1):
        self._name = name
        self.backward_fn = backward_fn
        edges = []
        metas = []
        for t in inputs:
            if t is None or not t._requires_grad:
                edges.append(None)
                metas.append(None)
            else:
                fn = t._grad_fn
                edges.append((fn, t._output_nr) if fn is not None else (grad_accumulator(t), 0))
                metas.append((t._shape, t._dtype, t._storage.device))
        self.edges = tuple(edges)
        self.input_meta = tuple(metas)
        self._saved = ()
        self.attrs = None
        self.seq = next(_seq_counter)
        self.n_outputs = n_outputs
        self.pre_hooks = None
        self.post_hooks = None
        self._released = False
        self.ctx = None
        # anomaly mode: where the forward made this node, for the warning when its backward fails
        self.forward_stack = _user_stack() if ANOMALY_MODE[0] else None

    def name(self):
        return self._name

    @property
    def next_functions(self):
        """PyTorch's view of the edges: (node, input_nr) per input, (None, 0) for an input that needs no gradient
        (self.edges holds None there, which the backward functions test)."""
        return tuple(_NO_EDGE if e is None else e for e in self.edges)

    def __del__(self):
        # Freeing a long chain of nodes would recurse once per node in C (node -> edges -> node ...) and overflow
        # the wasm stack in Pyodide. Instead each dying node hands its references to a queue that the outermost
        # __del__ drains in a loop, so a graph of any depth is freed iteratively.
        _DEFERRED.append((self.edges, self._saved, self.attrs, self.ctx))
        self.edges = ()
        self._saved = ()
        self.attrs = None
        self.ctx = None
        if _DRAINING[0]:
            return
        _DRAINING[0] = True
        try:
            while _DEFERRED:
                _DEFERRED.pop()
        finally:
            _DRAINING[0] = False

    def __repr__(self):
        return f"<{self._name} object at {hex(id(self))}>"

    def save(self, inputs=(), outputs=()):
        """Keep tensors for backward; `outputs` must be this node's own outputs (recorded before saving)."""
        self._saved = tuple([SavedTensor(t, False) for t in inputs] +
                            [SavedTensor(t, True, t._output_nr if t._grad_fn is self else 0) for t in outputs])

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after "
                "they have already been freed). Saved intermediate values of the graph are freed when you call "
                ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved tensors after calling backward.")
        return tuple(s.unpack(self) for s in self._saved)

    def release(self):
        self._saved = ()
        self._released = True

    def register_hook(self, fn):
        if self.post_hooks is None:
            self.post_hooks = []
        self.post_hooks.append(fn)
        return _RemovableHandle(self.post_hooks, fn)

    def register_prehook(self, fn):
        return self._add_pre_hook(0, fn)

    def _add_pre_hook(self, output_nr, fn):
        if self.pre_hooks is None:
            self.pre_hooks = {}
        hooks = self.pre_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient into `tensor.grad`."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        Node.__init__(self, "torch::autograd::AccumulateGrad", None, ())
        self.variable = variable

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_NODE_CLASSES = {}


def node_class(name, base=None):
    """A Node subclass named like PyTorch's (MulBackward0, ...), so type(t.grad_fn).__name__ reads the same.

    `name` is what grad_fn.name() reports; "torch::autograd::CopySlices" makes a class named CopySlices."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name.rsplit("::", 1)[-1], (base or Node,), {"__slots__": ()})
    return cls


def grad_accumulator(t):
    acc = t._grad_acc() if t._grad_acc is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._grad_acc = weakref.ref(acc)
    return acc


def edge_of(t):
    """(node, output_nr) that a gradient for tensor t flows into, or None when t needs no gradient."""
    if t is None or not t._requires_grad:
        return None
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    return (grad_accumulator(t), 0)
