"""The WebGPU bridge handle: finding the JS bridge, creating the device (once), attaching the argument block,
and mapping the bridge's errors to PyTorch's exceptions.

The JS side (js_bridge/webgpu/index.mjs) defines `globalThis.torchJsWebGPUInit` (or an initialised
`torchJsWebGPU`). A host that has not loaded it can name it instead: TORCH_JS_WEBGPU_BRIDGE (os.environ, e.g.
loadPyodide's `env`, as the JupyterLite site sets it) is the URL of index.mjs, absolute or relative to the page or
worker running Pyodide, and init() imports it on first use. `js`, `pyodide` and `pyodide_js` exist only in Pyodide: they are imported inside the functions
that run there, so this module (and the backend) import in plain CPython.
"""
import ctypes
import json
import os
import sys

from ... import _dtype as D
from ..._storage import WEBGPU_UNAVAILABLE
from ..interface import KernelIndexError

IN_PYODIDE = sys.platform == "emscripten"
ARG_BYTES = 8192

bridge = None           # the JS Bridge, once initialised
run = None              # bridge.run: packs nothing, reads the argument block
init_error = None       # why creating the device failed, if it did
UNARY_OPS = BINARY_OPS = REDUCE_OPS = LINALG_OPS = None   # op name -> the bridge's op index
ARGS = (ctypes.c_char * ARG_BYTES)()   # the argument block, in the wasm heap (Python-owned)
# Buffer allocations and releases, applied by the bridge before its next call (index.mjs _drain): int32 [count,
# (id, nbytes) * QUEUE_ENTRIES], nbytes -1 for a release. Python numbers its buffers (odd ids; the bridge's own are
# even), so a tensor's birth and death cost no call into JS.
QUEUE_ENTRIES = 1024
QUEUE = (ctypes.c_int32 * (1 + 2 * QUEUE_ENTRIES))()
_Q = memoryview(QUEUE).cast("B").cast("i")   # the same words, written through (cheaper per item than ctypes)
_next_id = [1]
capturing = None        # the torch_js.webgpu.Graph being captured (_webgpu_graph.py), if any
# while torch.compile(mode="reduce-overhead") captures (_dynamo/graph_replay.py): a list that captured code adds
# checks to, functions that say whether a host value frozen into the graph (an optimizer's lr) is still current
capture_guards = None


def _js():
    import js  # type: ignore  (exists only in Pyodide)
    return js


BRIDGE_URL_ENV = "TORCH_JS_WEBGPU_BRIDGE"


def _bridge_loaded():
    js = _js()
    return getattr(js, "torchJsWebGPU", None) is not None or getattr(js, "torchJsWebGPUInit", None) is not None


def host_has_bridge():
    """True when the host loaded js_bridge/webgpu or named its URL in TORCH_JS_WEBGPU_BRIDGE (Pyodide only)."""
    if not IN_PYODIDE:
        return False
    return bool(os.environ.get(BRIDGE_URL_ENV)) or _bridge_loaded()


async def _load_bridge():
    """Import index.mjs from TORCH_JS_WEBGPU_BRIDGE and run its installWebGPU() (what a loader cell used to do)."""
    js = _js()
    where = getattr(js, "location", None)   # the page or worker; Node has none (the URL must be absolute there)
    url = js.URL.new(os.environ[BRIDGE_URL_ENV], *([where.href] if where is not None else [])).href
    load = js.Function.new("url", "return import(url).then((m) => m.installWebGPU()).then(() => undefined)")
    try:
        await load(url)
    except Exception as e:
        raise RuntimeError(f"torch_js: could not load the WebGPU bridge from {url} ({e}); use device 'cpu'") from None


def _no_device_hint(error):
    """What to do, in one line, when creating the device failed."""
    js = _js()
    navigator = getattr(js, "navigator", None)
    if navigator is not None and getattr(navigator, "gpu", None) is None and getattr(js, "process", None) is None:
        return ("this browser has no WebGPU (navigator.gpu is missing): use a recent Chrome or Edge, or "
                "device 'cpu'")
    if "requestAdapter() returned null" in str(error):
        return "WebGPU found no adapter (GPU disabled or blocklisted: see chrome://gpu); use device 'cpu'"
    return f"{error}; use device 'cpu'"


