"""torch.fx.graph: Graph, the ordered list of Nodes of one traced function, and the Python code generated from it.

The nodes form a doubly linked ring through a sentinel root node, so inserting and erasing anywhere is O(1); names are
unique per graph (`relu`, `relu_1`, a builtin's name gets a suffix: `float_1`). The generated `forward` is PyTorch's
text: operators inline (`add = x + y`), `getattr` as attribute access, each value set to None after its last use.
"""
import builtins
import contextlib
import enum
import importlib
import inspect
import keyword
import math
import re
import types
import typing
import warnings

from .._tensor import Tensor
from ..nn import Module
from ._names import is_from_torch, qualified_name
from ._wrap import wrap
from .node import Node, _type_repr, map_arg

__all__ = ["Graph", "PythonCode", "CodeGen"]

_illegal_names = {k: object() for k in keyword.kwlist}
_illegal_names.update(builtins.__dict__)
# names the generated code imports itself; nothing else may take them
_custom_builtins = {"inf": math.inf, "nan": math.nan, "NoneType": type(None)}
_illegal_char_regex = re.compile("[^0-9a-zA-Z_]+")
_name_regex = re.compile(r"^([a-zA-Z_][0-9a-zA-Z_]*?)(?:_(\d+))?$")
_snake_case_sub = re.compile(r"(?<=[a-z])([A-Z])")

reflectable_magic_methods = {
    "add": "{} + {}", "sub": "{} - {}", "mul": "{} * {}", "floordiv": "{} // {}", "truediv": "{} / {}",
    "div": "{} / {}", "mod": "{} % {}", "pow": "{} ** {}", "lshift": "{} << {}", "rshift": "{} >> {}",
    "and_": "{} & {}", "or_": "{} | {}", "xor": "{} ^ {}", "getitem": "{}[{}]", "matmul": "{} @ {}",
}
magic_methods = {"eq": "{} == {}", "ne": "{} != {}", "lt": "{} < {}", "gt": "{} > {}", "le": "{} <= {}",
                 "ge": "{} >= {}", "pos": "+{}", "neg": "-{}", "invert": "~{}", **reflectable_magic_methods}
inplace_methods = {"iadd": "{} += {}", "iand": "{} &= {}", "ifloordiv": "{} //= {}", "ilshift": "{} <<= {}",
                   "imod": "{} %= {}", "imul": "{} *= {}", "imatmul": "{} @= {}", "ior": "{} |= {}",
                   "ipow": "{} **= {}", "irshift": "{} >>= {}", "isub": "{} -= {}", "itruediv": "{} /= {}",
                   "ixor": "{} ^= {}", "setitem": "{}[{}] = {}"}


# typing's names for the builtin generics, as annotations print them (typing_Tuple[...])
_origin_type_map = {list: typing.List, dict: typing.Dict, set: typing.Set, frozenset: typing.FrozenSet,
                    tuple: typing.Tuple}


def _snake_case(s):
    return _snake_case_sub.sub(r"_\1", s).lower()


def _is_magic(x):
    return x.startswith("__") and x.endswith("__")


class _Namespace:
    """Unique names, one per object; a name never shadows a builtin other than the object itself."""

    def __init__(self):
        self._obj_to_name = {}
        self._used_names = set()
        self._base_count = {}

    def create_name(self, candidate, obj):
        if obj is not None and obj in self._obj_to_name:
            return self._obj_to_name[obj]
        match = _name_regex.match(candidate)
        if match is None:
            candidate = _illegal_char_regex.sub("_", candidate) or "_unnamed"
            if candidate[0].isdigit():
                candidate = f"_{candidate}"
            match = _name_regex.match(candidate)
        base, num = match.group(1, 2)
        if num is None or candidate in self._used_names:
            num = self._base_count.get(base, 0)
            if _illegal_names.get(candidate, obj) is not obj:
                num += 1
                candidate = f"{base}_{num}"
        else:
            num = int(num)
        while candidate in self._used_names:
            num += 1
            candidate = f"{base}_{num}"
        self._used_names.add(candidate)
        self._base_count[base] = num
        if obj is not None:
            self._obj_to_name[obj] = candidate
        return candidate

    def associate_name_with_obj(self, name, obj):
        self._obj_to_name.setdefault(obj, name)

    def _rename_object(self, obj, name):
        self._obj_to_name[obj] = name
        self._used_names.add(name)


