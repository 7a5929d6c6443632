"""torch.fx.graph_module: GraphModule, an nn.Module whose forward is Python generated from its Graph.

The submodules, parameters and buffers the graph's call_module/get_attr nodes name are copied from the root (same
objects), so state_dict keys are the root's for what the graph uses. Each GraphModule gets its own class (named after
the traced module) so recompile() can set `forward` on the class, as PyTorch's does.
"""
import copy
import importlib
import itertools
import linecache
import math

from ..nn import Module, Parameter
from .._tensor import Tensor
from .graph import Graph

__all__ = ["GraphModule"]

_eval_counter = itertools.count()


def _exec_with_source(src, globals_):
    """exec src registering it with linecache, so tracebacks through generated code show its lines."""
    key = f"<eval_with_key>.{next(_eval_counter)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_)


def _forward_from_src(src, globals_):
    globals_copy = dict(globals_)
    _exec_with_source(src, globals_copy)
    return globals_copy["forward"]


def _copy_attr(from_module, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:
            return   # a parent already installed brings everything below it
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    if isinstance(orig, Tensor) and not isinstance(orig, Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj, to_module, target):
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        to_module = t
    if isinstance(from_obj, Tensor) and not isinstance(from_obj, Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


def _importable_name(obj):
    """'module.qualname' that finds obj again (torch_js objects under torch_js's own module names)."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _import(path):
    module, _, attr = path.rpartition(".")
    parts = attr.split(".")
    try:
        obj = importlib.import_module(module)
    except ImportError:   # a qualname with dots: Outer.Inner
        module, _, first = module.rpartition(".")
        obj, parts = importlib.import_module(module), [first] + parts
    for part in parts:
        obj = getattr(obj, part)
    return obj


def _rebuild_graph_module(body, code, global_paths, class_name):
    """Unpickle: forward from its code, the graph traced again from it (every submodule a leaf), as PyTorch's
    reduce_graph_module does."""
    # the tracer lives above this module (_symbolic_trace builds GraphModules), so it is found at call time
    tracer_cls = importlib.import_module(f"{__package__}._symbolic_trace").Tracer

    class KeepModules(tracer_cls):
        def is_leaf_module(self, m, qualname):
            return True

    class CodeOnlyModule(Module):
        def __init__(self, body):
            super().__init__()
            self.__dict__ = body

    globals_ = {"torch": importlib.import_module(__name__.partition(".")[0]), "inf": math.inf, "nan": math.nan,
                "NoneType": type(None)}
    globals_.update({name: _import(path) for name, path in global_paths.items()})
    CodeOnlyModule.forward = _forward_from_src(code, globals_)
    com = CodeOnlyModule(body)
    graph = KeepModules().trace(com)
    gm = GraphModule(com, graph, class_name)
    for k, v in body.items():   # attributes the graph does not reference (meta, user fields)
        if k not in gm.__dict__:
            gm.__dict__[k] = v
    return gm


class GraphModule(Module):
    """GraphModule(root, graph, class_name='GraphModule'): root is the module (or {qualified name: value} dict)
    holding what the graph's call_module/get_attr nodes reference."""

    def __new__(cls, *args, **kwargs):
        # one class per instance: recompile() sets forward on it without touching other GraphModules
        for t in cls.__mro__:
            c = t.__qualname__.split(".")[-1]
            if c != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):
            pass
        return super().__new__(GraphModuleImpl)

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets_to_copy = []
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(f"Node {node} referenced target {node.target} but that target was not "
                                           "provided in ``root``!")
                    targets_to_copy.append(node.target)
            # shorter paths first, so a submodule is installed before attributes under it
            targets_to_copy.sort(key=lambda t: t.count("."))
            for target in targets_to_copy:
                _assign_attr(root[target], self, target)
        else:
            raise RuntimeError("Unsupported type " + str(root) + " passed for root!")
        self.graph = graph
        self._tracer_cls = graph._tracer_cls
        self.meta = getattr(root, "meta", {}) if isinstance(root, Module) else {}

    @property
    def graph(self):
        return self._graph

    @graph.setter
    def graph(self, g):
        if not isinstance(g, Graph):
            raise AssertionError(f"Expected a Graph instance, but got {type(g)}")
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self):
        """The Python source of forward."""
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self):
        """Regenerate forward from the graph (call after editing the graph)."""
        python_code = self._graph.python_code(root_module="self")
        self._code = python_code.src
        cls = type(self)
        cls.forward = _forward_from_src(self._code, python_code.globals)
        return python_code

    def print_readable(self, print_output=True, **kwargs):
        """forward's code inside a class statement (PyTorch's layout; no node here carries a stack trace)."""
        lines = self._code.strip().split("\n")
        if len(lines) > 1:
            lines.insert(1, "    # No stacktrace found for following nodes")
        body = "\n".join("    " + line for line in lines)
        out = f"class {self._get_name()}(torch.nn.Module):\n{body}\n"
        if print_output:
            print(out)
        return out

    def add_submodule(self, target, m):
        *prefix, field = target.split(".")
        mod = self
        for item in prefix:
            submod = getattr(mod, item, None)
            if submod is None:
                submod = Module()
                setattr(mod, item, submod)
            if not isinstance(submod, Module):
                return False
            mod = submod
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target):
        atoms = target.split(".")
        path, target_submod = atoms[:-1], atoms[-1]
        mod = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                return False
        if not hasattr(mod, target_submod):
            return False
        if not isinstance(getattr(mod, target_submod), Module):
            return False
        delattr(mod, target_submod)
        return True

    def delete_all_unused_submodules(self):
        used = []
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                fullpath = node.target.split(".")
                used.extend(".".join(fullpath[:i]) for i in range(1, len(fullpath) + 1))
        to_delete = [name for name, _ in self.named_modules() if name and name not in used]
        for name in to_delete:
            self.delete_submodule(name)

    def __reduce__(self):
        """Pickled as its attributes, forward's code and the importable names of the globals the code uses; the
        graph is traced again from the code on load (PyTorch's scheme)."""
        python_code = self.recompile()
        body = {k: v for k, v in self.__dict__.items() if k != "_graph"}
        global_paths = {name: _importable_name(obj) for name, obj in python_code.globals.items()
                        if name not in ("torch", "inf", "nan", "NoneType")}
        return (_rebuild_graph_module, (body, self._code, global_paths, self._get_name()))

    def __deepcopy__(self, memo):
        res = type(self).__new__(type(self))
        memo[id(self)] = res
        fake_mod = Module()
        fake_mod.__dict__ = copy.deepcopy(self.__dict__, memo)
        GraphModule.__init__(res, fake_mod, fake_mod.__dict__["_graph"], self._get_name())
        for attr in ("meta", "_tracer_cls"):
            if attr in fake_mod.__dict__:
                setattr(res, attr, fake_mod.__dict__[attr])
        return res

    def __copy__(self):
        res = GraphModule(self, self.graph, self._get_name())
        res.meta = getattr(self, "meta", {})
        return res

    def __str__(self):
        orig_str = super().__str__()
        return "\n".join([orig_str, self._code,
                          "# To see more debug info, please use `graph_module.print_readable()`"])

    def _get_name(self):
        return type(self).__name__
