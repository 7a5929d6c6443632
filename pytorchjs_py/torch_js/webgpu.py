"""torch_js.webgpu: the WebGPU device, as torch.cuda / torch.mps for theirs.

    import torch_js as torch
    await torch.webgpu.init()          # optional where JSPI works: first use initialises it
    x = torch.ones(4).to("webgpu")
    y = (x + x).cpu()                  # sync readback (JSPI); or: await (x + x).cpu_async()

Elementwise ops are recorded and run fused at the next sync point (lazy execution, set_lazy); stats() and
counter() count the work that reaches the GPU.

The JS side (js_bridge/webgpu/index.mjs) defines `globalThis.torchJsWebGPUInit`, which creates the GPUDevice on
demand. A host loads it into the page or runner first (js_bridge/pyodide_check.mjs in Node), or names its URL in
TORCH_JS_WEBGPU_BRIDGE and init() imports it on first use (the JupyterLite site and embeds do: no loader cell).
adapter_name() and is_software_adapter() describe the adapter; torch.accelerator counts only a hardware one.
In plain CPython nothing here touches `js`: is_available() is False and the device raises, saying what it needs.
"""
import json
import os
import re

from ._storage import CPU, device as _device
from ._tensor import Tensor, _make
from ._webgpu_graph import Graph, graph, is_current_stream_capturing, make_graphed_callables  # noqa: F401
from .backends.webgpu import BACKEND as _BACKEND
from .backends.webgpu import runtime as _rt

init = _rt.init                 # async: create the GPUDevice (once)
_init_sync = _rt.init_sync      # first use without `await init()` (JSPI); tests and benches call it


def is_available():
    """True when the host loaded the WebGPU bridge (and creating the device has not failed)."""
    return _rt.init_error is None and _rt.host_has_bridge()


def is_initialized():
    return _rt.bridge is not None


def synchronize():
    """Wait for every queued kernel; raises a deferred IndexError from an earlier indexing kernel."""
    from pyodide.ffi import run_sync  # type: ignore  (exists only in Pyodide)
    _rt.refuse_while_capturing("torch_js.webgpu.synchronize()")
    try:
        run_sync(_rt.ensure().synchronize())
    except Exception as e:
        raise _rt.read_error(e) from None


async def synchronize_async():
    _rt.refuse_while_capturing("torch_js.webgpu.synchronize_async()")
    try:
        await _rt.ensure().synchronize()
    except Exception as e:
        raise _rt.read_error(e) from None


# the bridge's work counters (js_bridge/webgpu/dispatch.mjs newCounts, lazy.mjs), in the order stats() lists them
COUNTERS = ("dispatches", "submits", "readbacks", "syncs", "compiles", "bytes_uploaded", "bytes_read",
            "bridge_us", "wait_us", "encode_us", "buffers_created", "bind_groups_created", "recorded", "fused_kernels",
            "fused_nodes", "stores_skipped", "dead_skipped", "flushes", "flush_us", "plan_us", "plan_hits")


def stats():
    """The work the bridge sent to the GPU since start or reset_stats(): kernel dispatches, queue submits,
    readbacks (.item(), .cpu(), print...), syncs (synchronize() with no readback), pipeline compiles, and bytes
    uploaded / read back; the host time (µs) spent in the bridge's op calls (bridge_us), waiting for the GPU
    (wait_us) and recording dispatches into command buffers (encode_us); the GPU buffers and bind groups
    created (not taken from the pool or cache); under lazy execution also the
    elementwise ops recorded, the fused kernels run and the ops they held, the values never written to memory
    (intermediates nobody held), and the flushes of recorded work with their host time (flush_us, part of
    bridge_us when an op caused them; of it plan_us: choosing what to fuse, the rest encoding the kernels; plan_hits:
    flushes that took the plan of an earlier flush with the same structure instead of planning).
    Pending (recorded, not yet dispatched) work is not counted until it is dispatched."""
    if _rt.bridge is None:
        return dict.fromkeys(COUNTERS, 0)
    return json.loads(_rt.bridge.counts(False))


def reset_stats():
    """Zero the counters of stats()."""
    if _rt.bridge is not None:
        _rt.bridge.counts(True)


