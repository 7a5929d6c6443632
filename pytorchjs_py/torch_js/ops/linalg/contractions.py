"""Contractions over the gemm primitive: einsum, tensordot, kron, multi_dot / chain_matmul, linalg.vecdot, cdist.
All are decompositions into differentiable ops (permute, reshape, diagonal, sum, bmm, ...), so their gradients come
from those ops; cdist's mm path has PyTorch's own node.
"""
from ... import _dtype as D
from ..._grad_mode import no_grad
from ..._tensor import Tensor, numel_of, wrap_dim
from .._registry import backward, register
from .._util import GRAD_ENABLED, as_op_result, broadcast_shapes, check, record, warn_at_caller
from .. import inplace as _ip
from ..creation import ones_like, zeros
from ..shape import cat
from .norms import vector_norm


# ---- einsum ----------------------------------------------------------------------------------------------------

_ELL = "..."


def _parse_term(term, ndim, where):
    """Labels of one operand's subscript (ellipsis dims become ('.', i) labels aligned from the right)."""
    if term.count(_ELL) > 1:
        raise RuntimeError("einsum(): found '.' for operand " + where + " for which an ellipsis was already found")
    labels = []
    if _ELL in term:
        left, right = term.split(_ELL)
        n_ell = ndim - len(left) - len(right)
        if n_ell < 0:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(left) + len(right)}) is more "
                               f"than the number of dimensions ({ndim}) for operand {where}")
        return list(left) + [(".", i) for i in range(-n_ell, 0)] + list(right), n_ell
    for c in term:
        if not c.isalpha():
            raise RuntimeError(f"einsum(): invalid subscript given at index {len(labels)} in the equation string, "
                               f"subscripts must be in [a-zA-Z]")
        labels.append(c)
    if len(labels) != ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(labels)}) does not match the "
                           f"number of dimensions ({ndim}) for operand {where} and no ellipsis was given")
    return labels, 0


def _take_diagonals(t, labels):
    """Repeated labels within one operand -> their diagonal (einsum('ii->i'))."""
    while True:
        seen = {}
        dup = None
        for i, l in enumerate(labels):
            if l in seen:
                dup = (seen[l], i)
                break
            seen[l] = i
        if dup is None:
            return t, labels
        a, b = dup
        if t._shape[a] != t._shape[b]:
            raise RuntimeError(f"einsum(): subscript {labels[a]} is repeated for operand but the sizes don't match, "
                               f"{t._shape[a]} != {t._shape[b]}")
        t = t.diagonal(0, a, b)
        lab = labels[a]
        labels = [l for i, l in enumerate(labels) if i not in (a, b)] + [lab]


def _sum_labels(t, labels, keep):
    dims = tuple(i for i, l in enumerate(labels) if l not in keep)
    if not dims:
        return t, labels
    return t.sum(dims), [l for l in labels if l in keep]


def _contract(a, la, b, lb, keep):
    """Contract two operands over their shared labels that are not in `keep`, with one bmm."""
    sa = dict(zip(la, a._shape))
    sb = dict(zip(lb, b._shape))
    batch = [l for l in la if l in sb and l in keep]
    contr = [l for l in la if l in sb and l not in keep]
    a_only = [l for l in la if l not in sb]
    b_only = [l for l in lb if l not in sa]
    size = {}
    for l in batch + contr:
        x, y = sa[l], sb[l]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                               f"{list(a._shape)} and {list(b._shape)}")
        size[l] = max(x, y)
    # sum a contracted label that has size 1 on one side (it broadcasts): fold it into that side's sum
    pa = a.permute([la.index(l) for l in batch + a_only + contr])
    pb = b.permute([lb.index(l) for l in batch + contr + b_only])
    bshape = tuple(size[l] for l in batch)
    cshape = tuple(size[l] for l in contr)
    ashape = tuple(sa[l] for l in a_only)
    bo_shape = tuple(sb[l] for l in b_only)
    pa = pa.expand(bshape + ashape + cshape)
    pb = pb.expand(bshape + cshape + bo_shape)
    nb, m, k, n = numel_of(bshape), numel_of(ashape), numel_of(cshape), numel_of(bo_shape)
    if pa._dtype is not pb._dtype:
        # an integer operand that was summed first is int64 already (sum promotes), as in PyTorch
        common = D.promote_types(pa._dtype, pb._dtype)
        pa, pb = pa.to(common), pb.to(common)
    r = pa.reshape(nb, m, k).bmm(pb.reshape(nb, k, n))
    return r.reshape(bshape + ashape + bo_shape), batch + a_only + b_only


