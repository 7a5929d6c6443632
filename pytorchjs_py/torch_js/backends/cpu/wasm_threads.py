"""Threaded kernels in Pyodide: tjs_gemm, float32 maps, softmax, layer norm on the shared-memory module and its pool.

Pyodide's memory is not shared, so the workers cannot read tensors where they live. A large product is instead computed
in libtjs_wasm32_threads[_relaxed].wasm (mk/wasm_threads.mk: gemm.c, threads.c, abi.c and the wasm_ext/pool/ kernels
built over an imported shared WebAssembly.Memory), which wasm_pool.js instantiates on Pyodide's thread and in each
worker: the operands are copied into that memory's staging area, tjs_gemm runs there part by part (tjs_pool_gemm: the
workers take tiles, threads.c; each tile adds linear's bias to its own elements), and the result is copied back. The
module is the same source as the one Pyodide loaded, with the same SIMD flavour, and tjs_gemm's tiling follows the
shape, so the bits are those of the one-thread product whatever the thread count. An operand seen again unchanged (a
model's weights) stays in that memory between products instead (wasm_resident.py), a float32 one packed as the tiles
read it, and the last pooled op's result is read where it sits by the next pooled op that takes it (a GELU's input is
the product before it: wasm_resident.LastResult; two staging areas taken in turn keep it). Large float32 maps
of vec_math.h (GELU, exp, tanh, sigmoid, ...: the compute-bound elementwise ops of a model) go the same way through
tjs_pool_unary, whose lanes are computed by the side module's own code (one lane's result depends on that lane alone:
any cut gives the same bits), and so do a large float32 softmax (tjs_pool_softmax: rows as the side module computes
them, with Pyodide's expf bit for bit) and a large float32 layer norm outside autograd (tjs_layer_norm, wasm_ext/norm.c: the
composite's steps, each rounded as its tensors are, through the backend's row_norm that ops/fused_norm.py asks for: one
call instead of a dozen ops on Pyodide's thread), and float32 scaled-dot-product attention outside autograd
(tjs_attention, wasm_ext/attention.c: both products, the mask and softmax in one call, the composite's bits, q, k and v read as strided
views of the in-projection where it sits and the output written in the layout the out-projection reads), and large max and average
pooling (tjs_pool_planes, wasm_ext/pool/pool_planes.c: pool.c's code, its planes shared out; each plane is pooled on its
own, so any cut gives the same bits), and a convolution's im2col and col2im (tjs_pool_im2col, tjs_pool_col2im,
wasm_ext/pool/pool_conv.c: conv.c's code, images shared out; the columns kept where they sit for the product that
reads them, col2im reading the input-gradient product where it sits): a CNN training step's pools and column moves
were the largest work left on Pyodide's thread.

Only products that tjs_gemm would cut into more than one tile (MIN_WORK multiply-adds; its TILE_MIN_WORK is 2^20 a
tile) come here: the copies are O(inputs + output) against O(M·N·K) work; maps of MIN_MAP elements or more (a few
nanoseconds of work an element against a fraction of one to copy it in and out). Where threads cannot run
(natively, or no SharedArrayBuffer: a page without cross-origin isolation, Pyodide on a page's main thread)
available() is False and unavailable_reason() says why.
"""
import ctypes
import os
import struct
import warnings

from ... import _dtype as D
from ..._grad_mode import GRAD_ENABLED
from .. import _isolation, kernel_abi
from . import library, wasm_resident

