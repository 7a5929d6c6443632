"""Matrix products on the backend's batched gemm primitive: mm, bmm, matmul, dot, mv, inner, outer / ger,
addmm, baddbmm, addmv, and the `@` operator. gemm() records PyTorch's Mm/BmmBackward0; the rest are written in it."""
from ... import _dtype as D
from ..._tensor import Tensor, _empty, numel_of
from .._registry import backward, register
from .._util import (GRAD_ENABLED, as_op_result, broadcast_shapes, check, not_implemented_for, record,
                     rename_grad_fn,
                     same_device)
from .. import inplace as _ip
from ..complex import from_parts, imag, real
from ..creation import zeros_like

_HALF = (D.float16, D.bfloat16)


def _dtype_name(d):
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}[d.name]


def _column_major(t):
    """A matrix stored transposed (a .t() of a contiguous one, as linear's weight.t())."""
    return t.dim() == 2 and t._stride[0] == 1 and t._stride[1] == t._shape[0]


def mm_mat1_backward(g, mat1, mat2):
    """The gradient of mat1 in mat1 @ mat2, made in mat1's layout where mat1 is column-major (ATen's
    mm_mat1_backward): its transpose's gradient then arrives contiguous, with no copy."""
    return gemm(mat2, g.t()).t() if _column_major(mat1) else gemm(g, mat2.transpose(-1, -2))


def mm_mat2_backward(g, mat1, mat2):
    """The gradient of mat2 in mat1 @ mat2, in mat2's layout where that is column-major (ATen's
    mm_mat2_backward): linear's weight gradient comes out as the weight is stored."""
    return gemm(g.t(), mat1).t() if _column_major(mat2) else gemm(mat1.transpose(-1, -2), g)


def gemm_backward(ctx, g):
    a, b = ctx.saved_tensors
    ea, eb = ctx.edges
    ga = mm_mat1_backward(g, a, b) if ea is not None else None
    gb = mm_mat2_backward(g, a, b) if eb is not None else None
    return ga, gb


def _batch_strides(t):
    """(batch, row, col) strides of a 2-D or 3-D tensor."""
    if t.dim() == 2:
        return (0,) + t._stride
    return t._stride


def gemm(a, b):
    """The differentiable primitive: (M,K)@(K,N) or (B,M,K)@(B,K,N) -> contiguous result."""
    da = a._dtype
    if da is b._dtype and (da is D.float32 or da is D.float64) and a._storage.device is b._storage.device:
        # hot path: no promotion or device work; strides go straight to the kernel
        sa, sb = a._shape, b._shape
        if len(sa) == 2:
            out = _empty((sa[0], sb[1]), da, a._storage.device)
            out._storage.backend.gemm(out, a, b, 1, sa[0], sb[1], sa[1], (0,) + a._stride, (0,) + b._stride)
            name = "MmBackward0"
        else:
            out = _empty((sa[0], sa[1], sb[2]), da, a._storage.device)
            out._storage.backend.gemm(out, a, b, sa[0], sa[1], sb[2], sa[2], a._stride, b._stride)
            name = "BmmBackward0"
        if GRAD_ENABLED[0] and (a._requires_grad or b._requires_grad):
            record(name, gemm_backward, (a, b), (out,), save_inputs=(a, b))
        return out
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_dtype_name(a._dtype)} != "
                           f"{_dtype_name(b._dtype)}")
    dev = same_device(a, b)
    if a._dtype.is_complex:   # four real products of the parts (strided views: no copies)
        ar, ai, br, bi = real(a), imag(a), real(b), imag(b)
        return from_parts(gemm(ar, br) - gemm(ai, bi), gemm(ar, bi) + gemm(ai, br),
                          "BmmBackward0" if a.dim() == 3 else "MmBackward0")
    if a._dtype in _HALF or a._dtype is D.bool_:
        work = D.float32 if a._dtype in _HALF else D.int64
        r = gemm(a.to(work), b.to(work)).to(a._dtype)
        return r
    batched = a.dim() == 3
    m, k = a._shape[-2], a._shape[-1]
    n = b._shape[-1]
    batch = a._shape[0] if batched else 1
    shape = (batch, m, n) if batched else (m, n)
    out = _empty(shape, a._dtype, dev)
    out._storage.backend.gemm(out, a, b, batch, m, n, k, _batch_strides(a), _batch_strides(b))
    if GRAD_ENABLED[0] and (a._requires_grad or b._requires_grad):
        node = record("BmmBackward0" if batched else "MmBackward0", gemm_backward, (a, b), (out,))
        node.save((a, b))
    return out


