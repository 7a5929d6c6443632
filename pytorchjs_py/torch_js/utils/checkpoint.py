"""torch.utils.checkpoint: activation checkpointing. A checkpointed function keeps only its inputs through the
forward pass; backward runs it again, with the CPU generator put back where the forward found it (so dropout draws
the same masks), and differentiates that recomputation.

use_reentrant=True is PyTorch's CheckpointFunction: an autograd.Function whose forward runs under no_grad and whose
backward calls backward() on the recomputation; gradients reach parameters the function closes over by
accumulation, and an output requires grad only if an input does.

use_reentrant=False: the forward runs with grad mode on; its graph is walked from the outputs down to the tensors
that came from outside (inputs, parameters, any captured tensor), and one node with exactly those edges replaces
the whole segment, so the segment's activations are freed at once. Its backward recomputes the segment and runs
the engine on it, capturing the gradients at those edges (which it holds inert meanwhile, so the outer graph is
neither run nor freed twice). torch.autograd.grad, keyword arguments, nested outputs and double backward work as
in PyTorch; the outputs' grad_fn is that node (CheckpointBackward), not the segment's last op.
"""
import contextlib
import warnings

from .. import _graph
from .._grad_mode import GRAD_ENABLED, enable_grad, is_grad_enabled, no_grad
from .._graph import AccumulateGrad, node_class
from .._tensor import Tensor
from ..autograd.engine import backward as _backward, run_backward
from ..autograd.function import Function
from ..ops._registry import torch_ops
from ..ops.random import default_generator
from ._pytree import tree_flatten, tree_unflatten

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "check_backward_validity",
           "detach_variable", "noop_context_fn"]

