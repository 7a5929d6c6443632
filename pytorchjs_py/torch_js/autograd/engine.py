"""The backward engine: one reverse walk over the graph in dependency order.

Iterative throughout (a deep graph must not hit Python's recursion limit, which Pyodide keeps low). Among the
nodes whose inputs are all ready, the most recently created runs first, as in PyTorch.
"""
import heapq
import sys
import warnings

from .._grad_mode import ANOMALY_MODE, GRAD_ENABLED
from .._tensor import Tensor, _empty_strided
from ..ops._registry import torch_ops
from ..ops._util import is_dense
from .._graph import AccumulateGrad, edge_of


def _collect(roots):
    """Dependency counts for every node reachable from the roots."""
    deps = {}
    seen = set()
    stack = [node for node, _, _ in roots]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in node.edges:
            if edge is not None:
                nxt = edge[0]
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    stack.append(nxt)
    return deps, seen


def _needed(nodes, targets):
    """Nodes from which some target node can be reached (the only ones grad() must run)."""
    needed = set(targets)
    changed = True
    order = sorted(nodes, key=lambda n: n.seq)  # producers have smaller seq than consumers
    while changed:
        changed = False
        for node in order:
            if node in needed:
                continue
            for edge in node.edges:
                if edge is not None and edge[0] in needed:
                    needed.add(node)
                    changed = True
                    break
    return needed


def _fit_grad(g, meta):
    """Sum a broadcast gradient back to its input's shape and cast it to the input's dtype."""
    shape, dtype, device = meta
    if g._shape != shape:
        g = g.sum_to_size(shape)
    if g._dtype is not dtype:
        g = g.to(dtype)
    return g


def _accumulate(buffers, node, nr, g):
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * max(node.n_outputs, 1)
    prev = buf[nr]
    buf[nr] = g if prev is None else _sum_grads(prev, g)


def _sum_grads(a, b):
    """a + b for gradients of any layouts (a sparse one added into a dense one: PyTorch's accumulation)."""
    return b + a if a._sparse is not None and b._sparse is None else a + b


def run_backward(roots, retain_graph, create_graph, capture=None):
    """roots: [(node, output_nr, grad)]. capture: {(node, nr): slot} to return grads instead of accumulating."""
    deps, nodes = _collect(roots)
    needed = None
    captured = {}
    if capture is not None:
        needed = _needed(nodes, {key[0] for key in capture})
    buffers = {}
    for node, nr, g in roots:
        _accumulate(buffers, node, nr, g)
    heap = []
    for node, _, _ in roots:
        if deps.get(node, 0) == 0 and not any(item[2] is node for item in heap):
            heapq.heappush(heap, (-node.seq, id(node), node))
    prev_mode = GRAD_ENABLED[0]
    GRAD_ENABLED[0] = bool(create_graph)
    try:
        while heap:
            _, _, node = heapq.heappop(heap)
            grads = buffers.pop(node, None) or [None] * max(node.n_outputs, 1)
            if node.pre_hooks:
                for nr, hooks in node.pre_hooks.items():
                    for hook in list(hooks):
                        if grads[nr] is not None:
                            out = hook(grads[nr])
                            if out is not None:
                                grads[nr] = out
            if capture is not None:
                for nr in range(len(grads)):
                    if (node, nr) in capture and grads[nr] is not None:
                        captured[(node, nr)] = grads[nr]
                if node not in needed or isinstance(node, AccumulateGrad):
                    _release_edges(node, deps, heap)
                    continue
            if isinstance(node, AccumulateGrad):
                g, grads, control = grads[0], None, _Control()   # (the engine's list no longer holds g)
                _accumulate_into_leaf(node.variable, g, create_graph, control)
                continue
            if needed is not None and node not in needed:
                _release_edges(node, deps, heap)
                continue
            if node._released:
                node.saved_tensors  # raises the "backward through the graph a second time" error
            try:
                in_grads = node.backward_fn(node, *grads)
                if not isinstance(in_grads, tuple):
                    in_grads = (in_grads,)
                if node.post_hooks:
                    for hook in node.post_hooks:
                        out = hook(in_grads, tuple(grads))
                        if out is not None:
                            in_grads = tuple(out)
                if ANOMALY_MODE[0] and ANOMALY_MODE[1]:
                    _check_nan(node, in_grads)
            except Exception:
                if node.forward_stack is not None:
                    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the "
                                  f"error:\n{node.forward_stack}", stacklevel=2)
                raise
            if not retain_graph:
                node.release()
            for edge, g, meta in zip(node.edges, in_grads, node.input_meta):
                if edge is None:
                    continue
                nxt, nr = edge
                if g is not None:
                    _accumulate(buffers, nxt, nr, _fit_grad(g, meta))
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    heapq.heappush(heap, (-nxt.seq, id(nxt), nxt))
            in_grads = g = None   # the buffers hold the gradients now: a leaf's may be handed on uncopied
    finally:
        GRAD_ENABLED[0] = prev_mode
    return captured


