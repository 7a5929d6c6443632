"""torch_js.linalg and the contractions (einsum, tensordot, kron, cdist) against PyTorch, beyond the OpInfo samples:
einsum's equation forms, LAPACK's conventions (QR signs, LU pivots), PyTorch's LinAlgError messages, second
derivatives through the factorizations, and the SVD-based norms.

The OpInfo suite (test_opinfo.py) covers the op_db samples; here every comparison needs torch except the few
with hand-derived values, which also run in Pyodide.
"""
import math

import pytest

import torch_js
import torch_js.linalg  # noqa: F401  (declares the linalg ops)
from oracle import values

try:
    import torch
except ImportError:  # Pyodide
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares against torch (not importable here)")


def to_js(t, requires_grad=False):
    d = getattr(torch_js, str(t.dtype).replace("torch.", ""))
    r = torch_js.tensor(t.detach().tolist(), dtype=d) if t.dim() else torch_js.tensor(t.item(), dtype=d)
    if t.numel() == 0:
        r = torch_js.zeros(tuple(t.shape), dtype=d)
    return r.requires_grad_(requires_grad)


def close(js, pt, tol=1e-9):
    a, b = values(js), values(pt)
    assert tuple(js.shape) == tuple(pt.shape), (tuple(js.shape), tuple(pt.shape))
    for x, y in zip(a, b):
        if isinstance(y, float) and (math.isnan(y) or math.isinf(y)):
            assert (math.isnan(x) and math.isnan(y)) or x == y, (x, y)
        else:
            assert abs(x - y) <= tol * (1 + abs(y)), (a, b)


def rand(*shape, seed=0, dtype=None):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(tuple(shape), generator=g, dtype=dtype or torch.float64)


# ---- namespace ---------------------------------------------------------------------------------------------

def test_namespace_exports():
    for name in ("inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "solve_triangular", "cholesky",
                 "cholesky_ex", "qr", "lu_factor", "lu_factor_ex", "lu", "lu_solve", "svdvals", "matrix_norm",
                 "norm", "vector_norm", "multi_dot", "vecdot", "matrix_power"):
        assert callable(getattr(torch_js.linalg, name)), name
    for name in ("einsum", "tensordot", "kron", "cdist", "chain_matmul", "det", "logdet", "slogdet", "inverse"):
        assert callable(getattr(torch_js, name)), name
    assert issubclass(torch_js.linalg.LinAlgError, RuntimeError)
    assert torch_js.ones(2, 2).det().item() == 0.0
    assert callable(torch_js.Tensor.inverse) and callable(torch_js.Tensor.logdet)


def test_hand_values():
    """Torch-free checks (these also run in Pyodide)."""
    A = torch_js.tensor([[4.0, 3.0], [6.0, 3.0]], dtype=torch_js.float64)
    assert abs(torch_js.linalg.det(A).item() - (-6.0)) < 1e-12
    assert values(torch_js.linalg.inv(A)) == pytest.approx([-0.5, 0.5, 1.0, -2.0 / 3.0])
    assert values(torch_js.linalg.solve(A, torch_js.tensor([10.0, 12.0], dtype=torch_js.float64))) == \
        pytest.approx([1.0, 2.0])
    S = torch_js.tensor([[4.0, 2.0], [2.0, 5.0]])
    assert values(torch_js.linalg.cholesky(S)) == pytest.approx([2.0, 0.0, 1.0, 2.0])
    Q, R = torch_js.linalg.qr(torch_js.tensor([[3.0, 1.0], [4.0, 2.0]]))
    # LAPACK's Householder: R[0, 0] = -||a_0|| for a positive leading entry
    assert values(R)[0] == pytest.approx(-5.0)
    assert values(torch_js.einsum("ii", torch_js.eye(3))) == [3.0]
    assert values(torch_js.kron(torch_js.tensor([1, 2]), torch_js.tensor([1, 10]))) == [1, 10, 2, 20]


# ---- errors ------------------------------------------------------------------------------------------------

