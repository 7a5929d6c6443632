"""`import torch` as torch_js, and the device API of a PyTorch build without CUDA.

1. torch_js.install_as_torch(): `torch.X.Y` is the very module `torch_js.X.Y` (one copy of each), and a missing
   submodule raises PyTorch's ModuleNotFoundError. In process, here and in Pyodide.
2. `python -m torch_js SCRIPT.py`: runs a script as `python SCRIPT.py` does (argv, __main__, tracebacks, exit codes;
   python itself is the oracle), with `import torch` mapped; a device-generic training script prints what it prints
   under PyTorch. CPython only (subprocesses).
3. torch.cuda / torch.amp / torch.autocast / torch.backends.* / torch.accelerator / Tensor.cuda: the outcomes
   (values, exceptions, warnings) of tests/_device_api_cases.py against PyTorch's, recorded in
   tests/fixtures/device_api_torch.json (tools/gen_device_api_fixtures.py) and, where torch imports, live.
"""
import contextlib
import importlib
import io
import json
import math
import os
import runpy
import subprocess
import sys
import textwrap
import types
import warnings

import pytest

import torch_js
from torch_js import _torch_alias
import _device_api_cases as C

from optional_torch import HAVE_TORCH, needs_torch, torch  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = json.load(open(os.path.join(HERE, "fixtures", "device_api_torch.json")))
PKG_DIR = os.path.dirname(os.path.abspath(torch_js.__file__))
needs_subprocess = pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")


# ---- 1. install_as_torch(), in process ----------------------------------------------------------------------------

@contextlib.contextmanager
def _no_torch_imported():
    """sys.modules without `torch`/`torch.*` (PyTorch's, where the oracle is loaded) for the block, then restored."""
    saved = {n: m for n, m in sys.modules.items() if n == "torch" or n.startswith("torch.")}
    for n in saved:
        del sys.modules[n]
    try:
        yield
    finally:
        _torch_alias.uninstall()
        for n in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[n]
        sys.modules.update(saved)


@pytest.fixture
def torch_alias():
    with _no_torch_imported():
        torch_js.install_as_torch()
        yield


def test_import_torch_gives_torch_js_modules(torch_alias):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.optim.lr_scheduler
    import torch.utils.data.dataloader
    import torch.cuda.amp
    import torch.backends.cudnn
    from torch.utils.data import DataLoader
    from torch.optim.lr_scheduler import StepLR
    assert torch is torch_js
    assert nn is torch_js.nn and F is torch_js.nn.functional
    assert torch.optim.lr_scheduler is importlib.import_module("torch_js.optim.lr_scheduler")
    assert StepLR is torch_js.optim.lr_scheduler.StepLR
    assert torch.utils.data.dataloader is importlib.import_module("torch_js.utils.data.dataloader")
    assert DataLoader is torch_js.utils.data.DataLoader
    assert torch.cuda.amp is torch_js.cuda.amp and torch.backends.cudnn is torch_js.backends.cudnn
    assert sys.modules["torch.nn.functional"] is torch_js.nn.functional


def test_one_copy_of_every_module(torch_alias):
    import torch.nn.modules.conv  # noqa: F401
    import torch.optim.lr_scheduler  # noqa: F401
    import torch.utils.data  # noqa: F401
    by_file = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if path and os.path.abspath(path).startswith(PKG_DIR + os.sep):
            by_file.setdefault(os.path.abspath(path), set()).add(id(module))
    assert by_file and {p: len(ids) for p, ids in by_file.items() if len(ids) > 1} == {}
    aliased = {n: m for n, m in sys.modules.items() if n.startswith("torch.")}
    assert aliased and all(m is sys.modules["torch_js" + n[len("torch"):]] for n, m in aliased.items())


def test_aliased_modules_keep_their_own_spec(torch_alias):
    import torch.nn.init
    assert torch.nn.init.__name__ == torch.nn.init.__spec__.name == "torch_js.nn.init"
    assert importlib.reload(torch.nn.init) is torch_js.nn.init


@pytest.mark.parametrize("name", ["torch.foo", "torch.nn.foo", "torch.float32", "torch.utils.data.foo.bar"])
def test_missing_submodule_raises_pytorchs_error(torch_alias, name):
    with pytest.raises(ModuleNotFoundError) as e:
        importlib.import_module(name)
    missing = name if name != "torch.utils.data.foo.bar" else "torch.utils.data.foo"
    assert str(e.value) == f"No module named '{missing}'" and e.value.name == missing


