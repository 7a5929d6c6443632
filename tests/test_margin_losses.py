"""multi_margin_loss, multilabel_margin_loss and triplet_margin_with_distance_loss (functional and module forms):
values and input gradients against live torch over 0-, 1- and 2-D inputs, and PyTorch's errors for bad targets,
shapes and dtypes; a torch-free check of hand-computed values."""
import pytest

import torch_js as tj
import torch_js.nn as jnn
import torch_js.nn.functional as JF
from optional_torch import needs_torch, torch

REDUCTIONS = ["none", "mean", "sum"]


def _pair(values, dtype="float64", requires_grad=True):
    """The same values as a torch tensor and a torch_js tensor."""
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    j = tj.tensor(values, dtype=getattr(tj, dtype), requires_grad=requires_grad)
    return t, j


def _check(t_out, j_out, t_inputs, j_inputs, tol=1e-10):
    assert list(j_out.shape) == list(t_out.shape)
    assert j_out.tolist() == pytest.approx(t_out.tolist(), abs=tol, rel=tol) if t_out.dim() else \
        j_out.item() == pytest.approx(t_out.item(), abs=tol, rel=tol)
    t_grads = torch.autograd.grad(t_out.sum(), t_inputs)
    j_grads = tj.autograd.grad(j_out.sum(), j_inputs)
    for tg, jg in zip(t_grads, j_grads):
        assert jg.flatten().tolist() == pytest.approx(tg.flatten().tolist(), abs=tol, rel=tol)


def _rand(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * 1.5).tolist()


# ---- multi_margin_loss ---------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 1.0, False), (1, 0.5, True), (2, 2.0, True)])
@pytest.mark.parametrize("shape,target", [((4, 5), [0, 4, 2, 2]), ((5,), [3]), ((5,), 1), ((), 0)])
def test_multi_margin_loss_matches_torch(reduction, p, margin, weighted, shape, target):
    tx, jx = _pair(_rand(shape, 1))
    tt, jt = torch.tensor(target), tj.tensor(target)
    tw = jw = None
    if weighted:
        tw, jw = _pair([0.5, 1.0, 2.0, 0.25, 3.0][:max(shape[-1:] or (1,))], requires_grad=False)
    kw = dict(p=p, margin=margin, reduction=reduction)
    t_out = torch.nn.functional.multi_margin_loss(tx, tt, weight=tw, **kw)
    j_out = JF.multi_margin_loss(jx, jt, weight=jw, **kw)
    _check(t_out, j_out, [tx], [jx])
    assert type(j_out.grad_fn).__name__ == "MultiMarginLossBackward0"
    m_out = jnn.MultiMarginLoss(weight=jw, **kw)(jx, jt)
    assert m_out.tolist() == j_out.tolist()


@needs_torch
def test_multi_margin_loss_float32_and_boundary_gradient():
    # x[i] == x[target] - margin puts z exactly at 0: ATen's backward gives it no gradient
    values = [[1.0, 0.0, 0.5, 3.0], [0.25, -1.0, 2.0, 2.0]]
    tx, jx = _pair(values, "float32")
    tt, jt = torch.tensor([0, 3]), tj.tensor([0, 3])
    _check(torch.nn.functional.multi_margin_loss(tx, tt), JF.multi_margin_loss(jx, jt), [tx], [jx], tol=1e-6)


@needs_torch
@pytest.mark.parametrize("case", [
    dict(input=(3, 0), target=[0, 0, 0]), dict(input=(0,), target=[]), dict(input=(2, 3, 4), target=[0, 0]),
    dict(input=(3, 4), target=[0, 1]), dict(input=(3, 4), target=[[0], [1], [2]]),
    dict(input=(3, 4), target=[0, 4, 1]), dict(input=(3, 4), target=[0, -1, 1]),
    dict(input=(3, 4), target=[0, 1, 2], tdtype="int32"), dict(input=(3, 4), target=[0, 1, 2], tdtype="float32"),
    dict(input=(3, 4), target=[0, 1, 2], dtype="int64"), dict(input=(3, 4), target=[0, 1, 2], dtype="float16"),
    dict(input=(3, 4), target=[0, 1, 2], p=3), dict(input=(3, 4), target=[0, 1, 2], weight=[[1.0, 1.0]] * 2),
    dict(input=(3, 4), target=[0, 1, 2], weight=[1.0] * 3), dict(input=(3, 4), target=[0, 9, 2], weight=[1.0] * 3),
    dict(input=(3, 4), target=[0, 1, 2], weight=[1.0] * 4, wdtype="float64"),
    dict(input=(3, 4), target=[0, 1, 2], reduction="bad"),
])
def test_multi_margin_loss_errors_match_torch(case):
    _errors_match("multi_margin_loss", case)