def test_singular_and_not_pd_errors():
    L = torch_js.linalg
    sing = torch_js.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(L.LinAlgError, match=r"^linalg.inv: The diagonal element 2 is zero, the inversion could not "
                                            r"be completed because the input matrix is singular.$"):
        L.inv(sing)
    with pytest.raises(RuntimeError, match=r"^linalg.inv: \(Batch element 1\): The diagonal element 2 is zero"):
        L.inv(torch_js.stack([torch_js.eye(2), sing]))
    with pytest.raises(L.LinAlgError, match=r"^torch.linalg.solve: The solver failed because the input matrix is "
                                            r"singular.$"):
        L.solve(sing, torch_js.ones(2))
    with pytest.raises(L.LinAlgError, match=r"^linalg.cholesky: The factorization could not be completed because "
                                            r"the input is not positive-definite \(the leading minor of order 2 is "
                                            r"not positive-definite\).$"):
        L.cholesky(sing)
    with pytest.raises(L.LinAlgError, match=r"\(Batch element 1\).*leading minor of order 1"):
        L.cholesky(torch_js.stack([torch_js.eye(2), -torch_js.eye(2)]))
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2 by 3 matrices"):
        L.inv(torch_js.ones(2, 3))
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        L.det(torch_js.ones(3))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        L.inv(torch_js.ones(2, 2, dtype=torch_js.int64))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B for the equation AX = B \(2x2 and 3x1\)"):
        L.solve(torch_js.eye(2), torch_js.ones(3))
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        L.qr(torch_js.eye(2), mode="x")
    # the _ex variants report instead of raising
    info = L.inv_ex(sing).info
    assert info.dtype == torch_js.int32 and info.item() == 2
    assert L.cholesky_ex(sing).info.item() == 2


# ---- einsum ------------------------------------------------------------------------------------------------

EINSUM_CASES = [
    ("ii", [(4, 4)]), ("ii->i", [(4, 4)]), ("bii->b", [(2, 3, 3)]), ("iij->j", [(3, 3, 2)]),
    ("ij->ji", [(2, 3)]), ("ij,jk", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]), ("i,i->", [(5,), (5,)]), ("i,j", [(2,), (3,)]),
    ("ijk,kj->i", [(2, 3, 4), (4, 3)]), ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 2)]),
    ("...i,...i->...", [(2, 3, 4), (4,)]), ("i...->...", [(2, 3, 4)]), ("a b , b c -> a c", [(2, 3), (3, 2)]),
    ("ij,ij->ij", [(2, 3), (1, 3)]), ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


@needs_torch
@pytest.mark.parametrize("eq,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_forward_backward(eq, shapes):
    pts = [rand(*s, seed=i).requires_grad_() for i, s in enumerate(shapes)]
    jss = [to_js(p, True) for p in pts]
    r_pt = torch.einsum(eq, *pts)
    r_js = torch_js.einsum(eq, *jss)
    close(r_js, r_pt)
    up = rand(*r_pt.shape, seed=9)
    g_pt = torch.autograd.grad(r_pt, pts, up)
    g_js = torch_js.autograd.grad(r_js, jss, to_js(up))
    for a, b in zip(g_js, g_pt):
        close(a, b)


@needs_torch
def test_einsum_list_and_sublist_forms():
    a, b = rand(2, 3), rand(3, 4, seed=1)
    ja, jb = to_js(a), to_js(b)
    close(torch_js.einsum("ij,jk->ik", [ja, jb]), a @ b)
    close(torch_js.einsum(ja, [0, 1], jb, [1, 2], [0, 2]), a @ b)
    close(torch_js.einsum(ja, [Ellipsis, 1], jb, [1, 2]), torch.einsum(a, [Ellipsis, 1], b, [1, 2]))
    with pytest.raises(RuntimeError, match="einsum"):
        torch_js.einsum("ij,jk->ik", ja)


# ---- factorizations: conventions and derivatives -----------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_qr_matches_lapack(dtype, shape):
    A = rand(*shape, seed=3, dtype=getattr(torch, dtype))
    tol = 1e-5 if dtype == "float32" else 1e-10
    for mode in ("reduced", "complete", "r"):
        Q, R = torch_js.linalg.qr(to_js(A), mode=mode)
        tQ, tR = torch.linalg.qr(A, mode=mode)
        close(R, tR, tol)
        if mode != "r":
            close(Q, tQ, tol)


@needs_torch
def test_lu_factor_matches_lapack():
    for shape in [(4, 4), (3, 5), (5, 3), (2, 4, 4)]:
        A = rand(*shape, seed=4)
        LU, piv = torch_js.linalg.lu_factor(to_js(A))
        tLU, tpiv = torch.linalg.lu_factor(A)
        close(LU, tLU)
        assert values(piv) == values(tpiv) and piv.dtype == torch_js.int32
        P, L, U = torch_js.linalg.lu(to_js(A))
        for a, b in zip((P, L, U), torch.linalg.lu(A)):
            close(a, b)


def _spd(n, seed, batch=()):
    X = rand(*batch, n, n, seed=seed)
    return X @ X.mT + n * torch.eye(n, dtype=torch.float64)


@needs_torch
@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "logdet", "solve", "solve_left", "cholesky",
                                  "cholesky_upper", "qr",
                                  "qr_wide", "solve_triangular",
                                  "solve_triangular_right", "lu_factor", "matrix_power", "cdist_mm",
                                  "svdvals",
                                  "pinv", "householder_product",
                                  "cholesky_solve", "cholesky_inverse"])
