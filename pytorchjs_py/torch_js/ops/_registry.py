"""The op registry: every op is declared once and reaches the API, autograd, the docs and the tests from here.

A declaration (`register(name, fn, kind, ...)`, one call per op, beside the op's code) says:
- how the op computes: `primitive` names the backend primitive(s) it calls (members of
  `backends.interface.PRIMITIVES`; "lu/lu_solve" for several), or None for a composite written in other ops,
  which every backend then gets for free;
- its dtype rule (`dtype`, one of DTYPE_RULES);
- its derivative: `formula(...)` — per-input derivative expressions written in other ops, so they differentiate
  again (PyTorch's derivatives.yaml); `backward(fn, ...)` — a named backward function the forward records;
  `NOT_DIFFERENTIABLE`; or nothing for a composite, whose gradient comes from the ops it is written in;
- the PyTorch OpInfo entries whose sample inputs test it, and where it appears: a `torch_js.<name>` function,
  a `Tensor.<name>` method, an in-place `Tensor.<name>_`, in which namespace.
tests/test_structure.py checks the declarations against the backends; tools/gen_ops_doc.py writes docs/ops.md
from them.
"""
from .._tensor import Tensor
from ._api import guard

REGISTRY = {}

# dtype rules: how the result dtype follows from the inputs (ops/elementwise.py and the op's own checks apply them)
DTYPE_RULES = {
    "same": "the input's dtype (integers stay integers)",
    "float": "the input's dtype if floating, else the default float dtype",
    "promote": "PyTorch's type promotion over the tensor and scalar arguments",
    "bool": "bool",
    "compare": "computed in the promoted dtype, bool result",
    "logical": "bool result, inputs of any dtype",
    "integral": "integer and bool inputs only, promoted",
    "index": "int64 (indices, counts)",
    "softmax": "the input's floating dtype (integers raise); `dtype=` casts the input first",
    "target": "the dtype asked for (an argument, or another tensor's dtype)",
    "python": "Python values or a bool, not a tensor",
    "double": "float64, whatever the inputs",
    "counts": "int64 counts, or the weights' dtype (float64 for float weights)",
    "reduction": "the input's dtype; integer sums and products widen to int64; `dtype=` overrides",
    "factory": "`dtype=`, else inferred from the data or the default dtype",
    "linalg": "float32/float64 inputs, same dtype out",
    "any": "every dtype, the input's dtype out (data movement)",
    "complex_parts": "a complex input's part dtype (complex64 -> float32); a real input's own",
    "complex": "the complex dtype with the float inputs' dtype as parts (float32 -> complex64)",
}


class Derivative:
    """How an op's gradient is defined (see the module docstring)."""
    __slots__ = ("kind", "fns")

    FORMULA, BACKWARD, COMPOSITE, NONE = "formula", "backward", "composite", "none"

    def __init__(self, kind, fns=()):
        self.kind = kind
        self.fns = tuple(fns)

    def __repr__(self):
        names = ", ".join(getattr(f, "__name__", repr(f)) for f in self.fns)
        return f"{self.kind}({names})" if names else self.kind


def formula(*grads):
    """Derivative as expressions in other ops: a UnaryOp/BinaryOp's grads, one per differentiable input (or one per
    kernel variant of a unary op, e.g. gelu's two approximations)."""
    return Derivative(Derivative.FORMULA, grads)


def backward(*fns):
    """Derivative as named backward function(s) that the forward records (for each of its code paths)."""
    return Derivative(Derivative.BACKWARD, fns)


NOT_DIFFERENTIABLE = Derivative(Derivative.NONE)
COMPOSITE = Derivative(Derivative.COMPOSITE)


class OpDef:
    __slots__ = ("name", "fn", "api", "kind", "primitive", "dtype", "derivative", "opinfo", "function", "method",
                 "inplace", "namespace")

    def __init__(self, name, fn, kind, primitive, dtype, derivative, opinfo, function, method, inplace, namespace,
                 api=None):
        self.name = name
        self.fn = fn                        # what the package's own code calls
        self.api = api or fn                # what torch_js.<name> / nn.functional.<name> export (ops/_api.py)
        self.kind = kind                    # family: unary, binary, reduction, view, linalg, index, ...
        self.primitive = primitive          # backend primitive(s) it calls, "a/b" for several; None: composite
        self.dtype = dtype                  # a DTYPE_RULES key
        self.derivative = derivative        # a Derivative
        self.opinfo = opinfo                # OpInfo names in PyTorch's op_db that test it
        self.function = function
        self.method = method
        self.inplace = inplace
        self.namespace = namespace          # "torch", "nn.functional", "linalg", "special"

    @property
    def primitives(self):
        return tuple(self.primitive.split("/")) if self.primitive else ()

    @property
    def has_derivative(self):
        return self.derivative.kind != Derivative.NONE

    def __repr__(self):
        return f"OpDef({self.name!r}, kind={self.kind!r})"


def _derivative_of(derivative, primitive):
    if isinstance(derivative, Derivative):
        return derivative
    if derivative is False:
        return NOT_DIFFERENTIABLE
    # True: differentiable; a composite's gradient comes from the ops it is written in. A primitive op that says
    # only True has its backward inside its code (test_structure lists those that still do).
    return COMPOSITE if primitive is None else Derivative(Derivative.BACKWARD)


def register(name, fn, kind, *, primitive=None, dtype=None, derivative=True, opinfo=None, function=True,
             method=True, inplace=None, namespace="torch", aliases=()):
    """Declare an op. `inplace` is the in-place variant's callable (becomes Tensor.<name>_)."""
    if dtype is not None and dtype not in DTYPE_RULES:
        raise ValueError(f"op {name}: unknown dtype rule {dtype!r}")
    deriv = _derivative_of(derivative, primitive)
    shown = name.rpartition(".")[2]
    api = guard(shown, fn, namespace=namespace)
    op = OpDef(name, fn, kind, primitive, dtype, deriv, tuple(opinfo) if opinfo is not None else (name,),
               function, method, inplace, namespace, api)
    REGISTRY[(namespace, name)] = op
    if method:
        as_method = guard(shown, fn, method=True, namespace=namespace)
        for n in (name,) + tuple(aliases):
            setattr(Tensor, n, as_method)
    if inplace is not None:
        inplace_method = guard(shown + "_", inplace, method=True, namespace=namespace)
        for n in (name,) + tuple(aliases):
            setattr(Tensor, n + "_", inplace_method)
    for alias in aliases:
        # its own function object, as PyTorch's torch.arctan is not torch.atan (FX code names the one called)
        REGISTRY[(namespace, alias)] = OpDef(alias, fn, kind, primitive, dtype, deriv, (), function, method,
                                             inplace, namespace, guard(alias, fn, namespace=namespace))
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