def einsum(*args):
    check(len(args) >= 1, "einsum(): must specify the equation string and at least one operand, or at least one "
                          "operand and its subscripts list")
    equation = args[0]
    operands = list(args[1:])
    if not isinstance(equation, str):
        return _einsum_sublist(*args)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = list(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    labels, max_ell = [], 0
    for i, (term, op) in enumerate(zip(terms, operands)):
        lab, n_ell = _parse_term(term, op.dim(), str(i))
        labels.append(lab)
        max_ell = max(max_ell, n_ell)
    ell = [(".", i) for i in range(-max_ell, 0)]
    if arrow:
        out = []
        if rhs.count(_ELL) > 1:
            raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
        left, _, right = rhs.partition(_ELL)
        for c in left + right:
            if not c.isalpha():
                raise RuntimeError("einsum(): invalid subscript given in the equation string, subscripts must be "
                                   "in [a-zA-Z]")
        out = list(left) + (ell if _ELL in rhs else []) + list(right)
        for c in left + right:
            if not any(c in lab for lab in labels):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
            if (left + right).count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        counts = {}
        for lab in labels:
            for l in lab:
                if isinstance(l, str):
                    counts[l] = counts.get(l, 0) + 1
        out = ell + sorted(l for l, c in counts.items() if c == 1)
    # dtype: PyTorch requires equal dtypes (bmm does); promote like the backends' gemm would complain otherwise
    ts = []
    for op, lab in zip(operands, labels):
        t, lab = _take_diagonals(op, lab)
        ts.append([t, lab])
    keep_out = set(out)
    # sum labels used by one operand only (and not in the output)
    for i, (t, lab) in enumerate(ts):
        others = set()
        for j, (_, lj) in enumerate(ts):
            if j != i:
                others.update(lj)
        ts[i] = list(_sum_labels(t, lab, keep_out | others))
    t, lab = ts[0]
    for i in range(1, len(ts)):
        b, lb = ts[i]
        keep = set(keep_out)
        for _, lj in ts[i + 1:]:
            keep.update(lj)
        # labels of either side not needed afterwards and not shared are summed first
        t, lab = _sum_labels(t, lab, keep | set(lb))
        b, lb = _sum_labels(b, lb, keep | set(lab))
        t, lab = _contract(t, lab, b, lb, keep)
    t, lab = _sum_labels(t, lab, keep_out)
    # output ellipsis dims an operand lacked entirely are size 1 (none of them can be missing after contraction,
    # except when an operand had fewer ellipsis dims than another: then they broadcast)
    missing = [l for l in out if l not in lab]
    for l in missing:
        t = t.unsqueeze(-1)
        lab = lab + [l]
    perm = [lab.index(l) for l in out]
    # a permutation view even when nothing moved: einsum never hands back an operand itself
    return t.permute(perm) if perm != list(range(len(perm))) or any(t is op for op in operands) else t


def _einsum_sublist(*args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out])."""
    ops, subs = list(args[0::2]), list(args[1::2])
    out = None
    if len(ops) > len(subs):
        out = ops.pop()
    def letters(sub):
        s = ""
        for v in sub:
            s += _ELL if v is Ellipsis else (chr(ord("A") + v) if v < 26 else chr(ord("a") + v - 26))
        return s
    eq = ",".join(letters(s) for s in subs)
    if out is not None:
        eq += "->" + letters(out)
    return einsum(eq, *ops)


register("einsum", einsum, "linalg", method=False, dtype="same")


# ---- tensordot / kron / multi_dot / vecdot -------------------------------------------------------------------

def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    da = [wrap_dim(d, a.dim()) for d in da]
    db = [wrap_dim(d, b.dim()) for d in db]
    ea, eb = list(a._shape), list(b._shape)
    for x, y in zip(da, db):
        if a._shape[x] != b._shape[y]:
            if a._shape[x] == 1:
                ea[x] = b._shape[y]
            elif b._shape[y] == 1:
                eb[y] = a._shape[x]
            else:
                raise RuntimeError(f"contracted dimensions need to match, but first has size {a._shape[x]} in dim "
                                   f"{x} and second has size {b._shape[y]} in dim {y}")
    a = a.expand(tuple(ea)) if tuple(ea) != a._shape else a
    b = b.expand(tuple(eb)) if tuple(eb) != b._shape else b
    fa = [d for d in range(a.dim()) if d not in da]
    fb = [d for d in range(b.dim()) if d not in db]
    k = numel_of(tuple(a._shape[d] for d in da))
    pa = a.permute(fa + da).reshape(numel_of(tuple(a._shape[d] for d in fa)), k)
    pb = b.permute(db + fb).reshape(k, numel_of(tuple(b._shape[d] for d in fb)))
    r = pa.mm(pb).reshape(tuple(a._shape[d] for d in fa) + tuple(b._shape[d] for d in fb))
    return _ip.write_out(out, r) if out is not None else r


register("tensordot", tensordot, "linalg", method=False, dtype="same")


def kron(input, other, *, out=None):
    nd = max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + input._shape)
    b = other.reshape((1,) * (nd - other.dim()) + other._shape)
    ia, ib = [], []
    for s in a._shape:
        ia += [s, 1]
    for s in b._shape:
        ib += [1, s]
    r = a.reshape(ia) * b.reshape(ib)
    r = r.reshape(tuple(x * y for x, y in zip(a._shape, b._shape)))
    r = as_op_result(r, "UnsafeViewBackward0", (input, other))   # ATen's _unsafe_view of the product
    return _ip.write_out(out, r) if out is not None else r


register("kron", kron, "linalg", dtype="promote")


def multi_dot(tensors, *, out=None):
    n = len(tensors)
    if n == 0:
        raise RuntimeError("multi_dot(): expected at least 2 tensors but got 0")
    if n == 1:
        raise RuntimeError("multi_dot(): expected at least 2 tensors but got 1")
    first, last = tensors[0], tensors[-1]
    check(first.dim() in (1, 2), f"multi_dot(): the first tensor must be 1D or 2D but got {first.dim()}D")
    check(last.dim() in (1, 2), f"multi_dot(): the last tensor must be 1D or 2D but got {last.dim()}D")
    for i, t in enumerate(tensors[1:-1], 1):
        check(t.dim() == 2, f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    mats = [first.unsqueeze(0) if first.dim() == 1 else first] + list(tensors[1:-1]) + \
        [last.unsqueeze(-1) if last.dim() == 1 else last]
    for i in range(len(mats) - 1):
        if mats[i]._shape[1] != mats[i + 1]._shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i]._shape)} and "
                               f"{list(tensors[i + 1]._shape)} cannot be multiplied")
    r = _chain(mats)
    if first.dim() == 1:
        r = r.squeeze(0)
    if last.dim() == 1:
        r = r.squeeze(-1)
    return _ip.write_out(out, r) if out is not None else r


def _chain(mats):
    """Product of a chain of matrices in the cheapest order (the classic dynamic programme)."""
    n = len(mats)
    if n == 2:
        return mats[0].mm(mats[1])
    p = [m._shape[0] for m in mats] + [mats[-1]._shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            best = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + p[i] * p[k + 1] * p[j + 1]
                if best is None or c < best:
                    best, split[i][j] = c, k
            cost[i][j] = best

    def build(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return build(i, k).mm(build(k + 1, j))
    return build(0, n - 1)


register("multi_dot", multi_dot, "linalg", namespace="linalg", method=False, dtype="same",
         opinfo=("linalg.multi_dot",))


def chain_matmul(*matrices, out=None):
    warn_at_caller("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                   "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                   "parameters.")
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    check(len(matrices) > 0, "chain_matmul(): Expected one or more matrices")
    for t in matrices:
        check(t.dim() == 2, f"Tensor dimension is {t.dim()}, expected 2 instead.")
    r = matrices[0].clone() if len(matrices) == 1 else multi_dot(list(matrices))
    return _ip.write_out(out, r) if out is not None else r


register("chain_matmul", chain_matmul, "linalg", method=False, dtype="same", opinfo=())


def vecdot(x, y, *, dim=-1, out=None):
    if x._dtype is not y._dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{D.scalar_type_name(x._dtype)} and y of type {D.scalar_type_name(y._dtype)} instead.")
    r = (x * y).sum(dim)
    return _ip.write_out(out, r) if out is not None else r


register("vecdot", vecdot, "linalg", namespace="linalg", method=False, dtype="same",
         opinfo=("linalg.vecdot",))


# ---- cdist -----------------------------------------------------------------------------------------------------

_CDIST_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                "donot_use_mm_for_euclid_dist": 2}


def _euclid_backward(ctx, g):
    x1, x2, res = ctx.saved_tensors
    ratio = (g / res).masked_fill(res == 0, 0)
    e1, e2 = ctx.edges
    g1 = x1 * ratio.sum(-1, keepdim=True) - ratio.matmul(x2) if e1 is not None else None
    g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.transpose(-1, -2).matmul(x1) if e2 is not None else None
    return g1, g2


def _euclidean_dist(x1, x2):
    """PyTorch's _euclidean_dist: ||x1||^2 - 2 x1.x2 + ||x2||^2 in one matmul, clamped and rooted."""
    with no_grad():
        n1 = x1.pow(2).sum(-1, keepdim=True)
        n2 = x2.pow(2).sum(-1, keepdim=True)
        a = cat([x1 * -2, n1, ones_like(n1)], -1)
        b = cat([x2, ones_like(n2), n2], -1)
        res = a.matmul(b.transpose(-1, -2)).clamp_min(1e-30).sqrt()
    if GRAD_ENABLED[0] and (x1._requires_grad or x2._requires_grad):
        record("EuclideanDistBackward0", _euclid_backward, (x1, x2), (res,), save_inputs=(x1, x2),
               save_outputs=(res,))
    return res


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    check(x1.dim() >= 2, f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    check(x2.dim() >= 2, f"cdist only supports at least 2D tensors, X2 got: {x2.dim()}D")
    check(x1._shape[-1] == x2._shape[-1], f"X1 and X2 must have the same number of columns. X1: {x1._shape[-1]} "
                                          f"X2: {x2._shape[-1]}")
    check(x1._dtype.is_floating_point, f"cdist only supports floating-point dtypes, X1 got: "
                                       f"{D.scalar_type_name(x1._dtype)}")
    check(x2._dtype.is_floating_point, f"cdist only supports floating-point dtypes, X2 got: "
                                       f"{D.scalar_type_name(x2._dtype)}")
    check(p >= 0, "cdist only supports non-negative p values")
    if compute_mode is None:
        compute_mode = "use_mm_for_euclid_dist_if_necessary"
    mode = _CDIST_MODES.get(compute_mode)
    check(mode is not None, f"{compute_mode} is not a valid value for compute_mode")
    r1, r2, c = x1._shape[-2], x2._shape[-2], x1._shape[-1]
    batch = broadcast_shapes(x1._shape[:-2], x2._shape[:-2])
    a = x1.expand(batch + (r1, c))
    b = x2.expand(batch + (r2, c))
    if r1 == 0 or r2 == 0 or c == 0 or numel_of(batch) == 0:
        r = zeros(batch + (r1, r2), dtype=x1._dtype, device=x1._storage.device)
        if GRAD_ENABLED[0] and (x1._requires_grad or x2._requires_grad):
            r = r + (a.sum(-1, keepdim=True) * 0) + (b.sum(-1).unsqueeze(-2) * 0)
        return r
    if p == 2 and (mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25))):
        return _euclidean_dist(a, b)
    diff = a.unsqueeze(-2) - b.unsqueeze(-3)
    return vector_norm(diff, p, -1)


# the mm path records EuclideanDistBackward0; the others are written in differentiable ops
register("cdist", cdist, "linalg", method=False, dtype="linalg", derivative=backward(_euclid_backward))
