"""Ops real programs call (issue 15): quantile/nanquantile, cov/corrcoef, histogram/histogramdd, renorm, dist,
vdot, addr, addbmm, the in-place addmm_/addmv_/baddbmm_/addr_/addbmm_, matrix_exp, torch.vander, the removed
linalg names (torch.solve & co.), scatter_reduce/index_reduce, put, the *_scatter and *_copy functional views,
isin, unravel_index, nonzero_static, fill_diagonal_, unsafe_split & co. and torch.index_put_.

Against live torch: values (dtype, shape, numbers) in float64, float32 and integer dtypes, input gradients in
float64 under a seeded upstream gradient, and PyTorch's exception type and message for bad input; the cases are
in tests/_ops_more_cases.py. A few hand-computed checks run without torch (Pyodide)."""
import math

import pytest

import torch_js as tj
from optional_torch import HAVE_TORCH, needs_torch, torch

if HAVE_TORCH:
    import _ops_more_cases as C
    from _ops_more_cases import R, _js
else:   # Pyodide: the torch-free tests at the end run
    C = type("NoCases", (), {name: [] for name in (
        "STATISTICS", "HISTOGRAMS", "LINALG", "SCATTERS", "VIEWS", "INDICES", "STATISTICS_ERRORS",
        "HISTOGRAM_ERRORS", "LINALG_ERRORS", "SCATTER_ERRORS", "VIEW_ERRORS", "INDEX_ERRORS", "GRAD_FN_NAMES",
        "SECOND_DERIVATIVES")})


# ---- the harness: one callable, run on torch and on torch_js --------------------------------------------------

def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in _leaves(v)]
    return [x] if hasattr(x, "shape") and hasattr(x, "dtype") else []


def _same(t, j, tol, what="result"):
    if isinstance(t, (list, tuple)):
        assert isinstance(j, (list, tuple)) and len(j) == len(t), f"{what}: {j!r} vs {t!r}"
        for i, (a, b) in enumerate(zip(t, j)):
            _same(a, b, tol, f"{what}[{i}]")
        return
    if not isinstance(t, torch.Tensor):
        assert j == t, f"{what}: {j!r} vs {t!r}"
        return
    assert str(j.dtype) == str(t.dtype), f"{what} dtype: {j.dtype} vs {t.dtype}"
    assert tuple(j.shape) == tuple(t.shape), f"{what} shape: {tuple(j.shape)} vs {tuple(t.shape)}"
    tv, jv = t.detach().flatten().tolist(), j.detach().flatten().tolist()
    if t.is_floating_point() or t.is_complex():
        for a, b in zip(tv, jv):
            if a != a or b != b:
                assert (a != a) == (b != b), f"{what}: {jv} vs {tv}"
            else:
                assert b == pytest.approx(a, rel=tol, abs=tol), f"{what}: {jv} vs {tv}"
    else:
        assert jv == tv, f"{what}: {jv} vs {tv}"


def _matches(fn, args, kwargs=None, grad=True, tol=1e-9):
    """fn(torch, *args) against fn(tj, *args): the results, then (for floating args marked requires_grad) the
    gradients of a seeded weighted sum of the floating results."""
    kwargs = kwargs or {}
    t_args = [a.detach().clone().requires_grad_(grad and a.is_floating_point()) if isinstance(a, torch.Tensor) else a
              for a in args]
    j_args = [_js(a, grad=True) for a in t_args]
    t_out = fn(torch, *t_args, **kwargs)
    j_out = fn(tj, *j_args, **_js(kwargs))
    _same(t_out, j_out, tol)
    t_in = [a for a in t_args if isinstance(a, torch.Tensor) and a.requires_grad]
    if not t_in:
        return
    j_in = [a for a in j_args if isinstance(a, tj.Tensor) and a.requires_grad]
    t_res = [o for o in _leaves(t_out) if o.requires_grad]
    j_res = [o for o in _leaves(j_out) if o.requires_grad]
    assert len(j_res) == len(t_res)
    if not t_res:
        return
    weights = [R(*o.shape, dtype=str(o.dtype).replace("torch.", ""), seed=7 + i) for i, o in enumerate(t_res)]
    t_grads = torch.autograd.grad(sum((o * w).sum() for o, w in zip(t_res, weights)), t_in, allow_unused=True)
    j_grads = tj.autograd.grad(sum((o * _js(w)).sum() for o, w in zip(j_res, weights)), j_in, allow_unused=True)
    for i, (tg, jg) in enumerate(zip(t_grads, j_grads)):
        if tg is None or jg is None:   # an unused input: no gradient, or zeros
            assert all(g is None or not bool((g != 0).any()) for g in (tg, jg)), f"grad[{i}]: {jg} vs {tg}"
        else:
            _same(tg, jg, tol, f"grad[{i}]")


