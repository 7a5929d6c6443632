"""The WebGPU backend: torch_js's primitives as WGSL kernels, through js_bridge/webgpu (see its index.mjs).

The contract is backends/interface.py's. Each primitive packs its arguments into one argument block in the wasm
heap (Python-owned ctypes memory, laid out as bridge_abi.py says; structs precompiled per ndim) and makes ONE
bridge call with no arguments: a Python->JS call costs a few microseconds in Pyodide, while converting a dict or
list costs ten times that. Storage.ptr is the bridge's integer buffer id; the GPU buffer goes back to the
bridge's pool when the Storage dies. runtime.py holds the bridge handle.

Kernels run asynchronously: they are recorded into a command batch and submitted in groups. Elementwise
primitives (copy, fill, unary, binary, where) are checked when called but, under lazy execution (the default;
torch_js.webgpu.set_lazy), recorded by the bridge and run fused at the next sync point (js_bridge/webgpu/lazy.mjs):
a Storage that dies before then is released to the bridge as usual, which is how it learns that a value held only
in registers need never be written. Readback
(`read_bytes`, used by .cpu(), .item(), .tolist(), print) waits for the GPU with `pyodide.ffi.run_sync` when
JSPI stack switching is available here; otherwise it raises and the async forms (`await t.cpu_async()`,
`await t.tolist_async()`, `await t.item_async()`) must be used.

dtypes: float32, float16, bfloat16 compute in f32; bool/uint8/int8/int16/int32 in i32; int64 is stored exactly
(8 bytes) and copied, cast, filled, gathered and scattered exactly, but its arithmetic runs in 32 bits.
float64 raises TypeError (WGSL has no f64), as PyTorch's MPS does; so does complex128 (float64 parts), while
complex64 moves through its float32 view (../complex_data.py).
"""
import ctypes
import struct

from ... import _dtype as D
from ..._storage import Storage, device
from ..._tensor import _empty
from .. import complex_data
from ..interface import Backend
from ..kernel_abi import SORT_OPS, index_flags
from ..strided import coalesce
from . import runtime as _rt
from .bridge_abi import FAMILY, MAX_DIMS, struct_for, structs_by_nd

WEBGPU = device("webgpu")
_ARGS = _rt.ARGS

COPY, FILL, UNARY, BINARY, WHERE, REDUCE, SOFTMAX, CUMUL, GEMM = (
    FAMILY[f] for f in ("COPY", "FILL", "UNARY", "BINARY", "WHERE", "REDUCE", "SOFTMAX", "CUMUL", "GEMM"))
INDEX_OFFSETS, TAKE, PUT, IM2COL, COL2IM, POOL, POOL_BWD = (
    FAMILY[f] for f in ("INDEX_OFFSETS", "TAKE", "PUT", "IM2COL", "COL2IM", "POOL", "POOL_BWD"))
SORT, CUMEXT, LOGCUMSUMEXP, SEARCHSORTED, LINALG, ATTENTION = (
    FAMILY[f] for f in ("SORT", "CUMEXT", "LOGCUMSUMEXP", "SEARCHSORTED", "LINALG", "ATTENTION"))

# structs by ndim (and by reduced dims for REDUCE), built once
_COPY = structs_by_nd("COPY")
_FILL = structs_by_nd("FILL")
_UNARY = structs_by_nd("UNARY")
_BINARY = structs_by_nd("BINARY")
_WHERE = structs_by_nd("WHERE")
_INDEX_OFFSETS = structs_by_nd("INDEX_OFFSETS")
_TAKE = structs_by_nd("TAKE")
_PUT = structs_by_nd("PUT")
_REDUCE = [[struct_for("REDUCE", nd=n, nred=r) for r in range(n + 1)] for n in range(len(_COPY))]
_SOFTMAX = struct_for("SOFTMAX")
_CUMUL = struct_for("CUMUL")
_GEMM = struct_for("GEMM")
_IM2COL = struct_for("IM2COL")
_COL2IM = struct_for("COL2IM")
_POOL = {POOL: struct_for("POOL"), POOL_BWD: struct_for("POOL_BWD")}
_SORT = struct_for("SORT")
_CUMEXT = struct_for("CUMEXT")
_LOGCUMSUMEXP = struct_for("LOGCUMSUMEXP")
_SEARCHSORTED = struct_for("SEARCHSORTED")
_LINALG = {}   # (noperands, nwords) -> struct
_ATTENTION = struct_for("ATTENTION")
QUANT_MATMUL, _QUANT_MATMUL = FAMILY["QUANT_MATMUL"], struct_for("QUANT_MATMUL")
ROW_NORM, _ROW_NORM = FAMILY["ROW_NORM"], struct_for("ROW_NORM")
_NO_OPERAND = (0, 0, 0)
_READBACK = "reading a tensor back to the host (.item(), .cpu(), .tolist(), print)"


