"""CPU reductions, scans and the matrix product (wasm_ext/reduce.c, gemm.c).

Same conventions as elementwise.py: one struct precompiled from kernel_abi's layout, one kernel call. A reduction
of more than HOT_DIMS dims or over large storages is coalesced and split over its kept elements into calls of
about library.PIECE input elements (each output element still reduced whole, in one call); gemm runs in parts
of bounded work that tjs_gemm defines.
float16/bfloat16 reductions go through CPUElementwise._via_float32 (the mixins share one class).
"""
import math
import struct

from ... import _dtype as D
from ..._grad_mode import GRAD_ENABLED
from ..kernel_abi import HOT_DIMS, KERNEL, MAX_DIMS, struct_cached, struct_for
from ..strided import coalesce, pieces
from . import library, wasm_threads
from .library import (ARGS_VIEW as _ARGS, KERNEL_LOCK, REDUCE_OPS, TJS_MORE, check as _check, ptr as _ptr,
                      row_ranges)

_HALF = (D.float16, D.bfloat16)

_BIG = library.BIG   # storage bytes past which a reduction counts its work (tests/test_limits.py lowers it)

_k_reduce = library.kernel("reduce")
_k_softmax = library.kernel("softmax")
_k_cumulative = library.kernel("cumulative")
_k_layer_norm = library.kernel("layer_norm")
_k_attention = library.kernel("attention")
_k_gemm = library.kernel("gemm")
_k_addmm = library.kernel("addmm")
_QUANT_MATMUL = library.Kernel("quant_matmul")

_REDUCE_FMT = [[struct_for("reduce", ndim=n, nred=r) for r in range(n + 1)] for n in range(HOT_DIMS + 1)]
_SOFTMAX_FMT = struct_for("softmax")
_CUMUL_FMT = struct_for("cumulative")
_LAYER_NORM_FMT = struct_for("layer_norm")
_ATTENTION_FMT = struct_for("attention")
_GEMM_FMT = struct_for("gemm")
_ADDMM_FMT = struct_for("addmm")
assert [s.name for s in KERNEL["gemm"].layout.slots[-2:]] == ["part", "part_work"]
_GEMM_HEAD = struct.Struct(_GEMM_FMT.format[:-2] + "16x")   # all but part, part_work: those packed as 0


