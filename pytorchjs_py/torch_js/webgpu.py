"""torch_js.webgpu: the WebGPU device, as torch.cuda / torch.mps for theirs.

    import torch_js as torch
    await torch.webgpu.init()          # optional where JSPI works: first use initialises it
    x = torch.ones(4).to("webgpu")
    y = (x + x).cpu()                  # sync readback (JSPI); or: await (x + x).cpu_async()

The JS side (js_bridge/webgpu/index.mjs) must be loaded into the page or runner first: it defines
`globalThis.torchJsWebGPUInit`, which creates the GPUDevice on demand. In plain CPython nothing here touches
`js`: is_available() is False and the device raises as before.
"""
import sys

from ._storage import device as _device

_IN_PYODIDE = sys.platform == "emscripten"
_init_error = None


def _js():
    import js  # type: ignore
    return js


def _host_has_bridge():
    if not _IN_PYODIDE:
        return False
    js = _js()
    return getattr(js, "torchJsWebGPU", None) is not None or getattr(js, "torchJsWebGPUInit", None) is not None


def is_available():
    """True when the host loaded the WebGPU bridge (and creating the device has not failed)."""
    return _init_error is None and _host_has_bridge()


def is_initialized():
    from .backends import webgpu as _be
    return _be._bridge is not None


async def init():
    """Create the GPUDevice (once). Safe to call again."""
    global _init_error
    from .backends import webgpu as _be
    if _be._bridge is not None:
        return
    if not _host_has_bridge():
        raise RuntimeError("torch_js: the webgpu device is not available in this runtime (load js_bridge/webgpu "
                           "and call installWebGPU() before using it)")
    js = _js()
    bridge = getattr(js, "torchJsWebGPU", None)
    try:
        if bridge is None:
            bridge = await js.torchJsWebGPUInit()
    except Exception as e:
        _init_error = e
        raise RuntimeError(f"torch_js: could not create the webgpu device: {e}") from None
    _be.attach(bridge)


def _init_sync():
    """First use without `await init()`: initialise through JSPI where we can suspend."""
    from pyodide.ffi import can_run_sync, run_sync  # type: ignore
    if not can_run_sync():
        raise RuntimeError("torch_js: the webgpu device is not initialised and cannot be initialised synchronously "
                           "here (no JSPI stack switching); run `await torch_js.webgpu.init()` first")
    run_sync(init())


def _bridge():
    from .backends import webgpu as _be
    if _be._bridge is None:
        _init_sync()
    return _be._bridge


def synchronize():
    """Wait for every queued kernel; raises a deferred IndexError from an earlier indexing kernel."""
    from pyodide.ffi import run_sync  # type: ignore
    from .backends.webgpu import _read_error
    try:
        run_sync(_bridge().synchronize())
    except Exception as e:
        raise _read_error(e) from None


async def synchronize_async():
    from .backends.webgpu import _read_error
    try:
        await _bridge().synchronize()
    except Exception as e:
        raise _read_error(e) from None


def memory_stats():
    """Bytes held by live tensors ('allocated'), by GPU buffers incl. the pool ('reserved'), pool size, counts."""
    import json
    from .backends import webgpu as _be
    if _be._bridge is None:
        return {"allocated": 0, "reserved": 0, "pooled": 0, "live": 0, "dispatches": 0, "pipelines": 0}
    return json.loads(_be._bridge.stats())


def memory_allocated():
    return memory_stats()["allocated"]


def memory_reserved():
    return memory_stats()["reserved"]


def empty_cache():
    """Destroy pooled (freed) GPU buffers."""
    from .backends import webgpu as _be
    if _be._bridge is not None:
        _be._bridge.emptyCache()


def device_info():
    import json
    return json.loads(_bridge().info())


# ---- async readback on Tensor (work everywhere, JSPI or not) ----------------------------------------------------

async def _cpu_async(self):
    """`await t.cpu_async()`: the tensor on CPU, without blocking (no JSPI needed)."""
    from ._storage import CPU
    from ._tensor import _make
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


def _register():
    from ._tensor import Tensor
    Tensor.cpu_async = _cpu_async
    Tensor.tolist_async = _tolist_async
    Tensor.item_async = _item_async
    if _host_has_bridge():
        from .backends import webgpu as _be
        _device._BACKENDS["webgpu"] = _be.BACKEND


_register()
