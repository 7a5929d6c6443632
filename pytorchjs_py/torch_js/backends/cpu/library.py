"""Loads the wasm_ext kernel library with ctypes: kernel handles, the argument block, error mapping.

The same module serves CPython (the gcc build) and Pyodide (the wasm32 side module). Arguments travel in the
library's exported int64 block `tjs_args`: one `struct.pack_into` fills it, then a zero-argument ctypes call
runs the kernel (see wasm_ext/tjs.h for why). The library is opened with PyDLL, which keeps the GIL during the
call; the GIL may still pass to another thread between the packing and the call, so each pack-call(-error read)
holds KERNEL_LOCK.
"""
import ctypes
import os
import re
import sys
import threading

from .. import kernel_abi
from ..interface import KernelIndexError
from ..strided import coalesce, pieces

_HERE = os.path.dirname(os.path.abspath(__file__))
_LIB_DIR = os.path.normpath(os.path.join(_HERE, "..", "..", "_lib"))
IN_PYODIDE = sys.platform == "emscripten"


def _relaxed_simd_supported():
    # A 1-function module `() -> ()` whose body is three v128.const, f32x4.relaxed_madd, drop: the engine
    # validates it only if it has relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd).
    # Layout: header | type sec (01 04: 1 type, 60 00 00) | func sec (03 02: 1 func, type 0) |
    # code sec (0a 3e: 1 body of 0x3c bytes: 0 locals, 3 x (fd 0c + 16 zero bytes), fd 85 02, 1a, 0b).
    # f32x4.relaxed_madd is SIMD opcode 0x105 = LEB128 85 02. Checked: validate() is true in Node 20 with the
    # flag, false without it (V8: "simd opcode not available").
    try:
        import js  # type: ignore  (exists only in Pyodide)
        from pyodide.ffi import to_js  # type: ignore  (exists only in Pyodide)
    except ImportError:
        return False
    v128_zero = "fd0c" + "00" * 16
    probe = bytes.fromhex("0061736d01000000" "010401600000" "03020100" "0a3e013c00"
                          + v128_zero * 3 + "fd8502" "1a0b")
    try:
        return bool(js.WebAssembly.validate(to_js(probe)))
    except Exception:
        return False


def _lib_path():
    override = os.environ.get("TORCH_JS_NATIVE_LIB")
    if override:
        return override
    if IN_PYODIDE:
        names = ["libtjs_wasm32_relaxed.wasm", "libtjs_wasm32.wasm"] if _relaxed_simd_supported() else ["libtjs_wasm32.wasm"]
    else:
        names = ["libtjs_native.so"]
    for name in names:
        path = os.path.join(_LIB_DIR, name)
        if os.path.exists(path):
            return path
    raise ImportError(
        f"torch_js: kernel library {names[-1]} not found in {_LIB_DIR}. "
        "Build it first: run `make build` in the torch_js checkout.")


LIB_PATH = _lib_path()
lib = ctypes.PyDLL(LIB_PATH)
ARGS_LEN = kernel_abi.ARGS_LEN
_args_addr = ctypes.addressof(ctypes.c_int64.in_dll(lib, "tjs_args"))
ARGS = (ctypes.c_char * (8 * ARGS_LEN)).from_address(_args_addr)
ARGS_VIEW = memoryview(ARGS).cast("B")   # what the backends' struct.pack_into writes
ERR = (ctypes.c_int64 * 4).in_dll(lib, "tjs_err")
# One argument block and one error block for all threads: whoever packs them holds this until the kernel has run and
# its status (and error details) are read. Never held across a signal check or a Python callback.
KERNEL_LOCK = threading.Lock()

TJS_OK, TJS_ERR_DTYPE, TJS_ERR_OP, TJS_ERR_ZERO_DIV, TJS_ERR_INDEX, TJS_ERR_ARG, TJS_ERR_BOUNDS, TJS_MORE = range(8)

# Bounded work per kernel call, so that a KeyboardInterrupt lands while a long operation runs (a ctypes call
# holds the GIL: Python delivers a signal only between calls). PIECE: elements per call of a strided kernel
# (elementwise, reduce, indexing; a reduction's kept element counts its reduced elements), and cheap steps per
# call of the row-wise kernels (library.row_ranges); BIG: an elementwise call whose storage has more bytes than
# this goes down the path that counts its elements (the hot paths copy it into a module global). Each is a few
# tens of ms at most natively (the wasm build is 2-3x slower); tjs_gemm's parts are kernel_abi.GEMM_DEFAULT_PART_WORK.
# tests/test_limits.py shrinks them all to test the split paths.
PIECE = 1 << 22
BIG = 1 << 22


def _signal_check():
    """PyErr_CheckSignals: runs pending signal handlers (raising their exception, KeyboardInterrupt for SIGINT).
    In Pyodide it also polls the interrupt buffer (pyodide.setInterruptBuffer), which the interpreter itself
    reads only every 50th eval-breaker check."""
    try:
        fn = ctypes.pythonapi.PyErr_CheckSignals
    except (AttributeError, OSError):   # no pythonapi in this build: the loop's own bytecodes still check
        return lambda: 0
    fn.argtypes = ()
    fn.restype = ctypes.c_int   # PyDLL: -1 with an exception set raises that exception
    return fn


check_signals = _signal_check()


try:   # a TJS_DEBUG build (make build-debug) exports its bounds-fault record
    DEBUG_FAULT = (ctypes.c_int64 * 4).in_dll(lib, "tjs_debug_fault")
except ValueError:
    DEBUG_FAULT = None


