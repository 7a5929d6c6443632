"""torch.linalg.eig / eigvals on general real matrices: A V = V diag(L) with unit eigenvectors, the eigenvalues
PyTorch finds (as a set: their order is the QR iteration's, which PyTorch does not promise and LAPACK's balancing
can change), complex pairs positive imaginary part first with conjugate vectors, repeated eigenvalues with
independent vectors, shapes, dtypes and errors."""
import cmath

import pytest

import torch_js
from optional_torch import needs_torch, torch


def _check_decomposition(A, L, V, tol):
    n = A.shape[-1]
    a = A.tolist()
    lam = L.tolist()
    vec = V.tolist()
    for j in range(n):
        v = [vec[i][j] for i in range(n)]
        assert abs(sum(abs(x) ** 2 for x in v) - 1.0) < tol
        for i in range(n):
            assert abs(sum(a[i][k] * v[k] for k in range(n)) - lam[j] * v[i]) < tol * (1 + abs(lam[j]))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 12])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_decomposes(n, dtype):
    g = torch_js.Generator().manual_seed(n)
    A = torch_js.randn(4, n, n, generator=g).to(getattr(torch_js, dtype))
    L, V = torch_js.linalg.eig(A)
    assert L.dtype == V.dtype == (torch_js.complex128 if dtype == "float64" else torch_js.complex64)
    assert L.shape == (4, n) and V.shape == (4, n, n)
    for b in range(4):
        _check_decomposition(A[b].double(), L[b], V[b], 1e-9 if dtype == "float64" else 1e-4)
        vals = L[b].tolist()
        for k, v in enumerate(vals):
            if v.imag > 0:   # a pair: this one first, its conjugate next, with the conjugate vector
                assert vals[k + 1] == v.conjugate()
                assert V[b][:, k + 1].tolist() == [c.conjugate() for c in V[b][:, k].tolist()]
    assert torch_js.allclose(torch_js.linalg.eigvals(A), L)


def test_repeated_and_special():
    L, V = torch_js.linalg.eig(torch_js.eye(3))
    assert L.tolist() == [1, 1, 1] and V.tolist() == torch_js.eye(3, dtype=torch_js.complex64).tolist()
    L, V = torch_js.linalg.eig(torch_js.tensor([[0.0, -1.0], [1.0, 0.0]]))
    assert [round(v.imag, 6) for v in L.tolist()] == [1.0, -1.0]
    P = torch_js.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7]], dtype=torch_js.float64)
    L, V = torch_js.linalg.eig(P.T)   # a Markov chain's stationary distribution: the eigenvector of 1
    k = min(range(3), key=lambda i: abs(L[i].item() - 1))
    pi = V[:, k].real / V[:, k].real.sum()
    assert torch_js.allclose(pi @ P, pi) and abs(L[k].item() - 1) < 1e-12
    with pytest.raises(RuntimeError, match="should not contain infs or NaNs"):
        torch_js.linalg.eig(torch_js.tensor([[float("nan"), 1.0], [1.0, 1.0]]))
    with pytest.raises(RuntimeError, match="must be batches of square matrices"):
        torch_js.linalg.eigvals(torch_js.ones(2, 3))
    x = torch_js.randn(3, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for linalg_eig"):
        torch_js.linalg.eigvals(x).abs().sum().backward()


@needs_torch
@pytest.mark.parametrize("n", [2, 3, 4, 6, 10])
def test_eigenvalues_are_torchs(n):
    torch.manual_seed(n)
    A = torch.randn(20, n, n, dtype=torch.float64)
    want = torch.linalg.eigvals(A).tolist()
    got = torch_js.linalg.eigvals(torch_js.tensor(A.tolist(), dtype=torch_js.float64)).tolist()
    for w, g in zip(want, got):
        assert sorted(g, key=lambda z: (round(z.real, 8), round(z.imag, 8))) == pytest.approx(
            sorted(w, key=lambda z: (round(z.real, 8), round(z.imag, 8))), abs=1e-9)