def test_second_derivatives(name):
    """grad of (grad·w) through each op: the backward formulas are themselves differentiable.
"""
    B = rand(3, 2, seed=7)

    def f(lib, A, Bm):
        L = lib.linalg
        if name == "inv":
            return L.inv(A)
        if name == "det":
            return L.det(A)
        if name == "slogdet":
            return L.slogdet(A)[1]
        if name == "logdet":
            return lib.logdet(A @ A.mT)
        if name == "solve":
            return L.solve(A, Bm)
        if name == "solve_left":
            return L.solve(A, Bm.mT, left=False)
        if name == "cholesky":
            return L.cholesky(A @ A.mT + 3 * lib.eye(3, dtype=A.dtype))
        if name == "cholesky_upper":
            return L.cholesky(A @ A.mT + 3 * lib.eye(3, dtype=A.dtype), upper=True)
        if name == "qr":
            Q, R = L.qr(A)
            return Q.sum() + (R * R).sum()
        if name == "qr_wide":
            Q, R = L.qr(A[:2])
            return Q.sum() + (R * R).sum()
        if name == "solve_triangular":
            return L.solve_triangular(A + 3 * lib.eye(3, dtype=A.dtype), Bm, upper=True)
        if name == "solve_triangular_right":
            return L.solve_triangular(A + 3 * lib.eye(3, dtype=A.dtype), Bm.mT, upper=False, left=False,
                                      unitriangular=True)
        if name == "lu_factor":
            return L.lu_factor(A)[0]
        if name == "matrix_power":
            return L.matrix_power(A, -2)
        if name == "cdist_mm":
            return lib.cdist(A, Bm.mT, compute_mode="use_mm_for_euclid_dist")
        if name == "svdvals":
            return L.svdvals(A)
        if name == "pinv":
            return L.pinv(A)
        if name == "householder_product":
            return L.householder_product(A, Bm[:, 0])
        if name == "cholesky_solve":
            return lib.cholesky_solve(Bm, A.tril())
        if name == "cholesky_inverse":
            return lib.cholesky_inverse(A.triu(), upper=True)
        raise AssertionError(name)

    A = rand(3, 3, seed=5) + 2 * torch.eye(3, dtype=torch.float64)
    if name == "cdist_mm":  # (PyTorch has no double backward for cdist's non-mm path)
        B = rand(2, 3, seed=8).mT
    results = []
    for lib, make in ((torch, lambda t: t.clone().requires_grad_()), (torch_js, lambda t: to_js(t, True))):
        a, b = make(A), make(B)
        out = f(lib, a, b)
        up = (rand(*out.shape, seed=11) if out.dim() else torch.tensor(1.3, dtype=torch.float64))
        up = up if lib is torch else to_js(up)
        ga, gb = lib.autograd.grad(out, (a, b), up, create_graph=True, allow_unused=True)
        w = rand(3, 3, seed=12)
        w = w if lib is torch else to_js(w)
        gga = lib.autograd.grad((ga * w).sum(), (a,), allow_unused=True)[0]
        results.append((out, ga, gga))
    (o1, g1, h1), (o2, g2, h2) = results
    close(o2, o1, 1e-8)
    close(g2, g1, 1e-7)
    if h1 is None:
        assert h2 is None or all(v == 0 for v in values(h2))
    else:
        close(h2, h1, 1e-6)