class PythonCode:
    """The generated source and the globals it runs with."""

    def __init__(self, src, globals_):
        self.src = src
        self.globals = globals_


def _format_target(base, target):
    r = base
    for e in target.split("."):
        r = f"{r}.{e}" if e.isidentifier() else f'getattr({r}, "{e}")'
    return r


class _NodeList:
    """graph.nodes: a live view in order (len, iteration, reversed)."""

    def __init__(self, graph, direction="_next"):
        self._graph = graph
        self._dir = direction

    def __len__(self):
        return self._graph._len

    def __iter__(self):
        root = self._graph._root
        cur = getattr(root, self._dir)
        while cur is not root:
            if not cur._erased:
                yield cur
            cur = getattr(cur, self._dir)   # read after the yield: the loop body may erase or insert nodes

    def __reversed__(self):
        return iter(_NodeList(self._graph, "_prev" if self._dir == "_next" else "_next"))

    def __repr__(self):
        return repr(list(self))


class CodeGen:
    """Turns a Graph into the source of its `forward` (PyTorch's text)."""

    def gen_fn_def(self, free_vars, maybe_return_annotation):
        if not free_vars or free_vars[0] != "self":
            free_vars.insert(0, "self")
        return f"def forward({', '.join(free_vars)}){maybe_return_annotation}:"

    def generate_output(self, output_args, repr_fn=repr):
        return f"return {repr_fn(output_args)}"

    def _gen_python_code(self, nodes, root_module):
        free_vars, body = [], []
        globals_ = {}
        wrapped_fns = {}
        namespace = _Namespace()
        torch_package = importlib.import_module(__name__.partition(".")[0])   # the package above this one
        globals_["torch"] = torch_package
        namespace.create_name("torch", torch_package)

        def add_global(name_hint, obj):
            if is_from_torch(obj) and getattr(obj, "__module__", "") != "builtins":
                return qualified_name(obj)
            global_name = namespace.create_name(name_hint, obj)
            if global_name in globals_:
                return global_name
            globals_[global_name] = obj
            return global_name

        for name, obj in _custom_builtins.items():
            add_global(name, obj)
        for node in nodes:
            namespace.create_name(node.name, node)

        def get_repr(arg):
            if isinstance(arg, Node):
                return repr(arg)
            if isinstance(arg, tuple) and hasattr(arg, "_fields"):
                return f"{add_global(qualified_name(type(arg)), type(arg))}{repr(tuple(arg))}"
            if isinstance(arg, enum.Enum):
                cls = type(arg)
                return f"{add_global(cls.__name__, cls)}.{arg.name}"
            if isinstance(arg, Tensor):
                return f"torch.Tensor(size={list(arg.size())}, dtype={str(arg.dtype).split('.')[-1]})"
            if isinstance(arg, tuple):
                return f"({get_repr(arg[0])},)" if len(arg) == 1 else "(" + ", ".join(map(get_repr, arg)) + ")"
            if isinstance(arg, list):
                return "[" + ", ".join(map(get_repr, arg)) + "]"
            if isinstance(arg, slice):
                return f"slice({get_repr(arg.start)}, {get_repr(arg.stop)}, {get_repr(arg.step)})"
            if isinstance(arg, type) or callable(arg) and not isinstance(arg, (str, int, float)):
                return add_global(qualified_name(arg) if hasattr(arg, "__name__") else repr(arg), arg)
            return repr(arg)

        def type_repr(o):
            if o == ():
                return "()"
            typename = _type_repr(o)
            if isinstance(o, types.UnionType) and "|" in typename:
                return "|".join(type_repr(arg) for arg in typing.get_args(o))
            origin_type = getattr(o, "__origin__", None)
            if origin_type:
                if isinstance(o, typing._GenericAlias):
                    origin_type = _origin_type_map.get(origin_type, origin_type)
                origin_typename = add_global(_type_repr(origin_type), origin_type)
                type_args = typing.get_args(o)
                if type_args:
                    return f"{origin_typename}[{','.join(type_repr(arg) for arg in type_args)}]"
                return origin_typename
            if isinstance(o, type) and is_from_torch(o):
                return qualified_name(o)
            return add_global(typename, o)

        def format_args(args, kwargs):
            return ", ".join([get_repr(a) for a in args] + [f"{k} = {get_repr(v)}" for k, v in kwargs.items()])

        # each value is set to None right after its last use
        user_to_last_uses, seen = {}, set()
        for node in reversed(nodes):
            for n in node._input_nodes:
                if n not in seen:
                    seen.add(n)
                    user_to_last_uses.setdefault(node, []).append(n)

        return_annotation = ""
        for node in nodes:
            op = node.op
            annotation = "" if node.type is None else f" : {type_repr(node.type)}"
            if op == "placeholder":
                default = "" if not node.args else f" = {get_repr(node.args[0])}"
                free_vars.append(f"{node.target}{annotation}{default}")
                raw_name = node.target.replace("*", "")
                if raw_name != repr(node):
                    body.append(f"{repr(node)} = {raw_name}\n")
                continue
            if op == "call_method":
                body.append(f"{repr(node)} = {_format_target(get_repr(node.args[0]), node.target)}"
                            f"({format_args(node.args[1:], node.kwargs)})")
            elif op == "call_function":
                target = node.target
                fname = getattr(target, "__name__", "")
                if getattr(target, "__module__", "") == "_operator" and fname in magic_methods:
                    body.append(f"{repr(node)} = {magic_methods[fname].format(*(get_repr(a) for a in node.args))}")
                elif getattr(target, "__module__", "") == "_operator" and fname in inplace_methods:
                    body.append(f"{inplace_methods[fname].format(*(get_repr(a) for a in node.args))};  "
                                f"{repr(node)} = {get_repr(node.args[0])}")
                else:
                    global_name = add_global(qualified_name(target), target)
                    if (global_name == "getattr" and len(node.args) == 2 and isinstance(node.args[1], str)
                            and node.args[1].isidentifier()):
                        body.append(f"{repr(node)} = {_format_target(get_repr(node.args[0]), node.args[1])}")
                    else:
                        body.append(f"{repr(node)} = {global_name}({format_args(node.args, node.kwargs)})")
                    if node.meta.get("is_wrapped", False):
                        wrapped_fns.setdefault(global_name)
            elif op == "call_module":
                body.append(f"{repr(node)} = {_format_target(root_module, node.target)}"
                            f"({format_args(node.args, node.kwargs)})")
            elif op == "get_attr":
                body.append(f"{repr(node)} = {_format_target(root_module, node.target)}")
            elif op == "output":
                if node.type is not None:
                    return_annotation = f" -> {type_repr(node.type)}"
                body.append(self.generate_output(node.args[0], repr_fn=get_repr))
                body.append("\n")
                continue
            else:
                raise NotImplementedError(f"node: {node.op} {node.target}")
            to_delete = list(user_to_last_uses.get(node, []))
            if not node.users:
                to_delete.append(node)
            body.append(f";  {' = '.join([repr(n) for n in to_delete] + ['None'])}\n" if to_delete else "\n")

        if not body:
            body.append("pass\n")
        if wrapped_fns:
            wrap_name = add_global("wrap", wrap)
            wrap_stmts = "\n".join(f'{wrap_name}("{name}")' for name in wrapped_fns)
        else:
            wrap_stmts = ""
        prologue = self.gen_fn_def(free_vars, return_annotation)
        code = "".join(body).lstrip("\n")
        code = "\n".join("    " + line for line in code.split("\n"))
        return PythonCode(f"\n{wrap_stmts}\n\n{prologue}\n{code}", globals_)