@needs_torch
@pytest.mark.parametrize("name", ["torch.foo", "torch.nn.foo", "torch.float32", "torch.utils.data.foo.bar"])
def test_missing_submodule_error_is_pytorchs(name):
    with pytest.raises(ModuleNotFoundError) as real:
        importlib.import_module(name)       # PyTorch's own torch, the test session's
    with _no_torch_imported():
        torch_js.install_as_torch()
        with pytest.raises(ModuleNotFoundError) as ours:
            importlib.import_module(name)
    assert (str(ours.value), ours.value.name) == (str(real.value), real.value.name)


def test_install_refuses_a_torch_already_imported():
    with _no_torch_imported():
        sys.modules["torch"] = types.ModuleType("torch")
        with pytest.raises(RuntimeError, match=r"install_as_torch\(\): a module named torch is already imported"):
            torch_js.install_as_torch()
        assert not _torch_alias.is_installed()


def test_install_is_idempotent_and_uninstall_undoes_it():
    with _no_torch_imported():
        torch_js.install_as_torch()
        torch_js.install_as_torch()
        import torch.nn  # noqa: F401
        assert sum(isinstance(f, _torch_alias.TorchAliasFinder) for f in sys.meta_path) == 1
        _torch_alias.uninstall()
        assert not _torch_alias.is_installed()
        assert [n for n in sys.modules if n == "torch" or n.startswith("torch.")] == []
        assert sys.modules["torch_js.nn"] is torch_js.nn


def test_importing_torch_js_maps_nothing():
    assert not _torch_alias.is_installed()
    if HAVE_TORCH:
        assert torch is not torch_js and not torch.__file__.startswith(PKG_DIR)


# ---- 2. python -m torch_js ----------------------------------------------------------------------------------------

def _pytorch_flags_settable():
    """PyTorch's test utilities (torch.testing._internal, imported by other test files) freeze torch.backends' flags
    outside flags(); a script may set them, so the oracle runs with that allowed again."""
    allow = getattr(torch.backends, "__allow_nonbracketed_mutation", None)
    return allow() if allow is not None else contextlib.nullcontext()