def _raises_like_torch(fn, args, kwargs=None, same_message=True):
    kwargs = kwargs or {}
    results = []
    for lib, a, kw in ((torch, args, kwargs), (tj, _js(list(args)), _js(kwargs))):
        with pytest.raises(Exception) as info:
            fn(lib, *a, **kw)
        results.append((type(info.value).__name__, str(info.value)))
    assert results[1][0] == results[0][0], results
    if same_message:
        assert results[1][1] == results[0][1]


@needs_torch
@pytest.mark.filterwarnings("ignore:cov")   # degrees of freedom <= 0, warned by both
@pytest.mark.parametrize("fn,args,kwargs,grad,tol", C.STATISTICS + C.HISTOGRAMS + C.LINALG + C.SCATTERS + C.VIEWS +
                         C.INDICES)
def test_matches_torch(fn, args, kwargs, grad, tol):
    _matches(fn, args, kwargs, grad, tol)


@needs_torch
@pytest.mark.parametrize("fn,args,kwargs,same_message", C.STATISTICS_ERRORS + C.HISTOGRAM_ERRORS +
                         C.LINALG_ERRORS + C.SCATTER_ERRORS + C.VIEW_ERRORS + C.INDEX_ERRORS)
def test_errors_match_torch(fn, args, kwargs, same_message):
    _raises_like_torch(fn, args, kwargs, same_message)


# ---- autograd details --------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("fn,args", C.GRAD_FN_NAMES)
def test_grad_fn_names_match_torch(fn, args):
    t_out = fn(torch, *[a.clone().requires_grad_() for a in args])
    j_out = fn(tj, *[_js(a).requires_grad_() for a in args])
    assert type(j_out.grad_fn).__name__ == type(t_out.grad_fn).__name__


@needs_torch
@pytest.mark.parametrize("fn", C.SECOND_DERIVATIVES)
def test_second_derivatives_match_torch(fn):
    x = R(3, 3, seed=11)
    tx, jx = x.clone().requires_grad_(), _js(x).requires_grad_()
    (tg,) = torch.autograd.grad(fn(torch, tx).pow(2).sum(), tx, create_graph=True)
    (jg,) = tj.autograd.grad(fn(tj, jx).pow(2).sum(), jx, create_graph=True)
    _same(tg, jg, 1e-9)
    (tgg,) = torch.autograd.grad(tg.sin().sum(), tx)
    (jgg,) = tj.autograd.grad(jg.sin().sum(), jx)
    _same(tgg, jgg, 1e-8)


@needs_torch
@pytest.mark.parametrize("name,fn", [
    ("histogram", lambda m, x: m.histogram(x, 3).hist),
    ("histogramdd", lambda m, x: m.histogramdd(x.reshape(-1, 2), [2, 2]).hist),
    ("detach_copy", lambda m, x: m.detach_copy(x)),
])
def test_backward_through_non_differentiable_ops_raises_like_torch(name, fn):
    errors = []
    for m, x in ((torch, R(6).requires_grad_()), (tj, _js(R(6)).requires_grad_())):
        out = fn(m, x)
        assert out.requires_grad
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
        errors.append(str(info.value))
    assert errors[1] == errors[0]


def test_as_strided_scatter_gradients():
    # d out / d input is 1 outside the written region and 0 inside; d out / d src picks the region
    x, src = tj.zeros(3, 4, requires_grad=True), tj.zeros(3, requires_grad=True)
    g = tj.arange(12.0).reshape(3, 4)
    gx, gs = tj.autograd.grad((tj.as_strided_scatter(x, src, (3,), (5,)) * g).sum(), [x, src])
    assert gs.tolist() == [0.0, 5.0, 10.0]
    assert gx.flatten().tolist() == [0.0 if i in (0, 5, 10) else float(i) for i in range(12)]


def test_vander_gradient():
    # d/dx of [x^3, x^2, x, 1] is [3x^2, 2x, 1, 0]
    x = tj.tensor([2.0, -1.0], dtype=tj.float64, requires_grad=True)
    (g,) = tj.autograd.grad(tj.vander(x, 4).sum(), x)
    assert g.tolist() == [3 * 4.0 + 2 * 2.0 + 1, 3 * 1.0 - 2 + 1]


