"""Flat per-device buffers. A tensor is a view (shape, strides, offset, dtype) over one of these."""
import os
import sys

from ._grad_mode import INFERENCE_MODE

INT64_MAX = (1 << 63) - 1


def _memory_limit():
    """The most bytes one allocation may ask for: wasm32's address space in Pyodide, else the machine's memory
    (an allocation past it can only fail, or be overcommitted and kill the process when touched)."""
    if sys.platform == "emscripten":
        return 1 << 32
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return INT64_MAX


MAX_ALLOC_BYTES = [_memory_limit()]  # a list so tests (and embedders) can lower it


def alloc_error(nbytes):
    return RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes. "
                        "Error code 12 (Cannot allocate memory)")


def check_alloc(nbytes):
    """PyTorch's allocator error for a request no runtime could serve, raised before anything is allocated."""
    if nbytes > MAX_ALLOC_BYTES[0]:
        raise alloc_error(nbytes)


def no_cuda_error():
    """What PyTorch's CPU builds raise when a tensor is put on a cuda device. Marked so the op wrappers
    (ops/_api.py) pass it on as it is rather than as an internal AssertionError."""
    e = AssertionError("Torch not compiled with CUDA enabled")
    e.torch_js_public = True
    return e


class device:
    """torch.device: a type ("cpu", "webgpu") and an optional index."""
    __slots__ = ("type", "index")

    _BACKENDS = {}  # device type -> backend object, filled by backends/ as they load
    # device type -> a function that registers its backend where the host gained it after import (webgpu: a bridge
    # named in TORCH_JS_WEBGPU_BRIDGE after torch_js was imported, e.g. in a memory snapshot)
    _LATE_BACKENDS = {}

    def __new__(cls, type_or_device, index=None):
        if isinstance(type_or_device, device):
            return type_or_device
        if not isinstance(type_or_device, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type(type_or_device).__name__})")
        kind = type_or_device
        if ":" in kind:
            kind, _, idx = kind.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_device}'")
            index = int(idx)
        if kind not in ("cpu", "webgpu", "cuda", "mps", "meta"):
            raise RuntimeError(f"Expected one of cpu, webgpu device type at start of device string: {type_or_device}")
        key = (kind, index)
        cached = _DEVICE_CACHE.get(key)
        if cached is not None:
            return cached
        obj = object.__new__(cls)
        obj.type = kind
        obj.index = index
        _DEVICE_CACHE[key] = obj
        return obj

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and (
            self.index == other.index or self.index is None or other.index is None)

    def __hash__(self):
        return hash(self.type)

    def __reduce__(self):
        return (device, (str(self),))

    # `with torch.device(d):` makes d the default device of the factories inside the block (PyTorch's
    # DeviceContext); blocks nest, and leaving one restores the default in force when it was entered
    def __enter__(self):
        _DEFAULT_STACK.append(DEFAULT_DEVICE[0])
        DEFAULT_DEVICE[0] = self
        return self

    def __exit__(self, exc_type, exc, tb):
        DEFAULT_DEVICE[0] = _DEFAULT_STACK.pop()
        return False

    @property
    def backend(self):
        be = device._BACKENDS.get(self.type)
        if be is None and self.type in device._LATE_BACKENDS:
            device._LATE_BACKENDS[self.type]()
            be = device._BACKENDS.get(self.type)
        if be is None:
            if self.type == "webgpu":
                raise RuntimeError(WEBGPU_UNAVAILABLE)
            if self.type == "cuda":
                raise no_cuda_error()
            raise RuntimeError(f"torch_js has no backend for device type '{self.type}'")
        return be


# where the runtime has no webgpu backend (CPython; Pyodide without the bridge): what to do, in one line
WEBGPU_UNAVAILABLE = ("torch_js: the webgpu device is not available in this runtime: it needs torch_js in Pyodide with "
                      "its WebGPU bridge (set os.environ['TORCH_JS_WEBGPU_BRIDGE'] to the URL of "
                      "js_bridge/webgpu/index.mjs, or call its installWebGPU()); use device 'cpu'")
_DEVICE_CACHE = {}
CPU = device("cpu")
META = device("meta")
META_NO_DATA = "Cannot copy out of meta tensor; no data!"   # PyTorch's error for reading a meta tensor's values

# The device factories put a tensor on when they are given no device= (ops/creation.device_arg reads it: one list
# read on their hot path). set_default_device sets it; each `with device:` block saves the one it replaces here.
DEFAULT_DEVICE = [CPU]
_DEFAULT_STACK = []


def set_default_device(dev):
    """torch.set_default_device: the device of factory calls given no device= (None: the CPU again)."""
    DEFAULT_DEVICE[0] = CPU if dev is None else device(dev)


def get_default_device():
    """torch.get_default_device: the device factories use when given none (the CPU unless set)."""
    return DEFAULT_DEVICE[0]


class Storage:
    """A device buffer plus the version counter that every view of it shares (autograd's in-place check).
    `inference`: allocated under inference mode, so its tensors are inference tensors (Tensor.is_inference).
    `aliased`: alias() was called on it, so writes may reach its memory without bumping its version (copies of
    the memory kept by version, backends/cpu/wasm_resident.py, stop trusting it)."""
    __slots__ = ("nbytes", "device", "backend", "ptr", "buf", "version", "owner", "inference", "aliased",
                 "__weakref__")

    def __init__(self, nbytes, dev, backend, buf, ptr):
        self.nbytes = nbytes
        self.device = dev
        self.backend = backend
        self.buf = buf
        self.ptr = ptr
        self.version = 0
        self.owner = None
        self.inference = INFERENCE_MODE[0]
        self.aliased = False

    def alias(self):
        """The same memory under a fresh version counter (what `tensor.data` hands out, as in PyTorch)."""
        s = Storage(self.nbytes, self.device, self.backend, self.buf, self.ptr)
        s.owner = self.owner or self  # keeps the memory (and a device buffer's finalizer) alive
        self.aliased = s.owner.aliased = True
        s.inference = self.inference
        return s
