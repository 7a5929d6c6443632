"""torch.fx.proxy: Proxy, the stand-in value symbolic tracing passes through a program, recording each operation
on it as a Node (operators -> call_function operator.*, attribute reads -> getattr, method calls -> call_method,
torch functions -> call_function of the function)."""
import bisect
import copy
import dis
import enum
import inspect
import operator

from ._names import qualified_name
from .graph import magic_methods, reflectable_magic_methods
from .._dtype import dtype
from .._memory_format import memory_format
from .._storage import device
from .._tensor import Tensor, layout
from ..ops import _api
from .node import Node, map_aggregate

__all__ = ["TracerBase", "GraphAppendingTracer", "TraceError", "Proxy", "Attribute", "ParameterProxy"]

_base_types = (str, int, float, bool, complex, type(None), type(...))


class TraceError(ValueError):
    pass


class TracerBase:
    """What a Proxy needs from its tracer: node creation, argument lowering and the control-flow refusals."""
    graph = None
    record_stack_traces = False
    check_mutable_operations = False
    trace_asserts = False
    proxy_buffer_attributes = False
    traced_func_name = "forward"
    scope = None
    module_stack = None
    node_name_to_scope = None

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = self.graph.create_node(kind, target, args, kwargs, name, type_expr)
        if self.module_stack:
            # the modules (qualified name -> (path, type)) whose forward this node was recorded in
            node.meta["nn_module_stack"] = copy.copy(self.module_stack)
        return node

    def proxy(self, node):
        return Proxy(node, self)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        """Lower args/kwargs to graph arguments, create the node, and wrap it in a Proxy."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        if not isinstance(args_, tuple) or not isinstance(kwargs_, dict):
            raise AssertionError("create_proxy: args must lower to a tuple and kwargs to a dict")
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a):
        """The graph argument for a value met during tracing (Proxies become their Nodes)."""
        if isinstance(a, Proxy):
            return a.node
        if hasattr(a, "__fx_create_arg__"):
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple):
            if hasattr(a, "_fields"):
                return type(a)(*[self.create_arg(e) for e in a])
            return tuple(self.create_arg(e) for e in a)
        if isinstance(a, list):
            return [self.create_arg(e) for e in a]
        if isinstance(a, dict):
            out = {}
            for k, v in a.items():
                k = self.create_arg(k)
                if isinstance(k, Node):
                    raise RuntimeError(f"Keys for dictionaries used as an argument cannot contain a Node. Got key: {k}")
                out[k] = self.create_arg(v)
            return out
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, Node):
            return a
        if isinstance(a, _base_types + (enum.Enum, dtype)) or a is None:
            return a
        if isinstance(a, (device, layout, memory_format)):
            return a
        if callable(a) and not isinstance(a, Tensor):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj):
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj):
        raise TraceError("Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop "
                         "or as a *args or **kwargs function argument. See the torch.fx docs on pytorch.org for a "
                         "more detailed explanation of what types of control flow can be traced, and check out the "
                         "Proxy docstring for help troubleshooting Proxy iteration errors")

    def keys(self, obj):
        return Attribute(obj, "keys")()

    def path_of_module(self, mod):
        raise NotImplementedError


class GraphAppendingTracer(TracerBase):
    """A tracer that appends to an existing graph (building graphs from Proxies by hand)."""

    def __init__(self, graph):
        super().__init__()
        self.graph = graph
        self.scope = None
        self.module_stack = {}
        self.node_name_to_scope = {}


class Proxy:
    """A traced value: operations on it add Nodes to its tracer's graph and return new Proxies."""

    def __init__(self, node, tracer=None):
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        if _api.FX_INTERCEPT is None:
            _enable_op_interception()   # from now on, registered ops given a Proxy record nodes
        self.tracer = tracer
        self.node = node

    def __repr__(self):
        return f"Proxy({self.node.name})"

    def __getattr__(self, k):
        if k.startswith("__") and k.endswith("__"):
            raise AttributeError(k)   # copy/pickle probing must not record nodes
        return Attribute(self, k)

    def __getstate__(self):
        return self.__dict__

    def __deepcopy__(self, memo):
        new_dict = {k: copy.deepcopy(v, memo) for k, v in self.__dict__.items()}
        new_proxy = Proxy.__new__(Proxy)
        new_proxy.__dict__ = new_dict
        return new_proxy

    def __setstate__(self, d):
        self.__dict__ = d

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", "__call__", (self,) + args, kwargs)

    def __iter__(self):
        # `a, b = proxy` unpacks through indexing; any other iteration is the tracer's error
        frame = inspect.currentframe().f_back
        insts = list(dis.get_instructions(frame.f_code))
        idx = bisect.bisect_left([i.offset for i in insts], frame.f_lasti)
        for inst in insts[idx:idx + 2]:
            if inst.opname == "UNPACK_SEQUENCE":
                return (self[i] for i in range(inst.argval))
        return self.tracer.iter(self)

    def __bool__(self):
        return self.tracer.to_bool(self)

    def __len__(self):
        raise RuntimeError("'len' is not supported in symbolic tracing by default. If you want this call to be "
                           "recorded, please call torch.fx.wrap('len') at module scope")

    def keys(self):
        return self.tracer.keys(self)

    @classmethod
    def __torch_function__(cls, orig_method, types, args=None, kwargs=None):
        """Record a torch function (or Tensor method) called with Proxy arguments."""
        args = args if args else ()
        kwargs = kwargs if kwargs else {}
        tracers = {}

        def find_tracer(a):
            if isinstance(a, cls):
                tracers[a.tracer] = None
        map_aggregate(args, find_tracer)
        map_aggregate(kwargs, find_tracer)
        if len(tracers) > 1:
            raise RuntimeError(f"Found multiple different tracers {list(tracers.keys())} while trying to trace "
                               f"operations {orig_method}")
        tracer = next(iter(tracers))
        name = getattr(orig_method, "__name__", None)
        if name is not None and getattr(Tensor, name, None) is orig_method and name != "__init__":
            return tracer.create_proxy("call_method", name, args, kwargs)
        return tracer.create_proxy("call_function", orig_method, args, kwargs)


