"""torch.fx.node: Node, one operation of a Graph, and the helpers that walk the nested arguments holding Nodes.

A Node's args/kwargs are immutable containers (tuples, immutable_dict); setting them re-links the producer Nodes'
`users` so the def-use chains stay exact. Names of callables print as PyTorch's (torch.relu,
torch.nn.functional.relu, operator.add): a torch_js function prints under the torch name it is published as.
"""
import importlib
import operator
import types

from ._names import public_module_name, qualified_name

__all__ = ["Node", "map_arg", "map_aggregate", "has_side_effect"]

_OPS = ("placeholder", "call_method", "call_module", "call_function", "get_attr", "output", "root")
# functions a Graph keeps even when their result is unused (eliminate_dead_code); torch._assert and
# _assert_is_none join from _symbolic_trace
_side_effectful_functions = {operator.setitem}
# ... and the samplers (they advance the generator)
_RANDOM_NAMES = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like", "normal",
                 "poisson", "bernoulli", "multinomial")


def has_side_effect(fn):
    """torch.fx.node.has_side_effect: mark fn so dead-code elimination keeps its calls."""
    _side_effectful_functions.add(fn)
    return fn


class immutable_list(list):
    """The list in a Node's arguments (mutating it in place would bypass the users bookkeeping)."""
    def _refuse(self, *args, **kwargs):
        raise TypeError(f"'{type(self).__name__}' object does not support mutation. If you are attempting to "
                        "modify the kwargs or args of a torch.fx.Node object,\ninstead create a new copy of it and "
                        "assign the copy to the node:\n    new_args = ... # copy and mutate args\n"
                        "    node.args = new_args\n")
    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = pop = remove = clear = sort = \
        reverse = _refuse

    def __reduce__(self):
        return (immutable_list, (list(self),))


class immutable_dict(dict):
    """The dict of a Node's kwargs."""
    def _refuse(self, *args, **kwargs):
        return immutable_list._refuse(self)
    __setitem__ = __delitem__ = __ior__ = setdefault = pop = popitem = clear = update = _refuse

    def __reduce__(self):
        return (immutable_dict, (dict(self),))


