"""`import torch` as torch_js: a meta-path finder that hands out torch_js's own module objects under torch's names.

    import torch_js
    torch_js.install_as_torch()
    import torch, torch.nn.functional as F     # torch is torch_js, F is torch_js.nn.functional
    from torch.utils.data import DataLoader

`torch.X.Y` is the module `torch_js.X.Y`, the same object (imported on first use), so there is one copy of every
module and of its state: aliasing by hand (`sys.modules["torch"] = torch_js`) lets `import torch.nn` load the files a
second time under new names. A name with no torch_js module behind it raises PyTorch's
"No module named 'torch.foo'".
"""
import importlib
import importlib.machinery
import sys

ALIAS = "torch"
TARGET = "torch_js"


def _target_name(fullname):
    """torch_js's name for `fullname` (torch or torch.X.Y), or None when the name is not torch's."""
    if fullname == ALIAS:
        return TARGET
    if fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS):]
    return None


class TorchAliasFinder:
    """Finds `torch.X.Y` as the already importable `torch_js.X.Y` and loads it as that very module object.

    A meta-path finder and loader by protocol (find_spec; create_module, exec_module): importlib.abc's base classes
    would import importlib.resources (pathlib, tempfile, shutil, ...) at every `import torch_js`."""

    def find_spec(self, fullname, path=None, target=None):
        real = _target_name(fullname)
        if real is None:
            return None
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name != real:
                raise   # the module exists but needs something missing: that error is the one to see
            # raised here, not left to the next finder: that one would search on for a `torch` elsewhere
            raise ModuleNotFoundError(f"No module named '{fullname}'", name=fullname) from None
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=hasattr(module, "__path__"))
        spec.loader_state = (module, module.__spec__)
        return spec

    def create_module(self, spec):
        return spec.loader_state[0]

    def exec_module(self, module):
        # the import system has just set module.__spec__ to the alias's spec (it does so for every module it loads);
        # torch_js's module gets its own back, so reload(), pickle and runpy still see torch_js's names
        alias_spec = module.__spec__
        if alias_spec is not None and alias_spec.loader is self:
            module.__spec__ = alias_spec.loader_state[1]


def _finder():
    return next((f for f in sys.meta_path if isinstance(f, TorchAliasFinder)), None)


def install():
    """Make `import torch` (and `import torch.X.Y`) give torch_js's modules, in this interpreter from now on.

    Run it before the first `import torch`: where PyTorch itself is already imported, the names are taken and it
    raises RuntimeError rather than leave two libraries answering to `torch`."""
    torch_js = sys.modules[TARGET]
    current = sys.modules.get(ALIAS)
    if current is not None and current is not torch_js:
        raise RuntimeError(f"install_as_torch(): a module named torch is already imported "
                           f"({getattr(current, '__file__', None) or current!r}); call it before `import torch`")
    if _finder() is None:
        sys.meta_path.insert(0, TorchAliasFinder())
    sys.modules[ALIAS] = torch_js


def uninstall():
    """Undo install(): `torch` and `torch.*` stop naming torch_js's modules (the modules themselves stay)."""
    finder = _finder()
    if finder is not None:
        sys.meta_path.remove(finder)
    for name in [n for n in sys.modules if _target_name(n) is not None]:
        if sys.modules[name] is sys.modules.get(_target_name(name)):
            del sys.modules[name]


def is_installed():
    return _finder() is not None and sys.modules.get(ALIAS) is sys.modules[TARGET]
