"""Plumbing shared by torch_js.special's functions: argument checks, result dtypes, out=, and elementwise functions
whose values come from a float64 computation while their gradients follow PyTorch's derivative formulas."""
from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ..ops import inplace as _ip
from ..ops._registry import REGISTRY
from ..ops.special_math import broadcast  # noqa: F401  (torch.broadcast_tensors, for special and distributions)


class OpsApi:
    """Late-bound access to the public ops of one namespace (`T.where(...)`, argument checks included): resolved at
    call time, so these modules can import before everything is declared."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name):
        op = REGISTRY.get((self._namespace, name))
        if op is None:
            raise AttributeError(f"no op '{name}' is declared in the {self._namespace} namespace")
        setattr(self, name, op.api)
        return op.api


T = OpsApi("torch")
F = OpsApi("nn.functional")
LA = OpsApi("linalg")

F64 = D.float64


def tensor_arg(op, x, pos=1, name="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def result_dtype(*args):
    """The dtype PyTorch's float ops give: the promoted dtype of the arguments, the default float for ints and
    bools."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    scalars = [a for a in args if not isinstance(a, Tensor)]
    dims = [t.dtype for t in tensors if t.dim()]
    zero_dims = [t.dtype for t in tensors if not t.dim()]
    d = D.result_type_of(dims, zero_dims, scalars) if tensors else D.result_type_of([], [], scalars)
    return d if d.is_floating_point else D.get_default_dtype()


def as_f64(x, like=None):
    """x (a Tensor or a number) as a float64 tensor, on like's device for numbers."""
    if isinstance(x, Tensor):
        return x.detach().to(F64)
    dev = like.device if isinstance(like, Tensor) else None
    return T.tensor(float(x), dtype=F64, device=dev)


def finish(r, out):
    return _ip.write_out(out, r) if out is not None else r


def where(cond, a, b):
    return T.where(cond, a, b)


class Elementwise(Function):
    """y = spec.value(*args) with dy/dargs from spec.grads(ctx, grad, *args): PyTorch's derivative formulas,
    themselves differentiable, so higher derivatives work."""

    @staticmethod
    def forward(ctx, spec, *args):
        ctx.spec = spec
        ctx.args = args
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return spec.value(*args)

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(ctx.spec.grads(ctx, grad, *ctx.args))


class Spec:
    """One elementwise function: value(*args) computes it (no autograd), grads(ctx, g, *args) gives one gradient
    (or None) per argument."""

    def __init__(self, value, grads):
        self.value = value
        self.grads = grads


def apply(spec, *args):
    return Elementwise.apply(spec, *args)


def float64_value(fn):
    """A value function that computes fn on float64 copies of its tensor arguments and rounds to the result
    dtype."""
    def value(*args):
        dtype = result_dtype(*args)
        r = fn(*[as_f64(a) if isinstance(a, Tensor) else a for a in args])
        return r.to(dtype)
    return value


def not_implemented_grad(what):
    raise NotImplementedError(f"the derivative for '{what}' is not implemented.")