class Graph:
    """The nodes of a traced function in execution order, with builders for each kind of node."""

    def __init__(self, owning_module=None, tracer_cls=None, tracer_extras=None):
        self._root = Node(self, "", "root", "", (), {})
        self._used_names = {}
        self._insert = self._root.prepend
        self._len = 0
        self._graph_namespace = _Namespace()
        self._owning_module = owning_module
        self._tracer_cls = tracer_cls
        self._tracer_extras = tracer_extras
        self._codegen = CodeGen()
        self._find_nodes_lookup = None

    @property
    def owning_module(self):
        return self._owning_module

    @owning_module.setter
    def owning_module(self, mod):
        self._owning_module = mod

    @property
    def nodes(self):
        return _NodeList(self)

    def find_nodes(self, *, op, target=None, sort=True):
        return [n for n in self.nodes if n.op == op and (target is None or n.target == target)]

    # --- building -------------------------------------------------------------------------------------------
    def create_node(self, op, target, args=None, kwargs=None, name=None, type_expr=None):
        """A new node inserted at the current insert point (the end, unless inserting_before/after says)."""
        args = () if args is None else args
        kwargs = {} if kwargs is None else kwargs
        if not isinstance(args, tuple):
            raise AssertionError("args must be a tuple")
        if not isinstance(kwargs, dict):
            raise AssertionError("kwargs must be a dict")
        candidate = name if name is not None else self._target_to_str(target)
        name = self._graph_namespace.create_name(candidate, None)
        n = Node(self, name, op, target, args, kwargs, type_expr)
        self._graph_namespace.associate_name_with_obj(name, n)
        self._insert(n)
        self._len += 1
        return n

    def _target_to_str(self, target):
        if callable(target):
            # a torch_js function is named by its public torch name (its __name__ may be an internal one)
            op = qualified_name(target).rpartition(".")[2] if is_from_torch(target) else target.__name__
        else:
            op = target
            if _is_magic(op):
                op = op[2:-2]
        return _snake_case(op)

    def placeholder(self, name, type_expr=None, default_value=None):
        args = () if default_value is None or default_value is inspect.Signature.empty else (default_value,)
        return self.create_node("placeholder", name, args=args, type_expr=type_expr)

    def get_attr(self, qualified_name, type_expr=None):
        return self.create_node("get_attr", qualified_name, type_expr=type_expr)

    def call_module(self, module_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_module", module_name, args, kwargs, type_expr=type_expr)

    def call_method(self, method_name, args=None, kwargs=None, type_expr=None):
        return self.create_node("call_method", method_name, args, kwargs, type_expr=type_expr)

    def call_function(self, the_function, args=None, kwargs=None, type_expr=None, name=None):
        return self.create_node("call_function", the_function, args, kwargs, name=name, type_expr=type_expr)

    def output(self, result, type_expr=None):
        return self.create_node("output", "output", (result,), type_expr=type_expr)

    def node_copy(self, node, arg_transform=lambda x: x):
        """A copy of node (from any graph) in this one, its argument Nodes mapped through arg_transform."""
        args = map_arg(node.args, arg_transform)
        kwargs = map_arg(node.kwargs, arg_transform)
        result = self.create_node(node.op, node.target, args, kwargs, node.name, node.type)
        result.meta = dict(node.meta)
        return result

    def graph_copy(self, g, val_map, return_output_node=False):
        """Copy g's nodes (except its output) into this graph; val_map maps g's nodes to the copies. Returns what
        g's output returns, in terms of the copies."""
        for node in g.nodes:
            if node in val_map:
                continue
            if node.op == "output":
                rv = map_arg(node.args[0], lambda n: val_map[n])
                return rv if not return_output_node else (rv, node)
            val_map[node] = self.node_copy(node, lambda n: val_map[n])
        return None

    def __deepcopy__(self, memo=None):
        memo = memo if memo is not None else {}
        g = Graph(tracer_cls=self._tracer_cls)
        output_vals = g.graph_copy(self, val_map=memo, return_output_node=True)
        if output_vals is not None:
            rv, old_out = output_vals
            new_out = g.output(rv, type_expr=old_out.type)
            new_out.meta = dict(old_out.meta)
        return g

    # --- insert point ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _insert_point(self, insert):
        orig, self._insert = self._insert, insert
        try:
            yield
        finally:
            self._insert = orig

    def inserting_before(self, n=None):
        """Context manager: new nodes go right before n (the start of the graph when n is None)."""
        if n is None:
            return self.inserting_after(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert before is not in graph.")
        return self._insert_point(n.prepend)

    def inserting_after(self, n=None):
        """Context manager: new nodes go right after n (the end of the graph when n is None), in order."""
        if n is None:
            return self.inserting_before(self._root)
        if n.graph is not self:
            raise AssertionError("Node to insert after is not in graph.")
        return self._insert_point(n.append)

    # --- removing -------------------------------------------------------------------------------------------
    def erase_node(self, to_erase):
        """Remove a node that has no users."""
        if len(to_erase.users) > 0:
            raise RuntimeError(f"Tried to erase Node {to_erase} but it still had {len(to_erase.users)} "
                               f"users in the graph: {to_erase.users}!")
        if to_erase.graph is not self:
            raise RuntimeError(f"Attempting to remove {to_erase} from wrong graph!")
        if to_erase._erased:
            warnings.warn(f"erase_node({to_erase}) on an already erased node")
            return
        to_erase._remove_from_list()
        to_erase._erased = True
        self._len -= 1
        to_erase._update_args_kwargs((), {})

    def eliminate_dead_code(self, is_impure_node=None):
        """Erase nodes whose results nobody uses and that have no side effect; True if anything changed."""
        self.lint()
        changed = False
        for node in reversed(self.nodes):
            impure = is_impure_node(node) if is_impure_node is not None else node.is_impure()
            if not impure and len(node.users) == 0:
                self.erase_node(node)
                changed = True
        return changed

    def lint(self):
        """Check the graph is well formed: nodes belong to it, every argument is defined before its use, names are
        unique, and call_module/get_attr targets exist in the owning module."""
        seen_names, seen_values = set(), set()
        for node in self.nodes:
            if node.op not in ("placeholder", "call_method", "call_module", "call_function", "get_attr",
                               "output"):
                raise RuntimeError(f"Node {node} had unknown opcode {node.op}!")
            if node.graph is not self:
                raise RuntimeError(f"Node '{node}' does not belong to this Graph!")
            for arg in node._input_nodes:
                if arg.graph is not self:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' does not belong to this Graph, but was "
                                       f"used as an argument! If you are copying nodes from another graph, make "
                                       f"sure to use ``arg_transform`` on node_copy() to remap values\n{self}")
                if arg not in seen_values:
                    raise RuntimeError(f"Argument '{arg}' of Node '{node}' was used before it has been defined! "
                                       f"Please check that Nodes in the graph are topologically ordered\n{self}")
            if node.name in seen_names:
                raise RuntimeError(f"Node redefined name {node.name}!")
            seen_names.add(node.name)
            seen_values.add(node)
        if self._owning_module is not None:
            for node in self.nodes:
                if node.op in ("get_attr", "call_module"):
                    m_itr = self._owning_module
                    for i, atom in enumerate(node.target.split(".")):
                        if not hasattr(m_itr, atom):
                            seen_qualname = ".".join(node.target.split(".")[:i])
                            raise RuntimeError(f"Node {node} target {node.target} references nonexistent "
                                               f"attribute {atom} of {seen_qualname}")
                        m_itr = getattr(m_itr, atom)
                    if node.op == "call_module" and not isinstance(m_itr, Module):
                        raise RuntimeError(f"Node {node} target {node.target} {atom} of {seen_qualname} does "
                                           "not reference an nn.Module")

    # --- printing / code ------------------------------------------------------------------------------------
    def python_code(self, root_module, **kwargs):
        return self._codegen._gen_python_code(list(self.nodes), root_module)

    def __str__(self):
        placeholder_names = []
        node_strs = [node.format_node(placeholder_names) for node in self.nodes]
        s = f"graph({', '.join(placeholder_names)}):"
        for node_str in node_strs:
            if node_str:
                s += "\n    " + node_str
        return s

    def print_tabular(self):
        """Print the nodes as a table (PyTorch's needs the `tabulate` library, as this does)."""
        try:
            from tabulate import tabulate   # optional dependency, as in PyTorch: only this method needs it
        except ImportError:
            print("`print_tabular` relies on the library `tabulate`, which could not be found on this machine. "
                  "Run `pip install tabulate` to install the library.")
            raise
        node_specs = [[n.op, n.name, n.target, n.args, n.kwargs] for n in self.nodes]
        print(tabulate(node_specs, headers=["opcode", "name", "target", "args", "kwargs"]))

