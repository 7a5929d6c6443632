#!/usr/bin/env python3
"""Build the offline JupyterLite site for torch_js into _output/ (`make site` runs this; no hand steps).

Everything comes from pinned inputs. Only what changed is rebuilt (_output/.build-inputs.json records the inputs):
nothing when the inputs (SITE_INPUTS's files, the tools' versions, the torch_js wheel) are unchanged; when only the
torch_js wheel changed, it is patched into the built site (the lock's and the piplite index's hashes); otherwise a
full build from a clean state (the lite dir, its .jupyterlite.doit.db cache: it otherwise keeps stale settings) into
_output.new/, which then replaces _output/ (a server of _output/ keeps serving; the old folder is never emptied
under it). --force: always the full build. No PyTorch is needed (the checkpoint notebook's file is committed).

  1. PyPI wheels, pip-downloaded with --require-hashes into build/site-downloads/ (kept between builds; pip is not
     run when every pinned file is there with its hash):
     jupyterlite_config/pyodide-site-wheels.txt (what the kernel loads at start) and
     jupyterlite_config/build-data.txt (scikit-learn, read at build time for the digits data only).
  2. The Pyodide core from npm (node_modules/pyodide, version pinned in package.json) is staged as the lite dir's
     well-known static/pyodide/, with those wheels and the torch_js wheel beside it (with Python 3.14 bytecode
     added by tools/compile_wheels.mjs, cached in build/site-downloads/bytecode/: the kernel then does not compile
     every module at each start; torch_js imports in about a third of the time; the core's python_stdlib.zip, sources
     only in the npm package, gets the same, which about halves Pyodide's own start and IPython's import), and its
     pyodide-lock.json
     rewritten: the wheels' sha256 set to the PyPI files' hashes (Pyodide's own builds of the same versions differ,
     and its integrity check then fails with "Failed to fetch"); comm, ipython-pygments-lexers, torch_js and the
     `torch` shim (torch_shim/build_wheel.py: `import torch` gives torch_js) added as packages; every entry's `depends` completed from its wheel's Requires-Dist (markers evaluated for
     Pyodide), and the build fails if one names a package the site does not ship; every entry whose file is not
     in the site dropped (so `import numpy` says ModuleNotFoundError instead of fetching a missing wheel).
  3. How the kernel gets torch_js: jupyter-lite.json sets the Pyodide kernel's loadPyodideOptions.packages to
     micropip, ipython, jedi, comm, torch-js, torch and tqdm (a shim: torch_js's progress bar), and the kernel's own
     piplite, ipykernel and pyodide-kernel (lock entries from jupyterlite-pyodide-kernel's wheels), so loadPyodide()
     itself installs them from the site's
     lock, all fetched in parallel, before the kernel starts (the kernel then skips its own one-by-one micropip and
     piplite installs of those). A notebook's first cell can be `import torch`: the `torch` package is the shim, whose
     import imports torch_js, calls torch_js.install_as_torch() and leaves torch_js in sys.modules["torch"]
     (`import torch_js as torch` works too); no %pip, no micropip. This is the mechanism Pyodide offers for
     "installed at start" (no startup snippet: neither the kernel's settings nor loadPyodide have one; no network,
     integrity-checked); nothing is imported until the user imports it. comm, ipython-pygments-lexers, the
     torch_js wheel and the shim are also piplite wheels (pypi/all.json), so `%pip install torch_js` or
     `%pip install torch` resolves offline too (a no-op). disablePyPIFallback is on: piplite never reaches for
     pypi.org. loadPyodideOptions.env sets TORCH_JS_WEBGPU_BRIDGE, where the webgpu device finds its JS bridge
     (js_bridge/webgpu/index.mjs, relative to the kernel's worker script): no loader cell.
     The kernel loads Pyodide through jupyterlite_config/kernel-start.mjs (pyodideUrl; beside pyodide.mjs), which
     takes the Pyodide that kernel-prestart.js started with the page (the pages that start a kernel start its worker
     and Pyodide's boot as they load, beside the JupyterLab app's own loading) and leaves jedi (the start's largest
     unpack; IPython does without it) until completion is first asked for: DEFERRED_DEPENDENCIES.
  4. Data for the notebooks: content/data/digits.pt (torch_js.save, on the .venv's CPython, of the 8x8 digits from
     the scikit-learn wheel), staged with content/ (whose data/digits_mlp_pytorch.pt, an MLP trained and saved by
     real PyTorch, is made by tools/gen_site_checkpoint.py and committed).
  5. `jupyter lite build --no-sourcemaps` (the JupyterLab/Notebook apps from jupyterlite-core), then the blog
     embed (js_bridge/embed.js + js_bridge/embed_demo.html + the Quarto and MyST pages docs/embeds/*.html ->
     _output/embed/), js_bridge/webgpu/ ->
     _output/js_bridge/webgpu/, and the kernel's start indicator (jupyterlite_config/kernel-start-indicator.js: what
     is loading and for how long, until the kernel is idle) added to the lab, notebooks and repl pages.
     Cross-origin isolation on hosts that send no COOP/COEP headers: service-worker.js becomes
     jupyterlite_config/cross-origin-isolation-sw.js (JupyterLite's own worker, renamed service-worker.jupyterlite.js,
     wrapped to add the headers), registered and waited for by cross-origin-isolation.js first in the head of the
     site's pages. The kernel's Interrupt on isolated pages: kernel-interrupt.js on the lab, notebooks and repl pages,
     kernel-interrupt-worker.js beside the kernel's comlink worker.
  6. Checks: no URL in the site's config points off-site, every lock entry's file exists with its hash.

Usage: .venv/bin/python tools/build_site.py [--output _output] [--wheel dist/torch_js-*.whl] [--force]
       .venv/bin/python tools/build_site.py --no-build --bundle dist/torch_js-site-<version>.zip
         (`make bundle`: zip the built site under one folder, with a README.txt and serve.py, for a classroom)
"""
import argparse
import contextlib
import csv
import fcntl
import glob
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "jupyterlite_config"
BUILD = REPO / "build" / "site"
DOWNLOADS = REPO / "build" / "site-downloads"
NPM_PYODIDE = REPO / "node_modules" / "pyodide"
PY = Path(sys.executable)