class WebGPUStorage(Storage):
    """A Storage whose GPU buffer returns to the bridge's pool when the last view of it dies."""
    __slots__ = ()

    def __del__(self):
        if _rt.bridge is not None and self.ptr:
            try:
                _rt.release_buffer(self.ptr)
            except Exception:   # interpreter shutdown, bridge gone
                pass


def _fill_bits(d, value):
    """The fill value as the dtype's bit pattern, split into two signed 32-bit words."""
    if d.is_floating_point:
        v = float(value)
        if d is D.bfloat16:
            (u,) = struct.unpack("<I", _pack_f(v, "f"))
            bits = 0x7fc0 if v != v else ((u + 0x7fff + ((u >> 16) & 1)) >> 16) & 0xffff
        else:
            (bits,) = struct.unpack("<I" if d.itemsize == 4 else "<H", _pack_f(v, d.fmt))
    elif d is D.bool_:
        bits = 1 if value else 0
    else:
        iv = int(value) if not isinstance(value, float) or value == value else 0
        bits = iv & ((1 << (8 * d.itemsize)) - 1)
    lo, hi = bits & 0xffffffff, (bits >> 32) & 0xffffffff
    return lo - (1 << 32) if lo >= 1 << 31 else lo, hi - (1 << 32) if hi >= 1 << 31 else hi


def _fit(what, shape, strides):
    """A call of more dims than the bridge's params hold (MAX_DIMS), coalesced: (nd, shape, strides), None when it
    is empty, RuntimeError (worded as PyTorch's MPS limit) when it still does not fit."""
    shape, strides = coalesce(shape, strides)
    if 0 in shape:
        return None
    if len(shape) > MAX_DIMS:
        _too_many(what, len(shape))
    return len(shape), shape, strides


def _too_many(what, nd):
    raise RuntimeError(f"{what}: webgpu supports tensors with dimensions <= {MAX_DIMS} (after merging contiguous "
                       f"dimensions), but got {nd}. Move the tensor to the CPU.")


def _pack_f(v, fmt):
    try:
        return struct.pack("<" + fmt, v)
    except OverflowError:   # beyond the type's range: infinity, as a C cast gives
        return struct.pack("<" + fmt, float("inf") if v > 0 else float("-inf"))


