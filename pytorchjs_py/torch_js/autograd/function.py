"""torch.autograd.Function: user-defined ops with their own forward and backward."""
from .._grad_mode import GRAD_ENABLED
from .._tensor import Tensor
from .._graph import Node


class FunctionCtx:
    def __init__(self):
        self._saved = ()
        self._node = None
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._non_differentiable = set()
        self._dirty = set()

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        node = self._node
        if node is None:
            return tuple(getattr(self, "_to_save", ()))
        return node.saved_tensors

    def mark_non_differentiable(self, *args):
        self._non_differentiable.update(id(a) for a in args)

    def mark_dirty(self, *args):
        self._dirty.update(id(a) for a in args)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _FunctionBackward(Node):
    """The node class of a custom Function's outputs: one per Function subclass, named <Name>Backward and shown as
    PyTorch shows it (<torch.autograd.function.NameBackward object at 0x...>)."""
    __slots__ = ()
    __repr__ = object.__repr__


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

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        tensor_args = [a if isinstance(a, Tensor) else None for a in args]
        ctx.needs_input_grad = tuple(a is not None and a._requires_grad for a in tensor_args)
        prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            GRAD_ENABLED[0] = prev
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if prev and any(ctx.needs_input_grad):
            inputs = [a if a is not None and a._requires_grad else None for a in tensor_args]
            node = cls._backward_cls(cls._backward_cls.__name__, _function_backward, inputs, len(outs))
            node.ctx = ctx
            node.attrs = (cls, len(args))
            ctx._node = node
            saved = getattr(ctx, "_to_save", ())
            node.save([t for t in saved if t is not None])
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
            outs = tuple(new_outs)
        return outs[0] if single else outs


def _function_backward(node, *grads):
    cls, nargs = node.attrs
    ctx = node.ctx
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
    return tuple(r if isinstance(r, Tensor) else None for r in res)


def once_differentiable(fn):
    return fn
