#!/usr/bin/env python3
"""Build the `torch` shim wheel (torch_shim/torch/) that makes `import torch` give torch_js in the JupyterLite site.

    python3 torch_shim/build_wheel.py OUT_DIR      -> OUT_DIR/torch-<2.13.0+torchjs.0.1.0>-py3-none-any.whl

The distribution is named torch so that the site's Pyodide lock and piplite index answer to that name (the kernel
preloads it; `%pip install torch` finds it offline); its version is torch_js's torch.__version__ (the PyTorch
release it follows, torch_js's own version as the local label) and it requires that torch_js. Written here with
zipfile rather than by a build backend: three small files, and the bytes are the same on every build (fixed
timestamps, sorted entries), so the site's lock hash only changes when the shim or the version does. Never install
it where real PyTorch is wanted: it takes the name `torch`.
"""
import base64
import hashlib
import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSION_PY = HERE.parent / "pytorchjs_py" / "torch_js" / "version.py"


def versions():
    """(torch_js's own version, the torch version it reports) from torch_js/version.py, without importing it."""
    text = VERSION_PY.read_text()
    own = re.search(r'^torchjs = "([^"]+)"', text, re.M).group(1)
    semantics = re.search(r'^torch_semantics = "([^"]+)"', text, re.M).group(1)
    return own, f"{semantics}+torchjs.{own}"


def _record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build(out_dir):
    own, version = versions()
    dist_info = f"torch-{version}.dist-info"
    files = {
        "torch/__init__.py": (HERE / "torch" / "__init__.py").read_bytes(),
        f"{dist_info}/METADATA": (
            "Metadata-Version: 2.1\n"
            "Name: torch\n"
            f"Version: {version}\n"
            "Summary: import torch as torch_js (the torch_js JupyterLite site's shim; holds no PyTorch code)\n"
            f"Requires-Dist: torch_js=={own}\n").encode(),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\n"
            "Generator: torch_shim/build_wheel.py\n"
            "Root-Is-Purelib: true\n"
            "Tag: py3-none-any\n").encode(),
        f"{dist_info}/top_level.txt": b"torch\n",
    }
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in sorted(files.items()))
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"torch-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files, key=lambda n: (n.startswith(dist_info), n.endswith("RECORD"), n)):  # RECORD last
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[name])
    return wheel


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(build(sys.argv[1]))
