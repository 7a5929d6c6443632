"""torch.fx._symbolic_trace: Tracer and symbolic_trace — run a module's forward on Proxies and record the graph.

While a Tracer traces, nn.Module.__call__ and __getattr__ are patched (submodule calls become call_module nodes for
leaf modules; parameters read in forward become get_attr nodes), and so are the public torch_js functions
(torch.*, torch.nn.functional.*, torch.linalg.*, ...): a call given a Proxy records a call_function node of that
function, as PyTorch's __torch_function__ does. Everything is restored when tracing ends, so the normal path pays
nothing. A public function imported by name into a traced forward's module (`from torch import relu`) is patched
there too. Registered ops reached any other way (and Proxies used outside a trace: Transformer, graphs built by
hand) are caught by ops/_api.guard's FX_INTERCEPT, set once a Proxy exists; the normal path pays one global check.
"""
import builtins
import collections
import functools
import importlib
import inspect
import math
import types
import warnings

from .. import _functions
from .._tensor import Tensor
from ..nn import Module, Parameter, Sequential
from ._names import _published_names
from ._wrap import _wrapped_fn_ids, _wrapped_fns_to_patch, wrap
from .graph import Graph
from .graph_module import GraphModule
from .node import has_side_effect, map_aggregate
from .proxy import ParameterProxy, Proxy, TracerBase, TraceError, _enable_op_interception, _has_proxy, record_call

# generated code names wrap by PyTorch's home for it (torch.fx._symbolic_trace.wrap)
wrap.__module__ = __name__
__all__ = ["Tracer", "symbolic_trace", "wrap", "PH", "PHBase", "TraceError"]

_PUBLIC_MODULES = ("torch_js", "torch_js.nn.functional", "torch_js.linalg", "torch_js.special", "torch_js.fft")
# public names that take no tensors to record (queries and switches PyTorch does not dispatch)
_NOT_TRACED = frozenset(("is_tensor", "is_storage", "typename", "compile", "is_grad_enabled", "set_grad_enabled",
                         "get_default_dtype", "set_default_dtype", "manual_seed", "seed", "initial_seed"))
# torch.nn.functional functions PyTorch writes in Python without dispatching: traced through (F.sigmoid(x) records
# x.sigmoid())
_TRACED_THROUGH_F = frozenset(("sigmoid", "tanh", "upsample", "upsample_bilinear", "upsample_nearest"))


class PHBase:
    """A placeholder value for concrete_args: the argument stays an input of the traced graph."""

    def __repr__(self):
        return "PH"


PH = PHBase()


def _assert(condition, message):
    """torch._assert: `assert condition, message`, recorded as a node when condition is a Proxy."""
    if isinstance(condition, Proxy):
        return condition.tracer.create_proxy("call_function", _assert, (condition, message), {})
    assert condition, message


def _assert_is_none(value, msg):
    assert value is None, msg


has_side_effect(_assert)
has_side_effect(_assert_is_none)


_traceable_cache = {}


def _traceable(fn, *, wrapped=False):
    """fn, recording a call_function node instead of running when given a Proxy (the patch installed in traces)."""
    key = (id(fn), wrapped)
    hit = _traceable_cache.get(key)
    if hit is not None and hit[0] is fn:
        return hit[1]

    @functools.wraps(fn)
    def traced(*args, **kwargs):
        if _has_proxy(args, kwargs):
            proxy = record_call(fn, args, kwargs)
            if wrapped:
                proxy.node.meta["is_wrapped"] = True
            return proxy
        return fn(*args, **kwargs)
    traced.__fx_original__ = fn
    _traceable_cache[key] = (fn, traced)
    return traced


def _public_functions():
    """(module globals, name, function) for each public torch_js function a trace records."""
    ignored = {id(getattr(_functions, n)) for n in _functions.__all__ if hasattr(_functions, n)}
    out = []
    for module_name in _PUBLIC_MODULES:
        g = vars(importlib.import_module(module_name))
        for name, value in list(g.items()):
            if (isinstance(value, types.FunctionType) and not name.startswith("_") and name not in _NOT_TRACED
                    and id(value) not in ignored and (value.__module__ or "").startswith("torch_js")
                    and not (module_name == "torch_js.nn.functional" and name in _TRACED_THROUGH_F)):
                out.append((g, name, value))
    return out