def _python(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(PKG_DIR), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


def _write(folder, name, source):
    path = folder / name
    path.write_text(textwrap.dedent(source))
    return str(path)


SCRIPT_AS_PYTHON_RUNS_IT = """
    import os, pickle, sys

    class Point:
        def __init__(self, x):
            self.x = x

    def fail(how):
        if how == "raise":
            raise ValueError("boom")
        if how == "exit":
            sys.exit(3)
        if how == "exit-msg":
            sys.exit("bad input")

    print(sys.argv, __name__, os.path.basename(__file__), sys.path[0] == os.path.dirname(__file__))
    print(pickle.loads(pickle.dumps(Point(4))).x)   # classes of __main__ pickle, as in a plain run
    fail(sys.argv[1] if len(sys.argv) > 1 else "")
"""


@needs_subprocess
@pytest.mark.parametrize("argv", [[], ["raise"], ["exit"], ["exit-msg", "--flag=1"]])
def test_cli_runs_a_script_as_python_does(tmp_path, argv):
    _write(tmp_path, "plain.py", SCRIPT_AS_PYTHON_RUNS_IT)
    ours = _python(["-m", "torch_js", "plain.py", *argv], tmp_path)
    assert ours == _python(["plain.py", *argv], tmp_path)
    assert ours[0] == {(): 0, ("raise",): 1, ("exit",): 3}.get(tuple(argv[:1]), 1)


@needs_subprocess
def test_cli_dash_c_dash_m_and_missing_file_as_python(tmp_path):
    (tmp_path / "pkg").mkdir()
    _write(tmp_path / "pkg", "__init__.py", "")
    _write(tmp_path / "pkg", "tool.py", "import sys\nprint('tool', sys.argv[1:], __name__)\n")
    code = "import sys; print(sys.argv, __name__); 1/0"
    for args in (["-c", code, "x"], ["-m", "pkg.tool", "a", "b"], ["no_such_script.py"]):
        assert _python(["-m", "torch_js", *args], tmp_path) == _python(args, tmp_path), args


TRAINING_SCRIPT = """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    torch.cuda.manual_seed_all(0)
    torch.backends.cudnn.benchmark = True
    x = torch.linspace(-1, 1, 32).reshape(16, 2)
    y = (x[:, :1] * 2 - x[:, 1:]) * 0.5
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1) / 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    scaler = torch.amp.GradScaler(device, enabled=(device == "cuda"))
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    for epoch in range(3):
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=(device == "cuda")):
                loss = F.mse_loss(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        sched.step()
        print(epoch, f"{loss.item():.4f}", sched.get_last_lr())
    print(device, scaler.is_enabled(), scaler.get_scale(), torch.cuda.device_count(), loss.dtype)
    print(torch.backends.cudnn.benchmark, torch.backends.mps.is_available(), torch.accelerator.is_available())
"""


@needs_subprocess
@needs_torch
def test_cli_runs_a_device_generic_training_script_as_pytorch_does(tmp_path):
    script = _write(tmp_path, "train.py", TRAINING_SCRIPT)
    code, out, err = _python(["-m", "torch_js", "train.py"], tmp_path)
    assert (code, err) == (0, "")
    pytorch_out = io.StringIO()
    rng, benchmark = torch.get_rng_state(), torch.backends.cudnn.benchmark   # the script sets both
    with _pytorch_flags_settable():
        try:
            with contextlib.redirect_stdout(pytorch_out):
                runpy.run_path(script, run_name="__main__")   # in this process `import torch` is PyTorch, loaded
        finally:
            torch.set_rng_state(rng)
            torch.backends.cudnn.benchmark = benchmark
    assert out == pytorch_out.getvalue()


@needs_subprocess
def test_cli_maps_import_torch_to_one_torch_js(tmp_path):
    _write(tmp_path, "ident.py", """
        import sys
        import torch
        import torch.nn.functional as F
        import torch_js
        from torch.utils.data import DataLoader
        print(torch is torch_js, F is torch_js.nn.functional, DataLoader is torch_js.utils.data.DataLoader)
        print(torch.nn.Linear(2, 2).weight.shape, sys.modules["torch"].__name__)
        import torch.foo
    """)
    code, out, err = _python(["-m", "torch_js", "ident.py"], tmp_path)
    assert (code, out) == (1, "True True True\ntorch.Size([2, 2]) torch_js\n")
    assert err.startswith("Traceback (most recent call last):\n") and "runpy" not in err and "__main__.py" not in err
    assert err.splitlines()[-1] == "ModuleNotFoundError: No module named 'torch.foo'"


# ---- 3. the device API against PyTorch's CPU build ----------------------------------------------------------------

def _same(case, ours, theirs):
    if not case[1] and "raises" in ours and "raises" in theirs:   # type only: see the case table
        ours, theirs = dict(ours, raises=ours["raises"][:1]), dict(theirs, raises=theirs["raises"][:1])
    return json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True)   # NaN-safe


@pytest.mark.parametrize("name", sorted(C.CASES))
def test_device_api_matches_pytorch(name):
    case = C.CASES[name]
    ours = C.outcome(torch_js, case[0])
    assert _same(case, ours, FIX["cases"][name]), (ours, FIX["cases"][name])


@pytest.mark.parametrize("name", sorted(C.NO_ACCELERATOR_CASES))
def test_accelerator_without_webgpu_matches_pytorch_without_one(name):
    if "webgpu" in torch_js.device._BACKENDS:
        pytest.skip("this runtime has the WebGPU device: torch_js.accelerator is webgpu")
    case = C.NO_ACCELERATOR_CASES[name]
    ours = C.outcome(torch_js, case[0])
    assert _same(case, ours, FIX["no_accelerator"][name]), (ours, FIX["no_accelerator"][name])


def _near(a, b):
    """a == b with floats within a few float32 ulps (NaN equal to NaN): PyTorch's own float32 products round
    differently from one CPU's vector ISA to another's (AVX-512 against the AVX2 host that wrote the fixture)."""
    if isinstance(a, float) and isinstance(b, (int, float)):
        return a == b or (a != a and b != b) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-30)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_near(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_near(x, y) for x, y in zip(a, b))
    return a == b


@needs_torch
def test_live_torch_agrees_with_fixture():
    """The fixture is PyTorch's current behaviour (else: regenerate it); values to float32 rounding, since the live
    PyTorch may run on another vector ISA than the one that wrote it (torch_js is checked against it exactly)."""
    stale = []
    with _pytorch_flags_settable():
        for name, case in {**C.CASES, **C.NO_ACCELERATOR_CASES}.items():
            live, fixed = C.outcome(torch, case[0]), FIX["cases"].get(name) or FIX["no_accelerator"][name]
            if not _same(case, live, fixed) and not _near(json.loads(json.dumps(live)), fixed):
                stale.append(name)
    assert stale == [], "run tools/gen_device_api_fixtures.py"