def map_aggregate(a, fn):
    """Apply fn to every leaf of a nested tuple/list/dict/slice structure (namedtuples keep their type)."""
    if isinstance(a, tuple):
        t = tuple(map_aggregate(elem, fn) for elem in a)
        return t if not hasattr(a, "_fields") else type(a)(*t)
    if isinstance(a, list):
        return immutable_list(map_aggregate(elem, fn) for elem in a)
    if isinstance(a, dict):
        return immutable_dict((k, map_aggregate(v, fn)) for k, v in a.items())
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """Apply fn to each Node in the nested structure a."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _pretty_target(target):
    if isinstance(target, str):
        return target
    module = getattr(target, "__module__", None)
    name = getattr(target, "__name__", None)
    if name is not None and module == "builtins":
        return f"builtins.{name}"
    if name is not None and module == "_operator":
        return f"operator.{name}"
    return qualified_name(target)


def _type_repr(obj):
    """A type annotation as FX prints it: module.qualname for classes (torch's names for torch_js's)."""
    if isinstance(obj, type) and not isinstance(obj, types.GenericAlias):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        if obj.__module__.startswith("torch_js"):
            return qualified_name(obj)
        return f"{public_module_name(obj.__module__)}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if isinstance(obj, types.FunctionType):
        return obj.__name__
    return repr(obj)


def _format_arg(arg):
    if isinstance(arg, list):
        return "[" + ", ".join(_format_arg(a) for a in arg) + "]"
    if isinstance(arg, tuple):
        return "(" + ", ".join(_format_arg(a) for a in arg) + ("," if len(arg) == 1 else "") + ")"
    if isinstance(arg, dict):
        return "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items()) + "}"
    if isinstance(arg, Node):
        return "%" + str(arg)
    return str(arg)


class Node:
    """One operation: op (placeholder, get_attr, call_function, call_method, call_module, output), its target,
    args/kwargs (which may hold other Nodes), a unique name, the Nodes using it (`users`) and free-form `meta`."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op not in _OPS:
            raise AssertionError(f"Unknown op {op!r}")
        if op == "call_function" and not callable(target):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                             f"{type(target)} but a Callable is expected")
        if op in ("placeholder", "call_method", "call_module", "get_attr", "output") and not isinstance(target, str):
            raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                             f"{type(target)} but a str is expected")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self._input_nodes = {}
        self.users = {}
        self.type = return_type
        self._prev = self
        self._next = self
        self._erased = False
        self.meta = {}
        self._args = ()
        self._kwargs = immutable_dict()
        self._update_args_kwargs(args, kwargs)

    # --- linked-list position -------------------------------------------------------------------------------
    @property
    def next(self):
        return self._next

    @property
    def prev(self):
        return self._prev

    def prepend(self, x):
        """Insert x before this node in the graph's order (moving it if it is already there)."""
        if x is self:
            return
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x):
        """Insert x after this node."""
        self._next.prepend(x)

    def _remove_from_list(self):
        # the removed node keeps its links, so a loop that erases the node it stands on moves on from there
        p, n = self._prev, self._next
        p._next, n._prev = n, p

    # --- arguments ------------------------------------------------------------------------------------------
    @property
    def args(self):
        return self._args

    @args.setter
    def args(self, a):
        self._update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self):
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k):
        self._update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self):
        """The Nodes this one reads, in order of first appearance in args then kwargs."""
        return list(self._input_nodes)

    def update_arg(self, idx, arg):
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx, arg):
        self.args = self.args[:idx] + (arg,) + self.args[idx:]

    def update_kwarg(self, key, arg):
        self.kwargs = {**self.kwargs, key: arg}

    def _update_args_kwargs(self, new_args, new_kwargs):
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._input_nodes = {}

        def collect(n):
            self._input_nodes.setdefault(n)
            return n
        self._args = map_arg(tuple(new_args), collect)
        self._kwargs = map_arg(dict(new_kwargs), collect)
        for n in self._input_nodes:
            n.users.setdefault(self)

    # --- rewriting ------------------------------------------------------------------------------------------
    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *, propagate_meta=False):
        """Make every user of this node read replace_with instead; returns the users changed."""
        if propagate_meta:
            for k, v in self.meta.items():
                replace_with.meta.setdefault(k, v)
        to_process = [u for u in self.users if delete_user_cb(u)]
        for user in to_process:
            user._replace_input(self, replace_with)
        return to_process

    def replace_input_with(self, old_input, new_input):
        """Read new_input wherever this node reads old_input."""
        self._replace_input(old_input, new_input)

    def _replace_input(self, old, new):
        def swap(n):
            return new if n is old else n
        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def is_impure(self, impure_random=True):
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            if self.target in _side_effectful_functions:
                return True
            # PyTorch keeps a plain sampler call whatever impure_random says (that flag reads op schemas)
            torch_package = importlib.import_module(__name__.partition(".")[0])
            return any(self.target is getattr(torch_package, n, None) for n in _RANDOM_NAMES)
        if self.op == "call_module":
            root = getattr(self.graph, "owning_module", None)
            if root is None:
                return False
            target_mod = root.get_submodule(self.target)
            return getattr(target_mod, "_is_impure", False)
        return False

    @property
    def stack_trace(self):
        return self.meta.get("stack_trace", None)

    @stack_trace.setter
    def stack_trace(self, trace):
        self.meta["stack_trace"] = trace

    # --- printing -------------------------------------------------------------------------------------------
    def __repr__(self):
        return self.name

    def format_node(self, placeholder_names=None, maybe_return_typename=None):
        """The node as Graph's str shows it (None for a placeholder when placeholder_names collects them)."""
        typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        if self.op == "placeholder":
            if placeholder_names:   # PyTorch's test: Graph's str passes an empty list, so placeholders print
                placeholder_names.append(self.target)
                return None
            default = "(default=" + str(self.args[0]) + ")" if self.args else ""
            return f"%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}[target={self.target}]{default}"
        if self.op == "get_attr":
            return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={_pretty_target(self.target)}]")
        if self.op == "output":
            return f"return {self.args[0]}"
        return (f"%{self.name} : [num_users={len(self.users)}] = {self.op}[target={_pretty_target(self.target)}]"
                f"(args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)


Argument = object
Target = object
