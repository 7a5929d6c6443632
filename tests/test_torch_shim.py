"""The `torch` shim wheel of the JupyterLite site (torch_shim/): built byte-for-byte the same each time, named torch
at torch_js's torch.__version__, requiring this torch_js; installed beside torch_js, `import torch` is torch_js.
CPython only (it reads the checkout and starts a second interpreter)."""
import base64
import hashlib
import importlib.util
import os
import subprocess
import sys
import zipfile

import pytest

import torch_js

if sys.platform == "emscripten":
    pytest.skip("builds the wheel from the checkout and runs a second interpreter", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("torch_shim_build_wheel", os.path.join(ROOT, "torch_shim",
                                                                                       "build_wheel.py"))
build_wheel = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_wheel)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return build_wheel.build(tmp_path_factory.mktemp("shim"))


def test_wheel_is_reproducible_and_names_torch_js(wheel, tmp_path):
    assert wheel.name == f"torch-{torch_js.__version__}-py3-none-any.whl"
    assert build_wheel.build(tmp_path).read_bytes() == wheel.read_bytes()
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        dist_info = f"torch-{torch_js.__version__}.dist-info"
        assert names[0] == "torch/__init__.py" and names[-1] == f"{dist_info}/RECORD"
        meta = z.read(f"{dist_info}/METADATA").decode().splitlines()
        assert "Name: torch" in meta and f"Version: {torch_js.__version__}" in meta
        assert f"Requires-Dist: torch_js=={torch_js.version.torchjs}" in meta
        for line in z.read(f"{dist_info}/RECORD").decode().splitlines():
            name, digest, size = line.split(",")
            if name.endswith("RECORD"):
                continue
            data = z.read(name)
            want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (want, len(data)), name


def test_installed_shim_imports_torch_js(wheel, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    pkg = os.path.dirname(os.path.dirname(torch_js.__file__))
    # the shim's folder first: in this venv the real torch is installed too, and must not be the one found
    code = ("import torch\n"
            "import torch_js, torch.nn.functional as F\n"
            "from torch.utils.data import DataLoader\n"
            "import torch as again\n"
            "assert torch is torch_js and again is torch_js and F is torch_js.nn.functional\n"
            "assert DataLoader is torch_js.utils.data.DataLoader and torch.__spec__.name == 'torch_js'\n"
            "print(torch.tensor([1., 2.]) * 2, torch.nn.functional is __import__('torch_js').nn.functional)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), pkg])))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "tensor([2., 4.]) True"


def test_import_torch_after_install_as_torch(wheel, tmp_path):
    """install_as_torch() first (as js_bridge/pyrun.mjs does), then `import torch`: torch_js, the shim never runs."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    pkg = os.path.dirname(os.path.dirname(torch_js.__file__))
    code = ("import torch_js; torch_js.install_as_torch()\n"
            "import torch\n"
            "assert torch is torch_js and torch_js._torch_alias.is_installed()\n"
            "print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), pkg])))
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
