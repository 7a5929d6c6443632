"""torch.load(..., weights_only=False): Python's own unpickler, for files the user trusts (a whole pickled
nn.Module, custom classes, optimizers' objects). As in PyTorch this runs whatever the file names.

Globals resolve by module path, with torch's modules standing for torch_js's: `torch.nn.modules.linear.Linear`
is torch_js.nn.modules.linear.Linear, so a model PyTorch pickled comes back as torch_js modules. Tensors and
storages still come through the validated rebuild functions of the restricted unpickler.
"""
import importlib
import pickle

from ._safe_globals import torch_js_module
from ._unpickler import allowed_globals


class TrustedUnpickler(pickle.Unpickler):
    def __init__(self, file, persistent_load=None, encoding="utf-8"):
        super().__init__(file, encoding=encoding)
        self._rebuilds = allowed_globals()
        self._pload = persistent_load

    def persistent_load(self, pid):
        if self._pload is None:
            raise pickle.UnpicklingError("torch_js.load: unexpected persistent id")
        return self._pload(pid)

    def find_class(self, module, name):
        if module == "__builtin__":               # protocol 2 names Python 3's builtins as Python 2's
            module = "builtins"
        fn = self._rebuilds.get((module, name))
        if fn is not None:
            return fn
        js_module = torch_js_module(module)
        if js_module is None:
            return super().find_class(module, name)
        try:
            obj = importlib.import_module(js_module)
            for part in name.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            raise AttributeError(f"torch_js.load: the checkpoint needs {module}.{name}, which torch_js does not "
                                 "have") from None
        return obj


def load_trusted(data_file, persistent_load, encoding="utf-8"):
    return TrustedUnpickler(data_file, persistent_load, encoding).load()