class Attribute(Proxy):
    """`proxy.name`: a getattr node, created only when the value is used (a method call records call_method)."""

    def __init__(self, root, attr):
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node = None

    @property
    def node(self):
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args, **kwargs):
        return self.tracer.create_proxy("call_method", self.attr, (self.root,) + args, kwargs)


class ParameterProxy(Proxy):
    """A Proxy for a parameter read during tracing: shape/size/dim answer from the real parameter."""

    def __init__(self, tracer, node, name, param):
        super().__init__(node, tracer)
        self.param = param
        self.name = name

    def __repr__(self):
        return f"ParameterProxy({self.name})"

    @property
    def shape(self):
        return self.param.shape

    def size(self, dim=None):
        return self.param.size() if dim is None else self.param.size(dim)

    def dim(self):
        return self.param.dim()

    @property
    def ndim(self):
        return self.param.ndim

    def numel(self):
        return self.param.numel()

    def nelement(self):
        return self.param.nelement()


def _has_proxy(args, kwargs):
    for a in args:
        if isinstance(a, Proxy):
            return True
        if type(a) in (list, tuple):
            for e in a:
                if isinstance(e, Proxy):
                    return True
    for a in kwargs.values():
        if isinstance(a, Proxy):
            return True
    return False


# torch.nn.functional functions PyTorch writes in Python and dispatches with their required parameters positional
# and every other parameter by keyword, defaults filled in (F.relu(x) records relu(x, inplace=False))
_KEYWORD_FORM = frozenset((
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "affine_grid", "alpha_dropout",
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "celu", "cosine_embedding_loss",
    "cross_entropy", "ctc_loss", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "embedding",
    "embedding_bag", "feature_alpha_dropout", "fold", "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d_with_indices", "gaussian_nll_loss", "glu", "grid_sample", "group_norm", "gumbel_softmax",
    "hardsigmoid", "hardswish", "hardtanh", "hinge_embedding_loss", "huber_loss", "instance_norm", "interpolate",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear_cross_entropy", "local_response_norm", "log_softmax",
    "lp_pool1d", "lp_pool2d", "lp_pool3d", "margin_ranking_loss", "max_pool1d_with_indices",
    "max_pool2d_with_indices", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d", "max_unpool3d", "mish",
    "mse_loss", "multi_head_attention_forward", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "nll_loss", "normalize", "pad", "poisson_nll_loss", "relu", "relu6", "rms_norm",
    "rrelu", "selu", "silu", "smooth_l1_loss", "soft_margin_loss", "softmax", "softmin", "softsign", "tanhshrink",
    "threshold", "triplet_margin_loss", "triplet_margin_with_distance_loss", "unfold",
    # boolean_dispatch: the implementation chosen dispatches the same way
    "max_pool1d", "max_pool2d", "max_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "fractional_max_pool2d", "fractional_max_pool3d"))
_keyword_form_cache = {}


def _keyword_form(fn):
    """The signature to normalise fn's recorded arguments with, or None (recorded as called)."""
    key = id(fn)
    if key not in _keyword_form_cache:
        sig = None
        name = qualified_name(fn)
        if name.startswith("torch.nn.functional.") and name.rpartition(".")[2] in _KEYWORD_FORM:
            sig = inspect.signature(fn)
        _keyword_form_cache[key] = (fn, sig)
    return _keyword_form_cache[key][1]


def record_call(fn, args, kwargs):
    """The Proxy of fn(*args, **kwargs) given Proxies, its arguments laid out as PyTorch records them."""
    sig = _keyword_form(fn)
    if sig is not None:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        args, kwargs = [], {}
        for p in sig.parameters.values():
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                args.append(bound.arguments[p.name])
            else:
                kwargs[p.name] = bound.arguments[p.name]
        args = tuple(args)
    return Proxy.__torch_function__(fn, None, args, kwargs)


def _record_if_proxy(api, args, kwargs):
    """ops/_api.guard's hook: record a registered op called with a Proxy, else NotImplemented (run it)."""
    if not _has_proxy(args, kwargs):
        return NotImplemented
    return record_call(api, args, kwargs)


def _enable_op_interception():
    _api.FX_INTERCEPT = _record_if_proxy


def _define_magic(method):
    target = getattr(operator, method)

    def impl(*args, **kwargs):
        tracer = args[0].tracer
        return tracer.create_proxy("call_function", target, args, kwargs)
    impl.__name__ = f"__{method.strip('_')}__"
    setattr(Proxy, impl.__name__, impl)


# `tensor OP proxy`: the Tensor method PyTorch's __torch_function__ records (call_method on the tensor)
_TENSOR_LHS_METHOD = {"add": "add", "sub": "sub", "mul": "mul", "truediv": "div", "matmul": "matmul", "pow": "pow",
                      "floordiv": "__floordiv__", "mod": "remainder", "and_": "__and__", "or_": "__or__",
                      "xor": "__xor__", "lshift": "__lshift__", "rshift": "__rshift__"}


def _define_reflectable(orig_method_name):
    method_name = f"__r{orig_method_name.strip('_')}__"
    target = getattr(operator, orig_method_name)
    tensor_method = _TENSOR_LHS_METHOD.get(orig_method_name)

    def impl(self, rhs):
        if isinstance(rhs, Tensor) and tensor_method is not None:
            return self.tracer.create_proxy("call_method", tensor_method, (rhs, self), {})
        return self.tracer.create_proxy("call_function", target, (rhs, self), {})
    impl.__name__ = method_name
    setattr(Proxy, method_name, impl)


for _method in magic_methods:
    if hasattr(operator, _method):   # "div" is Python 2's, with no operator function
        _define_magic(_method)
for _method in reflectable_magic_methods:
    if hasattr(operator, _method):
        _define_reflectable(_method)


