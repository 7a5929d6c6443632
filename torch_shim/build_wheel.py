#!/usr/bin/env python3
"""Build the `torch` shim wheel (torch_shim/torch/) that makes `import torch` give torch_js in the JupyterLite site.

    python3 torch_shim/build_wheel.py OUT_DIR      -> OUT_DIR/tqdm-<4.70.1+torchjs.0.1.0>-py3-none-any.whl
                                                     OUT_DIR/torch-<2.13.0+torchjs.0.1.0>-py3-none-any.whl
                                                     (their paths on stdout, one a line, torch last)

The distribution is named torch so that the site's Pyodide lock and piplite index answer to that name (the kernel
preloads it; `%pip install torch` finds it offline); its version is torch_js's torch.__version__ (the PyTorch
release it follows, torch_js's own version as the local label) and it requires that torch_js. Written here with
zipfile rather than by a build backend: three small files, and the bytes are the same on every build (fixed
timestamps, sorted entries), so the site's lock hash only changes when the shim or the version does. Never install
it where real PyTorch is wanted: it takes the name `torch`.

The `tqdm` wheel is the same kind of shim (torch_shim/tqdm/): torch_js's progress bar (torch_js.utils.progress)
under tqdm's module names, at the tqdm version whose API it follows, for `from tqdm.auto import tqdm` in the site.
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
    """The `torch` shim wheel."""
    own, version = versions()
    return _write_wheel(out_dir, "torch", version, own,
                        "import torch as torch_js (the torch_js JupyterLite site's shim; holds no PyTorch code)")


def build_tqdm(out_dir):
    """The `tqdm` shim wheel (torch_js.utils.progress under tqdm's names)."""
    own, _ = versions()
    followed = re.search(r'^__version__ = "([^"]+)"', (HERE / "tqdm" / "__init__.py").read_text(), re.M).group(1)
    return _write_wheel(out_dir, "tqdm", f"{followed}+torchjs.{own}", own,
                        "tqdm's API on torch_js's progress bar (the torch_js JupyterLite site's shim; no tqdm code)")


def _write_wheel(out_dir, package, version, own, summary):
    """A wheel of the package folder HERE/package (its .py files), requiring torch_js==own."""
    dist_info = f"{package}-{version}.dist-info"
    files = {f"{package}/{p.name}": p.read_bytes() for p in sorted((HERE / package).glob("*.py"))}
    files.update({
        f"{dist_info}/METADATA": (
            "Metadata-Version: 2.1\n"
            f"Name: {package}\n"
            f"Version: {version}\n"
            f"Summary: {summary}\n"
            f"Requires-Dist: torch_js=={own}\n").encode(),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\n"
            "Generator: torch_shim/build_wheel.py\n"
            "Root-Is-Purelib: true\n"
            "Tag: py3-none-any\n").encode(),
        f"{dist_info}/top_level.txt": f"{package}\n".encode(),
    })
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in sorted(files.items()))
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    wheel = out_dir / f"{package}-{version}-py3-none-any.whl"
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
    print(build_tqdm(sys.argv[1]))
    print(build(sys.argv[1]))