class _Patcher:
    """Set dict entries / class attributes for the duration of a trace; restore them after."""

    def __init__(self):
        self._undo = []

    def patch(self, frame_dict, name, new_fn):
        if name in frame_dict:
            self._undo.append((frame_dict, name, frame_dict[name], True))
        else:
            self._undo.append((frame_dict, name, None, False))
        frame_dict[name] = new_fn

    def patch_method(self, cls, name, new_fn):
        self._undo.append((cls, name, cls.__dict__.get(name), name in cls.__dict__))
        setattr(cls, name, new_fn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for target, name, old, existed in reversed(self._undo):
            if isinstance(target, dict):
                if existed:
                    target[name] = old
                else:
                    target.pop(name, None)
            elif existed:
                setattr(target, name, old)
            else:
                delattr(target, name)
        self._undo = []


class Tracer(TracerBase):
    """Tracer(autowrap_modules=(math,), autowrap_functions=()): symbolic tracing of a module or function."""

    def __init__(self, autowrap_modules=(math,), autowrap_functions=(), param_shapes_constant=False):
        super().__init__()
        self._autowrap_function_ids = {id(value) for m in autowrap_modules for name, value in vars(m).items()
                                       if not name.startswith("_") and callable(value)}
        self._autowrap_function_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_search = list(autowrap_modules)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths = None
        self.root_module_name = ""
        self.scope = None
        self.module_stack = collections.OrderedDict()
        self.num_calls = {}
        self.node_name_to_scope = {}

    # --- argument lowering ----------------------------------------------------------------------------------
    def create_arg(self, a):
        if isinstance(a, Parameter):
            for n_, p in self.root.named_parameters():
                if a is p:
                    return self.create_node("get_attr", n_, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, Tensor):
            for n_, p in self.root.named_buffers():
                if a is p:
                    return self.create_node("get_attr", n_, (), {})
        elif isinstance(a, Module):
            for n_, p in self.root.named_modules():
                if a is p:
                    return self.create_node("get_attr", n_, (), {})
            raise NameError("module is not installed as a submodule")
        if isinstance(a, Tensor):
            qualname = self.tensor_attrs.get(a)
            if not qualname:
                qualname = self.get_fresh_qualname("_tensor_constant")
                setattr(self.root, qualname, a)
                self.tensor_attrs[a] = qualname
            return self.create_node("get_attr", qualname, (), {})
        return super().create_arg(a)

    def get_fresh_qualname(self, prefix):
        i = 0
        while hasattr(self.root, f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"

    # --- modules --------------------------------------------------------------------------------------------
    def is_leaf_module(self, m, module_qualified_name):
        """torch.nn's own modules (torch_js.nn here) are leaves, Sequential excepted."""
        module = type(m).__module__ or ""
        return (module.startswith("torch_js.nn") or module.startswith("torch.nn")
                or module.startswith("torch.ao.nn")) and not isinstance(m, Sequential)

    def path_of_module(self, mod):
        if self.submodule_paths:
            path = self.submodule_paths.get(mod)
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for n, p in self.root.named_modules():
            if mod is p:
                return n
        raise NameError("module is not installed as a submodule")

    def call_module(self, m, forward, args, kwargs):
        """A leaf module becomes one call_module node; any other is traced through."""
        module_qualified_name = self.path_of_module(m)
        num_calls = self.num_calls.get(module_qualified_name, 0)
        # a module called again gets its own entry: qualname@count
        module_key = f"{module_qualified_name}@{num_calls}" if num_calls > 0 else module_qualified_name
        self.module_stack[module_key] = (module_qualified_name, type(m))
        self.num_calls[module_qualified_name] = num_calls + 1
        try:
            if not self.is_leaf_module(m, module_qualified_name):
                return forward(*args, **kwargs)
            return self.create_proxy("call_module", module_qualified_name, args, kwargs)
        finally:
            self.module_stack.popitem(last=True)

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        """A parameter (or, with proxy_buffer_attributes, a buffer) of the root read in forward: a get_attr proxy."""

        def proxy_for(collection):
            for n, p in collection:
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        factory = (None if not self.param_shapes_constant
                                   else lambda node: ParameterProxy(self, node, n, attr_val))
                        parameter_proxy_cache[n] = self.create_proxy("get_attr", n, (), {},
                                                                     proxy_factory_fn=factory)
                    return parameter_proxy_cache[n]
            return None
        if isinstance(attr_val, Parameter):
            found = proxy_for(self.root.named_parameters())
            if found is not None:
                return found
        if self.proxy_buffer_attributes and isinstance(attr_val, Tensor):
            found = proxy_for(self.root.named_buffers())
            if found is not None:
                return found
        return attr_val

    # --- the root's inputs ----------------------------------------------------------------------------------
    def create_args_for_root(self, root_fn, is_module, concrete_args=None):
        """(function to call, its Proxy/concrete arguments): one placeholder per parameter, in the code's order
        (positional, keyword-only, *args, **kwargs: the last two become plain parameters, as PyTorch does)."""
        fn_for_analysis = inspect.unwrap(root_fn)
        co = fn_for_analysis.__code__
        sig = inspect.signature(fn_for_analysis)
        has_var = co.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)
        total = co.co_argcount + co.co_kwonlyargcount + bool(co.co_flags & inspect.CO_VARARGS) + bool(
            co.co_flags & inspect.CO_VARKEYWORDS)
        names = list(co.co_varnames[:total])
        skip = 1 if is_module else 0
        if isinstance(concrete_args, tuple):
            if len(concrete_args) != total - skip:
                raise RuntimeError(f"Tracing expected {total - skip} arguments but got {len(concrete_args)} "
                                   "concrete arguments")
            concrete_args = dict(zip(names[skip:], concrete_args))
        concrete_args = concrete_args or {}
        args = []
        for name in names[skip:]:
            param = sig.parameters[name]
            if param.kind is param.VAR_POSITIONAL:
                args.append(self.create_proxy("placeholder", f"*{name}", (), {}))
            elif param.kind is param.VAR_KEYWORD:
                args.append(self.create_proxy("placeholder", f"**{name}", (), {}))
            else:
                args.append(self._proxy_placeholder(param, concrete_args, fn_for_analysis.__annotations__))
        if has_var or co.co_kwonlyargcount:
            new_code = co.replace(co_flags=co.co_flags & ~(inspect.CO_VARARGS | inspect.CO_VARKEYWORDS),
                                  co_argcount=total, co_kwonlyargcount=0, co_posonlyargcount=0)
            root_fn = types.FunctionType(new_code, fn_for_analysis.__globals__, fn_for_analysis.__name__,
                                         None, fn_for_analysis.__closure__)
        if is_module:
            root = root_fn

            def root_fn(*a):
                return root(self.root, *a)
        return root_fn, args

    def _proxy_placeholder(self, param, concrete_args, annotations=None):
        name = param.name
        default = () if param.default is inspect.Parameter.empty else (param.default,)
        if name in concrete_args:
            cnt = 0

            def replace_ph(x):
                nonlocal cnt
                cnt += 1
                out = self.create_proxy("placeholder", f"{name}_{cnt}", default, {})
                if isinstance(x, PHBase):
                    return out
                if type(x) is bool or type(x) in (str, int, float, complex):
                    _assert(out == x, f"{name} has been specialized to have value {x} but got another value")
                elif x is None:
                    self.create_proxy("call_function", _assert_is_none,
                                      (out, f"{name} has been specialized to have value None but got another "
                                            "value"), {})
                else:
                    warnings.warn(f"Was not able to add assertion to guarantee correct input {name} to specialized "
                                  "function. It is up to the user to make sure that your inputs match the inputs "
                                  "you specialized the function with.")
                return x
            return map_aggregate(concrete_args[name], replace_ph)
        return self.create_proxy("placeholder", name, default, {},
                                 type_expr=(annotations or {}).get(name, None))

    # --- tracing --------------------------------------------------------------------------------------------
    def trace(self, root, concrete_args=None):
        """The Graph of root's forward (or of root, a function), run on Proxies."""
        _published_names()   # before any function is patched: names are the originals'
        _enable_op_interception()
        if isinstance(root, Module):
            self.root = root
            fn = type(root).forward
            self.root_module_name = type(root).__name__
        else:
            self.root = Module()
            fn = root
        self.graph = Graph(tracer_cls=getattr(self, "__class__", None))
        self.tensor_attrs = {}
        self.module_stack = collections.OrderedDict()
        self.num_calls = {}

        def collect_tensor_attrs(m, prefix):
            for k, v in m.__dict__.items():
                if isinstance(v, Tensor):
                    self.tensor_attrs[v] = ".".join(prefix + [k])
            for k, v in m.named_children():
                collect_tensor_attrs(v, prefix + [k])
        collect_tensor_attrs(self.root, [])

        fn_globals = fn.__globals__
        return_annotation = getattr(fn, "__annotations__", {}).get("return", None)
        fn, args = self.create_args_for_root(fn, isinstance(root, Module), concrete_args)
        parameter_proxy_cache = {}
        tracer = self
        orig_getattr = Module.__getattr__
        orig_call = Module.__call__

        def module_getattr_wrapper(mod, attr):
            attr_val = orig_getattr(mod, attr)
            return tracer.getattr(attr, attr_val, parameter_proxy_cache)

        def module_call_wrapper(mod, *args, **kwargs):
            def forward(*args, **kwargs):
                return orig_call(mod, *args, **kwargs)
            fwd = getattr(mod, "forward", None)
            self._autowrap_check(patcher, getattr(fwd, "__globals__", {}))
            return tracer.call_module(mod, forward, args, kwargs)

        self.submodule_paths = {mod: name for name, mod in self.root.named_modules()}
        with _Patcher() as patcher:
            patcher.patch_method(Module, "__getattr__", module_getattr_wrapper)
            patcher.patch_method(Module, "__call__", module_call_wrapper)
            for g, name, value in _public_functions():
                patcher.patch(g, name, _traceable(value))
            for (globals_id, name), (g, _) in _wrapped_fns_to_patch.items():
                if name in g:
                    patcher.patch(g, name, _traceable(g[name], wrapped=True))
                elif getattr(builtins, name, None) is not None:
                    patcher.patch(g, name, _traceable(getattr(builtins, name), wrapped=True))
            self._autowrap_check(patcher, fn_globals)
            result = fn(*args)
            self.create_node("output", "output", (self.create_arg(result),), {},
                             type_expr=return_annotation)
        self.submodule_paths = None
        return self.graph

    def _autowrap_check(self, patcher, frame_dict):
        """Patch the names in frame_dict bound to autowrap functions (math.*, wrap()ped functions)."""
        if not frame_dict:
            return
        for name, value in list(frame_dict.items()):
            if name.startswith("_") or not callable(value) or getattr(value, "__fx_original__", None) is not None:
                continue
            if id(value) in self._autowrap_function_ids or id(value) in _wrapped_fn_ids:
                patcher.patch(frame_dict, name, _traceable(value, wrapped=id(value) in _wrapped_fn_ids))
            elif getattr(value, "__module__", None) in _PUBLIC_MODULES or (
                    getattr(value, "__module__", "") or "").startswith("torch_js"):
                # a public torch_js function imported by name (from torch import relu)
                if id(value) in _published_names() and not isinstance(value, type) and \
                        isinstance(value, types.FunctionType) and name not in _NOT_TRACED:
                    patcher.patch(frame_dict, name, _traceable(value))


def symbolic_trace(root, concrete_args=None):
    """GraphModule(root, Tracer().trace(root, concrete_args)), named after root's class (or function)."""
    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)