class WebGPUBackend(Backend):
    name = "webgpu"
    device = WEBGPU
    wide_float = D.float32
    index_errors_deferred = True   # the bridge's error buffer, read with the next readback

    # ---- memory -------------------------------------------------------------------------------------------
    def check_dtype(self, dtype):
        """Raise PyTorch-MPS-style: WGSL has no float64 (nor complex128, of float64 parts)."""
        if dtype is D.float64:
            raise TypeError("Cannot convert a webgpu Tensor to float64 dtype as WGSL has no 64-bit floats. "
                            "Please use float32 instead.")
        if dtype is D.complex128:
            raise TypeError("Cannot convert a webgpu Tensor to complex128 dtype as WGSL has no 64-bit floats. "
                            "Please use complex64 instead.")

    def alloc(self, nbytes):
        if _rt.bridge is None:
            _rt.ensure()
        return WebGPUStorage(nbytes, WEBGPU, self, None, _rt.new_buffer(nbytes))

    def from_bytes(self, data):
        s = self.alloc(len(data))
        n = len(data)
        if n:
            _rt.refuse_while_capturing("copying host data to the device (torch.tensor(..., device='webgpu'), "
                                       ".to('webgpu') from the CPU, random ops, which draw on the CPU)")
            tmp = (ctypes.c_char * n).from_buffer_copy(data)
            _rt.bridge.upload(s.ptr, ctypes.addressof(tmp), n)
        return s

    def read_bytes(self, storage, byte_offset, nbytes):
        # written by the bridge into a Python-owned buffer: no JS array made, wrapped and converted (.item())
        buf = (ctypes.c_char * nbytes)()
        self._read(storage, byte_offset, nbytes, ctypes.addressof(buf))
        return buf.raw

    def read_into(self, storage, byte_offset, nbytes, address):
        """read_bytes, the bytes written straight to `address` in the heap (a CPU storage's): .cpu() of a large
        tensor copies once, not three times."""
        self._read(storage, byte_offset, nbytes, address)

    def _read(self, storage, byte_offset, nbytes, address):
        _rt.refuse_while_capturing(_READBACK)
        from pyodide.ffi import can_run_sync, run_sync  # type: ignore  (exists only in Pyodide)
        if not can_run_sync():
            raise RuntimeError(
                "torch_js: reading a webgpu tensor synchronously needs JSPI stack switching, which is not available "
                "here (no JSPI in this browser, or Python was called synchronously from JS). Use "
                "`await t.cpu_async()`, `await t.tolist_async()` or `await t.item_async()` instead.")
        try:
            return run_sync(_rt.bridge.read(storage.ptr, byte_offset, nbytes, address))
        except Exception as e:
            raise _rt.read_error(e) from None

    async def read_bytes_async(self, storage, byte_offset, nbytes):
        _rt.refuse_while_capturing(_READBACK)
        try:
            res = await _rt.bridge.read(storage.ptr, byte_offset, nbytes)
        except Exception as e:
            raise _rt.read_error(e) from None
        return res.to_bytes()

    # ---- elementwise ---------------------------------------------------------------------------------------
    def copy(self, out, x, x_strides=None):
        if out._dtype.is_complex or x._dtype.is_complex:
            return complex_data.copy(self, out, x, x_strides)
        shape, ost, xst = out._shape, out._stride, (x._stride if x_strides is None else x_strides)
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit("copy", shape, (ost, xst))
            if fit is None:
                return
            nd, shape, (ost, xst) = fit
        s = out._storage
        _COPY[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, COPY, 0, nd, s.ptr, out._dtype.code, out._offset,
                            x._storage.ptr, x._dtype.code, x._offset, *shape, *ost, *xst)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "copy", (out._dtype, x._dtype))

    def fill(self, out, value):
        if out._dtype.is_complex:
            return complex_data.fill(self, out, value)
        shape, (ost,) = out._shape, (out._stride,)
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit("fill", shape, (ost,))
            if fit is None:
                return
            nd, shape, (ost,) = fit
        lo, hi = _fill_bits(out._dtype, value)
        _FILL[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, FILL, 0, nd, out._storage.ptr, out._dtype.code,
                            out._offset, lo, hi, *shape, *ost)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "fill", (out._dtype,))

    def iota(self, out):
        """out[i] = i (i the row-major index) in one kernel: the fill family's op 1 (beyond the Backend
        interface: ops/creation.py's _iota asks for it by name)."""
        shape, ost = out._shape, out._stride
        nd = len(shape)
        if nd > MAX_DIMS:
            raise RuntimeError(f"iota: {nd} dims, the bridge takes {MAX_DIMS}")
        _FILL[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, FILL, 1, nd, out._storage.ptr, out._dtype.code,
                            out._offset, 0, 0, *shape, *ost)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "arange", (out._dtype,))

    def unary(self, op, out, x, p0=0.0, p1=0.0, p2=0.0):
        shape, ost, xst = out._shape, out._stride, x._stride
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit(op, shape, (ost, xst))
            if fit is None:
                return
            nd, shape, (ost, xst) = fit
        _UNARY[nd].pack_into(_ARGS, 0, p0, p1, p2, 0.0, UNARY, _rt.UNARY_OPS.get(op, -1), nd, out._storage.ptr,
                             out._dtype.code, out._offset, x._storage.ptr, x._dtype.code, x._offset,
                             *shape, *ost, *xst)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, op, (x._dtype,))

    def binary(self, op, out, a, a_strides, b, b_strides, alpha=1.0):
        shape, ost = out._shape, out._stride
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit(op, shape, (ost, a_strides, b_strides))
            if fit is None:
                return
            nd, shape, (ost, a_strides, b_strides) = fit
        _BINARY[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, alpha, BINARY, _rt.BINARY_OPS.get(op, -1), nd,
                              out._storage.ptr, out._dtype.code, out._offset, a._storage.ptr, a._dtype.code,
                              a._offset, b._storage.ptr, b._dtype.code, b._offset, *shape, *ost,
                              *a_strides, *b_strides)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, op, (a._dtype,))

    def where(self, out, cond, c_strides, a, a_strides, b, b_strides):
        if out._dtype.is_complex:
            return complex_data.where(self, out, cond, c_strides, a, a_strides, b, b_strides)
        shape, ost = out._shape, out._stride
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit("where", shape, (ost, c_strides, a_strides, b_strides))
            if fit is None:
                return
            nd, shape, (ost, c_strides, a_strides, b_strides) = fit
        _WHERE[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, WHERE, 0, nd, out._storage.ptr, out._dtype.code,
                             out._offset, cond._storage.ptr, cond._dtype.code, cond._offset, a._storage.ptr,
                             a._dtype.code, a._offset, b._storage.ptr, b._dtype.code, b._offset, *shape,
                             *ost, *c_strides, *a_strides, *b_strides)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "where", (out._dtype,))

    # ---- reductions ----------------------------------------------------------------------------------------
    def reduce(self, op, out, x, nred, out2=None):
        shape, xst, ost = x._shape, x._stride, out._stride
        nd = len(shape)
        if nd > MAX_DIMS:   # kept and reduced dims coalesced apart
            nkeep = nd - nred
            kshape, (ost, kst) = coalesce(shape[:nkeep], (ost, xst[:nkeep]))
            rshape, (rst,) = coalesce(shape[nkeep:], (xst[nkeep:],))
            if 0 in kshape:
                return
            if 0 in rshape:
                rshape, rst = [0], [0]
            nd, nred = len(kshape) + len(rshape), len(rshape)
            if nd > MAX_DIMS:
                _too_many(op, nd)
            shape, xst = kshape + rshape, kst + rst
        o2 = (out2._storage.ptr, out2._dtype.code, out2._offset) if out2 is not None else (0, 0, 0)
        _REDUCE[nd][nred].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, REDUCE, _rt.REDUCE_OPS.get(op, -1), nd, nred,
                                    out._storage.ptr, out._dtype.code, out._offset, *o2, x._storage.ptr,
                                    x._dtype.code, x._offset, *shape, *xst, *ost)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, op, (x._dtype, out._dtype))

    def softmax(self, out, x, log):
        n = x._shape[-1] if x._shape else 1
        outer = (x.numel() // n) if n else 0
        _SOFTMAX.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, SOFTMAX, 0, 1 if log else 0, outer, n, out._storage.ptr,
                           out._dtype.code, out._offset, x._storage.ptr, x._dtype.code, x._offset)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "softmax", (x._dtype,))

    def cumulative(self, op, out, x, outer, n, inner):
        _CUMUL.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, CUMUL, 0 if op == "sum" else 1, outer, n, inner,
                         out._storage.ptr, out._dtype.code, out._offset, x._storage.ptr, x._dtype.code, x._offset)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "cum" + op, (x._dtype,))

    # ---- matmul --------------------------------------------------------------------------------------------
    def gemm(self, out, a, b, batch, m, n, k, a_strides, b_strides):
        _GEMM.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, GEMM, 0, batch, m, n, k, out._storage.ptr, out._dtype.code,
                        out._offset, a._storage.ptr, a._dtype.code, a._offset, b._storage.ptr, b._dtype.code,
                        b._offset, *a_strides, *b_strides)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "matmul", (a._dtype,))

    # ---- fused norms (beyond the Backend interface: ops/fused_norm.py asks for it by name) ------------------
    def row_norm(self, out, mean, rstd, x, weight, bias, outer, n, eps, rms):
        """Layer norm (RMS norm when rms) of `outer` contiguous rows of n in one kernel (kernels/norm.mjs): out =
        (x - mean) * rstd * weight + bias; mean and rstd (one per row, contiguous), weight and bias (n
        contiguous) may be None."""
        op = lambda t: (t._storage.ptr, t._dtype.code, t._offset) if t is not None else _NO_OPERAND  # noqa: E731
        flags = (1 if rms else 0) | (2 if weight is not None else 0) | (4 if bias is not None else 0) | \
            (8 if mean is not None else 0)
        _ROW_NORM.pack_into(_ARGS, 0, eps, 0.0, 0.0, 0.0, ROW_NORM, 0, outer, n, flags, *op(out), *op(mean),
                            *op(rstd), *op(x), *op(weight), *op(bias))
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "rms_norm" if rms else "layer_norm", (x._dtype,))

    # ---- fused attention (beyond the Backend interface: ops/fused_attention.py asks for it by name) ---------
    def attention(self, out, q, k, v, mask, dims, strides, rep, causal, scale):
        """out (contiguous B, H, L, Ev) = softmax(q k^T * scale + mask) v in one kernel (kernels/attention.mjs).
        dims = (B, H, L, S, E, Ev): q is (B, H, L, E), k and v (B, H / rep, S, E or Ev), mask (bool or q's dtype;
        None for none) (B, H, L, S), each read through its (batch, head, row, col) strides in `strides`."""
        b, h, l, s, e, ev = dims
        m = (mask._storage.ptr, mask._dtype.code, mask._offset) if mask is not None else (0, 0, 0)
        flags = (1 if causal else 0) | (2 if mask is not None else 0)
        _ATTENTION.pack_into(_ARGS, 0, scale, 0.0, 0.0, 0.0, ATTENTION, 0, b, h, l, s, e, ev, rep, flags,
                             out._storage.ptr, out._dtype.code, out._offset, q._storage.ptr, q._dtype.code, q._offset,
                             k._storage.ptr, k._dtype.code, k._offset, v._storage.ptr, v._dtype.code, v._offset, *m,
                             *strides[0], *strides[1], *strides[2], *strides[3])
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "scaled_dot_product_attention", (q._dtype,))

    # ---- weight-only quantized product (beyond the interface: ops/quant_matmul.py asks for it by name) --------
    def quant_matmul(self, out, x, w, scales, mins, scheme, group):
        """out (float32, contiguous M x N) = x (float32 M x K, unit column stride) @ W^T with W (N x K) packed and
        dequantised inside the kernel (kernels/quant_matmul.mjs): scheme 0 int8 w times scales[n, k / group],
        1 Q4_1 nibbles with mins."""
        (m, k), n = x._shape, out._shape[1]
        mn = (mins._storage.ptr, mins._dtype.code, mins._offset) if mins is not None else (0, 0, 0)
        _QUANT_MATMUL.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, QUANT_MATMUL, scheme, m, n, k, group, x._stride[0],
                                out._storage.ptr, out._dtype.code, out._offset, x._storage.ptr, x._dtype.code,
                                x._offset, w._storage.ptr, w._dtype.code, w._offset, scales._storage.ptr,
                                scales._dtype.code, scales._offset, *mn)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "quant_matmul", (x._dtype,))

    # ---- indexing ------------------------------------------------------------------------------------------
    def index_offsets(self, offs, idx, idx_strides, dim_size, dim_stride, accumulate, wrap_negative=True):
        shape, ost = offs._shape, offs._stride
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit("index", shape, (ost, idx_strides))
            if fit is None:
                return
            nd, shape, (ost, idx_strides) = fit
        _INDEX_OFFSETS[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, INDEX_OFFSETS, 0, nd, offs._storage.ptr,
                                     offs._dtype.code, offs._offset, idx._storage.ptr, idx._dtype.code, idx._offset,
                                     dim_size, dim_stride, index_flags(accumulate, wrap_negative), *shape, *ost,
                                     *idx_strides)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "index", (idx._dtype,))

    def take(self, out, src, offs, src_strides, offs_strides):
        if out._dtype.is_complex:
            return complex_data.take(self, out, src, offs, src_strides, offs_strides)
        shape, ost = out._shape, out._stride
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit("index", shape, (ost, src_strides, offs_strides))
            if fit is None:
                return
            nd, shape, (ost, src_strides, offs_strides) = fit
        _TAKE[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, TAKE, 0, nd, out._storage.ptr, out._dtype.code,
                            out._offset, src._storage.ptr, src._dtype.code, src._offset, offs._storage.ptr,
                            offs._dtype.code, offs._offset, *shape, *ost, *src_strides, *offs_strides)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "index", (src._dtype,))

    def put(self, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate):
        if dst._dtype.is_complex:
            return complex_data.put(self, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate)
        nd = len(shape)
        if nd > MAX_DIMS:
            fit = _fit("index_put", shape, (val_strides, dst_strides, offs_strides))
            if fit is None:
                return
            nd, shape, (val_strides, dst_strides, offs_strides) = fit
        _PUT[nd].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, PUT, 0, nd, 1 if accumulate else 0,
                           dst._storage.ptr, dst._dtype.code, dst._offset, val._storage.ptr, val._dtype.code,
                           val._offset, offs._storage.ptr, offs._dtype.code, offs._offset, *shape,
                           *val_strides, *dst_strides, *offs_strides)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "index_put", (dst._dtype,))

    # ---- nn: convolution columns and pooling (wasm_ext/conv.c, pool.c semantics) ------------------------------
    def im2col(self, out, x, geom):
        n, c, d, h, w = x._shape
        _IM2COL.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, IM2COL, 0, n, c, d, h, w, *geom, out._storage.ptr,
                          out._dtype.code, out._offset, x._storage.ptr, x._dtype.code, x._offset, *x._stride,
                          *out._stride)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "im2col", (x._dtype,))

    def col2im(self, out, cols, geom):
        n, c, d, h, w = out._shape
        _COL2IM.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, COL2IM, 0, n, c, d, h, w, *geom, out._storage.ptr,
                          out._dtype.code, out._offset, cols._storage.ptr, cols._dtype.code, cols._offset,
                          *cols._stride)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "col2im", (out._dtype,))

    def _pool(self, fam, written, read, idx, mode, adaptive, geom, count_include_pad, divisor_override):
        big, small = (read, written) if fam == POOL else (written, read)   # (planes, D, H, W), (planes, OD, OH, OW)
        planes, d, h, w = big._shape
        od, oh, ow = small._shape[1:]
        i3 = (idx._storage.ptr, idx._dtype.code, idx._offset) if idx is not None else (0, 0, 0)
        _POOL[fam].pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, fam, 0, mode, 1 if adaptive else 0, planes, d, h, w, od, oh,
                             ow, *geom, 1 if count_include_pad else 0, divisor_override or 0, written._storage.ptr,
                             written._dtype.code, written._offset, read._storage.ptr, read._dtype.code, read._offset,
                             *i3)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "pool" if fam == POOL else "pool_backward", (read._dtype,))

    def pool(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
        """x contiguous (planes, D, H, W) -> out (planes, OD, OH, OW); idx int64 like out (max) or None."""
        self._pool(POOL, out, x, idx, mode, adaptive, geom, count_include_pad, divisor_override)

    def pool_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                      divisor_override=0):
        self.fill(grad_in, 0)
        self._pool(POOL_BWD, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad, divisor_override)

    # ---- sorting and selection (wasm_ext/sort.c semantics; js_bridge/webgpu/kernels/sort.mjs) -----------------

    def sort_rows(self, op, values, indices, x, n, descending=False, sorted=True, k=0):
        """Rows of contiguous x ([outer, n]) -> contiguous values/indices ([outer, kout])."""
        outer = x.numel() // n if n else 0
        _SORT.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, SORT, SORT_OPS[op], outer, n, 1 if descending else 0, k,
                        values._storage.ptr, values._dtype.code, values._offset, indices._storage.ptr,
                        indices._dtype.code, indices._offset, x._storage.ptr, x._dtype.code, x._offset)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, op, (x._dtype,))

    def cumext(self, op, values, indices, x, outer, n, inner):
        _CUMEXT.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, CUMEXT, 0 if op == "max" else 1, outer, n, inner,
                          values._storage.ptr, values._dtype.code, values._offset, indices._storage.ptr,
                          indices._dtype.code, indices._offset, x._storage.ptr, x._dtype.code, x._offset)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "cum" + op, (x._dtype,))

    def logcumsumexp(self, out, x, outer, n, inner):
        _LOGCUMSUMEXP.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, LOGCUMSUMEXP, 0, outer, n, inner, out._storage.ptr,
                                out._dtype.code, out._offset, x._storage.ptr, x._dtype.code, x._offset)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "logcumsumexp", (x._dtype,))

    def searchsorted(self, out, boundaries, values, rows, nb, nv, right, shared):
        """boundaries/values contiguous, both float32 or both int64; out int64 [rows, nv]."""
        _SEARCHSORTED.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, SEARCHSORTED, 0, rows, nb, nv, 1 if right else 0,
                                0 if shared else nb, out._storage.ptr, out._dtype.code, out._offset,
                                boundaries._storage.ptr, boundaries._dtype.code, boundaries._offset,
                                values._storage.ptr, values._dtype.code, values._offset)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "searchsorted", (values._dtype,))

    # ---- dense factorizations (kernels/linalg.mjs) -------------------------------------------------------------
    def _linalg(self, op, count, operands, words):
        """One linalg dispatch over `count` invocations; `words` fill header words 3.. (see linalg.mjs)."""
        for t in operands:
            if t._dtype is not D.float32 and t._dtype is not D.int64:
                raise TypeError(f"torch_js: linalg on the webgpu device supports float32 only, got {t._dtype}")
        ids = [t._storage.ptr for t in operands]
        key = (len(ids), len(words))
        fmt = _LINALG.get(key)
        if fmt is None:
            fmt = _LINALG[key] = struct_for("LINALG", noperands=key[0], nwords=key[1])
        fmt.pack_into(_ARGS, 0, 0.0, 0.0, 0.0, 0.0, LINALG, _rt.LINALG_OPS[op], count, len(ids), len(words), *ids,
                      *words)
        rc = _rt.run()
        if rc:
            _rt.fail(rc, "linalg." + op, (operands[0]._dtype,))

    def lu(self, a, piv, info, batch, m, n):
        self._linalg("lu", batch, (a, piv, info), (m, n, a._offset, piv._offset, info._offset))

    def lu_solve(self, lu, piv, b, batch, n, k):
        self._linalg("lu_solve", batch * k, (lu, piv, b), (n, k, lu._offset, piv._offset, b._offset))

    def cholesky(self, a, info, batch, n):
        self._linalg("cholesky", batch, (a, info), (n, a._offset, info._offset))

    def geqrf(self, a, tau, batch, m, n):
        self._linalg("geqrf", batch, (a, tau), (m, n, a._offset, tau._offset))

    def orgqr(self, a, tau, batch, m, nc, k):
        self._linalg("orgqr", batch, (a, tau), (m, nc, k, a._offset, tau._offset))

    def trsm(self, a, a_strides, b, batch, n, k, upper, unit):
        self._linalg("trsm", batch * k, (a, b), (n, k, a._offset, *a_strides, b._offset, 1 if upper else 0,
                                                 1 if unit else 0))

    def svd_jacobi(self, a, v, s, batch, m, n):
        self._linalg("svd", batch, (a, v, s), (m, n, a._offset, v._offset, s._offset))

    def eigh_jacobi(self, a, w, batch, n):
        work = _empty((batch, n, n), D.float32, WEBGPU)
        self._linalg("eigh", batch, (a, w, work), (n, a._offset, w._offset, work._offset))


BACKEND = WebGPUBackend()