def _errors_match(name, case):
    shape, dtype = case["input"], case.get("dtype", "float32")
    tdtype, wdtype = case.get("tdtype", "int64"), case.get("wdtype", "float32")
    kw = {k: case[k] for k in ("p", "reduction") if k in case}
    results = []
    for lib in (torch, tj):
        x = lib.zeros(shape, dtype=getattr(lib, dtype))
        target = lib.tensor(case["target"], dtype=getattr(lib, tdtype))
        if "weight" in case:
            kw["weight"] = lib.tensor(case["weight"], dtype=getattr(lib, wdtype))
        fn = getattr(torch.nn.functional if lib is torch else JF, name)
        with pytest.raises(Exception) as info:
            fn(x, target, **kw)
        results.append((type(info.value), str(info.value)))
    assert results[1] == results[0]


# ---- multilabel_margin_loss ----------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,target", [
    ((3, 4), [[3, 0, -1, 1], [0, 1, 2, 3], [-1, 0, 0, 0]]),
    ((3, 4), [[1, 1, -1, 0], [2, -1, 3, -1], [3, 2, 1, -1]]),    # a repeated label counts twice
    ((5,), [4, 2, -1, 0, 0]), ((1,), [0]), ((), 0), ((), -1),
])
def test_multilabel_margin_loss_matches_torch(reduction, shape, target):
    tx, jx = _pair(_rand(shape, 2))
    tt, jt = torch.tensor(target), tj.tensor(target)
    t_out = torch.nn.functional.multilabel_margin_loss(tx, tt, reduction=reduction)
    j_out = JF.multilabel_margin_loss(jx, jt, reduction=reduction)
    _check(t_out, j_out, [tx], [jx])
    assert type(j_out.grad_fn).__name__ == "MultilabelMarginLossBackward0"
    assert jnn.MultiLabelMarginLoss(reduction=reduction)(jx, jt).tolist() == j_out.tolist()


@needs_torch
def test_margin_losses_empty_batch():
    # PyTorch's kernels leave a reduced empty batch's result uninitialised: only shapes and "none" compare
    cases = [("multi_margin_loss", (0,)), ("multilabel_margin_loss", (0, 4))]
    for name, target_shape in cases:
        for reduction in REDUCTIONS:
            t_out = getattr(torch.nn.functional, name)(torch.zeros(0, 4), torch.zeros(target_shape, dtype=torch.long),
                                                       reduction=reduction)
            j_out = getattr(JF, name)(tj.zeros(0, 4), tj.zeros(target_shape, dtype=tj.int64), reduction=reduction)
            assert list(j_out.shape) == list(t_out.shape)
            if reduction == "none":
                assert j_out.tolist() == t_out.tolist()


@needs_torch
@pytest.mark.parametrize("case", [
    dict(input=(3, 0), target=[[]] * 3), dict(input=(2, 3, 4), target=[0]),
    dict(input=(3, 4), target=[[0, 0, 0]] * 3), dict(input=(3, 4), target=[0, 0, 0, 0]),
    dict(input=(4,), target=[0, 0, 0]), dict(input=(3, 4), target=[[4, -1, 0, 0]] * 3),
    dict(input=(3, 4), target=[[-2, 1, 0, 0]] * 3), dict(input=(3, 4), target=[[1, -1, 5, 0]] * 3),
    dict(input=(3, 4), target=[[0, -1, 0, 0]] * 3, tdtype="int32"),
    dict(input=(3, 4), target=[[0, -1, 0, 0]] * 3, dtype="int64"),
    dict(input=(3, 4), target=[[0, -1, 0, 0]] * 3, reduction="bad"),
])
def test_multilabel_margin_loss_errors_match_torch(case):
    _errors_match("multilabel_margin_loss", case)


