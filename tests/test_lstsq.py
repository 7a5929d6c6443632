"""torch.linalg.lstsq beyond the OpInfo samples (well-conditioned, tests/test_opinfo.py): rank-deficient and
underdetermined systems (the minimum-norm solution), the fields each driver fills, a vector right-hand side,
broadcast batches, empty systems and the errors, against PyTorch; and a fit without it."""
import pytest

import torch_js
from optional_torch import needs_torch, torch


def _systems(lib):
    g = lib.Generator().manual_seed(0)
    A = lib.randn(6, 3, dtype=lib.float64, generator=g)
    B = lib.randn(6, 2, dtype=lib.float64, generator=g)
    deficient = A.clone()
    deficient[:, 2] = deficient[:, 1] * 2
    return {"tall": (A, B), "wide": (A[:2], B[:2]), "deficient": (deficient, B), "vector": (A, B[:, 0]),
            "batched": (A.expand(3, 6, 3), B.expand(1, 6, 2)), "empty": (A[:0], B[:0]),
            "rcond": (A, B)}


@needs_torch
@pytest.mark.parametrize("name", list(_systems(torch_js)))
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_matches_torch(name, driver):
    if driver == "gels" and name == "deficient":
        pytest.skip("gels assumes full rank: LAPACK and QR give different garbage")
    kw = {"driver": driver, "rcond": 0.3 if name == "rcond" else None}
    got = torch_js.linalg.lstsq(*_systems(torch_js)[name], **kw)
    want = torch.linalg.lstsq(*_systems(torch)[name], **kw)
    assert type(got).__name__ == type(want).__name__ == "linalg_lstsq"
    for g, w, field in zip(got, want, ("solution", "residuals", "rank", "singular_values")):
        g = torch.from_numpy(g.numpy())
        assert g.shape == w.shape and g.dtype == w.dtype, field
        torch.testing.assert_close(g, w, rtol=1e-9, atol=1e-9, msg=field)


@needs_torch
@pytest.mark.parametrize("args", [((3,), (6, 2)), ((6, 3), (5, 2)), ((6, 3), (5,))])
def test_errors_match_torch(args):
    def outcome(lib, **kw):
        try:
            lib.linalg.lstsq(*(lib.ones(s, dtype=lib.float64) for s in args), **kw)
        except RuntimeError as e:
            return str(e)
    assert outcome(torch_js) == outcome(torch) is not None
    for kw in ({"driver": "qr"},):
        assert outcome(torch_js, **kw) == outcome(torch, **kw)


def test_fits_a_line():
    x = torch_js.linspace(0, 1, 50, dtype=torch_js.float64)
    X = torch_js.stack([x, torch_js.ones_like(x)], 1)
    for driver in ("gels", "gelsy", "gelsd"):
        sol = torch_js.linalg.lstsq(X, (3 * x - 2).unsqueeze(1), driver=driver).solution
        assert sol.squeeze(1).tolist() == pytest.approx([3.0, -2.0], abs=1e-12)
    with pytest.raises(RuntimeError, match="same dtype"):
        torch_js.linalg.lstsq(X.float(), X)
