"""torch.autograd.Function: user-defined ops with their own forward and backward."""
from .._grad_mode import GRAD_ENABLED
from .._tensor import Tensor
from .._graph import Node, SavedTensor
from ..ops._registry import torch_ops


class FunctionCtx:
    def __init__(self):
        self._saved = ()
        self._node = None
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._non_differentiable = set()
        self._dirty = set()

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        node = self._node
        to_save = getattr(self, "_to_save", ())
        if node is None:
            return tuple(to_save)
        kept = iter(node.saved_tensors)   # the node keeps the tensors; a saved None comes back in its place
        return tuple(None if t is None else next(kept) for t in to_save)

    def mark_non_differentiable(self, *args):
        self._non_differentiable.update(id(a) for a in args)

    def mark_dirty(self, *args):
        self._dirty.update(id(a) for a in args)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionBackward(Node):
    """The node class of a custom Function's outputs: one per Function subclass, named <Name>Backward and shown as
    PyTorch shows it (<torch.autograd.function.NameBackward object at 0x...>). PyTorch's node is the ctx itself:
    what forward set on ctx reads on grad_fn too (out.grad_fn.some_option)."""
    __slots__ = ()
    __repr__ = object.__repr__

    def __getattr__(self, name):
        ctx = Node.ctx.__get__(self) if name != "ctx" else None
        if ctx is None:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        try:
            return getattr(ctx, name)
        except AttributeError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'") from None


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (_FunctionBackward,),
                                 {"__slots__": (), "__module__": "torch.autograd.function"})


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `apply`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        ctx.needs_input_grad = tuple(a is not None and a._requires_grad for a in tensor_args)
        prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = False
        try:
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:   # the functorch style: forward(*args) without ctx, then setup_context(ctx, inputs, output)
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        finally:
            GRAD_ENABLED[0] = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if prev and any(ctx.needs_input_grad):
            # one edge per Tensor argument, as PyTorch's next_functions: the other arguments have none
            tensor_positions = tuple(i for i, a in enumerate(tensor_args) if a is not None)
            inputs = [tensor_args[i] if tensor_args[i]._requires_grad else None for i in tensor_positions]
            node = cls._backward_cls(cls._backward_cls.__name__, _function_backward, inputs, len(outs))
            node.ctx = ctx
            ctx._node = node
            new_outs = []
            for i, o in enumerate(outs):
                if isinstance(o, Tensor):
                    if any(o is a for a in tensor_args) and id(o) not in ctx._dirty:
                        o = o.view_as(o)  # an input returned as is becomes a view, so it can get history
                    if id(o) not in ctx._non_differentiable and o._dtype.is_floating_point:
                        o._grad_fn = node
                        o._output_nr = i
                        o._requires_grad = True
                new_outs.append(o)
            # what backward gets for an output no gradient reached: zeros of its shape (materialize_grads)
            metas = tuple((o._shape, o._dtype, o._storage.device) if isinstance(o, Tensor) else None
                          for o in new_outs)
            node.attrs = (cls, len(args), metas, tensor_positions)
            # saved outputs are kept as outputs (no reference cycle output -> node -> output), after they know
            # their output_nr
            mine = {id(o): i for i, o in enumerate(new_outs) if isinstance(o, Tensor) and o._grad_fn is node}
            node._saved = tuple(SavedTensor(t, id(t) in mine, mine.get(id(t), 0))
                                for t in getattr(ctx, "_to_save", ()) if t is not None)
            outs = tuple(new_outs)
        return outs[0] if single else outs


def _function_backward(node, *grads):
    cls, nargs, metas, tensor_positions = node.attrs
    ctx = node.ctx
    if ctx.materialize_grads:
        grads = tuple(torch_ops.zeros(m[0], dtype=m[1], device=m[2]) if g is None and m is not None else g
                      for g, m in zip(grads, metas))
    res = cls.backward(ctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    if len(res) < nargs:
        res = res + (None,) * (nargs - len(res))
    if len(res) > nargs:
        if any(r is not None for r in res[nargs:]):
            raise RuntimeError(f"function {cls.__name__}Backward returned an incorrect number of gradients "
                               f"(expected {nargs}, got {len(res)})")
        res = res[:nargs]
    for i, r in enumerate(res):
        if r is not None and i not in tensor_positions:
            raise RuntimeError(f"function {cls.__name__}Backward returned a gradient different than None at position "
                               f"{i + 1}, but the corresponding forward input was not a Variable")
    return tuple(res[i] if isinstance(res[i], Tensor) else None for i in tensor_positions)


def once_differentiable(fn):
    return fn
