"""torch.utils._pytree: nested Python containers (tuple, list, dict, OrderedDict, namedtuple, torch.Size,
torch.return_types) as trees of leaves.

torch.func's transforms use it to find the tensors inside their arguments and outputs. As in PyTorch 2.13, every
object that is not one of those containers is a leaf, None included; a dict keeps its insertion order.
"""
import collections

from .._tensor import Size
from ..ops.reduction import _MinMaxResult

__all__ = ["TreeSpec", "LeafSpec", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure", "tree_map",
           "tree_map_", "treespec_pprint"]


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def _node_type(obj):
    """The container kind of obj (as TreeSpec.type), or None when obj is a leaf."""
    if _is_namedtuple(obj):
        return "namedtuple"
    for kind in (tuple, list, collections.OrderedDict, dict, Size):
        if type(obj) is kind:
            return kind
    if isinstance(obj, _MinMaxResult):   # torch.return_types.max & co. (PyTorch's structseq nodes)
        return type(obj)
    return None


def _children_and_context(obj, kind):
    if kind == "namedtuple":
        return list(obj), type(obj)
    if kind in (dict, collections.OrderedDict):
        return list(obj.values()), list(obj.keys())
    return list(obj), None


class TreeSpec:
    """The shape of a tree: its container type, the context rebuilding it (dict keys, namedtuple class) and the
    specs of its children."""

    def __init__(self, type, context, children):
        self.type = type
        self._context = context
        self._children = list(children)
        self.num_leaves = sum(c.num_leaves for c in self._children)

    @property
    def num_children(self):
        return len(self._children)

    @property
    def children_specs(self):
        return self._children

    @property
    def context(self):
        return self._context

    def is_leaf(self):
        return False

    def _type_name(self):
        return self.type if isinstance(self.type, str) else self.type.__name__

    def __repr__(self, indent=0):
        text = f"TreeSpec({self._type_name()}, {self._context}, ["
        if self._children:
            indent += 2
            text += self._children[0].__repr__(indent)
            if len(self._children) > 1:
                text += "," + ",".join("\n" + " " * indent + c.__repr__(indent) for c in self._children[1:])
        return text + "])"

    def __eq__(self, other):
        if self is other:
            return True
        if type(other) is not type(self):
            return False
        return (self.type == other.type and self._context == other._context and self._children == other._children)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def unflatten(self, leaves):
        return tree_unflatten(leaves, self)


class LeafSpec(TreeSpec):
    def __init__(self):
        self.type = None
        self._context = None
        self._children = []
        self.num_leaves = 1

    def is_leaf(self):
        return True

    def __repr__(self, indent=0):
        return "*"

    def __eq__(self, other):
        return isinstance(other, LeafSpec)

    __hash__ = None


_LEAF = LeafSpec()


def tree_flatten(tree, is_leaf=None):
    """(leaves, spec): the leaves in order (depth first, containers in their own order)."""
    leaves = []

    def flatten(node):
        kind = None if (is_leaf is not None and is_leaf(node)) else _node_type(node)
        if kind is None:
            leaves.append(node)
            return _LEAF
        children, context = _children_and_context(node, kind)
        return TreeSpec(kind, context, [flatten(c) for c in children])

    spec = flatten(tree)
    return leaves, spec


def tree_unflatten(leaves, treespec):
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to a "
                         f"pytree that holds {treespec.num_leaves} items ({treespec}).")
    it = iter(leaves)

    def build(spec):
        if spec.is_leaf():
            return next(it)
        children = [build(c) for c in spec._children]
        if spec.type == "namedtuple":
            return spec._context(*children)
        if spec.type in (dict, collections.OrderedDict):
            return spec.type(zip(spec._context, children))
        return spec.type(children)

    return build(treespec)


def tree_leaves(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf=None):
    return tree_flatten(tree, is_leaf)[1]


def _flatten_up_to(spec, tree):
    """The subtrees of `tree` found where `spec` has its leaves; ValueError when tree does not have spec's shape."""
    if spec.is_leaf():
        return [tree]
    kind = _node_type(tree)
    if kind != spec.type:
        raise ValueError(f"Node type mismatch; expected {spec._type_name()}, but got {type(tree)}.")
    children, context = _children_and_context(tree, kind)
    if len(children) != spec.num_children:
        raise ValueError(f"Node arity mismatch; expected {spec.num_children}, but got {len(children)}.")
    if kind == "namedtuple" and context is not spec._context:
        raise ValueError(f"Node context mismatch for namedtuple: {context} != {spec._context}.")
    if kind in (dict, collections.OrderedDict) and set(context) != set(spec._context):
        raise ValueError(f"Node keys mismatch; expected key(s): {spec._context}, but got key(s): {context}.")
    if kind in (dict, collections.OrderedDict):
        children = [tree[k] for k in spec._context]
    out = []
    for child_spec, child in zip(spec._children, children):
        out.extend(_flatten_up_to(child_spec, child))
    return out


def tree_map(func, tree, *rests, is_leaf=None):
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_flatten_up_to(spec, r) for r in rests]
    return tree_unflatten([func(*xs) for xs in zip(leaves, *others)], spec)


def tree_map_(func, tree, *rests, is_leaf=None):
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_flatten_up_to(spec, r) for r in rests]
    for xs in zip(leaves, *others):
        func(*xs)
    return tree


def _broadcast_to_and_flatten(prefix, treespec):
    """One value per leaf of treespec, taken from `prefix`, a tree whose leaves stand for whole subtrees; None when
    prefix is not a prefix of treespec's shape (vmap's in_dims/out_dims)."""
    leaves_of_prefix, prefix_spec = tree_flatten(prefix)
    full = tree_unflatten([0] * treespec.num_leaves, treespec)
    try:
        subtrees = _flatten_up_to(prefix_spec, full)
    except ValueError:
        return None
    out = []
    for value, sub in zip(leaves_of_prefix, subtrees):
        out.extend([value] * tree_structure(sub).num_leaves)
    return out


class _Asterisk(str):
    def __new__(cls):
        return super().__new__(cls, "*")

    def __repr__(self):
        return "*"


def treespec_pprint(treespec):
    """The tree with every leaf shown as *: (*, [*, {'a': *}])."""
    return repr(tree_unflatten([_Asterisk()] * treespec.num_leaves, treespec))