class counter:
    """`with torch_js.webgpu.counter() as c: ...` counts the work of the block: afterwards c["dispatches"],
    c["submits"], ... (the keys of stats()) hold what the block added. Leaving the block dispatches the work it
    recorded and left pending (no wait for the GPU), so that it is counted in this block, not the next.
    With kernels=True, c.kernels lists the kernel (pipeline key) of every dispatch, in order: where they go.
    With timing=True the GPU time of every kernel is measured too (timestamp queries; each dispatch then runs in a
    pass of its own, so the block runs slower than it would): c.kernel_times lists (kernel, dispatches, GPU ms),
    slowest first, and c.table() prints them. Leaving a timed block waits for the GPU (JSPI, as a readback)."""

    def __init__(self, kernels=False, timing=False):
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.kernels = [] if kernels else None
        self.kernel_times = [] if timing else None
        self._start = None

    def __enter__(self):
        if self.kernels is not None or self.kernel_times is not None:
            flush()
        if self.kernels is not None:
            _rt.ensure().logKernels(True)
        if self.kernel_times is not None and not _rt.ensure().startTiming():
            raise RuntimeError("torch_js.webgpu.counter(timing=True): this adapter has no 'timestamp-query' "
                               "feature, so kernels cannot be timed on the GPU")
        self._start = stats()
        return self

    def __exit__(self, *exc):
        flush()
        end = stats()
        self.counts = {k: end.get(k, 0) - self._start.get(k, 0) for k in end}
        if self.kernels is not None:
            self.kernels = json.loads(_rt.bridge.logKernels(False))
        if self.kernel_times is not None:
            from pyodide.ffi import run_sync  # type: ignore  (exists only in Pyodide)
            rows = json.loads(run_sync(_rt.bridge.stopTiming()))
            self.kernel_times = sorted(((key, n, ns / 1e6) for key, n, ns in rows), key=lambda r: -r[2])
        return False

    def table(self, row_limit=20):
        """The timed kernels as a table, slowest first: a short name (family and fused ops), dispatches, GPU
        total and mean, share of the block's GPU time; the full pipeline keys are in kernel_times."""
        if self.kernel_times is None:
            raise RuntimeError("counter.table() needs counter(timing=True)")
        total = sum(ms for _, _, ms in self.kernel_times) or 1.0
        lines = [f"{'kernel':<48} {'calls':>6} {'GPU total':>11} {'GPU avg':>10} {'%':>6}"]
        for key, n, ms in self.kernel_times[:row_limit]:
            lines.append(f"{kernel_name(key)[:48]:<48} {n:>6} {ms:>8.3f} ms {ms * 1e3 / n:>7.1f} us "
                         f"{100 * ms / total:>5.1f}%")
        lines.append(f"{'total':<48} {sum(n for _, n, _ in self.kernel_times):>6} {total:>8.3f} ms")
        return "\n".join(lines)

    def __getitem__(self, key):
        return self.counts[key]

    def __repr__(self):
        return "counter(" + ", ".join(f"{k}={v}" for k, v in self.counts.items()) + ")"


def kernel_name(key):
    """A readable name for a pipeline key: its family and variant, then the ops a fused kernel holds."""
    head = key.split("|", 1)[0]
    ops = list(dict.fromkeys(re.findall(r"(?:unary|binary|reduced):(\w+)", key)))
    return head + (f" [{'+'.join(ops)}]" if ops else "")


def flush():
    """Dispatch the recorded work that is still pending (lazy mode); does not wait for the GPU."""
    if _rt.bridge is not None:
        _rt.bridge.flush()


def set_lazy(enabled):
    """Lazy execution on or off; returns the previous setting. On (the default; TORCH_JS_WEBGPU_LAZY=0 turns it
    off at start), elementwise ops are recorded and run fused at the next sync point: a readback, a kernel that
    is not elementwise, synchronize() or flush() (js_bridge/webgpu/lazy.mjs). Off, every op dispatches its own
    kernel when called. Results are the same either way, up to float rounding of fused float16/bfloat16 chains."""
    return bool(_rt.ensure().setLazy(bool(enabled)))