def mm(input, mat2, *, out=None):
    if len(input._shape) != 2:
        raise RuntimeError("self must be a matrix")
    if len(mat2._shape) != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input._shape[1] != mat2._shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input._shape[0]}x{input._shape[1]} and "
                           f"{mat2._shape[0]}x{mat2._shape[1]})")
    r = gemm(input, mat2)
    return _ip.write_out_exact(out, r)


register("mm", mm, "linalg", primitive="gemm", dtype="same", derivative=backward(gemm_backward))


def _check_batch2(batches, k, shape):
    """bmm's check of its second operand's shape: `batches` matrices of `k` rows."""
    if shape[0] != batches or shape[1] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batches}, {k}] but got: "
                           f"[{shape[0]}, {shape[1]}].")


def bmm(input, mat2, *, out=None):
    check(input.dim() == 3, "batch1 must be a 3D tensor")
    check(mat2.dim() == 3, "batch2 must be a 3D tensor")
    _check_batch2(input._shape[0], input._shape[2], mat2._shape)
    check(input._dtype is mat2._dtype, lambda: f"expected scalar type {D.scalar_type_name(input._dtype)} but found "
          f"{D.scalar_type_name(mat2._dtype)}")
    r = gemm(input, mat2)
    return _ip.write_out_exact(out, r)


register("bmm", bmm, "linalg", primitive="gemm", dtype="same", derivative=backward(gemm_backward))


def matmul(input, other, *, out=None):
    da, db = len(input._shape), len(other._shape)
    check(da > 0 and db > 0, f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    # the result is never a view of the gemm's output and its node is named as ATen's matmul leaves it
    if da == 1 and db == 1:
        r = dot(input, other)
    elif da == 2 and db == 2:
        r = mm(input, other)
    elif da == 1 and db == 2:
        r = as_op_result(mm(input.unsqueeze(0), other).squeeze(0), "SqueezeBackward4", (input, other))
    elif da == 2 and db == 1:
        if input._shape[1] != other._shape[0]:
            raise RuntimeError(f"size mismatch, got input ({input._shape[0]}), mat ({input._shape[0]}x"
                               f"{input._shape[1]}), vec ({other._shape[0]})")
        r = as_op_result(mm(input, other.unsqueeze(1)).squeeze(1), "MvBackward0", (input, other))
    else:
        a = input.unsqueeze(0) if da == 1 else input
        b = other.unsqueeze(-1) if db == 1 else other
        m, k, n = a._shape[-2], a._shape[-1], b._shape[-1]
        if b.dim() == 2 and a.dim() > 2:
            # fold the batch into M: one big gemm (a mismatch is mm's or mv's error on the folded matrix)
            rows = numel_of(a._shape[:-1])
            if db == 1 and k != other._shape[0]:
                raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({other._shape[0]})")
            r = mm(a.reshape(-1, k), b).reshape(a._shape[:-1] + (n,))
        else:   # the batch dims broadcast first, then bmm checks the expanded operands
            batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
            bn = numel_of(batch)
            _check_batch2(bn, k, (bn,) + b._shape[-2:])
            a3 = a.expand(batch + (m, k)).reshape(bn, m, k)
            b3 = b.expand(batch + (k, n)).reshape(bn, k, n)
            r = gemm(a3, b3).reshape(batch + (m, n))
        if da == 1:
            r = r.squeeze(-2)
        if db == 1:
            r = r.squeeze(-1)
        # ATen folds and unfolds batches with _unsafe_view (a matrix first operand: a transposed product, cloned)
        r = as_op_result(r, "CloneBackward0" if da == 2 else "UnsafeViewBackward0", (input, other))
    return _ip.write_out(out, r) if out is not None else r


# calls gemm itself on its batched path; the other paths go through mm / dot, which record the same node
register("matmul", matmul, "linalg", primitive="gemm", dtype="same", derivative=backward(gemm_backward))
register("matmul", matmul, "linalg", namespace="linalg", method=False, primitive="gemm", dtype="same",
         derivative=backward(gemm_backward), opinfo=())   # torch.linalg.matmul: torch.matmul under its name
Tensor.__matmul__ = lambda self, other: Tensor.matmul(self, other)   # the op's public form: a sparse operand's kernel
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)