def kernel(name):
    """The kernel `tjs_<name>` as a zero-argument callable returning its int status. In a TJS_DEBUG build the
    callable clears the bounds-fault record first and returns TJS_ERR_BOUNDS when the kernel tripped it."""
    fn = getattr(lib, "tjs_" + name)
    fn.argtypes = ()
    fn.restype = ctypes.c_int
    if DEBUG_FAULT is None:
        return fn
    fault = DEBUG_FAULT

    def checked():
        fault[0] = 0
        rc = fn()
        return TJS_ERR_BOUNDS if fault[0] else rc
    return checked


class Kernel:
    """A kernel with a fixed layout, bound to it from backends/kernel_abi.py: `K(*args, what)` packs the
    argument block in the table's order, runs `tjs_<name>` and raises PyTorch's exception for its status.
    (The hot elementwise/reduce/index kernels, whose layouts depend on ndim, pack their own precompiled structs.)"""
    __slots__ = ("run", "layout")

    def __init__(self, name):
        self.run = kernel(name)
        self.layout = kernel_abi.struct_for(name)

    def __call__(self, what, *args):
        with KERNEL_LOCK:
            self.layout.pack_into(ARGS_VIEW, 0, *args)
            rc = self.run()
            if rc:
                check(rc, what)

    def in_parts(self, what, *args, **tail):
        """A kernel that does its work in parts (a `part` argument, then `tail`'s values): parts 0, 1, ... while it
        returns TJS_MORE, signals checked between calls."""
        part = 0
        while True:
            if part:
                check_signals()
            with KERNEL_LOCK:
                self.layout.pack_into(ARGS_VIEW, 0, *args, part, *tail.values())
                rc = self.run()
                if rc and rc != TJS_MORE:
                    check(rc, what)
            if rc != TJS_MORE:
                return
            part += 1


def _read_enums():
    """Op codes from wasm_ext/tjs.h's enums, so C and Python cannot drift apart."""
    candidates = [os.path.join(_LIB_DIR, "tjs.h"),
                  os.path.join(_HERE, "..", "..", "..", "..", "wasm_ext", "tjs.h")]
    for path in candidates:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            break
    else:
        raise ImportError("torch_js: wasm_ext/tjs.h not found beside the kernel library; run `make build`")
    codes = {}
    for m in re.finditer(r"TJS_(UN|BIN|RED)_([A-Z0-9_]+)\s*=\s*(\d+)", text):
        codes.setdefault(m.group(1), {})[m.group(2).lower()] = int(m.group(3))
    return codes


OPCODES = _read_enums()
UNARY_OPS = OPCODES["UN"]
BINARY_OPS = OPCODES["BIN"]
REDUCE_OPS = OPCODES["RED"]


def check(rc, what):
    """Raise PyTorch's exception for a kernel's non-zero status."""
    if rc == 0:
        return
    if rc == TJS_ERR_ZERO_DIV:
        raise RuntimeError("ZeroDivisionError")
    if rc == TJS_ERR_INDEX:
        raise KernelIndexError(ERR[0], ERR[1])
    if rc == TJS_ERR_DTYPE:
        raise RuntimeError(f"torch_js: {what} has no CPU kernel for this dtype")
    if rc == TJS_ERR_BOUNDS:
        what_, at, lo, hi = DEBUG_FAULT if DEBUG_FAULT is not None else (0, 0, 0, 0)
        raise RuntimeError(f"torch_js: {what}: kernel bounds check failed (TJS_DEBUG build): operand {what_} at "
                           f"{at} outside [{lo}, {hi}]; nothing was written out of bounds")
    raise RuntimeError(f"torch_js: {what} failed (kernel error {rc})")


def run_strided(name, what, head, shape, operands, tail=(), ptr_order=None):
    """Run a strided kernel (layout: head..., ndim, pointers, shape[ndim], strides[ndim] per operand, tail...) on
    any rank and size: coalesce (dropping size-1 dims brings every non-empty tensor within MAX_DIMS), then one
    call per piece of at most PIECE elements, checking for signals between pieces. operands: (byte address,
    itemsize, strides) in the layout's stride order; ptr_order: the operands' order in the pointer slots when it
    differs. Returns False when the space is empty (no call made)."""
    shape, strides = coalesce(shape, [op[2] for op in operands])
    if 0 in shape:
        return False
    if len(shape) > kernel_abi.MAX_DIMS:   # only an element count past int64 gets here
        raise RuntimeError(f"{what}: tensors with more than {kernel_abi.MAX_DIMS} dimensions of size > 1 are "
                           "not supported")
    run = _KERNELS.get(name) or _KERNELS.setdefault(name, kernel(name))
    first = True
    for sub, sub_st, offs in pieces(shape, strides, PIECE):
        if not first:
            check_signals()
        first = False
        ptrs = [op[0] + off * op[1] for op, off in zip(operands, offs)]
        if ptr_order is not None:
            ptrs = [ptrs[i] for i in ptr_order]
        nd = len(sub)
        flat = [x for st in sub_st for x in st]
        with KERNEL_LOCK:
            kernel_abi.struct_cached(name, ndim=nd).pack_into(ARGS_VIEW, 0, *head, nd, *ptrs, *sub, *flat, *tail)
            rc = run()
            if rc:
                check(rc, what)
    return True


_KERNELS = {}


def row_ranges(rows, row_work):
    """[r0, r1) ranges covering `rows` independent rows (matrices, planes, images) of about row_work cheap steps
    each, about PIECE steps per range and at least one row; signals are checked between ranges."""
    per = max(1, PIECE // max(1, row_work))
    if per >= rows:
        yield 0, rows
        return
    for r0 in range(0, rows, per):
        if r0:
            check_signals()
        yield r0, min(rows, r0 + per)


def ptr(t):
    """The byte address of tensor t's first element."""
    return t._storage.ptr + t._offset * t._dtype.itemsize