def set_plan_cache(enabled):
    """Keeping flush plans on or off; returns the previous setting. On (the default; TORCH_JS_WEBGPU_PLAN_CACHE=0
    turns it off at start), a flush whose recorded ops have the structure of an earlier one (the same step of a
    loop: same ops, shapes and views, other buffers and scalar values) runs that flush's fusion plan instead of
    planning again (js_bridge/webgpu/lazy_plans.mjs; stats()["plan_hits"] counts them). Results are the same
    either way."""
    return bool(_rt.ensure().setPlanCache(bool(enabled)))


def lazy_enabled():
    """Whether elementwise ops are recorded lazily (see set_lazy)."""
    if _rt.bridge is None:
        return os.environ.get("TORCH_JS_WEBGPU_LAZY") != "0"
    return bool(_rt.bridge.lazyEnabled())


def memory_stats():
    """Bytes held by live tensors ('allocated'), by GPU buffers incl. the pool ('reserved'), pool size, counts."""
    if _rt.bridge is None:
        return {"allocated": 0, "reserved": 0, "pooled": 0, "live": 0, "dispatches": 0, "pipelines": 0}
    return json.loads(_rt.bridge.stats())


def memory_allocated():
    return memory_stats()["allocated"]


def memory_reserved():
    return memory_stats()["reserved"]


def empty_cache():
    """Destroy pooled (freed) GPU buffers."""
    if _rt.bridge is not None:
        _rt.bridge.emptyCache()


def device_info():
    return json.loads(_rt.ensure().info())


# adapters that run on the CPU: WebGPU on them is slower than torch_js's WebAssembly kernels
_SOFTWARE_ADAPTERS = ("swiftshader", "llvmpipe", "lavapipe", "softpipe", "microsoft basic render")


def adapter_name(info=None):
    """The adapter in a few words (vendor, architecture, description), from device_info()."""
    info = device_info() if info is None else info
    words = [info.get(k, "") for k in ("vendor", "architecture", "description") if info.get(k)]
    return " ".join(dict.fromkeys(words)) or "unnamed adapter"


def is_software_adapter(info=None):
    """True for a fallback (software) adapter: `isFallbackAdapter`, or a known software renderer's name."""
    info = device_info() if info is None else info
    if info.get("isFallbackAdapter"):
        return True
    text = " ".join(str(info.get(k, "")) for k in ("vendor", "architecture", "device", "description")).lower()
    return any(name in text for name in _SOFTWARE_ADAPTERS)


def unavailable_reason():
    """Why is_available() is False, in one line (None when it is True)."""
    if _rt.init_error is not None:
        return str(_rt.init_error)
    if not _rt.host_has_bridge():
        return "this runtime has no WebGPU bridge (torch_js in a browser or Node, in Pyodide, has one)"
    return None


# ---- async readback on Tensor (work everywhere, JSPI or not) ----------------------------------------------------

async def _cpu_async(self):
    """`await t.cpu_async()`: the tensor on CPU, without blocking (no JSPI needed)."""
    dev = self._storage.device
    if dev.type == "cpu":
        return self
    c = self.detach().contiguous()
    isz = c._dtype.itemsize
    data = await c._storage.backend.read_bytes_async(c._storage, c._offset * isz, c.numel() * isz)
    return _make(CPU.backend.from_bytes(data), c._shape, c._stride, 0, c._dtype)


async def _tolist_async(self):
    return (await _cpu_async(self)).tolist()


async def _item_async(self):
    return (await _cpu_async(self)).item()


def register_backend():
    """Register the webgpu device where the host has (or names) the bridge; True when it is registered. Runs at
    import, and again when "webgpu" is first asked for (the host may name the bridge after import)."""
    if "webgpu" not in _device._BACKENDS and _rt.host_has_bridge():
        _device._BACKENDS["webgpu"] = _BACKEND
    return "webgpu" in _device._BACKENDS


def _register():
    Tensor.cpu_async = _cpu_async
    Tensor.tolist_async = _tolist_async
    Tensor.item_async = _item_async
    _device._LATE_BACKENDS["webgpu"] = register_backend
    register_backend()


_register()