MIN_WORK = 1 << 21
MAX_THREADS = 64        # threads.h's TJS_MAX_THREADS: tjs_parallel uses no more
_HERE = os.path.dirname(os.path.abspath(__file__))
_GEMM = kernel_abi.struct_for("gemm")
_MAP = kernel_abi.struct_for("unary", ndim=1)   # tjs_pool_unary reads tjs_unary's layout, one contiguous run
_SOFTMAX = kernel_abi.struct_for("softmax")      # and tjs_pool_softmax tjs_softmax's
_LAYER_NORM = kernel_abi.struct_for("layer_norm")   # the side module's own kernel (wasm_ext/norm.c), here pooled
# tjs_pool_gemm's: tjs_addmm's slots (tjs_gemm's, then the bias's address), then the packed B's
# (wasm_ext/pool/pool_gemm.c's TJS_POOL_GEMM_BPACK)
_POOL_GEMM = struct.Struct(kernel_abi.struct_for("addmm").format + "q")
_GEMM_NR = 8            # gemm.c's NR_F: a packed B's columns are a multiple of it
_BPACK_HEADER = 64      # and its header (the word that says it is packed) before them
_ATTENTION = kernel_abi.struct_for("attention")   # the side module's kernel too (wasm_ext/attention.c)
_POOL = kernel_abi.struct_for("pool")   # tjs_pool_planes reads tjs_pool's layout (wasm_ext/pool/pool_planes.c)
_IM2COL, _COL2IM = kernel_abi.struct_for("im2col"), kernel_abi.struct_for("col2im")   # and wasm_ext/pool/pool_conv.c
ATTENTION_MAX = 256     # attention.c's ATT_MAX: head dims and keys (gemm.c's KC: the composite's one k block)
_DIRECT_MAX = 4096      # gemm.c's DIRECT_MAX: products of this many multiply-adds or fewer take its direct loop
# attention's multiply-adds from which the pool takes it: the composite's half-dozen kernels and their Python cost
# ~0.1 ms and more, against one call here (and its copies, none for MultiheadAttention's in-projection)
ATTENTION_MIN_WORK = 1 << 18
_FLOAT_CODES = (D.float32.code, D.float64.code)   # the integer gemm is a plain loop, rarely this large
_MAX_SPAN = 4           # a strided operand is copied as the span it covers: at most this many times its elements
PART_WORK = 0           # tjs_gemm's part size (0: its default); tests lower it to cover the parts
ALWAYS = False          # benchmarks: take this path at one thread too (the copies' cost, the modules compared)
MIN_MAP = 1 << 16
# the float32 ops vec_unary.h maps (its VEC_UNARY_F32 switch): tjs_pool_unary runs these and no others
_MAP_OPS = frozenset(library.UNARY_OPS[name] for name in (
    "exp", "expm1", "log", "log1p", "tanh", "erf", "sigmoid", "silu", "gelu_erf", "gelu_tanh", "exp2", "log2",
    "log10", "softplus", "logsigmoid", "mish", "elu", "selu"))

# the pool and what Python keeps of it: workers started, the two staging areas ([address, bytes] each) and the one
# the current op uses, the argument buffer the kernels' blocks are packed in, the arena of resident operands, the last
# op's result (wasm_resident.LastResult)
_state = {"js": None, "pool": None, "reason": None, "threads": 1, "workers": 0, "staging": [[0, 0], [0, 0]],
          "area": 0, "buf": None, "arena": None, "last": wasm_resident.LastResult()}


def _js():
    """wasm_pool.js's {unavailableReason, machineCores, createPool}, evaluated once (None outside Pyodide)."""
    if _state["js"] is None and library.IN_PYODIDE:
        from pyodide.code import run_js  # type: ignore  (exists only in Pyodide)
        with open(os.path.join(_HERE, "wasm_pool.js")) as f:
            _state["js"] = run_js(f.read())
    return _state["js"]


def unavailable_reason():
    """Why kernels cannot use threads here, or "" when they can."""
    if _state["reason"] is None:
        if not library.IN_PYODIDE:
            _state["reason"] = "not in Pyodide (natively the kernels use threads.c's pthread pool)"
        elif _isolation.cross_origin_isolated() is False or not _isolation.shared_memory_available():
            _state["reason"] = _isolation.NOT_ISOLATED
        else:
            lib = _module_path()
            _state["reason"] = (str(_js().unavailableReason()) if os.path.exists(lib)
                                else f"{os.path.basename(lib)} is missing (run `make build`)")
    return _state["reason"]


def one_thread_message():
    """The line torch_js says (once) where a count above 1 cannot be had."""
    reason = unavailable_reason()
    return reason if reason == _isolation.NOT_ISOLATED else f"the CPU kernels run on one thread: {reason}"


def available():
    return library.IN_PYODIDE and unavailable_reason() == ""


def machine_cores():
    """The cores as the JS side sees them: os.availableParallelism in Node, navigator.hardwareConcurrency in a
    browser."""
    return max(int(_js().machineCores()), 1)


