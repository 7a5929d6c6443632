"""`import torch_js` stays short (issue 17): the submodules few programs need load on first use (torch_js's module
__getattr__, PEP 562, as PyTorch loads torch._dynamo and torch.onnx), yet every way of reaching them works; and the
op wrappers read their functions' signatures off the code objects (ops/_api._code_signature), which must say what
inspect.signature says."""
import inspect
import os
import subprocess
import sys
import types

import pytest

import torch_js
from torch_js.ops import _api

needs_subprocess = pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")

FRESH_IMPORT = """
import sys
import torch_js
loaded = sorted(name for name in torch_js._LAZY_SUBMODULES if f"torch_js.{name}" in sys.modules)
assert loaded == [], f"imported by `import torch_js`: {loaded}"
assert "importlib.resources" not in sys.modules   # what importlib.abc would import
assert torch_js.distributions.Normal(0.0, 1.0).log_prob(torch_js.tensor(0.0)).item() < 0
from torch_js import fx
import torch_js.jit
import torch_js.testing as testing
testing.assert_close(torch_js.ones(2), torch_js.ones(2))
assert torch_js.load is torch_js.serialization.load and torch_js.save is torch_js.serialization.save
assert torch_js._assert is fx._symbolic_trace._assert and torch_js.fork is torch_js.jit.fork
assert {"fx", "distributions", "load", "profiler"} <= set(dir(torch_js))
try:
    torch_js.no_such_name
except AttributeError as e:
    assert str(e) == "module 'torch_js' has no attribute 'no_such_name'", e
else:
    raise AssertionError("no AttributeError")
torch_js.install_as_torch()
import torch.profiler, torch.distributed
assert torch.profiler is torch_js.profiler and not torch.distributed.is_available()
print("ok")
"""


@needs_subprocess
def test_lazy_submodules_load_on_first_use():
    r = subprocess.run([sys.executable, "-c", FRESH_IMPORT], capture_output=True, text=True,
                       env={"PYTHONPATH": os.path.dirname(torch_js.__path__[0])})
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_lazy_names_resolve():
    for name in sorted(torch_js._LAZY_SUBMODULES):
        assert isinstance(getattr(torch_js, name), types.ModuleType), name
    for name, (module, attribute) in torch_js._LAZY_NAMES.items():
        assert getattr(torch_js, name) is getattr(sys.modules[f"torch_js.{module}"], attribute), name


def _plain_functions():
    seen = {}
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("torch_js"):
            for value in vars(module).values():
                if (type(value) is types.FunctionType and "__wrapped__" not in value.__dict__
                        and "__signature__" not in value.__dict__):
                    seen[id(value)] = value
    return list(seen.values())


def test_code_signature_is_inspect_signature():
    torch_js.fx, torch_js.distributions  # noqa: B018  (their functions too)
    functions = _plain_functions()
    assert len(functions) > 1000
    for fn in functions:
        mine = [(p.name, p.kind, p.default) for p in _api._code_signature(fn)]
        theirs = [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]
        assert len(mine) == len(theirs) and all(a[0] == b[0] and a[1] is b[1] and a[2] is b[2]
                                                for a, b in zip(mine, theirs)), (fn.__qualname__, mine, theirs)
