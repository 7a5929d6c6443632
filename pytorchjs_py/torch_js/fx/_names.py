"""The names generated code and printouts use for callables: a torch_js function is called by the torch name it is
published under (torch.relu, torch.nn.functional.relu, torch.linalg.norm, torch.Tensor.add), so FX code reads as
PyTorch's and runs against `torch` = torch_js."""
import builtins
import importlib

from .._tensor import Tensor

# the public namespaces, torch's name for each (searched in this order: the first publishing a function names it)
_PUBLIC = (("torch_js", "torch"), ("torch_js.nn.functional", "torch.nn.functional"),
           ("torch_js.linalg", "torch.linalg"), ("torch_js.special", "torch.special"), ("torch_js.fft", "torch.fft"))
_published = None


def _published_names():
    global _published
    if _published is None:
        names = {}
        for module_name, shown in _PUBLIC:
            module = importlib.import_module(module_name)
            for attr, value in vars(module).items():
                if not attr.startswith("_") and callable(value) and not isinstance(value, type):
                    names.setdefault(id(value), (value, f"{shown}.{attr}"))
        for attr, value in vars(Tensor).items():
            if callable(value) and not isinstance(value, type):
                names.setdefault(id(value), (value, f"torch.Tensor.{attr}"))
        _published = names
    return _published


def public_module_name(module):
    """torch's spelling of a module path (torch_js.nn -> torch.nn)."""
    if module == "torch_js" or module.startswith("torch_js."):
        return "torch" + module[len("torch_js"):]
    return module


def is_from_torch(obj):
    module = getattr(obj, "__module__", None) or ""
    if module == "torch_js" or module.startswith("torch_js."):
        return True
    found = _published_names().get(id(obj))
    return found is not None and found[0] is obj


def qualified_name(func):
    """`module.name` that reaches func: torch's name for torch_js functions, builtins by bare name."""
    name = getattr(func, "__name__", None)
    if name is not None and getattr(builtins, name, None) is func:
        return name
    found = _published_names().get(id(func))
    if found is not None and found[0] is func:
        return found[1]
    module = getattr(func, "__module__", None) or "__main__"
    if name is not None and module.startswith("torch_js"):
        if getattr(importlib.import_module("torch_js"), name, None) is func:
            return f"torch.{name}"   # torch._assert and the like: published at the top level
    if name is None:
        name = type(func).__name__
    if name == "<lambda>":
        raise RuntimeError("Unable to represent lambda")
    module = getattr(func, "__module__", None) or "__main__"
    if module == "_operator":
        module = "operator"
    return f"{public_module_name(module)}.{name}"