# ---- triplet_margin_with_distance_loss -----------------------------------------------------------------------

def _cosine_distance(lib):
    return lambda a, b: 1.0 - lib.nn.functional.cosine_similarity(a, b, dim=-1)


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("distance", [None, "cosine"])
@pytest.mark.parametrize("shape", [(4, 3), (3,)])
def test_triplet_margin_with_distance_loss_matches_torch(reduction, swap, distance, shape):
    pairs = [_pair(_rand(shape, seed)) for seed in (3, 4, 5)]
    t_in, j_in = [p[0] for p in pairs], [p[1] for p in pairs]
    kw = dict(margin=0.7, swap=swap, reduction=reduction)
    t_out = torch.nn.functional.triplet_margin_with_distance_loss(
        *t_in, distance_function=distance and _cosine_distance(torch), **kw)
    j_out = JF.triplet_margin_with_distance_loss(*j_in, distance_function=distance and _cosine_distance(tj), **kw)
    _check(t_out, j_out, t_in, j_in)
    module = jnn.TripletMarginWithDistanceLoss(distance_function=distance and _cosine_distance(tj), **kw)
    assert module(*j_in).tolist() == pytest.approx(j_out.tolist(), abs=1e-12)


@needs_torch
@pytest.mark.parametrize("shapes,kw", [(((3, 4), (3, 4), (4,)), {}), (((3, 4),) * 3, {"margin": 0}),
                                       (((3, 4),) * 3, {"margin": 0, "reduction": "x"})])
def test_triplet_margin_with_distance_loss_errors_match_torch(shapes, kw):
    results = []
    for lib, F in ((torch, torch.nn.functional), (tj, JF)):
        with pytest.raises(Exception) as info:
            F.triplet_margin_with_distance_loss(*[lib.zeros(s) for s in shapes], **kw)
        results.append((type(info.value), str(info.value)))
    assert results[1] == results[0]


# ---- without torch -------------------------------------------------------------------------------------------

def test_margin_losses_hand_computed():
    x = tj.tensor([[0.1, 0.2, 0.4, 0.8]], requires_grad=True)
    # PyTorch's documented MultiLabelMarginLoss example: 0.85
    loss = JF.multilabel_margin_loss(x, tj.tensor([[3, 0, -1, 1]]))
    assert loss.item() == pytest.approx(0.85, abs=1e-6)
    loss.backward()
    # pairs (j, i) with j in {3, 0}, i in {1, 2}: dx_i = +count / 4, dx_j = -count / 4 (all hinges active)
    assert x.grad.tolist()[0] == pytest.approx([-0.5, 0.5, 0.5, -0.5], abs=1e-6)
    # multi_margin_loss, target 3: (max(0, 1 - 0.8 + 0.1) + max(0, 1 - 0.8 + 0.2) + max(0, 1 - 0.8 + 0.4)) / 4
    assert JF.multi_margin_loss(x, tj.tensor([3])).item() == pytest.approx(0.325, abs=1e-6)
    assert JF.multi_margin_loss(x, tj.tensor([3]), p=2, weight=tj.tensor([1.0, 1.0, 1.0, 2.0])).item() == \
        pytest.approx(2 * (0.09 + 0.16 + 0.36) / 4, abs=1e-6)
    with pytest.raises(RuntimeError, match="target out of range"):
        JF.multi_margin_loss(x, tj.tensor([4]))
    with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
        JF.multilabel_margin_loss(x, tj.tensor([[4, -1, 0, 0]]))
    a, p, n = tj.tensor([[0.0, 0.0]]), tj.tensor([[3.0, 4.0]]), tj.tensor([[1.0, 0.0]])
    out = JF.triplet_margin_with_distance_loss(a, p, n, distance_function=lambda u, v: (u - v).abs().sum(-1))
    assert out.item() == pytest.approx(1.0 + 7.0 - 1.0)
