"""torch.svd_lowrank / torch.pca_lowrank: an exactly low-rank matrix is reconstructed; under the same seed the
singular values (and the generator's state after) are PyTorch's; PyTorch's argument errors."""
import pytest

import torch_js
from optional_torch import needs_torch, torch


def test_recovers_a_low_rank_matrix():
    torch_js.manual_seed(0)
    A = torch_js.randn(40, 3, dtype=torch_js.float64) @ torch_js.randn(3, 25, dtype=torch_js.float64)
    for wide in (False, True):
        B = A.mT if wide else A
        U, S, V = torch_js.svd_lowrank(B, q=5)
        assert U.shape == (B.shape[0], 5) and S.shape == (5,) and V.shape == (B.shape[1], 5)
        assert float((U @ torch_js.diag(S) @ V.mT - B).abs().max()) < 1e-9
        assert float(S[3:].abs().max()) < 1e-9
    U, S, V = torch_js.pca_lowrank(A + 7.0, q=3)   # centering removes the offset
    C = A - A.mean(0)
    assert float((U @ torch_js.diag(S) @ V.mT - C).abs().max()) < 1e-9


@needs_torch
@pytest.mark.parametrize("case", ["pca", "svd", "svd_M", "wide", "batched"])
def test_matches_torch(case):
    def run(lib):
        lib.manual_seed(3)
        X = lib.randn(2, 30, 12, dtype=lib.float64) if case == "batched" else lib.randn(30, 12, dtype=lib.float64)
        if case == "pca":
            out = lib.pca_lowrank(X, q=4)
        elif case == "svd":
            out = lib.svd_lowrank(X, q=5, niter=3)
        elif case == "svd_M":
            out = lib.svd_lowrank(X, q=5, M=X.mean(-2, keepdim=True))
        elif case == "wide":
            out = lib.svd_lowrank(X.mT, q=4)
        else:
            out = lib.pca_lowrank(X, q=3)
        return out[1].flatten().tolist(), [tuple(t.shape) for t in out], lib.rand(2).tolist()
    got, want = run(torch_js), run(torch)
    assert got[0] == pytest.approx(want[0], rel=1e-10) and got[1:] == want[1:]


@needs_torch
@pytest.mark.parametrize("kw", [{"q": 20}, {"q": -1}, {"niter": -1}])
def test_errors_match_torch(kw):
    def outcome(lib):
        with pytest.raises(ValueError) as e:
            lib.pca_lowrank(lib.ones(10, 8), **kw)
        return str(e.value)
    assert outcome(torch_js) == outcome(torch)