@needs_torch
def test_unsafe_split_pieces_are_not_views():
    x = tj.arange(6.0)
    pieces = tj.unsafe_split(x, 3)
    assert all(p._base is None for p in pieces)
    pieces[0].add_(1)   # shares memory with x, as PyTorch's unsafe_split does
    assert x.tolist()[:3] == [1.0, 2.0, 3.0]


def test_in_place_variants_write_into_self():
    x = tj.zeros(2, 2)
    assert x.addr_(tj.ones(2), tj.tensor([1.0, 2.0])) is x and x.tolist() == [[1.0, 2.0], [1.0, 2.0]]
    assert x.addmm_(tj.eye(2), tj.eye(2), beta=0) is x and x.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    y = tj.zeros(4)
    assert y.put_(tj.tensor([1, -1]), tj.tensor([5.0, 6.0])) is y and y.tolist() == [0.0, 5.0, 0.0, 6.0]
    assert y.scatter_reduce_(0, tj.tensor([0, 0]), tj.tensor([2.0, 3.0]), "amax").tolist() == [3.0, 5.0, 0.0, 6.0]
    assert y.index_reduce_(0, tj.tensor([3]), tj.tensor([2.0]), "prod").tolist() == [3.0, 5.0, 0.0, 12.0]
    z = tj.zeros(3, 3)
    assert z.fill_diagonal_(1) is z and z.tolist() == tj.eye(3).tolist()
    r = tj.ones(2, 3) * 2
    assert r.renorm_(1, 0, 3.0) is r and r.sum().item() == pytest.approx(6.0, abs=1e-5)


# ---- without torch -----------------------------------------------------------------------------------------

def test_hand_computed_values():
    x = tj.tensor([1.0, 2.0, 3.0, 4.0])
    assert tj.quantile(x, 0.5).item() == 2.5
    assert tj.quantile(x, tj.tensor([0.0, 1.0 / 3, 1.0]), interpolation="lower").tolist() == [1.0, 2.0, 4.0]
    assert tj.nanquantile(tj.tensor([1.0, float("nan"), 3.0]), 0.5).item() == 2.0
    assert tj.cov(tj.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])).tolist() == [[1.0, 2.0], [2.0, 4.0]]
    assert tj.corrcoef(tj.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])).tolist() == [[1.0, -1.0], [-1.0, 1.0]]
    hist, edges = tj.histogram(tj.tensor([0.0, 0.5, 1.0, 2.0]), 2)
    assert hist.tolist() == [2.0, 2.0] and edges.tolist() == [0.0, 1.0, 2.0]
    assert tj.histogramdd(tj.tensor([[0.0, 0.0], [1.0, 1.0]]), 2).hist.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert tj.vdot(tj.tensor([1 + 1j]), tj.tensor([1 + 1j])).item() == 2
    assert tj.dist(tj.tensor([0.0, 0.0]), tj.tensor([3.0, 4.0])).item() == 5.0
    assert tj.matrix_exp(tj.zeros(2, 2)).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    rot = tj.matrix_exp(tj.tensor([[0.0, -math.pi / 2], [math.pi / 2, 0.0]], dtype=tj.float64))
    assert rot.flatten().tolist() == pytest.approx([0.0, -1.0, 1.0, 0.0], abs=1e-12)
    assert tj.vander(tj.tensor([2, 3])).tolist() == [[2, 1], [3, 1]]
    assert tj.scatter_reduce(tj.zeros(3), 0, tj.tensor([0, 0, 2]), tj.tensor([1.0, 5.0, 2.0]), "amax",
                             include_self=False).tolist() == [5.0, 0.0, 2.0]
    assert tj.scatter_reduce(tj.ones(2), 0, tj.tensor([1, 1]), tj.tensor([2.0, 4.0]), "mean").tolist() == \
        pytest.approx([1.0, 7.0 / 3])
    assert tj.isin(tj.tensor([1, 2, 3]), tj.tensor([3, 1])).tolist() == [True, False, True]
    assert [t.tolist() for t in tj.unravel_index(tj.tensor([5]), (2, 3))] == [[1], [2]]
    assert tj.nonzero_static(tj.tensor([0, 3]), size=2).tolist() == [[1], [-1]]
    assert tj.slice_scatter(tj.zeros(4), tj.ones(2), 0, 1, 3).tolist() == [0.0, 1.0, 1.0, 0.0]
    assert tj.t_copy(tj.tensor([[1, 2]])).tolist() == [[1], [2]]
    with pytest.raises(RuntimeError, match="torch.linalg.solve"):
        tj.solve(tj.ones(2, 2), tj.ones(2, 2))
