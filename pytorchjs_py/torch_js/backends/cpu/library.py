"""Loads the wasm_ext kernel library with ctypes: kernel handles, the argument block, error mapping.

The same module serves CPython (the gcc build) and Pyodide (the wasm32 side module). Arguments travel in the
library's exported int64 block `tjs_args`: one `struct.pack_into` fills it, then a zero-argument ctypes call
runs the kernel (see wasm_ext/tjs.h for why). The library is opened with PyDLL, which keeps the GIL during the
call, so the shared argument block cannot be overwritten by another thread mid-call.
"""
import ctypes
import os
import re
import sys

from .. import kernel_abi
from ..interface import KernelIndexError

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
ARGS_LEN = 1024
_args_addr = ctypes.addressof(ctypes.c_int64.in_dll(lib, "tjs_args"))
ARGS = (ctypes.c_char * (8 * ARGS_LEN)).from_address(_args_addr)
ARGS_VIEW = memoryview(ARGS).cast("B")   # what the backends' struct.pack_into writes
ERR = (ctypes.c_int64 * 4).in_dll(lib, "tjs_err")

TJS_OK, TJS_ERR_DTYPE, TJS_ERR_OP, TJS_ERR_ZERO_DIV, TJS_ERR_INDEX, TJS_ERR_ARG = range(6)


def kernel(name):
    """The kernel `tjs_<name>` as a zero-argument callable returning its int status."""
    fn = getattr(lib, "tjs_" + name)
    fn.argtypes = ()
    fn.restype = ctypes.c_int
    return fn


class Kernel:
    """A kernel with a fixed layout, bound to it from backends/kernel_abi.py: `K(*args, what)` packs the
    argument block in the table's order, runs `tjs_<name>` and raises PyTorch's exception for its status.
    (The hot elementwise/reduce/index kernels, whose layouts depend on ndim, pack their own precompiled structs.)"""
    __slots__ = ("run", "layout")

    def __init__(self, name):
        self.run = kernel(name)
        self.layout = kernel_abi.struct_for(name)

    def __call__(self, what, *args):
        self.layout.pack_into(ARGS_VIEW, 0, *args)
        rc = self.run()
        if rc:
            check(rc, what)


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
    raise RuntimeError(f"torch_js: {what} failed (kernel error {rc})")


def ptr(t):
    """The byte address of tensor t's first element."""
    return t._storage.ptr + t._offset * t._dtype.itemsize