HARDWARE_ADAPTER = {"vendor": "nvidia", "architecture": "ampere", "device": "", "description": "",
                    "isFallbackAdapter": False}


@pytest.mark.parametrize("software", [
    {"isFallbackAdapter": True},
    {"vendor": "google", "architecture": "swiftshader", "description": "SwiftShader Device (Subzero)"},
    {"vendor": "mesa", "description": "llvmpipe (LLVM 17.0.6, 256 bits)"},
])
def test_accelerator_is_webgpu_only_on_a_hardware_adapter(monkeypatch, software):
    """torch.accelerator picks webgpu where the runtime has it on a hardware adapter; a software adapter (slower
    than the CPU kernels) or a failed device creation leaves it unavailable; reason() says which, in one line."""
    monkeypatch.setitem(torch_js.device._BACKENDS, "webgpu", object())
    monkeypatch.setattr(torch_js.webgpu, "is_available", lambda: True)
    monkeypatch.setattr(torch_js.webgpu, "device_info", lambda: HARDWARE_ADAPTER)
    acc = torch_js.accelerator
    assert acc.is_available() and acc.current_accelerator(check_available=True) == torch_js.device("webgpu")
    assert (acc.device_count(), acc.current_device_index()) == (1, 0)
    assert acc.reason() == "webgpu: a hardware WebGPU adapter (nvidia ampere)"
    monkeypatch.setattr(torch_js.webgpu, "device_info", lambda: dict(HARDWARE_ADAPTER, **software))
    assert acc.current_accelerator() == torch_js.device("webgpu") and acc.current_accelerator(True) is None
    assert (acc.is_available(), acc.device_count()) == (False, 0)
    assert acc.reason().startswith("cpu: the WebGPU adapter is a software one (") and "\n" not in acc.reason()
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
        acc.synchronize()
    monkeypatch.setattr(torch_js.webgpu, "is_available", lambda: False)   # bridge loaded, device creation failed
    assert acc.current_accelerator() == torch_js.device("webgpu") and acc.current_accelerator(True) is None
    assert acc.device_count() == 0 and acc.reason().startswith("cpu: webgpu is not available (")


def test_accelerator_reason_without_webgpu():
    if "webgpu" in torch_js.device._BACKENDS:
        pytest.skip("this runtime has the WebGPU device")
    assert torch_js.accelerator.reason().startswith("cpu: this runtime has no accelerator")
    with pytest.raises(RuntimeError, match="^torch_js: the webgpu device is not available in this runtime: .*"
                                           "TORCH_JS_WEBGPU_BRIDGE.*use device 'cpu'$"):
        torch_js.ones(2).to("webgpu")


@pytest.mark.parametrize("kind", ["webgpu"])
def test_autocast_on_torch_js_devices_declines_with_a_warning(kind):
    """PyTorch would run matmuls in float16 inside; torch_js has no webgpu autocast, so it declines the region as
    PyTorch declines one it cannot run (a UserWarning, then disabled) rather than claim a state no op honours. (On
    "cpu" autocast casts: tests/test_autocast_cpu.py.)"""
    with pytest.warns(UserWarning, match=rf"^In {kind.upper()} autocast, but torch_js has no autocast: ops keep "
                                         r"their inputs' dtypes\. Disabling autocast\.$"):
        region = torch_js.autocast(kind, dtype=torch_js.bfloat16)
    with region:
        assert not torch_js.is_autocast_enabled(kind)
        assert (torch_js.ones(2, 2) @ torch_js.ones(2, 2)).dtype is torch_js.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch_js.autocast(kind, enabled=False)   # nothing to decline


def test_autocast_unknown_device_type_is_torch_devices_error():
    with pytest.raises(RuntimeError, match="^Expected one of cpu, webgpu device type at start of device string: foo$"):
        torch_js.autocast("foo")


def test_gradscaler_on_cpu_trains_as_pytorchs_with_inf_steps_skipped():
    """The fixture's trajectory, read for what it shows: the inf and NaN steps leave the weights alone and back the
    scale off; three clean steps grow it."""
    log = C.outcome(torch_js, C.CASES["GradScaler('cpu') trajectory"][0])["value"]
    states = [entry for entry in log if isinstance(entry, list) and len(entry) == 4 and isinstance(entry[0], float)]
    assert states[2][2:] == states[1][2:] and states[5][2:] == states[4][2:]        # steps 2 and 5 skipped
    assert states[2][0] == pytest.approx(states[1][0] * 0.3) and states[8][0] == pytest.approx(states[7][0] * 3)