BYTECODE = DOWNLOADS / "bytecode"
INPUTS_RECORD = ".build-inputs.json"   # in the built site: what it was built from (see inputs_key)

# What the site is built from besides the torch_js wheel's bytes (which a build patches in alone): a change to any
# of these (files: by content, or size and mtime above 4 MB) means a full build. A new build step adds what it reads.
# torch.mjs (PyTorch's API in JavaScript) beside js_bridge/webgpu/ in the site, for examples/torch_mjs/'s pages
TORCH_MJS = ["torch.mjs", "torch_core.mjs", "torch_api.mjs", "torch_ops.mjs", "torch_worker.mjs", "torch.d.ts",
             "torch.d.mts", "torch_ops.d.ts"]
SITE_INPUTS = ["content", "jupyterlite_config", "torch_shim", "js_bridge/embed.js", "js_bridge/embed_demo.html",
               "docs/embeds",
               "js_bridge/webgpu", "tools/build_site.py", "tools/compile_wheels.mjs", "tools/serve_site.py",
               "node_modules/pyodide/package.json", "examples/torch_mjs", *(f"js_bridge/{name}" for name in TORCH_MJS)]
SITE_TOOLS = ["jupyterlite-core", "jupyterlite-pyodide-kernel"]
EMBED_PAGES = ["quarto_post.html", "myst_page.html"]   # docs/embeds/: rendered pages (site_tests/test_embeds.py)
SKIP_INPUT = re.compile(r"(^|/)(__pycache__|\.ipynb_checkpoints)(/|$)|(^|/)_t[0-9]*\.mjs$")

# Files of the npm package the site does not need (typings, the npm README/manifest, demo consoles).
PYODIDE_SKIP = re.compile(r"(\.map|\.d\.ts|^README\.md|^package\.json|^console.*\.html)$")
# The core's standard library, sources only: staged with bytecode beside them (tools/compile_wheels.mjs)
PYODIDE_STDLIB = "python_stdlib.zip"
# The Pyodide kernel's own wheels (from jupyterlite-pyodide-kernel), as lock packages that loadPyodide installs with
# the rest: the kernel otherwise installs piplite through micropip and then ipykernel and pyodide-kernel through
# piplite, one after another, at every start (jupyter-lite.json's packages name them, so the kernel skips that).
KERNEL_WHEELS_DIR = (Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyterlite"
                     / "pyodide-kernel-extension" / "static" / "pypi")
KERNEL_WHEELS = ["piplite", "pyodide-kernel", "ipykernel"]
# Packages the kernel loads after its start instead of with it (jupyterlite_config/kernel-start.mjs): jedi (and its
# parso), the largest unpack of the start, which IPython imports if it is there and does without (its own completer)
# until then. The site's lock does not list it as IPython's dependency, so loading IPython does not unpack it.
DEFERRED_DEPENDENCIES = {"ipython": {"jedi"}}


def log(msg):
    print(f"build_site: {msg}", flush=True)


def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wheel_dist(path):
    """(canonical name, version) of a wheel file name."""
    name, version = Path(path).name.split("-")[:2]
    return canon(name), version


def pinned(req):
    """{canonical name: (version, {sha256, ...})} of a --require-hashes requirements file."""
    pins = {}
    for line in req.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            spec, *options = line.split()
            name, version = spec.split("==")
            pins[canon(name)] = (version, {o.split("sha256:", 1)[1] for o in options if "sha256:" in o})
    return pins


def cached_downloads(req, dest):
    """{name: wheel} when dest already holds every pinned wheel of req with a pinned hash, else None."""
    pins = pinned(req)
    found = {}
    for whl in dest.glob("*.whl") if dest.is_dir() else ():
        name, version = wheel_dist(whl)
        if name in pins and name not in found and pins[name][0] == version and sha256(whl) in pins[name][1]:
            found[name] = whl
    return found if set(found) == set(pins) else None