@needs_torch
def test_det_gradient_singular():
    """A rank-deficient input takes PyTorch's SVD cofactor path (no NaNs, the cofactor matrix). Checked against the
    cofactors themselves: live PyTorch's answer here depends on its LAPACK's rounding (on an AMD EPYC host it gave
    zeros: the singular value at rounding level came out nonzero and its U column noise)."""
    rows = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]

    def cofactor(i, j):
        m = [[rows[r][c] for c in range(3) if c != j] for r in range(3) if r != i]
        return (-1) ** (i + j) * (m[0][0] * m[1][1] - m[0][1] * m[1][0])
    a = torch_js.tensor(rows, dtype=torch_js.float64, requires_grad=True)
    g_js = torch_js.autograd.grad(torch_js.linalg.det(a), a)[0]
    close(g_js, torch.tensor([[cofactor(i, j) for j in range(3)] for i in range(3)], dtype=torch.float64), 1e-8)


@needs_torch
@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norm_ords(ord):
    A = rand(2, 4, 3, seed=13).requires_grad_()
    a = to_js(A, True)
    r_pt = torch.linalg.matrix_norm(A, ord)
    r_js = torch_js.linalg.matrix_norm(a, ord)
    close(r_js, r_pt)
    close(torch_js.autograd.grad(r_js.sum(), a)[0], torch.autograd.grad(r_pt.sum(), A)[0], 1e-7)
    close(torch_js.linalg.norm(a, ord, dim=(0, 2), keepdim=True),
          torch.linalg.norm(A, ord, dim=(0, 2), keepdim=True))


@needs_torch
@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, math.inf])
def test_cdist_modes(mode, p):
    x1, x2 = rand(2, 30, 4, seed=14).requires_grad_(), rand(1, 27, 4, seed=15).requires_grad_()
    j1, j2 = to_js(x1, True), to_js(x2, True)
    r_pt = torch.cdist(x1, x2, p, mode)
    r_js = torch_js.cdist(j1, j2, p, mode)
    close(r_js, r_pt, 1e-7)
    up = rand(*r_pt.shape, seed=16)
    for a, b in zip(torch_js.autograd.grad(r_js, (j1, j2), to_js(up)), torch.autograd.grad(r_pt, (x1, x2), up)):
        close(a, b, 1e-6)


@needs_torch
def test_float32_kernels():
    A = rand(3, 6, 6, seed=17, dtype=torch.float32)
    S = A @ A.mT + 6 * torch.eye(6)
    B = rand(3, 6, 2, seed=18, dtype=torch.float32)
    j = to_js
    close(torch_js.linalg.inv(j(A)), torch.linalg.inv(A), 1e-4)
    close(torch_js.linalg.solve(j(A), j(B)), torch.linalg.solve(A, B), 1e-4)
    close(torch_js.linalg.det(j(A)), torch.linalg.det(A), 1e-4)
    close(torch_js.linalg.cholesky(j(S)), torch.linalg.cholesky(S), 1e-5)
    close(torch_js.linalg.svdvals(j(A)), torch.linalg.svdvals(A), 1e-5)
    assert torch_js.linalg.inv(j(A)).dtype == torch_js.float32


@needs_torch
def test_tensordot_kron_multi_dot():
    a, b = rand(2, 3, 4), rand(4, 3, 5, seed=1)
    close(torch_js.tensordot(to_js(a), to_js(b), dims=([1, 2], [1, 0])), torch.tensordot(a, b, dims=([1, 2], [1, 0])))
    close(torch_js.tensordot(to_js(a), to_js(b), dims=0), torch.tensordot(a, b, dims=0))
    close(torch_js.kron(to_js(rand(2, 3)), to_js(rand(4, seed=2))), torch.kron(rand(2, 3), rand(4, seed=2)))
    ms = [rand(2, 5), rand(5, 1, seed=1), rand(1, 4, seed=2), rand(4, seed=3)]
    close(torch_js.linalg.multi_dot([to_js(m) for m in ms]), torch.linalg.multi_dot(ms))
    close(torch_js.chain_matmul(*[to_js(m) for m in ms[:3]]), torch.linalg.multi_dot(ms[:3]))


