"""out= of the ops that return several tensors (torch.max along a dim, the linalg factorizations, ...): each out
tensor takes its result's values (resized), the returned tuple holds the out tensors themselves, and a wrong dtype,
count or a tensor needing grad raises as PyTorch does. Against live torch where it is installed."""
import pytest

import torch_js as tj
from optional_torch import needs_torch, torch

A = [[4.0, 1.0, -2.0], [1.0, 3.0, 0.5], [-2.0, 0.5, 5.0]]   # symmetric positive definite
B = [[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]]
I32, I64, F64 = "int32", "int64", "float64"

# name: (call(m, A, B, out), the out dtypes)
CASES = {
    "max_dim": (lambda m, a, b, out: m.max(a, 1, out=out), (F64, I64)),
    "min_dim": (lambda m, a, b, out: m.min(a, 0, keepdim=True, out=out), (F64, I64)),
    "linalg.svd": (lambda m, a, b, out: m.linalg.svd(a, out=out), (F64, F64, F64)),
    "svd": (lambda m, a, b, out: m.svd(a, out=out), (F64, F64, F64)),
    "linalg.qr": (lambda m, a, b, out: m.linalg.qr(a, out=out), (F64, F64)),
    "qr": (lambda m, a, b, out: m.qr(a, out=out), (F64, F64)),
    "geqrf": (lambda m, a, b, out: m.geqrf(a, out=out), (F64, F64)),
    "linalg.eigh": (lambda m, a, b, out: m.linalg.eigh(a, out=out), (F64, F64)),
    "linalg.eig": (lambda m, a, b, out: m.linalg.eig(a, out=out), ("complex128", "complex128")),
    "linalg.lu": (lambda m, a, b, out: m.linalg.lu(a, out=out), (F64, F64, F64)),
    "linalg.lu_factor": (lambda m, a, b, out: m.linalg.lu_factor(a, out=out), (F64, I32)),
    "linalg.lu_factor_ex": (lambda m, a, b, out: m.linalg.lu_factor_ex(a, out=out), (F64, I32, I32)),
    "lu_unpack": (lambda m, a, b, out: m.lu_unpack(*m.linalg.lu_factor(a), out=out), (F64, F64, F64)),
    "linalg.cholesky_ex": (lambda m, a, b, out: m.linalg.cholesky_ex(a, out=out), (F64, I32)),
    "linalg.inv_ex": (lambda m, a, b, out: m.linalg.inv_ex(a, out=out), (F64, I32)),
    "linalg.solve_ex": (lambda m, a, b, out: m.linalg.solve_ex(a, b, out=out), (F64, I32)),
    "linalg.slogdet": (lambda m, a, b, out: m.linalg.slogdet(a, out=out), (F64, F64)),
    "slogdet": (lambda m, a, b, out: m.slogdet(a, out=out), (F64, F64)),
    "linalg.lstsq": (lambda m, a, b, out: m.linalg.lstsq(a, b, out=out), (F64, F64, I64, F64)),
    "triangular_solve": (lambda m, a, b, out: m.triangular_solve(b, a.triu(), out=out), (F64, F64)),
}
# the outputs compared by value where singular / eigenvectors are (their signs and phases differ from LAPACK's)
SIGN_FREE = {"svd": (1,), "linalg.svd": (1,), "linalg.eigh": (0,), "linalg.eig": ()}


def _outs(m, dtypes, first=None):
    outs = [m.empty(0, dtype=getattr(m, d)) for d in dtypes]
    if first is not None:
        outs[0] = m.empty(first, dtype=getattr(m, dtypes[0]))
    return tuple(outs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_outs_written_and_returned(name):
    call, dtypes = CASES[name]
    a, b = tj.tensor(A, dtype=tj.float64), tj.tensor(B, dtype=tj.float64)
    want = call(tj, a, b, None)
    outs = _outs(tj, dtypes, first=(7,))   # (a non-empty out of the wrong shape is resized)
    got = call(tj, a, b, outs)
    assert type(got) is type(want)
    assert all(g is o for g, o in zip(got, outs))
    for o, w in zip(outs, want):
        assert o.dtype == w.dtype and o.shape == w.shape
        assert tj.equal(o, w)


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_outs_match_pytorch(name):
    call, dtypes = CASES[name]
    got = call(tj, tj.tensor(A, dtype=tj.float64), tj.tensor(B, dtype=tj.float64), _outs(tj, dtypes))
    want = call(torch, torch.tensor(A, dtype=torch.float64), torch.tensor(B, dtype=torch.float64), _outs(torch, dtypes))
    for k, (g, w) in enumerate(zip(got, want)):
        assert list(g.shape) == list(w.shape)
        if k in SIGN_FREE.get(name, (k,)):
            assert g.reshape(-1).tolist() == pytest.approx(w.reshape(-1).tolist(), abs=1e-12)


def _error(fn):
    with pytest.raises(Exception) as e:
        fn()
    return type(e.value), str(e.value).split("\n")[0]


@needs_torch
@pytest.mark.parametrize("case", ["dtype", "index_dtype", "count", "grad"])
def test_out_errors_match_pytorch(case):
    def run(m):
        a = m.tensor(A, dtype=m.float64)
        if case == "dtype":
            return lambda: m.linalg.svd(a, out=_outs(m, ("float32", F64, F64)))
        if case == "index_dtype":
            return lambda: m.linalg.lu_factor(a, out=_outs(m, (F64, I64)))
        if case == "count":
            return lambda: m.linalg.qr(a, out=_outs(m, (F64,)))
        x = a.clone().requires_grad_()
        return lambda: m.max(x, 1, out=_outs(m, (F64, I64)))
    je, te = _error(run(tj)), _error(run(torch))
    assert je[0] is te[0] or je[0].__name__ == te[0].__name__
    if case != "grad":   # (PyTorch's names the op's kernel: "_linalg_svd(): functions with out=...")
        assert je[1] == te[1]