def attach(b):
    """Bind an initialised bridge: hand it the wasm heap and the argument block, read its op tables."""
    global bridge, run, UNARY_OPS, BINARY_OPS, REDUCE_OPS, LINALG_OPS
    import pyodide_js  # type: ignore  (exists only in Pyodide)
    b.attach(pyodide_js._module)
    b.setArgBlock(ctypes.addressof(ARGS), ARG_BYTES)
    b.setQueue(ctypes.addressof(QUEUE), QUEUE_ENTRIES)
    names = json.loads(b.opNames())
    UNARY_OPS = {n: i for i, n in enumerate(names["unary"])}
    BINARY_OPS = {n: i for i, n in enumerate(names["binary"])}
    REDUCE_OPS = {n: i for i, n in enumerate(names["reduce"])}
    LINALG_OPS = {n: i for i, n in enumerate(names["linalg"])}
    if os.environ.get("TORCH_JS_WEBGPU_LAZY") == "0":   # lazy execution off (js_bridge/webgpu/lazy.mjs)
        b.setLazy(False)
    bridge = b
    run = b.run


def _queue(id_, nbytes):
    q = _Q
    n = q[0]
    if n == QUEUE_ENTRIES:
        bridge.applyQueue()
        n = 0
    q[1 + 2 * n] = id_
    q[2 + 2 * n] = nbytes
    q[0] = n + 1


def new_buffer(nbytes):
    """A buffer id for nbytes, queued for the bridge (the bridge must be attached)."""
    i = _next_id[0]
    if i >= 0x7fffffff:
        raise RuntimeError("torch_js webgpu: out of buffer ids (2**30 allocations in one session)")
    _next_id[0] = i + 2
    _queue(i, nbytes)
    return i


def release_buffer(id_):
    """Buffer id_ is no longer used by Python (queued; the bridge frees it once its pending work is done)."""
    _queue(id_, -1)


async def init():
    """Create the GPUDevice (once). Safe to call again."""
    global init_error
    if bridge is not None:
        return
    if init_error is not None:
        raise RuntimeError(f"torch_js: the webgpu device is not available: {init_error}")
    if not host_has_bridge():
        raise RuntimeError(WEBGPU_UNAVAILABLE)
    if not _bridge_loaded():
        await _load_bridge()
    js = _js()
    b = getattr(js, "torchJsWebGPU", None)
    try:
        if b is None:
            b = await js.torchJsWebGPUInit()
    except Exception as e:
        init_error = _no_device_hint(e)
        raise RuntimeError(f"torch_js: could not create the webgpu device: {init_error}") from None
    attach(b)


def init_sync():
    """First use without `await init()`: initialise through JSPI where we can suspend."""
    from pyodide.ffi import can_run_sync, run_sync  # type: ignore  (exists only in Pyodide)
    if not can_run_sync():
        raise RuntimeError("torch_js: the webgpu device is not initialised and cannot be initialised synchronously "
                           "here (no JSPI stack switching); run `await torch_js.webgpu.init()` first")
    error = run_sync(_init_returning_error())
    if error is not None:
        raise error


async def _init_returning_error():
    # the task run_sync waits on must not fail: the event loop would report its exception a second time, as an
    # error output of the cell, even when the caller catches the one raised here
    try:
        await init()
    except RuntimeError as e:
        return e
    return None


def ensure():
    """The bridge, initialising it on first use."""
    if bridge is None:
        init_sync()
    return bridge


def read_error(e):
    """Map a JS rejection from a readback to PyTorch's exception."""
    msg = str(e)
    i = msg.find("TJS_INDEX_ERROR ")
    if i >= 0:
        idx, size = msg[i + 16:].split()[:2]
        return KernelIndexError(int(idx), int(size))
    return RuntimeError(msg)


def fail(rc, what, dtypes):
    """Raise for bridge.run()'s non-zero status (1 dtype not supported, 2 unknown op, else other)."""
    msg = bridge.lastError
    if rc == 1:
        names = ", ".join(sorted({d.name for d in dtypes}))
        if D.float64 in dtypes:
            raise TypeError(f"torch_js: {what} on the webgpu device does not support float64 (WGSL has no 64-bit "
                            "floats). Please use float32 instead.")
        raise TypeError(f"torch_js: {what} is not implemented on the webgpu device for dtype {names}")
    if rc == 2:
        raise NotImplementedError(f"torch_js: {what} is not implemented on the webgpu device ({msg})")
    raise RuntimeError(f"torch_js webgpu: {what} failed: {msg}")


def refuse_while_capturing(what):
    """Raise for work a graph cannot capture (readbacks, uploads, synchronize): replay runs no Python, so it
    could neither deliver host values nor take new ones (as CUDA's "operation not permitted when stream is
    capturing")."""
    if capturing is not None:
        raise RuntimeError(f"torch_js webgpu: {what} is not permitted while a graph is being captured "
                           "(torch_js.webgpu.graph): it cannot be captured, since replay() runs no Python. Do it "
                           "before capture_begin() or after capture_end()")