def _check_nan(node, grads):
    """Anomaly mode's check of a node's outputs (PyTorch's message, ordinals included)."""
    for i, g in enumerate(grads):
        if g is not None and (g._dtype.is_floating_point or g._dtype.is_complex) and bool(g.isnan().any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def _release_edges(node, deps, heap):
    for edge in node.edges:
        if edge is not None:
            nxt = edge[0]
            deps[nxt] -= 1
            if deps[nxt] == 0:
                heapq.heappush(heap, (-nxt.seq, id(nxt), nxt))


class _Control:
    """A fresh object the engine passes beside a leaf's gradient exactly as it passes the gradient: what
    sys.getrefcount reads for an object nobody else holds, on this interpreter (3.14 borrows references that 3.11
    counts), so the comparison needs no per-version constant."""
    __slots__ = ()


def _accumulate_into_leaf(t, g, create_graph, control=None):
    if g is None:
        return
    replaced = False
    for hook in t._hooks or ():
        out = hook(g)
        if out is not None:
            g, replaced = out, True
    if t._grad is None:
        if not create_graph and not replaced and control is not None and _steals(t, g, control):
            # PyTorch's AccumulateGrad: a gradient no one else can see becomes .grad as it is, without a copy
            t._grad = g.detach()
        elif not create_graph:
            # The incoming gradient may be shared (another edge, a user's tensor): own a copy, laid out as t is
            # where t is dense (PyTorch's clone_obey_contract), else contiguous
            t._grad = _copy_obeying_layout(t, g.detach())
        else:
            t._grad = g + 0
        if not create_graph:
            t._grad._requires_grad = False
    else:
        if not create_graph:
            g = g.detach()
        if create_graph or (t._grad._sparse is not None and g._sparse is None):
            t._grad = _sum_grads(t._grad, g)   # (a dense gradient into a sparse .grad makes it dense, as in PyTorch)
        else:
            t._grad.add_(g)
    for hook in t._post_acc_hooks or ():
        hook(t)


def _steals(t, g, control):
    """Whether leaf t may take gradient g as its .grad (PyTorch's AccumulateGrad steal): only the engine holds g (as
    many references as `control`, passed beside it) and no other tensor shares its storage (no other view, no
    detached alias: the storage's references are g's own, its base's, and getrefcount's), g covers its storage
    exactly, and it is laid out as t is (PyTorch's layout contract: t's strides where t is dense and non-overlapping,
    else contiguous)."""
    if g._sparse is not None or t._sparse is not None or g._dtype is not t._dtype:
        return False
    if sys.getrefcount(g) != sys.getrefcount(control):
        return False
    if "_base" in g.__dict__:   # a view (a weight's gradient often is one): its base held by it alone, and no other
        if sys.getrefcount(g.__dict__["_base"]) != 2 or sys.getrefcount(g._storage) != 3:
            return False
    elif sys.getrefcount(g._storage) != 2:
        return False
    st = g._storage   # (a meta tensor's storage has no alias fields)
    if getattr(st, "owner", None) is not None or getattr(st, "aliased", False):
        return False
    if g._offset or st.nbytes != g.numel() * g._dtype.itemsize:
        return False
    if is_dense(t):
        return all(a == b for a, b, n in zip(g._stride, t._stride, t._shape) if n > 1)
    return g.is_contiguous()


def _copy_obeying_layout(t, g):
    if t._stride != g._stride and g._sparse is None and t._sparse is None and is_dense(t):
        return _empty_strided(t._shape, t._stride, g._dtype, g.device).copy_(g)
    return g.clone(memory_format=None)


def _make_roots(tensors, grad_tensors):
    roots = []
    for t, g in zip(tensors, grad_tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected a Tensor, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not t._dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got {t._dtype}")
            g = torch_ops.ones_like(t)
        elif not isinstance(g, Tensor):
            g = torch_ops.full_like(t, g)
        elif g._shape != t._shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and output[0] "
                               f"has a shape of {t.shape}.")
        roots.append((*edge_of(t), g))
    return roots


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = _make_roots(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        capture = {edge_of(t): t for t in inputs}
        got = run_backward(roots, retain_graph, create_graph, capture=capture)
        for key, t in capture.items():
            if key in got:
                _accumulate_into_leaf(t, got[key], create_graph)
        return
    run_backward(roots, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    outputs = _as_tuple(outputs)
    single = not isinstance(inputs, (tuple, list))
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(inputs):
        if not t._requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors does not require grad")
    roots = _make_roots(outputs, grad_outputs)
    keys = [edge_of(t) for t in inputs]
    got = run_backward(roots, retain_graph, create_graph, capture={k: None for k in keys})
    result = []
    for i, (t, key) in enumerate(zip(inputs, keys)):
        g = got.get(key)
        if g is None:
            if materialize_grads:
                g = torch_ops.zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)


def _tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    backward(self, gradient, retain_graph, create_graph, inputs=inputs)


Tensor.backward = _tensor_backward  # (core's Tensor cannot import the engine)