def _module_path():
    # the flavour of the side module Pyodide loaded: a product's bits must not depend on which module computes it
    relaxed = os.path.basename(library.LIB_PATH).endswith("_relaxed.wasm")
    return os.path.join(os.path.dirname(library.LIB_PATH),
                        "libtjs_wasm32_threads_relaxed.wasm" if relaxed else "libtjs_wasm32_threads.wasm")


def _pool_or_none():
    """The pool, or None when it cannot start (then one thread from now on, said once)."""
    try:
        return _pool()
    except Exception as e:   # e.g. no shared memory could be reserved
        _state["reason"] = f"the worker pool could not start ({type(e).__name__}: {e})"
        warnings.warn(f"torch_js: {one_thread_message()}", RuntimeWarning, stacklevel=3)
        return None


def _pool():
    if _state["pool"] is None:
        import pyodide_js  # type: ignore  (exists only in Pyodide)
        from pyodide.ffi import to_js  # type: ignore
        with open(_module_path(), "rb") as f:
            data = f.read()
        _state["pool"] = _js().createPool(to_js(data), pyodide_js._module)
        _state["buf"] = ctypes.create_string_buffer(max(_POOL_GEMM.size, _MAP.size, _SOFTMAX.size, _LAYER_NORM.size,
                                                     _ATTENTION.size, _POOL.size,
                                                     _IM2COL.size, _COL2IM.size))
        _state["pool"].setThreads(_state["threads"])
        _state["arena"] = wasm_resident.Arena(_state["pool"])
    return _state["pool"]


def _run(pool, kernel, data_struct, values, *copies):
    """tjs_<kernel> on the pool with its argument block (data_struct packing values), after the copies
    (shared address, heap address, bytes)... into the pool's memory: one call into JS."""
    buf = _state["buf"]
    data_struct.pack_into(buf, 0, *values)
    with library.KERNEL_LOCK:
        return int(pool.run(kernel, ctypes.addressof(buf), data_struct.size, *copies))


def _next_area():
    """An op starts: it stages in the area the last op did not use (whose result the op may read where it sits)."""
    _state["area"] ^= 1


def _staging(pool, nbytes):
    """The current staging area's address, at least nbytes long (0: the shared memory is full). Fresh pages when it
    grows (the memory never shrinks: the old pages are left)."""
    area = _state["staging"][_state["area"]]
    if nbytes > area[1]:
        want = max(nbytes, 2 * area[1])
        area[0] = int(pool.alloc(want))
        area[1] = want if area[0] else 0
    return area[0]


def _operand_at(t, heap, nbytes):
    """Where the pool reads t's bytes [heap, heap + nbytes) without copying them: the last op's result, or 0."""
    return _state["last"].find(t, heap, nbytes)


def joined(worker=0):
    """Tasks the pool's workers have taken part in so far (0 before the pool exists): all of them, or worker
    `worker`'s (1, 2, ...)."""
    return int(_state["pool"].joined(worker)) if _state["pool"] is not None else 0


def set_threads(n):
    """The kernels' thread count. The n - 1 workers start at the first product that uses them (in Node they come
    up within milliseconds) or, in a browser, now: there they start only once Pyodide's worker returns to its event
    loop, so starting them when the count is set (at import, by set_num_threads) has them serving by the next cell."""
    _state["threads"] = n
    if n > 1 and _state["pool"] is None and available() and _js().startsLate:
        _pool_or_none()
    if _state["pool"] is not None:
        _state["pool"].setThreads(n)
        if n > 1 and _js().startsLate:
            _state["workers"] = int(_state["pool"].ensureWorkers(min(n, MAX_THREADS) - 1))


def start_workers(n, wait_ms=0):
    """Starts the pool's workers for n threads now; with wait_ms, blocks until they serve (or the time passes) and
    returns how many do. (Tests and benchmarks: in a browser, workers come up only once Pyodide's worker returns to
    its event loop, so waiting there only costs the time.)"""
    pool, workers = _pool(), min(n, MAX_THREADS) - 1
    _state["workers"] = int(pool.ensureWorkers(workers))
    return int(pool.waitReady(workers, wait_ms)) if wait_ms else int(pool.ready())