def pip_download(req, dest, platform_args):
    found = cached_downloads(req, dest)
    if found is not None:   # no pip run (it would ask the index first, even for files it has)
        return found
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [str(PY), "-m", "pip", "download", "-q", "--no-deps", "--require-hashes", "--only-binary=:all:",
           *platform_args, "-r", str(req), "-d", str(dest)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    # (this machine's pip config names extra indexes that may not exist: drop pip's "is ignored" noise)
    noise = re.compile(r"Location '.*' is ignored: it is neither a file nor a directory")
    for line in (r.stdout + r.stderr).splitlines():
        if not noise.search(line):
            print(line, file=sys.stderr)
    if r.returncode:
        raise SystemExit(f"build_site: pip download -r {req.name} failed ({r.returncode})")
    wanted = {name: version for name, (version, _) in pinned(req).items()}
    found = {}
    for whl in dest.glob("*.whl"):
        n, v = wheel_dist(whl)
        if wanted.get(n) == v:
            found[n] = whl
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise SystemExit(f"build_site: pip download did not produce wheels for {missing}")
    return found


# ---- data for the notebooks --------------------------------------------------------------------------------------

def read_digits(sklearn_wheel):
    with zipfile.ZipFile(sklearn_wheel) as z:
        raw = gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz")).decode()
    rows = [[int(float(v)) for v in r] for r in csv.reader(io.StringIO(raw)) if r]
    assert len(rows) == 1797 and all(len(r) == 65 for r in rows), "unexpected digits.csv layout"
    return [r[:64] for r in rows], [r[64] for r in rows]


def make_data(sklearn_wheel, data_dir):
    if not (data_dir / "digits_mlp_pytorch.pt").is_file():
        raise SystemExit("build_site: content/data/digits_mlp_pytorch.pt missing (tools/gen_site_checkpoint.py)")
    pixels, labels = read_digits(sklearn_wheel)
    # torch_js.save (CPython, native kernels) writes PyTorch's zip format; the notebook reads it with torch.load.
    sys.path.insert(0, str(REPO / "pytorchjs_py"))
    import torch_js
    images = torch_js.tensor(pixels, dtype=torch_js.uint8).reshape(-1, 8, 8)
    target = torch_js.tensor(labels, dtype=torch_js.int64)
    torch_js.save({"images": images, "labels": target}, str(data_dir / "digits.pt"))
    # (data/digits_mlp_pytorch.pt, real PyTorch's, is committed in content/: tools/gen_site_checkpoint.py)


# ---- the Pyodide core ------------------------------------------------------------------------------------------

# Where the kernel runs: for evaluating wheels' Requires-Dist markers.
PYODIDE_MARKERS = {
    "implementation_name": "cpython", "platform_python_implementation": "CPython", "platform_machine": "wasm32",
    "platform_system": "Emscripten", "sys_platform": "emscripten", "os_name": "posix", "extra": "",
}


def wheel_requires(whl, python_version):
    """Canonical names of a wheel's runtime dependencies in Pyodide (Requires-Dist, markers evaluated)."""
    from packaging.requirements import Requirement
    env = dict(PYODIDE_MARKERS, python_version=".".join(python_version.split(".")[:2]),
               python_full_version=python_version)
    with zipfile.ZipFile(whl) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        text = z.read(meta).decode()
    deps = set()
    for line in text.splitlines():
        if line.startswith("Requires-Dist:"):
            req = Requirement(line.split(":", 1)[1].strip())
            if req.marker is None or req.marker.evaluate(env):
                deps.add(canon(req.name))
    return deps


def top_level_imports(whl):
    with zipfile.ZipFile(whl) as z:
        names = {n.split("/")[0] for n in z.namelist()}
    return sorted(n[:-3] if n.endswith(".py") else n for n in names
                  if not n.endswith((".dist-info", ".data")) and (n.endswith(".py") or "." not in n))


def with_bytecode(wheels):
    """{wheel: that wheel with Python 3.14 bytecode added (tools/compile_wheels.mjs)}, cached by content hash."""
    pyodide_version = json.loads((NPM_PYODIDE / "package.json").read_text())["version"]
    compiled = {whl: BYTECODE / f"{sha256(whl)[:24]}-{pyodide_version}" / whl.name for whl in wheels}
    todo = [whl for whl, c in compiled.items() if not c.is_file()]
    if todo:
        tmp = DOWNLOADS / "bytecode-tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        r = subprocess.run(["node", str(REPO / "tools" / "compile_wheels.mjs"), str(tmp), *map(str, todo)],
                           capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"build_site: tools/compile_wheels.mjs failed:\n{r.stdout}{r.stderr}")
        for whl in todo:
            for stale in BYTECODE.glob(f"*/{whl.name}"):   # an older build of the same file name
                if stale != compiled[whl]:
                    shutil.rmtree(stale.parent)
            compiled[whl].parent.mkdir(parents=True, exist_ok=True)
            (tmp / whl.name).replace(compiled[whl])
        shutil.rmtree(tmp)
        log(f"bytecode added to {len(todo)} wheel(s)")
    return compiled


