"""Example code (examples/<dir>/<file>.py) loaded as a fresh module under a chosen torch -- torch_js or PyTorch --
for tests that run the same example under both and compare."""
import importlib.util
import os
import sys

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
_TORCH_NAMES = ("torch", "torch.nn", "torch.nn.functional")


def load_example(path, name=None, torch_module=None, fresh=()):
    """examples/<path>.py (path like "minilm/model") as a new module named `name`. With torch_module, `import torch`
    (and torch.nn, torch.nn.functional) inside it give that module's; the names in `fresh` are dropped from
    sys.modules first, so the example imports them anew under that torch. sys.modules is restored afterwards."""
    names = _TORCH_NAMES + tuple(fresh)
    saved = {n: sys.modules.get(n) for n in names}
    if torch_module is not None:
        sys.modules.update({"torch": torch_module, "torch.nn": torch_module.nn,
                            "torch.nn.functional": torch_module.nn.functional})
    for n in fresh:
        sys.modules.pop(n, None)
    try:
        spec = importlib.util.spec_from_file_location(name or path.replace("/", "_"),
                                                      os.path.join(EXAMPLES, path + ".py"))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
    return mod