def _span(shape, strides):
    """Elements from an operand's first to its last (strides >= 0), or None for a negative stride."""
    if any(s < 0 for s in strides):
        return None
    return 1 + sum((d - 1) * s for d, s in zip(shape, strides))


def _working_pool():
    """The pool with its workers for the current count started (None: one thread from now on)."""
    pool = _pool_or_none()
    if pool is not None:
        workers = min(_state["threads"], MAX_THREADS) - 1
        if _state["workers"] < workers:
            _state["workers"] = int(pool.ensureWorkers(workers))
    return pool


def gemm(out, a, b, batch, m, n, k, a_strides, b_strides, bias=None):
    """CPUGemm.gemm's product on the pool, when it is worth it: True when done, False to run it the usual way.
    With bias (float32, n contiguous): `out.add_(bias)` too, by each tile of the product as it finishes it
    (tjs_pool_gemm), before the one copy back. A float32 B kept in the arena (a weight) is kept packed there too
    (wasm_resident.Arena.packed), so that the tiles do not pack it again at every call."""
    code = a._dtype.code
    if (_state["threads"] < 2 and not ALWAYS) or code not in _FLOAT_CODES or batch * m * n * k < MIN_WORK:
        return False
    if bias is not None and (code != D.float32.code or bias._dtype is not D.float32 or bias.numel() != n
                             or not bias.is_contiguous()):
        return False
    if not available():
        return False
    es = a._dtype.itemsize
    a_span, b_span = _span((batch, m, k), a_strides), _span((batch, k, n), b_strides)
    if a_span is None or b_span is None or a_span > _MAX_SPAN * batch * m * k or b_span > _MAX_SPAN * batch * k * n:
        return False
    pool = _working_pool()
    if pool is None:
        return False
    arena, a_ptr, b_ptr = _state["arena"], library.ptr(a), library.ptr(b)
    arena.start_product()
    _next_area()
    # the last op's result: where it sits; weights: kept in the arena
    a_at = _operand_at(a, a_ptr, a_span * es) or arena.place(a, a_ptr, a_span * es)
    b_at = _operand_at(b, b_ptr, b_span * es)
    b_pack = 0
    if not b_at:
        b_at = arena.place(b, b_ptr, b_span * es)
        if b_at and code == D.float32.code and (batch == 1 or b_strides[0] == 0):
            b_pack = arena.packed(b, b_ptr, b_span * es, (k, n, *b_strides[1:]),
                                  _BPACK_HEADER + 4 * k * -(-n // _GEMM_NR) * _GEMM_NR)
    bias_ptr = library.ptr(bias) if bias is not None else 0
    bias_at = arena.place(bias, bias_ptr, 4 * n) if bias is not None else 0
    out_bytes = batch * m * n * es
    a_off = 0
    b_off = a_off + (0 if a_at else _aligned(a_span * es))
    o_off = b_off + (0 if b_at else _aligned(b_span * es))
    bias_off = o_off + _aligned(out_bytes)
    base = _staging(pool, bias_off + (4 * n if bias is not None and not bias_at else 0))
    _state["last"].entry = None   # from here the other area may be written (the next op's)
    if not base:   # the shared memory is full: one thread, in place
        return False
    copies = ()
    if not a_at:
        a_at = base + a_off
        copies += (a_at, a_ptr, a_span * es)
    if not b_at:
        b_at = base + b_off
        copies += (b_at, b_ptr, b_span * es)
    if bias is not None and not bias_at:
        bias_at = base + bias_off
        copies += (bias_at, bias_ptr, 4 * n)
    head = (code, batch, m, n, k, base + o_off, a_at, b_at, *a_strides, *b_strides)
    part, rc = 0, library.TJS_MORE
    while rc == library.TJS_MORE:
        if part:
            library.check_signals()
        rc = _run(pool, "pool_gemm", _POOL_GEMM, (*head, part, PART_WORK, bias_at or 0, b_pack),
                  *(copies if part == 0 else ()))
        if rc and rc != library.TJS_MORE:
            library.check(rc, "matmul" if bias is None else "addmm")
        part += 1
    pool.copyOut(library.ptr(out), base + o_off, out_bytes)
    _state["last"].keep(out, library.ptr(out), out_bytes, base + o_off)
    return True


def _aligned(nbytes):
    return -(-nbytes // 64) * 64


def _by_rows(out, x, outer, n, run_piece, in_place=True, extra=0):
    """out's float32 rows of n from x's on the pool, a piece of whole rows (about library.PIECE elements) at a time:
    x read where the last op's result sits, else each piece copied into the staging area (and computed there in
    place when in_place); run_piece(pool, r0, rows, x_at, out_at, extra_at, copies) runs the kernel on rows
    [r0, r0 + rows) after the copies, out's rows are copied back, and the result is kept for the next op when one
    piece held it all. `extra` bytes of the staging area are the caller's (extra_at). False: the shared memory is
    full, nothing done."""
    pool = _working_pool()
    if pool is None:
        return False
    rows = max(1, library.PIECE // n)
    piece = _aligned(min(outer, rows) * n * 4)
    src, dst = library.ptr(x), library.ptr(out)
    _next_area()
    x_at = _operand_at(x, src, 4 * outer * n)
    base = _staging(pool, (piece if not (x_at or in_place) else 0) + piece + extra)
    _state["last"].entry = None   # from here the other area may be written (the next op's)
    if not base:
        return False
    out_at = base if x_at or in_place else base + piece
    for r0 in range(0, outer, rows):
        if r0:
            library.check_signals()
        count = min(outer - r0, rows)
        nbytes = 4 * count * n
        copies = () if x_at else (base, src + 4 * r0 * n, nbytes)
        run_piece(pool, r0, count, x_at + 4 * r0 * n if x_at else base, out_at, out_at + piece, copies)
        pool.copyOut(dst + 4 * r0 * n, out_at, nbytes)
    if outer <= rows:
        _state["last"].keep(out, dst, 4 * outer * n, out_at)
    return True


def unary(op, out, x, p0, p1, p2):
    """CPUElementwise.unary's map on the pool, when it is worth it (float32, contiguous, MIN_MAP elements or more,
    an op vec_unary.h maps): True when done, False to run it the usual way. Computed in the staging area a piece of
    library.PIECE elements at a time (a KeyboardInterrupt lands between pieces)."""
    if (_state["threads"] < 2 and not ALWAYS) or x._dtype is not D.float32 or out._dtype is not D.float32:
        return False
    code, n = library.UNARY_OPS[op], x.numel()
    if n < MIN_MAP or code not in _MAP_OPS or not available() or not (x.is_contiguous() and out.is_contiguous()):
        return False

    def run_piece(pool, i, count, x_at, out_at, _, copies):
        rc = _run(pool, "pool_unary", _MAP, (code, D.float32.code, 1, out_at, x_at, count, 1, 1, p0, p1, p2),
                  *copies)
        if rc:
            library.check(rc, op)
    return _by_rows(out, x, n, 1, run_piece)


def softmax(out, x):
    """CPUReduction.softmax (not log) on the pool, when it is worth it (float32, MIN_MAP elements or more; the rows
    are contiguous there): True when done, False to run it the usual way. Computed in the staging area, a piece of
    whole rows of about library.PIECE elements at a time."""
    if (_state["threads"] < 2 and not ALWAYS) or x._dtype is not D.float32 or out._dtype is not D.float32:
        return False
    n = x._shape[-1] if x._shape else 1
    total = x.numel()
    if total < MIN_MAP or n == 0 or not available():
        return False

    def run_piece(pool, r0, count, x_at, out_at, _, copies):
        rc = _run(pool, "pool_softmax", _SOFTMAX, (0, D.float32.code, count, n, out_at, x_at), *copies)
        if rc:
            library.check(rc, "softmax")
    return _by_rows(out, x, total // n, n, run_piece)


def pooled():
    """Whether pooled kernels run now (threads in Pyodide at a count of 2 or more, or ALWAYS): backends/cpu offers
    its addmm and row_norm only then."""
    return (_state["threads"] >= 2 or ALWAYS) and available()


def layer_norm(out, mean, rstd, x, weight, bias, outer, n, eps, rms):
    """ops/fused_norm.py's row_norm on the pool (float32, contiguous, MIN_MAP elements or more; not RMS norm, not
    where autograd records it: its backward is the composite's): True when done, False to run the composite. The
    bits are the composite's on one thread (wasm_ext/norm.c). At one thread the side module runs the same kernel
    where the tensors are (backends/cpu/reduction.py). A piece of whole rows of about library.PIECE elements at a
    time."""
    if rms or x.numel() < MIN_MAP or not pooled():
        return False
    params = [p for p in (weight, bias) if p is not None]
    if GRAD_ENABLED[0] and any(t._requires_grad for t in [x] + params):
        return False
    if any(t._dtype is not D.float32 or not t.is_contiguous() for t in [out, x] + params):
        return False
    stats = _aligned(min(outer, max(1, library.PIECE // n)) * 4)
    mean_ptr, rstd_ptr = library.ptr(mean), library.ptr(rstd)

    def run_piece(pool, r0, count, x_at, out_at, extra_at, copies):
        # after out's rows: mean's and rstd's (one float a row), then weight and bias
        mean_at, rstd_at, w_at = extra_at, extra_at + stats, extra_at + 2 * stats
        b_at = w_at + _aligned(n * 4)
        if r0 == 0:
            copies += ((w_at, library.ptr(weight), n * 4) if weight is not None else ()) + \
                ((b_at, library.ptr(bias), n * 4) if bias is not None else ())
        rc = _run(pool, "layer_norm", _LAYER_NORM,
                  (count, n, out_at, mean_at, rstd_at, x_at, w_at if weight is not None else 0,
                   b_at if bias is not None else 0, float(eps)), *copies)
        if rc:
            library.check(rc, "layer_norm")
        pool.copyOut(mean_ptr + 4 * r0, mean_at, 4 * count)
        pool.copyOut(rstd_ptr + 4 * r0, rstd_at, 4 * count)
    return _by_rows(out, x, outer, n, run_piece, in_place=False, extra=2 * stats + 2 * _aligned(n * 4))


def _attention_takes(dims, tensors, mask=None):
    """Whether tjs_attention takes these dims over these tensors (on the pool or in the side module): float32 (a mask
    bool or float32), none that autograd records, a shape whose two products the composite runs through gemm.c's
    blocked driver in one k block (attention.c gives its bits only then), and enough work."""
    batch, heads, l, s, e, ev = dims
    if any(t._dtype is not D.float32 for t in tensors):
        return False
    if mask is not None and mask._dtype is not D.bool_ and mask._dtype is not D.float32:
        return False
    if GRAD_ENABLED[0] and any(t._requires_grad for t in tensors + ((mask,) if mask is not None else ())):
        return False
    return (min(l, s, e, ev) >= 2 and max(s, e, ev) <= ATTENTION_MAX and l * s * e > _DIRECT_MAX
            and l * ev * s > _DIRECT_MAX and batch * heads * l * s * (e + ev) >= ATTENTION_MIN_WORK)


def attention_takes(dims, tensors, mask=None):
    """Whether tjs_attention (this module's attention() while pooled, else the side module's: backends/cpu/reduction.py)
    would take attention of these dims over these float32 tensors (multi_head_attention_forward asks before it splits
    its in-projection into views: a composite reading those views could round differently)."""
    return _attention_takes(dims, tuple(tensors), mask)


def attention_layout(out, dims, strides, rep):
    """(the elements q, k, v and the mask span, out's (batch, head, row) strides) for tjs_attention, or None where it
    cannot read or write them so (out: its leading dims merged when contiguous, else a 4-D permutation of its own
    dense storage, its columns contiguous)."""
    batch, heads, l, s, e, ev = dims
    shapes = [(batch, heads, l, e), (batch, heads // rep, s, e), (batch, heads // rep, s, ev), (batch, heads, l, s)]
    spans = [_span(shape, st) for shape, st in zip(shapes, strides)]
    o_strides = (heads * l * ev, l * ev, ev) if out.is_contiguous() else out._stride[:3]
    if (any(sp is None for sp in spans) or out._stride[-1] != 1 or _span(out._shape, out._stride) != out.numel()
            or not (out.is_contiguous() or out.dim() == 4)):
        return None
    return spans, o_strides


def attention_args(dims, rep, causal, mask, addresses, strides, o_strides, scale):
    """tjs_attention's slots (kernel_abi "attention"); addresses: out's, q's, k's, v's and the mask's (0: none)."""
    mask_kind = 0 if mask is None else 1 if mask._dtype is D.bool_ else 2
    return (*dims, rep, 1 if causal else 0, mask_kind, *addresses, *strides[0], *strides[1], *strides[2],
            *strides[3], *o_strides, float(scale))


def attention(out, q, k, v, mask, dims, strides, rep, causal, scale):
    """ops/fused_attention.py's fused_sdpa on the pool (the backend's `attention` while pooled kernels run): out
    (float32, any layout of its own fresh storage) = softmax(q k^T * scale, masked) v over (batch, head) pairs of
    strided q, k, v and mask (dims: batch heads l s e ev; strides: (batch, head, row, column) of each, the mask's
    (0, 0, 0, 0) when None). True when done; False where the pool does not take it (_attention_takes)."""
    tensors = [t for t in (q, k, v, mask) if t is not None]
    if not pooled() or not _attention_takes(dims, (out, q, k, v), mask):
        return False
    layout = attention_layout(out, dims, strides, rep)
    if layout is None:
        return False
    spans, o_strides = layout
    pool = _working_pool()
    if pool is None:
        return False
    # each storage's bytes the operands span, copied (or found where the last op left them) once: q, k and v are
    # usually views of one in-projection
    ranges = {}
    for t, span in zip((q, k, v, mask), spans):
        if t is not None:
            lo = library.ptr(t)
            hi = lo + span * t._dtype.itemsize
            have = ranges.get(id(t._storage))
            ranges[id(t._storage)] = (t, min(lo, have[1]), max(hi, have[2])) if have else (t, lo, hi)
    if sum(hi - lo for _, lo, hi in ranges.values()) > _MAX_SPAN * 4 * sum(t.numel() for t in tensors):
        return False
    _next_area()
    found, staged = {}, 0
    for key, (t, lo, hi) in ranges.items():
        found[key] = _operand_at(t, lo, hi - lo)
        if not found[key]:
            staged += _aligned(hi - lo)
    out_bytes = 4 * out.numel()
    base = _staging(pool, staged + out_bytes)
    _state["last"].entry = None   # from here the other area may be written (the next op's)
    if not base:
        return False
    copies, at = (), base + out_bytes
    for key, (t, lo, hi) in ranges.items():
        if not found[key]:
            found[key] = at
            copies += (at, lo, hi - lo)
            at += _aligned(hi - lo)

    def shared(t):
        return found[id(t._storage)] + library.ptr(t) - ranges[id(t._storage)][1] if t is not None else 0
    rc = _run(pool, "attention", _ATTENTION,
              attention_args(dims, rep, causal, mask, (base, shared(q), shared(k), shared(v), shared(mask)), strides,
                             o_strides, scale), *copies)
    if rc:
        library.check(rc, "scaled_dot_product_attention")
    out_ptr = library.ptr(out)
    pool.copyOut(out_ptr, base, out_bytes)
    _state["last"].keep(out, out_ptr, out_bytes, base)
    return True


def pool(out, x, idx, values):
    """CPUNN.pool's max or average pooling on the pool, when it is worth it (float32 or float64, MIN_MAP input
    elements or more; x and out contiguous planes, idx int64 or None): True when done, False to run it the usual
    way. values: tjs_pool's slots before its three addresses. The planes are shared out (tjs_pool_planes, pool.c's
    own code: each plane on its own, so the one-thread bits at any count); x is copied in (or read where the last
    pooled op left it), out and idx copied back."""
    if not pooled() or x._dtype not in (D.float32, D.float64) or x.numel() < MIN_MAP:
        return False
    pool_ = _working_pool()
    if pool_ is None:
        return False
    isz = x._dtype.itemsize
    in_bytes, out_bytes, idx_bytes = x.numel() * isz, out.numel() * isz, 8 * out.numel() if idx is not None else 0
    x_ptr = library.ptr(x)
    _next_area()
    x_at = _operand_at(x, x_ptr, in_bytes)
    idx_off = _aligned(out_bytes)
    x_off = idx_off + _aligned(idx_bytes)
    base = _staging(pool_, x_off + (0 if x_at else in_bytes))
    _state["last"].entry = None   # from here the other area may be written (the next op's)
    if not base:
        return False
    copies = () if x_at else (base + x_off, x_ptr, in_bytes)
    rc = _run(pool_, "pool_planes", _POOL,
              (*values, x_at or base + x_off, base, base + idx_off if idx is not None else 0), *copies)
    if rc:
        library.check(rc, "max_pool" if values[0] == 0 else "avg_pool")
    pool_.copyOut(library.ptr(out), base, out_bytes)
    if idx is not None:
        pool_.copyOut(library.ptr(idx), base + idx_off, idx_bytes)
    return True


def _dense_span(t):
    """t's elements from its first to its last when they are exactly its numel (no gaps to copy over), else None."""
    span = _span(t._shape, t._stride)
    return span if span == t.numel() else None


def _staged_after_output(t, nbytes, out_bytes):
    """The staging area of a pooled op with one operand: out_bytes for its output at the base, then t's nbytes (from
    t's address) unless the last pooled op left them in the pool. (pool, base, the operand's shared address, its
    copies), or None (no pool, or its memory is full)."""
    pool_ = _working_pool()
    if pool_ is None:
        return None
    ptr = library.ptr(t)
    _next_area()
    at = _operand_at(t, ptr, nbytes)
    off = _aligned(out_bytes)
    base = _staging(pool_, off + (0 if at else nbytes))
    _state["last"].entry = None   # from here the other area may be written (the next op's)
    if not base:
        return None
    return pool_, base, at or base + off, (() if at else (base + off, ptr, nbytes))


def im2col(out, x, values):
    """CPUNN.im2col on the pool, when it is worth it (float32 or float64, MIN_MAP columns' elements or more, out
    dense in its own layout): True when done. values: tjs_im2col's slots before its in address (dtype, N, C, D, H, W
    and the geometry). The images are shared out (tjs_pool_im2col: conv.c's code, an image at a time); the columns
    are copied back and kept where they sit for the product that reads them next (a convolution's gemm)."""
    if not pooled() or x._dtype not in (D.float32, D.float64) or out.numel() < MIN_MAP:
        return False
    x_span, out_span = _span(x._shape, x._stride), _dense_span(out)
    if x_span is None or out_span is None or x_span > _MAX_SPAN * x.numel():
        return False
    isz = x._dtype.itemsize
    out_ptr, out_bytes = library.ptr(out), out_span * isz
    staged = _staged_after_output(x, x_span * isz, out_bytes)
    if staged is None:
        return False
    pool_, base, x_at, copies = staged
    rc = _run(pool_, "pool_im2col", _IM2COL, (*values, x_at, *x._stride, base, *out._stride), *copies)
    if rc:
        library.check(rc, "im2col")
    pool_.copyOut(out_ptr, base, out_bytes)
    _state["last"].keep(out, out_ptr, out_bytes, base)
    return True


def col2im(out, cols, values):
    """CPUNN.col2im on the pool, when it is worth it (float32 or float64, out contiguous, MIN_MAP columns' elements
    or more): True when done. values: tjs_col2im's slots before its cols address. The images are shared out
    (tjs_pool_col2im: conv.c's code, each image's voxels summed from its own columns in its order); cols read where
    the last pooled op left them (a convolution's input-gradient product) or copied in, out copied back."""
    if not pooled() or out._dtype not in (D.float32, D.float64) or not out.is_contiguous() or cols.numel() < MIN_MAP:
        return False
    c_span = _span(cols._shape, cols._stride)
    if c_span is None or c_span > _MAX_SPAN * cols.numel():
        return False
    isz = out._dtype.itemsize
    out_bytes = out.numel() * isz
    staged = _staged_after_output(cols, c_span * isz, out_bytes)
    if staged is None:
        return False
    pool_, base, c_at, copies = staged
    rc = _run(pool_, "pool_col2im", _COL2IM, (*values, c_at, *cols._stride, base), *copies)
    if rc:
        library.check(rc, "col2im")
    pool_.copyOut(library.ptr(out), base, out_bytes)
    return True
