"""The WebGPU backend package: backend.py (the primitives), runtime.py (the JS bridge handle and device
creation), bridge_abi.py (the argument block's layout, from which js_bridge/webgpu/abi.mjs is generated).

Importable in plain CPython (nothing here imports `js` or `pyodide` at module level); torch_js.webgpu
registers BACKEND for the "webgpu" device when the host has the bridge.
"""
from .backend import BACKEND, WEBGPU, WebGPUBackend, WebGPUStorage

__all__ = ["BACKEND", "WEBGPU", "WebGPUBackend", "WebGPUStorage"]
