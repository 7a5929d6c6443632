"""How torch.func's gradient transforms live on torch_js's single autograd tape.

PyTorch's functorch wraps tensors per transform level; torch_js has one tape, so a transform call is a region of it:

* an input that nothing outside differentiates becomes a fresh leaf of this level; an input that something outside
  differentiates (the user's autograd, an enclosing transform) becomes a view of itself, so gradients still flow
  through it to the outside;
* a result is handed back detached when its history reaches only this level's own leaves, and with its history when
  it reaches a tensor from outside (a tracked input, a closed-over parameter): exactly the results that carry
  PyTorch's outer-level autograd history keep theirs here.

The graph is append-only (a node's edges never change once made), so what a node reaches is memoized per level.
"""
from .. import _graph
from .._grad_mode import is_grad_enabled
from .._graph import AccumulateGrad
from .._tensor import Tensor


class GradLevel:
    def __init__(self):
        self.start = next(_graph._seq_counter)   # nodes numbered below this existed before the transform ran
        self.grad_enabled = is_grad_enabled()    # under an outer no_grad nothing is handed back with history
        self._own = {}                           # id -> leaf made by this level (held, so the ids stay unique)
        self._reach = {}                         # node -> whether its history leaves this level

    def own(self, leaf):
        """Count `leaf` (a tensor made by the transform, like a dummy cotangent) as this level's own."""
        self._own[id(leaf)] = leaf
        return leaf

    def differentiable(self, x):
        """The tensor the transformed function sees in place of input x."""
        if not isinstance(x, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {_torch_type(x)}")
        if x.requires_grad and self.grad_enabled:
            return x.view_as(x)
        return self.own(x.detach().requires_grad_())

    def reaches_outside(self, t):
        if not isinstance(t, Tensor) or not t.requires_grad:
            return False
        if t.grad_fn is None:
            return id(t) not in self._own
        return self._node_reaches_outside(t.grad_fn)

    def _node_reaches_outside(self, root):
        reach = self._reach
        stack = [(root, False)]
        while stack:   # iterative post-order: deep graphs must not hit the recursion limit
            node, expanded = stack.pop()
            if node in reach:
                continue
            if isinstance(node, AccumulateGrad):
                reach[node] = id(node.variable) not in self._own
            elif node.seq < self.start:
                reach[node] = True
            elif not expanded:
                stack.append((node, True))
                stack.extend((e[0], False) for e in node.edges if e is not None and e[0] not in reach)
            else:
                reach[node] = any(e is not None and reach[e[0]] for e in node.edges)
        return reach[root]

    def unwrap(self, t):
        """A result as the caller gets it: detached unless its history leads outside this level."""
        if isinstance(t, Tensor) and t.requires_grad and not (self.grad_enabled and self.reaches_outside(t)):
            return t.detach()
        return t


def _torch_type(x):
    """type(x) as PyTorch prints it in messages (torch_js's Tensor reads as torch.Tensor)."""
    if isinstance(x, Tensor):
        return "<class 'torch.Tensor'>"
    return str(type(x))
