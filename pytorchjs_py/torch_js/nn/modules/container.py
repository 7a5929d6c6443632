"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict (torch.nn.modules.container).

Children are registered under the same names PyTorch uses ("0", "1", ... for the list-like containers, the user's
keys for the dict-like ones), so state_dict keys, reprs and error messages match torch and checkpoints load either way.
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import chain, groupby

from ..._tensor import Tensor
from ..parameter import Parameter
from .module import Module, _addindent, _typename

__all__ = ["Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


# ---- helpers shared by the containers -------------------------------------------------------------------------------

def _norm_index(idx, size):
    """Python-style index (negatives count from the end) -> 0 <= i < size. operator.index rejects floats like torch."""
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range")
    return idx % size


def _without_indices(names):
    # dir() of the list-like containers hides the numeric child names: they are not valid attribute identifiers.
    return [name for name in names if not name.isdigit()]


def _renumber(container):
    # After a deletion the survivors are renamed 0..n-1, so later appends/state_dict keys stay contiguous.
    container._modules = OrderedDict((str(i), m) for i, m in enumerate(container._modules.values()))


def _shift_insert(modules, index, module):
    # Move every child at or after `index` one slot up, then drop `module` into the gap (keys stay "0".."n").
    for i in range(len(modules), index, -1):
        modules[str(i)] = modules[str(i - 1)]
    modules[str(index)] = module


def _pop(container, key):
    value = container[key]
    del container[key]
    return value


def _update_from_pairs(container, kind, pairs):
    """ModuleDict/ParameterDict.update from an iterable of (key, value) pairs, with PyTorch's error messages."""
    for j, pair in enumerate(pairs):
        if not isinstance(pair, Iterable):
            raise TypeError(f"{kind} update sequence element #{j} should be Iterable; is{type(pair).__name__}")
        if len(pair) != 2:
            raise ValueError(f"{kind} update sequence element #{j} has length {len(pair)}; 2 is required")
        container[pair[0]] = pair[1]


def _as_parameter(value):
    # Plain tensors put into a Parameter container become Parameters; anything else is stored as-is.
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _param_repr_line(key, value, type_str):
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    size = "x".join(str(s) for s in value.size())
    device = f" ({value.device})" if value.device.type in ("cuda", "webgpu") else ""
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"  ({key}): {kind} containing: [{type_str} of size {size}{device}]"


# ---- Container (legacy) ----------------------------------------------------------------------------------------------

class Container(Module):
    def __init__(self, **kwargs):
        super().__init__()
        for name, module in kwargs.items():
            self.add_module(name, module)


# ---- Sequential ------------------------------------------------------------------------------------------------------

def _check_sequential_operand(other):
    if not isinstance(other, Sequential):
        raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")


def _check_repeat_count(seq, count):
    if not isinstance(count, int):
        raise TypeError(f"unsupported operand type(s) for *: {type(seq)} and {type(count)}")
    if count <= 0:
        raise ValueError(f"Non-positive multiplication factor {count} for {type(seq)}")


class _PositionalModules(Module):
    """What Sequential and ModuleList share: children addressed by position (subclasses give `_key_at`), kept
    numbered after a deletion."""

    def __setitem__(self, idx, module):
        setattr(self, self._key_at(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key_at(idx)]
        for key in keys:
            delattr(self, key)
        _renumber(self)

    pop = _pop

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __dir__(self):
        return _without_indices(super().__dir__())


class Sequential(_PositionalModules):
    def __init__(self, *args):
        super().__init__()
        # A single OrderedDict names the children; otherwise they are numbered in order.
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            named = args[0].items()
        else:
            named = ((str(i), m) for i, m in enumerate(args))
        for name, module in named:
            self.add_module(name, module)

    def _key_at(self, idx):
        # Keys may be user names (OrderedDict construction), so positional access goes through the key order.
        return list(self._modules)[_norm_index(idx, len(self))]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key_at(idx)]

    def __add__(self, other):
        _check_sequential_operand(other)
        return Sequential(*self, *other)

    def __iadd__(self, other):
        _check_sequential_operand(other)
        for i, module in enumerate(other, len(self)):
            self.add_module(str(i), module)
        return self

    def __mul__(self, count):
        # The copies share the same module objects (and so the same parameters), as in torch.
        _check_repeat_count(self, count)
        return Sequential(*(list(self) * count))

    def __rmul__(self, count):
        return self.__mul__(count)

    def __imul__(self, count):
        _check_repeat_count(self, count)
        n = len(self)
        for i in range(n, n * count):
            self.add_module(str(i), self._modules[str(i % n)])
        return self

    def forward(self, input):
        for module in self:
            input = module(input)
        return input

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        _shift_insert(self._modules, index + n if index < 0 else index, module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self


# ---- ModuleList ------------------------------------------------------------------------------------------------------

class ModuleList(_PositionalModules):
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self += modules

    def _key_at(self, idx):
        return str(_norm_index(idx, len(self)))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[self._key_at(idx)]

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(chain(self, other))

    def __repr__(self):
        # Runs of identical children collapse into one "(start-end): n x child" entry, as torch prints them.
        if not self._modules:
            return self._get_name() + "()"
        lines, start = [], 0
        for child_repr, run in groupby(repr(m) for m in self):
            n = len(list(run))
            end = start + n - 1
            entry = f"({start}): {child_repr}" if n == 1 else f"({start}-{end}): {n} x {child_repr}"
            lines.append(_addindent(entry, 2))
            start = end + 1
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index, module):
        # No bounds check or negative-index handling here: torch's ModuleList.insert has none either.
        _shift_insert(self._modules, index, module)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for i, module in enumerate(modules, len(self)):
            self.add_module(str(i), module)
        return self


# ---- ModuleDict ------------------------------------------------------------------------------------------------------

class ModuleDict(Module):
    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    pop = _pop

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(modules).__name__}")
        # Mappings keep their own order (unlike ParameterDict, which sorts plain dicts).
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
        else:
            _update_from_pairs(self, "ModuleDict", modules)


