"""The op registry: every op is declared once and reaches the API, autograd and the tests from here.

An OpDef names the op, how it computes (a backend primitive, or a decomposition into other ops), its derivative
(for primitives), the PyTorch OpInfo entries whose sample inputs test it, and where it appears: as a
`torch_js.<name>` function, a `Tensor.<name>` method, an in-place `Tensor.<name>_`.
"""
from .._tensor import Tensor

REGISTRY = {}


class OpDef:
    __slots__ = ("name", "fn", "kind", "primitive", "has_derivative", "opinfo", "function", "method", "inplace",
                 "namespace")

    def __init__(self, name, fn, kind, primitive, has_derivative, opinfo, function, method, inplace, namespace):
        self.name = name
        self.fn = fn
        self.kind = kind                    # family: unary, binary, reduction, view, linalg, index, ...
        self.primitive = primitive          # backend primitive it calls, or None for a decomposition
        self.has_derivative = has_derivative
        self.opinfo = opinfo                # OpInfo names in PyTorch's op_db that test it
        self.function = function
        self.method = method
        self.inplace = inplace
        self.namespace = namespace          # "torch", "nn.functional", "linalg", "special"

    def __repr__(self):
        return f"OpDef({self.name!r}, kind={self.kind!r})"


def register(name, fn, kind, *, primitive=None, derivative=True, opinfo=None, function=True, method=True,
             inplace=None, namespace="torch", aliases=()):
    """Declare an op. `inplace` is the in-place variant's callable (becomes Tensor.<name>_)."""
    op = OpDef(name, fn, kind, primitive, derivative, tuple(opinfo) if opinfo is not None else (name,),
               function, method, inplace, namespace)
    REGISTRY[(namespace, name)] = op
    if method:
        setattr(Tensor, name, fn)
        for alias in aliases:
            setattr(Tensor, alias, fn)
    if inplace is not None:
        setattr(Tensor, name + "_", inplace)
        for alias in aliases:
            setattr(Tensor, alias + "_", inplace)
    for alias in aliases:
        REGISTRY[(namespace, alias)] = OpDef(alias, fn, kind, primitive, derivative, (), function, method,
                                             inplace, namespace)
    return fn


def ops_in(namespace):
    return {name: op for (ns, name), op in REGISTRY.items() if ns == namespace and op.function}


class Namespace:
    """Late-bound access to declared ops: `torch_ops.nonzero(x)` finds the op in the registry at call time, so a
    module can call an op that a module above it declares without importing that module."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name):
        op = REGISTRY.get((self._namespace, name))
        if op is None:
            raise AttributeError(f"no op '{name}' is declared in the {self._namespace} namespace")
        setattr(self, name, op.fn)   # the next lookup is a plain attribute read
        return op.fn


torch_ops = Namespace("torch")
nn_ops = Namespace("nn.functional")
linalg_ops = Namespace("linalg")