def stage_pyodide(dest, site_wheels, local_wheels):
    """The npm core + every wheel the kernel loads, in one pyodide-lock.json (see the module docstring).
    local_wheels: {lock name: wheel} built here (torch-js, the torch shim)."""
    npm_version = json.loads((NPM_PYODIDE / "package.json").read_text())["version"]
    dest.mkdir(parents=True)
    for f in sorted(NPM_PYODIDE.iterdir()):
        if f.is_file() and not PYODIDE_SKIP.search(f.name) and f.name != "pyodide-lock.json":
            shutil.copy2(f, dest / f.name)
    lock = json.loads((NPM_PYODIDE / "pyodide-lock.json").read_text())
    pyver = lock["info"]["python"]
    pkgs = lock["packages"]
    kept = {}
    stdlib = NPM_PYODIDE / PYODIDE_STDLIB
    compiled = with_bytecode([stdlib, *site_wheels.values(), *local_wheels.values()])
    shutil.copy2(compiled[stdlib], dest / PYODIDE_STDLIB)
    for name, whl in sorted({**site_wheels, **local_wheels}.items()):
        dist_name, version = Path(whl).name.split("-")[:2]
        # a wheel built here replaces the lock's package of that name (the tqdm shim: Pyodide has a real tqdm)
        entry = pkgs.get(name) if name not in local_wheels else None
        if entry is not None and entry["version"] != version:
            raise SystemExit(f"build_site: {whl.name}: the Pyodide {npm_version} lock has {entry['version']} for "
                             f"{name}; pin that version in jupyterlite_config/pyodide-site-wheels.txt")
        if entry is None:  # not a Pyodide package (comm, ipython-pygments-lexers, torch_js, the shims): a new entry
            entry = {"depends": [], "imports": top_level_imports(whl), "install_dir": "site", "name": dist_name,
                     "package_type": "package", "tool": {}, "unvendored_tests": False, "version": version}
        depends = sorted((set(map(canon, entry["depends"])) | wheel_requires(whl, pyver))
                         - DEFERRED_DEPENDENCIES.get(name, set()))
        shutil.copy2(compiled[whl], dest / whl.name)
        kept[name] = dict(entry, depends=depends, file_name=whl.name, sha256=sha256(compiled[whl]))
    for name, entry in kept.items():
        missing = [d for d in entry["depends"] if d not in kept]
        if missing:
            raise SystemExit(f"build_site: {name} needs {missing} in Pyodide, which the site does not ship: add "
                             f"them to jupyterlite_config/pyodide-site-wheels.txt")
    dropped = len(set(pkgs) - set(kept))
    lock["packages"] = dict(sorted(kept.items()))
    (dest / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    log(f"Pyodide {npm_version} core + {len(kept)} lock packages (torch_js {kept['torch-js']['version']}); "
        f"{dropped} lock entries without a file in the site dropped")
    return npm_version


def kernel_wheels():
    """{lock name: wheel} of the Pyodide kernel's own packages (KERNEL_WHEELS), from jupyterlite-pyodide-kernel."""
    found = {wheel_dist(str(w))[0]: w for w in KERNEL_WHEELS_DIR.glob("*.whl")}
    missing = [name for name in KERNEL_WHEELS if name not in found]
    if missing:
        raise SystemExit(f"build_site: no {missing} wheel in {KERNEL_WHEELS_DIR} (jupyterlite-pyodide-kernel)")
    return {name: found[name] for name in KERNEL_WHEELS}


def build_shims(out_dir):
    """The shim wheels of torch_shim/build_wheel.py, {lock name: wheel}: `torch` (`import torch` in the kernel gives
    torch_js) and `tqdm` (torch_js's progress bar under tqdm's names)."""
    r = subprocess.run([str(PY), str(REPO / "torch_shim" / "build_wheel.py"), str(out_dir)], capture_output=True,
                       text=True)
    if r.returncode:
        raise SystemExit(f"build_site: torch_shim/build_wheel.py failed:\n{r.stderr}")
    return {wheel_dist(line)[0]: Path(line) for line in r.stdout.strip().splitlines()}


# The kernel's start-up feedback (jupyterlite_config/kernel-start-indicator.js) on the pages that start a kernel.
INDICATOR = "static/torch_js/kernel-start-indicator.js"
INDICATOR_APPS = ("lab", "notebooks", "repl")


# Cross-origin isolation without headers (jupyterlite_config/cross-origin-isolation*.js): the service worker at the
# URL JupyterLite registers (JupyterLite's own moved beside it, and loaded by it), and the script that registers it,
# first in the head of the site's own pages: the JupyterLite apps and torch.mjs's examples. Not embed/: those pages
# stand for a blog on another host, where the blog's own headers decide.
ISOLATION_SCRIPT = "static/torch_js/cross-origin-isolation.js"
JUPYTERLITE_SW = "service-worker.jupyterlite.js"   # cross-origin-isolation-sw.js importScripts it by this name


def isolation_pages(out):
    apps = [p for p in out.glob("*/**/index.html") if p.parts[len(out.parts)] not in ("files", "embed", "examples")]
    return sorted(apps) + sorted((out / "examples").rglob("*.html"))


def add_isolation(out):
    (out / "service-worker.js").rename(out / JUPYTERLITE_SW)
    shutil.copy2(CONFIG / "cross-origin-isolation-sw.js", out / "service-worker.js")
    (out / ISOLATION_SCRIPT).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(CONFIG / "cross-origin-isolation.js", out / ISOLATION_SCRIPT)
    for page in isolation_pages(out):
        src = Path(os.path.relpath(out / ISOLATION_SCRIPT, page.parent)).as_posix()
        tag = f'<script src="{src}"></script>'
        text = page.read_text()
        text, n = re.subn(r"(<head[^>]*>|<meta charset=\"utf-8\">)", lambda m: f"{m.group(1)}\n{tag}", text, count=1)
        assert n == 1, f"{page}: no <head> or <meta charset>"
        page.write_text(text)


# JupyterLite's Interrupt stopping a running cell on an isolated page (jupyterlite_config/kernel-interrupt*.js): the
# page script on the pages that start kernels, and beside the kernel's comlink worker a module that starts it after
# the one that keeps the interrupt buffer the page posts.
INTERRUPT_SCRIPT = "static/torch_js/kernel-interrupt.js"
KERNEL_WORKER_DIR = "extensions/@jupyterlite/pyodide-kernel-extension/static"
INTERRUPT_WORKER_PREFIX = "torch-js-interrupt."   # kernel-interrupt.js starts <prefix><the kernel's worker file>


def add_kernel_interrupt(out):
    shutil.copy2(CONFIG / "kernel-interrupt.js", out / INTERRUPT_SCRIPT)
    workers = sorted((out / KERNEL_WORKER_DIR).glob("comlink.worker.*.js"))
    assert len(workers) == 1, f"expected one comlink worker in {KERNEL_WORKER_DIR}: {workers}"
    shutil.copy2(CONFIG / "kernel-interrupt-worker.js", workers[0].parent / "torch-js-interrupt-buffer.js")
    # (the worker's entry, <prefix><the kernel's worker file>, is written by add_kernel_prestart)
    for app in INDICATOR_APPS:   # not deferred: the page's Worker is wrapped before any kernel starts
        page = out / app / "index.html"
        text, n = re.subn(r"(<head[^>]*>)", lambda m: f'{m.group(1)}\n<script src="../{INTERRUPT_SCRIPT}"></script>',
                          page.read_text(), count=1)
        assert n == 1, f"{page}: no <head>"
        page.write_text(text)


# The kernel started with the page (jupyterlite_config/kernel-start.mjs, kernel-prestart.js): the kernel loads Pyodide
# through kernel-start.mjs, beside pyodide.mjs (the kernel's indexURL is pyodideUrl's folder); the kernel's worker
# starts Pyodide's boot as soon as it runs, with the options of the kernel's loadPyodideOptions, and its modules are
# fetched with the kernel's own; the pages that start a kernel start that worker as they load.
KERNEL_START = "static/pyodide/torch-js-kernel-start.mjs"
PRESTART_SCRIPT = "static/torch_js/kernel-prestart.js"


def add_kernel_prestart(out):
    shutil.copy2(CONFIG / "kernel-start.mjs", out / KERNEL_START)
    config_path = out / "jupyter-lite.json"
    config = json.loads(config_path.read_text())
    kernel = config["jupyter-config-data"]["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs", kernel["pyodideUrl"]
    kernel["pyodideUrl"] = f"./{KERNEL_START}"
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    worker = next((out / KERNEL_WORKER_DIR).glob("comlink.worker.*.js")).name
    pyodide_dir = Path(os.path.relpath(out / "static" / "pyodide", out / KERNEL_WORKER_DIR)).as_posix()
    options = json.dumps(kernel["loadPyodideOptions"])
    (out / KERNEL_WORKER_DIR / (INTERRUPT_WORKER_PREFIX + worker)).write_text(
        "// tools/build_site.py: the Pyodide kernel's worker with its interrupt buffer "
        "(jupyterlite_config/kernel-interrupt-worker.js),\n// and Pyodide's boot started at once, with the options the "
        "kernel will pass (jupyterlite_config/kernel-start.mjs;\n// pyodide.asm.mjs fetched beside the kernel's module, "
        "not after it)\n"
        f'import "./torch-js-interrupt-buffer.js";\n'
        f'import {{ prestart }} from "{pyodide_dir}/{Path(KERNEL_START).name}";\n'
        f'import "{pyodide_dir}/pyodide.asm.mjs";\n'
        f'import "./{worker}";\n\n'
        f'prestart({{ ...{options}, indexURL: new URL("{pyodide_dir}/", import.meta.url).href }});\n')
    prestart = {"kernelWorker": f"{KERNEL_WORKER_DIR}/{worker}",
                "preludeWorker": f"{KERNEL_WORKER_DIR}/{INTERRUPT_WORKER_PREFIX}{worker}"}
    text, n = re.subn(r"const PRESTART = null;", lambda m: f"const PRESTART = {json.dumps(prestart)};",
                      (CONFIG / "kernel-prestart.js").read_text())
    assert n == 1, "kernel-prestart.js: no `const PRESTART = null;`"
    (out / PRESTART_SCRIPT).write_text(text)
    for app in INDICATOR_APPS:   # right after kernel-interrupt.js, whose Worker it starts the kernel's worker with
        page = out / app / "index.html"
        interrupt = f'<script src="../{INTERRUPT_SCRIPT}"></script>'
        text = page.read_text()
        assert interrupt in text, f"{page}: no {interrupt}"
        page.write_text(text.replace(interrupt, f'{interrupt}\n<script src="../{PRESTART_SCRIPT}"></script>', 1))


def add_start_indicator(out):
    (out / INDICATOR).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(CONFIG / "kernel-start-indicator.js", out / INDICATOR)
    for app in INDICATOR_APPS:
        page = out / app / "index.html"
        text, n = re.subn(r"</head>", f'  <script src="../{INDICATOR}" defer></script>\n</head>', page.read_text(),
                          count=1)
        assert n == 1, f"{page}: no </head>"
        page.write_text(text)


# ---- checks ------------------------------------------------------------------------------------------------------

def check_site(out):
    cfg = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = cfg["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["pyodideUrl"] == f"./{KERNEL_START}", kernel["pyodideUrl"]
    assert (out / KERNEL_START).is_file() and "const PRESTART = {" in (out / PRESTART_SCRIPT).read_text()
    assert kernel["disablePyPIFallback"] is True
    assert {"torch-js", "torch", "tqdm", *KERNEL_WHEELS} <= set(kernel["loadPyodideOptions"]["packages"])
    # the webgpu device loads its bridge from there by itself (torch_js/backends/webgpu/runtime.py)
    assert kernel["loadPyodideOptions"]["env"]["TORCH_JS_WEBGPU_BRIDGE"] == "../../../../js_bridge/webgpu/index.mjs"
    for url in kernel.get("pipliteUrls", []):
        assert not re.match(r"^[a-z]+://", url), f"off-site piplite URL {url}"
    lock_dir = out / "static" / "pyodide"
    lock = json.loads((lock_dir / "pyodide-lock.json").read_text())
    for name, entry in lock["packages"].items():
        f = lock_dir / entry["file_name"]
        assert f.exists(), f"lock entry {name}: {f} missing"
        assert sha256(f) == entry["sha256"], f"lock entry {name}: sha256 mismatch"
    all_json = json.loads((out / "pypi" / "all.json").read_text())
    for name in ("comm", "ipython-pygments-lexers", "torch-js", "torch", "tqdm"):
        assert any(canon(k) == name for k in all_json), f"piplite index lacks {name}"
    for nb in (out / "files").glob("*.ipynb"):
        json.loads(nb.read_text())
    for app in INDICATOR_APPS:
        assert INDICATOR in (out / app / "index.html").read_text(), f"{app}/index.html lacks the start indicator"
    assert "importScripts(\"./" + JUPYTERLITE_SW in (out / "service-worker.js").read_text()
    assert (out / JUPYTERLITE_SW).is_file() and "/api/drive" in (out / JUPYTERLITE_SW).read_text()
    for page in isolation_pages(out):
        assert ISOLATION_SCRIPT in page.read_text(), f"{page} lacks {ISOLATION_SCRIPT}"
    entries = list((out / KERNEL_WORKER_DIR).glob(f"{INTERRUPT_WORKER_PREFIX}comlink.worker.*.js"))
    assert len(entries) == 1 and "prestart({" in entries[0].read_text(), entries
    for app in INDICATOR_APPS:
        for script in (INTERRUPT_SCRIPT, PRESTART_SCRIPT):
            assert script in (out / app / "index.html").read_text(), f"{app}/index.html lacks {script}"
    for p in (out / "embed" / "embed.js", out / "embed" / "demo.html", out / "js_bridge" / "webgpu" / "index.mjs",
              out / "js_bridge" / "torch.mjs", out / "examples" / "torch_mjs" / "index.html",
              *(out / "embed" / page for page in EMBED_PAGES)):
        assert p.exists(), f"{p} missing"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=str(REPO / "_output"))
    ap.add_argument("--wheel", default=None, help="torch_js wheel (default: newest dist/torch_js-*.whl)")
    ap.add_argument("--no-build", action="store_true", help="skip the build (use with --bundle)")
    ap.add_argument("--bundle", default=None, help="also zip the site into this file")
    ap.add_argument("--force", action="store_true", help="a full build even if the inputs are unchanged")
    args = ap.parse_args()
    out = Path(args.output).resolve()
    with one_build_at_a_time():
        if not args.no_build:
            build(args, out)
        if args.bundle:
            bundle(out, Path(args.bundle).resolve())


@contextlib.contextmanager
def one_build_at_a_time():
    """An exclusive lock on build/site.lock: two builds at once would share build/site/ and _output.new/ (and a
    bundle would zip a folder being swapped), so a second `make site` / `make bundle` waits for the first."""
    BUILD.parent.mkdir(parents=True, exist_ok=True)
    with open(BUILD.parent / "site.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another site build to finish (build/site.lock)")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


BUNDLE_README = """torch_js in JupyterLite: an offline Python + PyTorch-style notebook site
=========================================================================

Everything runs in the browser (Pyodide, WebAssembly); nothing is installed and, once the pages are loaded,
nothing is fetched from the internet. Browsers refuse to run it from file:// pages, so serve this folder
with any static web server, for example from inside this folder:

    python3 serve.py                      (then open the URL it prints)
    python3 -m http.server 8000 --bind 127.0.0.1

and open http://127.0.0.1:8000/ (notebooks: http://127.0.0.1:8000/tree/index.html).
serve.py sets the MIME types itself, which helps on Windows, where the registry sometimes maps .js to text/plain
and `python -m http.server` then serves JavaScript that browsers refuse to run.
serve.py also sends the cross-origin isolation headers (COOP/COEP), which give the notebooks SharedArrayBuffer:
CPU threads and a working Interrupt button. Served without them (`python -m http.server`, most web hosts), each
page installs the site's service worker and reloads itself once to get the same; that needs a secure address
(https://, or http://127.0.0.1 / localhost) and a browser window that allows service workers.

In a notebook, `import torch` gives torch_js (PyTorch code runs unchanged); `import torch_js` works too.
Notebooks edited in the browser are saved in that browser's storage, not in this folder.
Built from: {info}
"""


def bundle(out, zip_path):
    """One zip, one top folder: what a teacher unpacks and serves with any static server."""
    if not (out / "jupyter-lite.json").is_file():
        raise SystemExit(f"build_site: {out} is not a built site (run `make site`)")
    root = zip_path.stem
    info = (out / "build-info.json").read_text().strip() if (out / "build-info.json").exists() else "?"
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for f in sorted(p for p in out.rglob("*") if p.is_file() and p.name != INPUTS_RECORD):
            z.write(f, f"{root}/{f.relative_to(out).as_posix()}")
        z.writestr(f"{root}/README.txt", BUNDLE_README.format(info=" ".join(info.split())))
        z.write(REPO / "tools" / "serve_site.py", f"{root}/serve.py")
    tmp.replace(zip_path)
    log(f"bundle {zip_path.relative_to(REPO) if zip_path.is_relative_to(REPO) else zip_path}: "
        f"{zip_path.stat().st_size / 1e6:.1f} MB")


# ---- what to rebuild ----------------------------------------------------------------------------------------------

def inputs_key(torch_wheel):
    """A digest of everything the site is built from except the torch_js wheel's bytes (its name is in)."""
    h = hashlib.sha256(f"{torch_wheel.name}\n".encode())
    for tool in SITE_TOOLS:
        h.update(f"{tool}=={_version(tool)}\n".encode())
    for top in SITE_INPUTS:
        root = REPO / top
        for f in sorted(root.rglob("*")) if root.is_dir() else [root]:
            rel = f.relative_to(REPO).as_posix()
            if not f.is_file() or SKIP_INPUT.search(rel):
                continue
            st = f.stat()
            what = f"{st.st_size}:{st.st_mtime_ns}" if st.st_size > (4 << 20) else sha256(f)
            h.update(f"{rel}\0{what}\n".encode())
    return h.hexdigest()


def patch_wheel(out, torch_wheel):
    """Only the torch_js wheel's bytes changed: put it into the built site in place, with the hashes that name it
    (the Pyodide lock, the piplite index, and jupyter-lite.json's link to that index)."""
    lock_dir = out / "static" / "pyodide"
    lock = json.loads((lock_dir / "pyodide-lock.json").read_text())
    entry = lock["packages"]["torch-js"]
    compiled = with_bytecode([torch_wheel])[torch_wheel]
    assert entry["file_name"] == compiled.name, (entry["file_name"], compiled.name)
    shutil.copy2(compiled, lock_dir / compiled.name)
    entry["sha256"] = sha256(compiled)
    (lock_dir / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")

    shutil.copy2(torch_wheel, out / "pypi" / torch_wheel.name)
    index = json.loads((out / "pypi" / "all.json").read_text())
    files = [f for project in index.values() for release in project["releases"].values() for f in release
             if f["filename"] == torch_wheel.name]
    assert len(files) == 1, files
    md5 = hashlib.md5(torch_wheel.read_bytes()).hexdigest()
    files[0].update(digests={"md5": md5, "sha256": sha256(torch_wheel)}, md5_digest=md5,
                    size=torch_wheel.stat().st_size)
    (out / "pypi" / "all.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    config = out / "jupyter-lite.json"
    text, n = re.subn(r"(\./pypi/all\.json\?sha256=)[0-9a-f]+", lambda m: m.group(1) + sha256(out / "pypi" / "all.json"),
                      config.read_text())
    assert n == 1, "jupyter-lite.json: no link to ./pypi/all.json"
    config.write_text(text)
    check_site(out)


def build(args, out):
    t0 = time.time()
    wheels = sorted(glob.glob(str(REPO / "dist" / "torch_js-*.whl")), key=os.path.getmtime)
    torch_wheel = Path(args.wheel or (wheels[-1] if wheels else ""))
    if not torch_wheel.is_file():
        raise SystemExit("build_site: no torch_js wheel: run `make wheel` first")
    if not (NPM_PYODIDE / "pyodide.mjs").exists():
        raise SystemExit("build_site: node_modules/pyodide missing: run `make setup` (npm install)")
    where = out.relative_to(REPO) if out.is_relative_to(REPO) else out
    record = {"inputs": inputs_key(torch_wheel), "torch_js_wheel_sha256": sha256(torch_wheel)}
    try:
        built = json.loads((out / INPUTS_RECORD).read_text())
    except (OSError, ValueError):
        built = {}
    if not args.force and built.get("inputs") == record["inputs"]:
        if built != record:
            patch_wheel(out, torch_wheel)
            (out / INPUTS_RECORD).write_text(json.dumps(record) + "\n")
            log(f"{where}: the torch_js wheel patched in ({time.time() - t0:.1f} s)")
        else:
            log(f"{where} is up to date ({time.time() - t0:.1f} s)")
        return
    # A full build into a new folder, then swapped in: never an empty or half-built folder where one is served.
    new, old = out.with_name(out.name + ".new"), out.with_name(out.name + ".old")
    build_full(torch_wheel, new)
    (new / INPUTS_RECORD).write_text(json.dumps(record) + "\n")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        # what later steps added to the site (tools/site_models.py's models/): moved over, they keep it up to date
        for extra in sorted(set(p.name for p in out.iterdir()) - set(p.name for p in new.iterdir())):
            (out / extra).rename(new / extra)
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    log(f"site in {where}: {size / 1e6:.1f} MB, built in {time.time() - t0:.0f} s")


def build_full(torch_wheel, out):
    # 1. pinned downloads (pip keeps files whose hash matches)
    site_wheels = pip_download(CONFIG / "pyodide-site-wheels.txt", DOWNLOADS / "pyodide",
                               ["--python-version", "3.14", "--platform", "any", "--implementation", "py",
                                "--abi", "none"])
    data_wheels = pip_download(CONFIG / "build-data.txt", DOWNLOADS / "data",
                               ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                                "--platform", "manylinux_2_28_x86_64"])

    # clean state
    for d in (BUILD, out):
        if d.exists():
            shutil.rmtree(d)
    lite = BUILD / "lite"
    lite.mkdir(parents=True)
    core_lock = json.loads((NPM_PYODIDE / "pyodide-lock.json").read_text())["packages"]
    shim_wheels = build_shims(BUILD / "torch-shim")
    piplite_wheels = [w for n, w in site_wheels.items() if n not in core_lock] + [torch_wheel, *shim_wheels.values()]

    # 2. Pyodide core (+ torch_js and the torch shim) as the lite dir's well-known static/pyodide
    npm_version = stage_pyodide(lite / "static" / "pyodide", site_wheels,
                                {"torch-js": torch_wheel, **shim_wheels, **kernel_wheels()})

    # 3. config + piplite wheels (the piplite addon indexes every wheel in <lite_dir>/pypi/)
    for name in ("jupyter-lite.json", "jupyter_lite_config.json"):
        shutil.copy2(CONFIG / name, lite / name)
    (lite / "pypi").mkdir()
    for w in piplite_wheels:
        shutil.copy2(w, lite / "pypi" / w.name)

    # 4. content
    content = BUILD / "content"
    shutil.copytree(REPO / "content", content, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    make_data(data_wheels["scikit-learn"], content / "data")

    # 5. jupyter lite build
    jupyter = PY.parent / "jupyter"
    env = dict(os.environ)
    env.pop("JUPYTERLITE_PYODIDE_URL", None)
    cmd = [str(jupyter), "lite", "build", "--lite-dir", str(lite), "--output-dir", str(out),
           "--contents", str(content), "--no-sourcemaps"]
    log(" ".join(cmd[1:]))
    r = subprocess.run(cmd, cwd=lite, env=env, capture_output=True, text=True)
    if r.returncode:
        sys.stdout.write(r.stdout[-6000:])
        sys.stderr.write(r.stderr[-6000:])
        raise SystemExit(f"build_site: jupyter lite build failed ({r.returncode})")

    add_start_indicator(out)
    embed = out / "embed"
    embed.mkdir()
    shutil.copy2(REPO / "js_bridge" / "embed.js", embed / "embed.js")
    shutil.copy2(REPO / "js_bridge" / "embed_demo.html", embed / "demo.html")
    for page in EMBED_PAGES:   # the Quarto and MyST/Jupyter Book examples, beside embed.js as on a blog
        shutil.copy2(REPO / "docs" / "embeds" / page, embed / page)
    shutil.copytree(REPO / "js_bridge" / "webgpu", out / "js_bridge" / "webgpu",
                    ignore=shutil.ignore_patterns("_t[0-9]*.mjs", "__pycache__"))
    # torch.mjs and its docs and example pages (they load torch_js from static/pyodide/: examples/torch_mjs/engine.mjs)
    for name in TORCH_MJS:
        shutil.copy2(REPO / "js_bridge" / name, out / "js_bridge" / name)
    shutil.copytree(REPO / "examples" / "torch_mjs", out / "examples" / "torch_mjs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    add_kernel_interrupt(out)
    add_kernel_prestart(out)
    add_isolation(out)
    (out / "build-info.json").write_text(json.dumps({
        "torch_js_wheel": torch_wheel.name, "pyodide": npm_version,
        "jupyterlite-core": _version("jupyterlite-core"),
        "jupyterlite-pyodide-kernel": _version("jupyterlite-pyodide-kernel"),
    }, indent=1) + "\n")

    # 6. checks
    check_site(out)


def _version(dist):
    import importlib.metadata
    return importlib.metadata.version(dist)


if __name__ == "__main__":
    main()
