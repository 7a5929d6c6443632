"""torch.__config__: how this torch_js runs, as PyTorch's show() and parallel_info() report it (the same layout, with
torch_js's own parts: its kernel library instead of MKL/OpenMP, and in a browser whether the page is cross-origin
isolated, which CPU threads there need)."""
import platform
import sys

from . import version
from .backends import _isolation
from .backends.cpu import library, threads, wasm_threads

__all__ = ["show", "parallel_info"]


def _kernels():
    if library.IN_PYODIDE:
        return "torch_js wasm_ext kernels (wasm32, Pyodide)"
    return f"torch_js wasm_ext kernels (native, {platform.machine() or 'unknown machine'})"


def show():
    """A human-readable description of this build of torch_js (PyTorch's torch.__config__.show())."""
    return (f"torch_js {version.torchjs} (PyTorch {version.torch_semantics} semantics) built with:\n"
            f"  - Python {platform.python_version()} ({sys.platform})\n"
            f"  - {_kernels()}\n"
            f"  - Build settings: TORCH_VERSION={version.__version__}, USE_CUDA=0, USE_MKL=OFF, USE_MKLDNN=OFF, "
            f"USE_OPENMP=OFF, USE_WEBGPU=ON\n")


def parallel_info():
    """The CPU parallelism settings (PyTorch's torch.__config__.parallel_info()): the intra-op and inter-op thread
    counts, the cores, and in a browser whether the page is cross-origin isolated (without it there is no
    SharedArrayBuffer, so the kernels run on one thread, and this says so in one line)."""
    return (f"ATen/Parallel:\n"
            f"\tat::get_num_threads() : {threads.get_num_threads()}\n"
            f"\tat::get_num_interop_threads() : {threads.get_num_interop_threads()}\n"
            f"{_kernels()}\n"
            f"std::thread::hardware_concurrency() : {threads.machine_cores()}\n"
            f"Cross-origin isolated : {_isolation.describe()}\n"
            f"ATen parallel backend: {_pool()}\n")


def _pool():
    """What splits a kernel's work: the pthread pool natively; in Pyodide the Web Worker (worker_threads) pool over
    shared memory, which takes large matrix products, float32 maps (GELU, exp, tanh, ...) and softmax, or why there is
    none."""
    if not library.IN_PYODIDE:
        return "native thread pool (pthreads: matrix products and convolutions)"
    if wasm_threads.available():
        return ("Web Worker pool over shared wasm memory (large matrix products and convolutions, large float32 "
                "GELU/exp/tanh/sigmoid/... maps and softmax)")
    return f"none ({wasm_threads.unavailable_reason()})"
