"""The CPU kernels' thread counts: torch.set_num_threads / get_num_threads / set_num_interop_threads.

Intra-op threads. The native kernel library (CPython) keeps a small pool of pthreads (wasm_ext/threads.c); the
count set here is written into the library's global `tjs_num_threads` and read by each kernel that splits its
work. So far that is tjs_gemm (matmul, bmm, linear, and convolution through im2col): with n > 1 threads a product
is cut into about 2n tiles (rectangles of C, none under ~1M multiply-adds) that the workers take in turn; every
tile computes its elements exactly as the one-thread call does, so results are bit-identical whatever the count. The
default is the machine's cores (os.sched_getaffinity / os.cpu_count; in Pyodide os.availableParallelism in Node,
navigator.hardwareConcurrency in a browser), capped at DEFAULT_CAP; set_num_threads itself takes any positive count,
as PyTorch's does. Pyodide: see "Threads in Pyodide" below.

Inter-op threads: torch_js runs no inter-op pool (torch.jit.fork runs its function at once), so the count is kept
for PyTorch's semantics only: it can be set once, and a second set raises as PyTorch does.

Threads in Pyodide (backends/cpu/wasm_threads.py). Pyodide 314 is built without pthreads: its memory is not
shared, so no other worker can read the tensors where they live. A matrix product large enough to be cut into tiles is
copied into a shared WebAssembly.Memory, computed there by a second build of the gemm kernel (mk/wasm_threads.mk,
threads.c's TJS_WASM_SHARED pool) instantiated on Pyodide's thread and in n - 1 workers (wasm_pool.js: worker_threads in
Node, Web Workers in a browser), and copied back; same tiling as natively, so the same bits for any count. Pyodide
runs in a worker (browser) or on Node's main thread, where Atomics.wait is allowed, so no page's main thread blocks.
The workers start at the first such product and join as they come up (in a browser, once Pyodide's worker returns to
its event loop). SharedArrayBuffer needs cross-origin isolation (COOP/COEP headers): without it, or with Pyodide on a
page's main thread, get_num_threads() is 1 and torch_js says why once (a RuntimeWarning). Large float32 maps of
vec_math.h (GELU, exp, tanh, sigmoid, ...), softmax, layer norm and scaled-dot-product attention go the same way
(wasm_ext/pool/: the side module's own lane code, Pyodide's expf bit for bit, the layer norm composite's steps, the
attention composite's products, mask and softmax: the same bits), and operands seen again unchanged (weights) stay in
the shared memory (wasm_resident.py). Other kernels (other elementwise ops,
reductions, other norms) run on Pyodide's thread.
"""
import ctypes
import os
import warnings

from . import library, wasm_threads

DEFAULT_CAP = 16


def machine_cores():
    """The cores this process may run on: its CPU affinity natively; in Pyodide what the JS side reports
    (wasm_pool.js: os.availableParallelism in Node, navigator.hardwareConcurrency in a browser)."""
    if library.IN_PYODIDE:
        try:
            return wasm_threads.machine_cores()
        except Exception:   # the pool's script could not run: the browser's own count
            pass
        try:
            import js  # type: ignore  (exists only in Pyodide)
            n = int(getattr(getattr(js, "navigator", None), "hardwareConcurrency", 0) or 0)
        except (ImportError, TypeError, ValueError):
            n = 0
        return max(n, 1)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def _library_count():
    """The library's tjs_num_threads, or None for a library built before it had one."""
    try:
        return ctypes.c_int32.in_dll(library.lib, "tjs_num_threads")
    except (ValueError, AttributeError):
        return None


_LIB_COUNT = _library_count()
_state = {"intra": 0, "interop": 0, "interop_set": False, "warned": False}


def _checked(fn, n):
    if type(n) is not int:
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer")
    return n


def _single_in_pyodide(n):
    """n, or 1 where Pyodide cannot run threads (saying why, once)."""
    if n > 1 and library.IN_PYODIDE and not wasm_threads.available():
        if not _state["warned"]:
            _state["warned"] = True
            warnings.warn(f"torch_js: {wasm_threads.one_thread_message()}", RuntimeWarning, stacklevel=3)
        return 1
    return n


def _apply(n):
    n = _single_in_pyodide(n)
    _state["intra"] = n
    if library.IN_PYODIDE:
        wasm_threads.set_threads(n)
    if _LIB_COUNT is not None:
        with library.KERNEL_LOCK:   # never while a kernel runs
            _LIB_COUNT.value = min(n, 2 ** 31 - 1)


def get_num_threads():
    return _state["intra"]


def set_num_threads(n):
    _apply(_checked("set_num_threads", n))


def get_num_interop_threads():
    return _state["interop"]


def set_num_interop_threads(n):
    _checked("set_num_interop_threads", n)
    if _state["interop_set"]:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _state["interop"], _state["interop_set"] = n, True


_DEFAULT = min(machine_cores(), DEFAULT_CAP)
_apply(_DEFAULT)
_state["interop"] = _DEFAULT