class CPUReductions:
    def reduce(self, op, out, x, nred, out2=None):
        if x._dtype in _HALF:
            return self._via_float32(lambda o, a: self.reduce(op, o, a, nred, out2), out, (x,), keep_strides=True)
        nd = len(x._shape)
        if nd > HOT_DIMS or ((x._storage.nbytes > _BIG or out._storage.nbytes > _BIG)
                             and math.prod(x._shape) > library.PIECE):
            return self._reduce_pieces(op, out, x, nred, out2)
        with KERNEL_LOCK:
            _REDUCE_FMT[nd][nred].pack_into(_ARGS, 0, REDUCE_OPS[op], x._dtype.code, out._dtype.code, nd, nred,
                                            _ptr(out), _ptr(out2) if out2 is not None else 0, _ptr(x), *x._shape,
                                            *x._stride, *out._stride)
            _check(_k_reduce(), op)

    def _reduce_pieces(self, op, out, x, nred, out2):
        """reduce() for a high rank or a large input: kept and reduced dims coalesced apart (as tjs_reduce does),
        the kept space split so that a call reduces about PIECE input elements."""
        nkeep = len(x._shape) - nred
        kshape, (kout, kin) = coalesce(x._shape[:nkeep], [out._stride, x._stride[:nkeep]])
        rshape, (rin,) = coalesce(x._shape[nkeep:], [x._stride[nkeep:]])
        if 0 in kshape:
            return
        if 0 in rshape:
            rshape, rin = [0], [0]   # an empty reduction: every output gets the op's identity (or the error)
        if len(kshape) + len(rshape) > MAX_DIMS:   # only an element count past int64 gets here
            raise RuntimeError(f"{op}: tensors with more than {MAX_DIMS} dimensions of size > 1 are not supported")
        per = max(1, library.PIECE // max(1, math.prod(rshape)))
        osz, xsz = out._dtype.itemsize, x._dtype.itemsize
        o, o2, xp = _ptr(out), (_ptr(out2) if out2 is not None else 0), _ptr(x)
        first = True
        for sub, (so, si), (oo, io) in pieces(kshape, [kout, kin], per):
            if not first:
                library.check_signals()
            first = False
            nd = len(sub) + len(rshape)
            with KERNEL_LOCK:
                struct_cached("reduce", ndim=nd, nred=len(rshape)).pack_into(
                    _ARGS, 0, REDUCE_OPS[op], x._dtype.code, out._dtype.code, nd, len(rshape), o + oo * osz,
                    o2 + oo * 8 if o2 else 0, xp + io * xsz, *sub, *rshape, *si, *rin, *so)
                rc = _k_reduce()
                if rc:
                    _check(rc, op)

    def softmax(self, out, x, log):
        if not log and library.IN_PYODIDE and wasm_threads.softmax(out, x):
            return   # threads in Pyodide: a large float32 softmax on the worker pool
        n = x._shape[-1] if x._shape else 1
        outer = (x.numel() // n) if n else 0
        isz, osz = x._dtype.itemsize, out._dtype.itemsize
        op, xp = _ptr(out), _ptr(x)
        for r0, r1 in row_ranges(outer, 4 * n):
            with KERNEL_LOCK:
                _SOFTMAX_FMT.pack_into(_ARGS, 0, 1 if log else 0, x._dtype.code, r1 - r0, n, op + r0 * n * osz,
                                       xp + r0 * n * isz)
                _check(_k_softmax(), "softmax")

    @property
    def row_norm(self):
        """ops/fused_norm.py's one-kernel layer norm (wasm_ext/norm.c, the composite's bits): the worker pool's while
        pooled kernels run (Pyodide, 2 threads or more), else the library's where the tensors are. Either declines,
        returning False, what it does not take (the composite runs)."""
        return wasm_threads.layer_norm if library.IN_PYODIDE and wasm_threads.pooled() else _layer_norm


    def cumulative(self, op, out, x, outer, n, inner):
        isz, osz, plane = x._dtype.itemsize, out._dtype.itemsize, n * inner
        o, xp = _ptr(out), _ptr(x)
        for r0, r1 in row_ranges(outer, plane):
            with KERNEL_LOCK:
                _CUMUL_FMT.pack_into(_ARGS, 0, 0 if op == "sum" else 1, x._dtype.code, r1 - r0, n, inner,
                                     o + r0 * plane * osz, xp + r0 * plane * isz)
                _check(_k_cumulative(), "cum" + op)


class CPUGemm:
    def gemm(self, out, a, b, batch, m, n, k, a_strides, b_strides):
        if library.IN_PYODIDE and wasm_threads.gemm(out, a, b, batch, m, n, k, a_strides, b_strides):
            return   # threads in Pyodide: computed in the shared-memory module (large products only)
        isz = a._dtype.itemsize
        # part 0 at the kernel's default part size: the two last slots packed as zero bytes (no cost)
        with KERNEL_LOCK:
            _GEMM_HEAD.pack_into(_ARGS, 0, a._dtype.code, batch, m, n, k, out._storage.ptr + out._offset * isz,
                                 a._storage.ptr + a._offset * isz, b._storage.ptr + b._offset * isz, *a_strides,
                                 *b_strides)
            rc = _k_gemm()
            if rc and rc != TJS_MORE:
                _check(rc, "matmul")
        if rc == TJS_MORE:
            gemm_parts(out, a, b, batch, m, n, k, a_strides, b_strides, 1, 0)

    @property
    def addmm(self):
        """nn.functional.linear's bias + mat1 @ mat2 as one call, addmm(out, bias, mat1, mat2) -> False when declined
        (the caller runs mm then add_): the worker pool's while pooled kernels run (the bias added before the one
        copy back), else tjs_addmm where the tensors are. Either adds the bias in the product's tiles, with mm then
        add_'s bits."""
        return _pooled_addmm if library.IN_PYODIDE and wasm_threads.pooled() else _addmm

    # ops/fused_attention.py may hand `attention` an out of any dense layout (the layout a caller reads next)
    attention_any_layout = True

    @property
    def attention(self):
        """ops/fused_attention.py's fused scaled-dot-product attention, attention(out, q, k, v, mask, dims, strides,
        rep, causal, scale) -> False when declined (the composite runs): tjs_attention with the composite's bits, in
        Pyodide only (natively the composite's products are gemm_x86.c's, with other bits), on the worker pool while
        pooled kernels run, else in the side module where the tensors are."""
        if not library.IN_PYODIDE:
            return None
        return wasm_threads.attention if wasm_threads.pooled() else _attention

    def attention_takes(self, dims, tensors):
        """Whether `attention` takes attention of dims (batch heads l s e ev) over these float32 tensors (inputs
        and masks): nn.functional's multi_head_attention_forward asks before it reads its in-projection as views."""
        return library.IN_PYODIDE and wasm_threads.attention_takes(dims, tensors)

    def quant_matmul(self, out, x, w, scales, mins, scheme, group):
        """out (float32, contiguous M x N) = x (float32 M x K, unit column stride) @ W^T with W (N x K) packed:
        scheme 0 int8 w times scales[n, k / group], 1 Q4_1 nibbles (wasm_ext/quant.c), in ranges of columns."""
        (m, k), n = x._shape, out._shape[1]
        groups = -(-k // group)
        wrow = k if scheme == 0 else k // 2
        ssz = scales._dtype.itemsize
        op, xp, wp, sp = _ptr(out), _ptr(x), _ptr(w), _ptr(scales)
        mp = _ptr(mins) if mins is not None else 0
        for n0, n1 in row_ranges(n, 2 * m * k):
            _QUANT_MATMUL("quant_matmul", scheme, m, n1 - n0, k, group, scales._dtype.code, op + 4 * n0, n,
                          xp, x._stride[0], wp + n0 * wrow, sp + n0 * groups * ssz,
                          mp + n0 * groups * ssz if mp else 0)


def _layer_norm(out, mean, rstd, x, weight, bias, outer, n, eps, rms):
    """row_norm by tjs_layer_norm on the caller's memory: float32, contiguous, not RMS norm (the kernel has none),
    not where autograd records it (the backward is the composite's, as on the pool)."""
    params = [p for p in (weight, bias) if p is not None]
    if rms or any(t._dtype is not D.float32 or not t.is_contiguous() for t in [out, x] + params):
        return False
    if GRAD_ENABLED[0] and any(t._requires_grad for t in [x] + params):
        return False
    op, mp, rp, xp = _ptr(out), _ptr(mean), _ptr(rstd), _ptr(x)
    wp, bp = (_ptr(p) if p is not None else 0 for p in (weight, bias))
    for r0, r1 in row_ranges(outer, 4 * n):
        with KERNEL_LOCK:
            _LAYER_NORM_FMT.pack_into(_ARGS, 0, r1 - r0, n, op + 4 * r0 * n, mp + 4 * r0, rp + 4 * r0,
                                      xp + 4 * r0 * n, wp, bp, float(eps))
            _check(_k_layer_norm(), "layer_norm")
    return True


def _attention(out, q, k, v, mask, dims, strides, rep, causal, scale):
    """`attention` by the side module's tjs_attention on the tensors' own memory (Pyodide at one thread)."""
    if not wasm_threads.attention_takes(dims, (out, q, k, v), mask):
        return False
    layout = wasm_threads.attention_layout(out, dims, strides, rep)
    if layout is None:
        return False
    addresses = tuple(_ptr(t) if t is not None else 0 for t in (out, q, k, v, mask))
    with KERNEL_LOCK:
        _ATTENTION_FMT.pack_into(_ARGS, 0, *wasm_threads.attention_args(dims, rep, causal, mask, addresses, strides,
                                                                        layout[1], scale))
        _check(_k_attention(), "scaled_dot_product_attention")
    return True


def _pooled_addmm(out, bias, mat1, mat2):
    """out (M x N, contiguous) = mat1 @ mat2 then + bias (N) on the worker pool, the bits of mm then add_: True when
    done, else _addmm's answer (a product too small for the pool runs here)."""
    dev = out._storage.device
    if any(t._storage.device is not dev for t in (bias, mat1, mat2)) or mat1.dim() != 2 or mat2.dim() != 2:
        return False
    (m, k), n = mat1._shape, mat2._shape[1]
    if wasm_threads.gemm(out, mat1, mat2, 1, m, n, k, (0,) + mat1._stride, (0,) + mat2._stride, bias):
        return True
    return _addmm(out, bias, mat1, mat2)


def _addmm(out, bias, mat1, mat2):
    """out (M x N, contiguous) = mat1 @ mat2 then + bias (N) by tjs_addmm, in parts as gemm's, the bits of mm then
    add_: True when done, False where it does not take the operands (float32, 2-D, a contiguous bias of N)."""
    tensors = (out, bias, mat1, mat2)
    if any(t._dtype is not D.float32 or t._storage.device is not out._storage.device for t in tensors):
        return False
    if mat1.dim() != 2 or mat2.dim() != 2 or bias.dim() != 1 or bias._stride[0] != 1 and bias.numel() > 1:
        return False
    (m, k), n = mat1._shape, mat2._shape[1]
    if bias._shape[0] != n or not out.is_contiguous():
        return False
    gemm_parts(out, mat1, mat2, 1, m, n, k, (0,) + mat1._stride, (0,) + mat2._stride, 0, 0, bias)
    return True


def gemm_parts(out, a, b, batch, m, n, k, a_strides, b_strides, first, work, bias=None):
    """tjs_gemm's parts from `first` on, of `work` weighted multiply-adds each (0: the kernel's default), one
    call each (each part writes its own rows: other threads' kernels may run between parts), checking for
    signals between calls and raising for an error status; returns the last status. With `bias`: tjs_addmm's."""
    isz = a._dtype.itemsize
    args = (a._dtype.code, batch, m, n, k, out._storage.ptr + out._offset * isz, a._storage.ptr + a._offset * isz,
            b._storage.ptr + b._offset * isz, *a_strides, *b_strides)
    fmt, kernel, tail, what = ((_GEMM_FMT, _k_gemm, (), "matmul") if bias is None else
                               (_ADDMM_FMT, _k_addmm, (_ptr(bias),), "addmm"))
    part, rc = first, TJS_MORE
    while rc == TJS_MORE:
        if part:
            library.check_signals()
        with KERNEL_LOCK:
            fmt.pack_into(_ARGS, 0, *args, part, work, *tail)
            rc = kernel()
            if rc and rc != TJS_MORE:
                _check(rc, what)
        part += 1
    return rc
