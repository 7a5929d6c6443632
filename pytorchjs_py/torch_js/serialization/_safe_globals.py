"""torch.serialization's user allow-list for weights_only loads: add_safe_globals, safe_globals (a context
manager), get_safe_globals, clear_safe_globals, and the names torch_js's classes go by in a checkpoint.

A checkpoint names a global `{module}.{qualname}`. PyTorch writes torch's classes under `torch.*`; torch_js's own
classes live in `torch_js.*` and are written under the same `torch.*` names (so PyTorch reads them), so an entry
for a torch_js class is found under both spellings.
"""
import sys
from pickle import PicklingError
from types import FunctionType

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals", "user_allowed_globals",
           "torch_name", "torch_js_module", "is_torch_js", "public_name"]

_MARKED = set()


def torch_name(module):
    """The module name PyTorch has for a torch_js module ("torch_js.nn.modules.linear" -> "torch.nn.modules.linear");
    other modules keep theirs."""
    if module == "torch_js" or module.startswith("torch_js."):
        return "torch" + module[len("torch_js"):]
    return module


def is_torch_js(obj):
    """True for a class or function of torch_js's own (it goes by a torch name in a checkpoint)."""
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and torch_name(module) != module


# Where PyTorch users reach torch_js functions that are defined in private modules (F.relu lives in
# nn/_functional/activation.py, torch.add in ops/elementwise.py): the public namespace that holds the very object.
_PUBLIC_MODULES = ("torch_js.nn.functional", "torch_js", "torch_js.special", "torch_js.linalg", "torch_js.fft",
                   "torch_js.nn.init")


def public_name(obj, name=None):
    """(module, qualname) under which unpickling finds `obj` itself: a public namespace's for a function (where
    PyTorch has it too), else its own."""
    module, qualname = obj.__module__, name or obj.__qualname__
    if isinstance(obj, FunctionType):
        for public in _PUBLIC_MODULES:
            if _lookup(public, obj.__name__) is obj:
                return public, obj.__name__
    if _lookup(module, qualname) is obj:
        return module, qualname
    raise PicklingError(f"Can't pickle {obj!r}: it is not reachable as {module}.{qualname} nor under a "
                               "public torch namespace")


def _lookup(module, qualname):
    target = sys.modules.get(module)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return target


def torch_js_module(module):
    """The torch_js module that stands for a torch module ("torch.nn.modules.linear" -> "torch_js.nn.modules.linear");
    None for a module outside torch."""
    if module == "torch" or module.startswith("torch."):
        return "torch_js" + module[len("torch"):]
    return None


def add_safe_globals(safe_globals):
    """Mark globals (functions or classes, or (global, "module.name") pairs) as safe for a weights_only load:
    a checkpoint may then name, call, instantiate and set the state of them."""
    global _MARKED
    _MARKED = _MARKED | set(safe_globals)


def get_safe_globals():
    return list(_MARKED)


def clear_safe_globals():
    global _MARKED
    _MARKED = set()


def _remove_safe_globals(globals_to_remove):
    global _MARKED
    _MARKED = _MARKED - set(globals_to_remove)


class safe_globals:
    """Context manager: the given globals are safe for weights_only loads inside the `with` block."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        add_safe_globals(self.safe_globals)

    def __exit__(self, type, value, tb):
        _remove_safe_globals(self.safe_globals)


def user_allowed_globals():
    """{"module.name": global} for every marked global, under its torch name too for torch_js's classes."""
    allowed = {}
    for entry in _MARKED:
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full path), but got tuple of "
                                 f"length: {len(entry)}")
            if type(entry[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full path, but got: "
                                f"{type(entry[1])}")
            obj, path = entry
            allowed[path] = obj
            continue
        module, name = entry.__module__, entry.__qualname__
        allowed[f"{module}.{name}"] = entry
        allowed[f"{torch_name(module)}.{name}"] = entry
        if is_torch_js(entry):   # F.relu is saved as torch.nn.functional.relu, not under its defining module
            module, name = public_name(entry)
            allowed[f"{torch_name(module)}.{name}"] = entry
    return allowed