# ---- SVD and eigh: values unique, vectors up to sign ----------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_gauge_invariant(shape, full):
    A = rand(*shape, seed=21).requires_grad_()
    a = to_js(A, True)
    U, S, Vh = torch.linalg.svd(A, full_matrices=full)
    u, s, vh = torch_js.linalg.svd(a, full_matrices=full)
    assert tuple(u.shape) == tuple(U.shape) and tuple(vh.shape) == tuple(Vh.shape)
    close(s, S)
    k = S.shape[-1]
    close((u.narrow(-1, 0, k) * s.unsqueeze(-2)) @ vh.narrow(-2, 0, k), A.detach())
    close(u @ u.mT, U @ U.mT)   # orthonormal columns (the complement spans the same space)
    close(u.narrow(-1, 0, k) * u.narrow(-1, 0, k), U[..., :k] * U[..., :k])
    w1, w2, c = rand(*U[..., :k].shape, seed=22), rand(*Vh[..., :k, :].shape, seed=23), rand(k, seed=24)

    def loss(lib, U_, S_, Vh_, w1, w2, c):
        return (w1 * U_[..., :k] ** 2).sum() + (w2 * Vh_[..., :k, :] ** 2).sum() + (S_ * c).sum()
    g_pt = torch.autograd.grad(loss(torch, U, S, Vh, w1, w2, c), A)[0]
    g_js = torch_js.autograd.grad(loss(torch_js, u, s, vh, to_js(w1), to_js(w2), to_js(c)), a)[0]
    close(g_js, g_pt, 1e-7)


@needs_torch
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gauge_invariant(uplo):
    X = rand(2, 5, 5, seed=25)
    A = (X + X.mT).requires_grad_()
    a = to_js(A, True)
    L, V = torch.linalg.eigh(A, UPLO=uplo)
    l, v = torch_js.linalg.eigh(a, UPLO=uplo)
    close(l, L)
    close(v * v, V * V)
    close((v * l.unsqueeze(-2)) @ v.mT, A.detach())
    close(torch_js.linalg.eigvalsh(a, UPLO=uplo), torch.linalg.eigvalsh(A, UPLO=uplo))
    w, c = rand(2, 5, 5, seed=26), rand(5, seed=27)
    g_pt = torch.autograd.grad((w * V * V).sum() + (L * c).sum(), A)[0]
    g_js = torch_js.autograd.grad((to_js(w) * v * v).sum() + (l * to_js(c)).sum(), a)[0]
    close(g_js, g_pt, 1e-7)
    # only the UPLO triangle is read
    B = A.detach().clone()
    B[..., 0, 4] = 100.0 if uplo == "L" else B[..., 0, 4]
    B[..., 4, 0] = 100.0 if uplo == "U" else B[..., 4, 0]
    close(torch_js.linalg.eigvalsh(to_js(B), UPLO=uplo), L)


@needs_torch
def test_pinv_rank_cond():
    A = rand(4, 3, seed=28) @ rand(3, 5, seed=29)   # rank 3
    a = to_js(A)
    close(torch_js.linalg.pinv(a), torch.linalg.pinv(A), 1e-8)
    assert torch_js.linalg.matrix_rank(a).item() == 3
    B = rand(2, 4, 4, seed=30)
    for p in (None, 2, -2, 1, "fro", math.inf):
        close(torch_js.linalg.cond(to_js(B), p), torch.linalg.cond(B, p), 1e-8)


@needs_torch
@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 4), (3, 4)), ((2, 3, 4), (4,)), ((), (2, 3)), ((5,), ())])
def test_inner_matches_torch(sa, sb):
    a, b = torch.randn(sa, dtype=torch.float64), torch.randn(sb, dtype=torch.float64)
    got = torch_js.inner(to_js(a), to_js(b))
    assert tuple(got.shape) == tuple(torch.inner(a, b).shape)
    assert torch.allclose(torch.tensor(got.tolist(), dtype=torch.float64), torch.inner(a, b))


def test_inner_last_dims_must_match():
    with pytest.raises(RuntimeError, match="inner\\(\\) the last dimension must match"):
        torch_js.inner(torch_js.ones(2, 3), torch_js.ones(2, 4))
