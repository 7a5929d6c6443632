"""The CPU kernels' thread counts: torch.set_num_threads / get_num_threads / set_num_interop_threads.

Intra-op threads. The native kernel library (CPython) keeps a small pool of pthreads (wasm_ext/threads.c); the
count set here is written into the library's global `tjs_num_threads` and read by each kernel that splits its
work. So far that is tjs_gemm (matmul, bmm, linear, and convolution through im2col): with n > 1 threads a product
is cut into about 2n tiles (rectangles of C, none under ~1M multiply-adds) that the workers take in turn; every
tile computes its elements exactly as the one-thread call does, so results are bit-identical whatever the count. The default is the machine's cores (os.sched_getaffinity / os.cpu_count;
in Pyodide navigator.hardwareConcurrency), capped at DEFAULT_CAP; set_num_threads itself takes any positive count,
as PyTorch's does. The wasm32 build runs every kernel on the calling thread for now (see below).

Inter-op threads: torch_js runs no inter-op pool (torch.jit.fork runs its function at once), so the count is kept
for PyTorch's semantics only: it can be set once, and a second set raises as PyTorch does.

Design for threads in the wasm build (not implemented yet). Pyodide 314 is built without pthreads: the memory
pyodide.asm.wasm defines and exports is not shared (its memory section has no shared flag), so no other worker
can read the tensors where they live. The plan:
- a second instance of the kernel module (libtjs_wasm32*.wasm built as a standalone module with
  -matomics -mbulk-memory and an imported *shared* WebAssembly.Memory), instantiated once in each of N Web Workers
  (worker_threads in Node) and once in Pyodide's own worker, all over one shared memory that holds the kernels'
  argument block, packing buffers and a staging area;
- large ops only (a tjs_gemm of more than one tile, conv via im2col, attention, big elementwise/reductions): the
  Python side copies the operands into the shared memory, posts the tile range through an Int32Array of flags, runs
  tiles itself and blocks with Atomics.wait until the workers' counter reaches the end, then copies the result
  back. Pyodide runs in a worker (browser) or in Node's main thread (Atomics.wait is allowed in both), so the page's
  main thread never blocks. The copies are O(inputs + output) against O(M·N·K) work, which is why only large ops
  go there; the tiling is tjs_gemm's, so results equal the single-threaded ones bit for bit;
- SharedArrayBuffer needs cross-origin isolation (COOP/COEP headers or the service-worker shim): without it
  get_num_threads() falls back to 1 and torch_js says so once.
"""
import ctypes
import os

from . import library

DEFAULT_CAP = 16


def machine_cores():
    """The cores this process may run on: its CPU affinity natively, navigator.hardwareConcurrency in Pyodide (1 in
    Node 20, which has no navigator and gives a module no synchronous way to os.availableParallelism)."""
    if library.IN_PYODIDE:
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
_state = {"intra": 0, "interop": 0, "interop_set": False}


def _checked(fn, n):
    if type(n) is not int:
        raise RuntimeError(f"{fn} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{fn} expects a positive integer")
    return n


def _apply(n):
    _state["intra"] = n
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