class CheckpointError(RuntimeError):
    pass


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x.detach()
            d.requires_grad = x.requires_grad
            x = d
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(x.requires_grad for x in inputs if isinstance(x, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=3)


class _forked_rng:
    """Run a block with the CPU generator set to `state`, then put back the state it had (torch.random.fork_rng)."""

    def __init__(self, state):
        self._state = state

    def __enter__(self):
        if self._state is not None:
            self._outer = default_generator.get_state()
            default_generator.set_state(self._state)
        return self

    def __exit__(self, *exc):
        if self._state is not None:
            default_generator.set_state(self._outer)
        return False


# ---- use_reentrant=True ------------------------------------------------------------------------------------------
class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.fwd_cpu_state = default_generator.get_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _forked_rng(ctx.fwd_cpu_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        with_grad = [(o, g if g is not None else torch_ops.zeros_like(o)) for o, g in zip(outputs, grads)
                     if isinstance(o, Tensor) and o.requires_grad]
        if not with_grad:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward([o for o, _ in with_grad], [g for _, g in with_grad])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


# ---- use_reentrant=False -----------------------------------------------------------------------------------------
def _boundary(roots, start):
    """The edges by which the graph above the roots (nodes numbered from `start` on) leaves it: edge -> input meta."""
    found = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        node = stack.pop()
        for edge, meta in zip(node.edges, node.input_meta):
            if edge is None:
                continue
            nxt = edge[0]
            if isinstance(nxt, AccumulateGrad) or nxt.seq < start:
                found.setdefault(edge, meta)
            elif nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return found


def _segment_outputs(out, start):
    """(flat outputs, spec, positions of the tensors the segment computed with history)."""
    flat, spec = tree_flatten(out)
    inside = [k for k, o in enumerate(flat)
              if isinstance(o, Tensor) and o.grad_fn is not None and o.grad_fn.seq >= start]
    return flat, spec, inside


def _meta(t):
    return {"shape": t.shape, "dtype": t.dtype, "device": t.device}


class _Segment:
    """What the checkpoint node keeps to recompute its function."""
    __slots__ = ("function", "args", "kwargs", "rng_state", "context_fn", "recompute_ctx", "metas", "check")


def _inert(node, *grads):
    return ()


class _Frozen:
    """The boundary nodes held inert while the recomputation's engine run captures gradients at them: no hooks, no
    backward, no edges on into the outer graph. The outer backward runs them afterwards, as usual."""

    def __init__(self, nodes):
        self._nodes = nodes

    def __enter__(self):
        self._saved = [(n, n.pre_hooks, n.post_hooks, n.backward_fn, n.edges) for n in self._nodes]
        for n in self._nodes:
            n.pre_hooks = n.post_hooks = None
            if not isinstance(n, AccumulateGrad):
                n.backward_fn, n.edges = _inert, ()
        return self

    def __exit__(self, *exc):
        for n, pre, post, fn, nxt in self._saved:
            n.pre_hooks, n.post_hooks, n.backward_fn, n.edges = pre, post, fn, nxt
        return False


def _check_recomputed(seg, recomputed):
    if not seg.check:
        return
    if len(recomputed) != len(seg.metas):
        raise CheckpointError("torch.utils.checkpoint: A different number of output tensors was computed during the "
                              f"original forward and recomputation.\nNumber of tensors during forward: "
                              f"{len(seg.metas)}\nNumber of tensors during recomputation: {len(recomputed)}.\n")
    different = [(i, m, _meta(t)) for i, (m, t) in enumerate(zip(seg.metas, recomputed)) if m != _meta(t)]
    if different:
        listing = "".join(f"tensor at position {i}:\nsaved metadata: {m}\nrecomputed metadata: {r}\n"
                          for i, m, r in different)
        raise CheckpointError("torch.utils.checkpoint: Recomputed values for the following tensors have different "
                              f"metadata than during the forward pass.\n{listing}.\n")


def _checkpoint_backward(node, *grads):
    seg = node.attrs
    if all(g is None for g in grads):
        return (None,) * len(node.edges)
    create_graph = GRAD_ENABLED[0]
    recompute_ctx = seg.recompute_ctx or seg.context_fn()[1]   # a context manager object is entered once
    seg.recompute_ctx = None
    start = next(_graph._seq_counter)
    with _forked_rng(seg.rng_state), enable_grad(), recompute_ctx:
        out = seg.function(*seg.args, **seg.kwargs)
    flat, _, inside = _segment_outputs(out, start)
    recomputed = [flat[k] for k in inside]
    _check_recomputed(seg, recomputed)
    edges = node.edges
    stray = set(_boundary([t.grad_fn for t in recomputed], start)) - set(edges)
    if stray:
        raise CheckpointError("torch.utils.checkpoint: the recomputation used tensors from outside the checkpointed "
                              "function that the original forward did not use; the function must be deterministic.")
    roots = [(t.grad_fn, t.output_nr, g) for t, g in zip(recomputed, grads) if g is not None]
    with _Frozen(list(dict.fromkeys(e[0] for e in edges))):
        got = run_backward(roots, True, create_graph, capture={e: None for e in edges})
    return tuple(got.get(e) for e in edges)


def _checkpoint_without_reentrant(function, preserve_rng_state, context_fn, determinism_check, args, kwargs):
    if determinism_check not in ("default", "none"):
        raise ValueError(f"determinism_check should be one of ['default', 'none'], but got {determinism_check}")
    forward_ctx, recompute_ctx = context_fn()
    if not is_grad_enabled():
        with forward_ctx:
            return function(*args, **kwargs)
    rng_state = default_generator.get_state() if preserve_rng_state else None
    start = next(_graph._seq_counter)
    with forward_ctx:
        out = function(*args, **kwargs)
    flat, spec, inside = _segment_outputs(out, start)
    if not inside:
        return out
    computed = [flat[k] for k in inside]
    boundary = _boundary([t.grad_fn for t in computed], start)
    seg = _Segment()
    seg.function, seg.args, seg.kwargs, seg.rng_state = function, args, kwargs, rng_state
    seg.context_fn, seg.recompute_ctx = context_fn, recompute_ctx
    seg.metas = [_meta(t) for t in computed]
    seg.check = determinism_check == "default"
    node = node_class("CheckpointBackward")("CheckpointBackward", _checkpoint_backward, (), len(computed))
    node.edges = tuple(boundary)
    node.input_meta = tuple(boundary.values())
    node.attrs = seg
    new_flat = list(flat)
    for nr, k in enumerate(inside):   # the segment's graph goes with the old outputs
        alias = flat[k]._alias_without_history()
        alias._grad_fn, alias._output_nr, alias._requires_grad = node, nr, True
        new_flat[k] = alias
    return tree_unflatten(new_flat, spec)


# ---- the API -----------------------------------------------------------------------------------------------------
def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """function(*args, **kwargs), keeping none of its activations for backward: backward recomputes them."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                      "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
                      "two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(function, preserve, context_fn, determinism_check, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run `functions` (an nn.Sequential or a list of callables) in order on input, checkpointing all but the last
    of `segments` equal chunks."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between the "
                      "two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    if not isinstance(functions, (list, tuple)) and hasattr(functions, "children"):   # an nn.Sequential
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)