# ---- ParameterList ---------------------------------------------------------------------------------------------------

class ParameterList(Module):
    """Holds Parameters (plain tensors are wrapped) and arbitrary objects, as attributes "0", "1", ...

    Entries live as attributes rather than in one dict because Module routes Parameters to _parameters and other
    values to __dict__; _size tracks the length across both."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(len(self))[idx]:
                out.append(self[i])
            return out
        return getattr(self, str(_norm_index(idx, len(self))))

    def __setitem__(self, idx, value):
        key = str(_norm_index(idx, len(self)))
        setattr(self, key, _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return _without_indices(super().__dir__())

    def append(self, value):
        # Grow first so the new slot is in range for __setitem__.
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        # A Tensor is iterable but almost certainly a mistake here (append was meant), so torch rejects it.
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        # torch prints the dtype here but the tensor type name in ParameterDict; both are kept as torch has them.
        return "\n".join(_param_repr_line(i, p, p.dtype if isinstance(p, Tensor) else None)
                         for i, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


# ---- ParameterDict ---------------------------------------------------------------------------------------------------

class ParameterDict(Module):
    """String-keyed Parameters (plain tensors are wrapped) and arbitrary objects, stored as attributes.

    _keys (a dict used as an ordered set) keeps insertion order, since values are split between _parameters and
    __dict__ by Module."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}'). Open an issue on github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        return getattr(self, self._check_key(key))

    def __setitem__(self, key, value):
        # The key is recorded before validation, matching torch (a rejected key still shows up in _keys).
        self._keys[key] = None
        setattr(self, self._check_key(key), _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._check_key(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for key in list(self._keys):
            del self[key]

    pop = _pop

    def popitem(self):
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters):
        if not isinstance(parameters, Iterable):
            # "ParametersDict" (sic) is torch's wording.
            raise TypeError("ParametersDict.update should be called with an iterable of key/value pairs, "
                            f"but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            for key, value in parameters.items():
                self[key] = value
        elif isinstance(parameters, Mapping):
            # A plain dict is added in sorted key order, as torch does.
            for key, value in sorted(parameters.items()):
                self[key] = value
        else:
            _update_from_pairs(self, "ParameterDict", parameters)

    def extra_repr(self):
        return "\n".join(_param_repr_line(k, p, _typename(p)) for k, p in self.items())

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self