def dot(input, other, *, out=None):
    check(input.dim() == 1 and other.dim() == 1,
          f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{D.scalar_type_name(input._dtype)} and {D.scalar_type_name(other._dtype)}")
    if input._dtype is D.bool_:
        raise not_implemented_for("dot", input._dtype)
    if input._shape[0] != other._shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and src "
                           f"[{other._shape[0]}] to have the same number of elements, but got {input._shape[0]} and "
                           f"{other._shape[0]} elements respectively")
    r = as_op_result(gemm(input.unsqueeze(0), other.unsqueeze(1)).reshape(()), "DotBackward0", (input, other))
    return _ip.write_out(out, r) if out is not None else r


register("dot", dot, "linalg", primitive="gemm", dtype="same", derivative=backward(gemm_backward))


def mv(input, vec, *, out=None):
    check(input.dim() == 2 and vec.dim() == 1, "vector + matrix @ vector expected")
    if input._shape[1] != vec._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._shape[0]}), mat ({input._shape[0]}x{input._shape[1]}), "
                           f"vec ({vec._shape[0]})")
    r = mm(input, vec.unsqueeze(1)).squeeze(1)
    return _ip.write_out(out, r) if out is not None else r


register("mv", mv, "linalg", dtype="same")


def inner(input, other, *, out=None):
    """Contraction over the last dims: (..., k), (..., k) -> input.shape[:-1] + other.shape[:-1]; 0-d multiplies."""
    if not isinstance(other, Tensor):
        raise TypeError(f"inner(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    if input.dim() == 0 or other.dim() == 0:
        r = input * other
    else:
        k = input._shape[-1]
        check(k == other._shape[-1], lambda: f"inner() the last dimension must match on both input tensors but got "
              f"shapes {list(input._shape)} and {list(other._shape)}")
        r = matmul(input.reshape(-1, k), other.reshape(-1, k).t()).reshape(input._shape[:-1] + other._shape[:-1])
    return _ip.write_out(out, r) if out is not None else r


register("inner", inner, "linalg", dtype="same")


def outer(input, vec2, *, out=None):
    vdim = vec2.dim()   # a non-tensor fails here first: the API layer names it as ger's or outer's 'vec2'
    check(input.dim() == 1, lambda: f"outer: Expected 1-D argument self, but got {input.dim()}-D")
    check(vdim == 1, lambda: f"outer: Expected 1-D argument vec2, but got {vdim}-D")
    r = input.reshape(-1, 1) * vec2.reshape(1, -1)
    return _ip.write_out(out, r) if out is not None else r


register("outer", outer, "linalg", dtype="promote")
register("ger", outer, "linalg", dtype="promote", opinfo=())


def vdot(input, other, *, out=None):
    """dot with the first vector conjugated."""
    return dot(input.conj() if input._dtype.is_complex else input, other, out=out)


register("vdot", vdot, "linalg", dtype="same")


def _inplace(fn):
    """The in-place variant (Tensor.<name>_) of an `input * beta + alpha * product` op."""
    def inplace(self, *args, beta=1, alpha=1):
        return _ip.inplace_of(self, fn, *args, beta=beta, alpha=alpha)
    return inplace


def _rounded_once(input, mat1, mat2):
    """Whether PyTorch's CPU kernel computes this half-precision addmm/baddbmm in float32 and rounds only the result
    (beta * input + alpha * product)."""
    d = mat1._dtype
    return d in _HALF and mat2._dtype is d and input._dtype is d


def check_addmm_dtypes(input, mat1, mat2):
    """addmm's dtype checks, before its shape checks (nn.Linear's with a bias: the bias, then the input, against
    the weight)."""
    for name, t in (("self", input), ("mat1", mat1)):
        check(t._dtype is mat2._dtype, lambda: f"{name} and mat2 must have the same dtype, but got "
              f"{D.scalar_type_name(t._dtype)} and {D.scalar_type_name(mat2._dtype)}")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"addmm(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    check_addmm_dtypes(input, mat1, mat2)
    if _rounded_once(input, mat1, mat2):
        r = addmm(input.float(), mat1.float(), mat2.float(), beta=beta, alpha=alpha).to(mat1._dtype)
        return _ip.write_out(out, r) if out is not None else r
    prod = mm(mat1, mat2)
    r = rename_grad_fn(_scale_add(input, prod, beta, alpha), "AddmmBackward0")
    return _ip.write_out(out, r) if out is not None else r


register("addmm", addmm, "linalg", dtype="same", inplace=_inplace(addmm))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    if isinstance(input, Tensor) and _rounded_once(input, batch1, batch2):
        r = baddbmm(input.float(), batch1.float(), batch2.float(), beta=beta, alpha=alpha).to(batch1._dtype)
        return _ip.write_out(out, r) if out is not None else r
    r = rename_grad_fn(_scale_add(input, bmm(batch1, batch2), beta, alpha), "BaddbmmBackward0")
    return _ip.write_out(out, r) if out is not None else r


register("baddbmm", baddbmm, "linalg", dtype="same", inplace=_inplace(baddbmm))


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    r = _scale_add(input, mv(mat, vec), beta, alpha)
    return _ip.write_out(out, r) if out is not None else r


register("addmv", addmv, "linalg", dtype="same", inplace=_inplace(addmv))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """input * beta + alpha * (the sum over the batch of batch1[i] @ batch2[i]): one mm over (batch, k) pairs."""
    n, p = batch1.size(1), batch2.size(2)   # PyTorch reads these first (an IndexError for a 2-D batch)
    check(batch1.dim() == 3, "batch1 must be a 3D tensor")
    check(batch2.dim() == 3, "batch2 must be a 3D tensor")
    b, k = batch1._shape[0], batch1._shape[2]
    check(b == batch2._shape[0], lambda: f"batch1 and batch2 must have same number of batches, got {b} and "
          f"{batch2._shape[0]}")
    check(k == batch2._shape[1], lambda: f"Incompatible matrix sizes for bmm ({n}x{k} and {batch2._shape[1]}x{p})")
    input.expand(n, p)   # PyTorch's expand error for an input that does not broadcast to the product
    prod = mm(batch1.transpose(0, 1).reshape(n, b * k), batch2.reshape(b * k, p))
    r = _scale_add(input, prod, beta, alpha)
    return _ip.write_out(out, r) if out is not None else r


def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """PyTorch writes addbmm_ through its out= form: a self that only broadcasts to the product is resized to it."""
    if GRAD_ENABLED[0] and self._requires_grad:
        _ip.check_leaf(self)
    src = self.clone() if GRAD_ENABLED[0] and self._requires_grad else self
    r = addbmm(src, batch1, batch2, beta=beta, alpha=alpha)
    if r._shape != self._shape:
        _ip.resize_(self, r._shape)
    return _ip.inplace_from(self, r)


register("addbmm", addbmm, "linalg", dtype="same", inplace=addbmm_)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """input * beta + alpha * outer(vec1, vec2), in the three tensors' promoted dtype (logical for bool)."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        check(v.dim() == 1, lambda: f"addr: Expected 1-D argument {name}, but got {v.dim()}-D")
    shape = (vec1._shape[0], vec2._shape[0])
    input.expand(shape)
    dtype = D.promote_types(D.promote_types(input._dtype, vec1._dtype), vec2._dtype)
    for name, v in (("beta", beta), ("alpha", alpha)):
        check(not isinstance(v, bool) or dtype is D.bool_, lambda: f"Boolean {name} only supported for Boolean "
              "results.")
        check(dtype.is_floating_point or dtype.is_complex or not isinstance(v, float), lambda: "For integral input "
              f"tensors, argument {name} must not be a floating point number.")
    a, b = vec1.to(dtype).reshape(-1, 1), vec2.to(dtype)
    x = input.to(dtype)
    if dtype is D.bool_:
        prod = a & b if alpha else zeros_like(a & b)
        r = (prod | x) if beta else prod
    elif beta == 0:
        r = (a * alpha) * b + zeros_like(x)   # input ignored: its NaN and inf do not propagate
    else:
        r = x * beta + (a * alpha) * b
    return _ip.write_out(out, r) if out is not None else r


def addr_(self, vec1, vec2, *, beta=1, alpha=1):
    check(self.dim() == 2, lambda: f"2D tensor expected, got {self.dim()}D tensor for input")
    return _ip.inplace_of(self, addr, vec1, vec2, beta=beta, alpha=alpha)


register("addr", addr, "linalg", dtype="promote", inplace=addr_)


def _scale_add(input, prod, beta, alpha):
    if not prod._dtype.is_floating_point:
        alpha, beta = int(alpha), int(beta)  # PyTorch converts the scalars to the integral dtype
    p = prod if alpha == 1 else prod * alpha
    if beta == 0:
        # beta == 0 ignores input entirely (NaN/inf in it do not propagate), but keeps broadcasting
        return p + zeros_like(input)
    return p + (input if beta == 1 else input * beta)
