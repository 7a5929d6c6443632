"""torch.serialization's user allow-list for weights_only loads: add_safe_globals, safe_globals (a context
manager), get_safe_globals, clear_safe_globals, and the names torch_js's classes go by in a checkpoint.

A checkpoint names a global `{module}.{qualname}`. PyTorch writes torch's classes under `torch.*`; torch_js's own
classes live in `torch_js.*` and are written under the same `torch.*` names (so PyTorch reads them), so an entry
for a torch_js class is found under both spellings.
"""

__all__ = ["add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals", "user_allowed_globals",
           "torch_name", "torch_js_module"]

_MARKED = set()


def torch_name(module):
    """The module name PyTorch has for a torch_js module ("torch_js.nn.modules.linear" -> "torch.nn.modules.linear");
    other modules keep theirs."""
    if module == "torch_js" or module.startswith("torch_js."):
        return "torch" + module[len("torch_js"):]
    return module


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
    return allowed
