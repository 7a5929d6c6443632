"""embedding_bag, grid_sample/affine_grid, ctc_loss, linear_cross_entropy, the lazy modules, gumbel_softmax and the
smaller nn pieces (init aliases, stateless, memory formats, nn.attention): values and gradients against live torch
(float64, some float32), PyTorch's exceptions for bad arguments, and torch-free checks that run in Pyodide too."""
import copy
import io
import warnings

import pytest

import torch_js as tj
import torch_js.nn as jnn
import torch_js.nn.functional as JF
from optional_torch import needs_torch, torch


def _j(t, requires_grad=False):
    """torch_js copy of a torch tensor (same dtype)."""
    return tj.tensor(t.tolist(), dtype=getattr(tj, str(t.dtype).split(".")[1]), requires_grad=requires_grad)


def _close(t_value, j_value, tol):
    expected = t_value.detach()
    got = torch.tensor(j_value.detach().tolist(), dtype=expected.dtype).reshape(expected.shape)
    torch.testing.assert_close(got, expected, atol=tol, rtol=tol, equal_nan=True)


def _compare(t_out, j_out, t_inputs, j_inputs, tol=1e-10, grad_tol=None):
    """Values, the gradients of a weighted sum with respect to the inputs, and the node's name."""
    assert list(j_out.shape) == list(t_out.shape)
    _close(t_out, j_out, tol)
    weights = torch.linspace(-1, 2, max(t_out.numel(), 1), dtype=t_out.dtype)[:t_out.numel()].reshape(t_out.shape)
    t_grads = torch.autograd.grad((t_out * weights).sum(), t_inputs)
    j_grads = tj.autograd.grad((j_out * _j(weights)).sum(), j_inputs)
    for tg, jg in zip(t_grads, j_grads):
        _close(tg, jg, grad_tol or tol)
    assert type(j_out.grad_fn).__name__ == t_out.grad_fn.name()


def _same_error(call):
    """call(lib) raises the same exception type in torch and torch_js (messages: the first 40 characters)."""
    results = []
    for lib in (torch, tj):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                call(lib)
        results.append((type(info.value), str(info.value)[:40]))
    assert results[1] == results[0]


# ---- embedding_bag ---------------------------------------------------------------------------------------------

BAG_INPUTS = [([1, 2, 4, 4, 3, 2, 0], [0, 2, 2, 5]),          # an empty bag in the middle
              ([1, 2, 4, 4, 3], [0, 3, 2]),                   # decreasing offsets: PyTorch's sizes from differences
              ([[1, 2, 5], [4, 4, 3]], None)]                 # 2-D input: fixed-length bags


@needs_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("case", range(len(BAG_INPUTS)))
@pytest.mark.parametrize("extra", [{}, {"include_last_offset": True}, {"scale_grad_by_freq": True}])
def test_embedding_bag_matches_torch(mode, padding_idx, case, extra):
    indices, offsets = BAG_INPUTS[case]
    if extra.get("scale_grad_by_freq") and mode == "max":
        pytest.skip("max mode refuses scale_grad_by_freq (tested with the errors)")
    if extra.get("include_last_offset") and offsets is not None:
        offsets = offsets + [len(indices)]
    weight = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    tw, jw = weight.clone().requires_grad_(), _j(weight, True)
    kw = dict(mode=mode, padding_idx=padding_idx, **extra)
    t_out = torch.nn.functional.embedding_bag(torch.tensor(indices), tw,
                                              None if offsets is None else torch.tensor(offsets), **kw)
    j_out = JF.embedding_bag(tj.tensor(indices), jw, None if offsets is None else tj.tensor(offsets), **kw)
    _compare(t_out, j_out, [tw], [jw])


@needs_torch
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-6)])
def test_embedding_bag_per_sample_weights_int32_and_module(dtype, tol):
    weight = torch.randn(6, 3, dtype=getattr(torch, dtype), generator=torch.Generator().manual_seed(2))
    psw = torch.tensor([0.5, 1.0, -2.0, 3.0, 0.25], dtype=getattr(torch, dtype))
    tw, jw = weight.clone().requires_grad_(), _j(weight, True)
    tp, jp = psw.clone().requires_grad_(), _j(psw, True)
    idx, offs = [1, 2, 4, 4, 3], [0, 2, 2]
    t_out = torch.nn.functional.embedding_bag(torch.tensor(idx, dtype=torch.int32), tw,
                                              torch.tensor(offs, dtype=torch.int32), mode="sum",
                                              per_sample_weights=tp, padding_idx=4)
    j_out = JF.embedding_bag(tj.tensor(idx, dtype=tj.int32), jw, tj.tensor(offs, dtype=tj.int32), mode="sum",
                             per_sample_weights=jp, padding_idx=4)
    _compare(t_out, j_out, [tw, tp], [jw, jp], tol)
    t_bag = torch.nn.EmbeddingBag.from_pretrained(weight, freeze=False, mode="max", padding_idx=0)
    j_bag = jnn.EmbeddingBag.from_pretrained(_j(weight), freeze=False, mode="max", padding_idx=0)
    assert repr(j_bag) == repr(t_bag) and j_bag.weight.requires_grad
    _close(t_bag(torch.tensor([[0, 1], [2, 3]])), j_bag(tj.tensor([[0, 1], [2, 3]])), tol)


@needs_torch
def test_embedding_bag_max_norm_and_sparse_gradient():
    weight = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 3
    tw, jw = weight.clone(), _j(weight)
    idx, offs = [0, 2, 2, 4], [0, 1]
    t_out = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offs), max_norm=1.0)
    j_out = JF.embedding_bag(tj.tensor(idx), jw, tj.tensor(offs), max_norm=1.0)
    _close(t_out, j_out, 1e-7)
    _close(tw, jw, 1e-7)                                 # renormalised in place, as PyTorch
    t_bag, j_bag = torch.nn.EmbeddingBag(5, 3, sparse=True), jnn.EmbeddingBag(5, 3, sparse=True)
    j_bag.weight.data = _j(t_bag.weight.detach())
    t_bag(torch.tensor(idx), torch.tensor(offs)).sum().backward()
    j_bag(tj.tensor(idx), tj.tensor(offs)).sum().backward()
    assert j_bag.weight.grad.is_sparse
    assert j_bag.weight.grad._indices().tolist() == t_bag.weight.grad._indices().tolist()
    _close(t_bag.weight.grad._values(), j_bag.weight.grad._values(), 1e-6)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([1])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0, 3])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 7]), L.randn(5, 3), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, -1]), L.randn(5, 3), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), padding_idx=5),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0.0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([[0]])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([[1, 2]]), L.randn(5, 3), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([[[1]]]), L.randn(5, 3), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3).int(), L.tensor([0])),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), mode="foo"),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), mode="max",
                                            scale_grad_by_freq=True),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), mode="max",
                                            sparse=True),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), mode="mean",
                                            per_sample_weights=L.ones(2)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), mode="sum",
                                            per_sample_weights=L.ones(3)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([0]), mode="sum",
                                            per_sample_weights=L.ones(2, dtype=L.float64)),
    lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.randn(5, 3), L.tensor([], dtype=L.int64),
                                            include_last_offset=True),
    lambda L: L.nn.EmbeddingBag(5, 3, padding_idx=5),
])
def test_embedding_bag_errors_match_torch(call):
    _same_error(call)


# ---- grid_sample / affine_grid ---------------------------------------------------------------------------------

def _grid(shape, seed, spread=3.0):
    return torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)) * spread - spread / 2


@needs_torch
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("spatial", [2, 3])
def test_grid_sample_matches_torch(mode, padding_mode, align_corners, spatial):
    if spatial == 3 and mode == "bicubic":
        pytest.skip("bicubic is 4-D only (tested with the errors)")
    shape, grid_shape = ((2, 3, 5, 4), (2, 3, 4, 2)) if spatial == 2 else ((2, 2, 3, 4, 5), (2, 2, 3, 4, 3))
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    grid = _grid(grid_shape, 5)
    # points on pixel centres, edges and far outside: the clip and reflection gradients' borders
    grid.view(-1)[:8] = torch.tensor([-1.0, 1.0, 0.0, -1.25, 1.25, 3.7, -5.3, 0.5], dtype=torch.float64)
    tx, tg = x.clone().requires_grad_(), grid.clone().requires_grad_()
    jx, jg = _j(x, True), _j(grid, True)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    _compare(torch.nn.functional.grid_sample(tx, tg, **kw), JF.grid_sample(jx, jg, **kw), [tx, tg], [jx, jg])


@needs_torch
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_grid_sample_float32_and_nonfinite_grid(mode):
    x = torch.randn(1, 2, 6, 7, generator=torch.Generator().manual_seed(6))
    grid = _grid((1, 5, 5, 2), 7).float()
    tx, tg, jx, jg = x.clone().requires_grad_(), grid.clone().requires_grad_(), _j(x, True), _j(grid, True)
    _compare(torch.nn.functional.grid_sample(tx, tg, mode=mode, align_corners=False),
             JF.grid_sample(jx, jg, mode=mode, align_corners=False), [tx, tg], [jx, jg], tol=2e-5, grad_tol=1e-4)
    odd = torch.tensor([float("nan"), 0.2, float("inf"), 0.1, -float("inf"), 0.3, 0.5, float("nan")],
                       dtype=torch.float64).view(1, 2, 2, 2)
    x = x.double()
    for padding_mode in ("zeros", "border", "reflection"):
        _close(torch.nn.functional.grid_sample(x, odd, mode=mode, padding_mode=padding_mode, align_corners=True),
               JF.grid_sample(_j(x), _j(odd), mode=mode, padding_mode=padding_mode, align_corners=True), 1e-12)


@needs_torch
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 3, 1, 5), (2, 3, 3, 4, 5), (2, 1, 1, 2, 3)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_torch(size, align_corners):
    theta = torch.randn(2, len(size) - 2, len(size) - 1, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(8))
    tt, jt = theta.clone().requires_grad_(), _j(theta, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # align_corners with a unit size warns in both
        _compare(torch.nn.functional.affine_grid(tt, size, align_corners=align_corners),
                 JF.affine_grid(jt, size, align_corners=align_corners), [tt], [jt])


@needs_torch
def test_spatial_transformer_step_matches_torch():
    # the spatial-transformer tutorial's sampler: theta from a localization net, affine_grid, grid_sample
    x = torch.randn(4, 1, 12, 12, generator=torch.Generator().manual_seed(9))
    # (a y shift of 0.013: with 0.0, 52 sample rows land exactly on pixel rows, where the bilinear gradient jumps and
    # a 1-ulp difference in the grid (PyTorch's bmm and ours round differently on AVX-512) flips its side)
    theta = torch.tensor([[1.0, 0.1, 0.05], [-0.1, 0.9, 0.013]]).repeat(4, 1, 1)
    tt, jt, tx, jx = theta.clone().requires_grad_(), _j(theta, True), x.clone().requires_grad_(), _j(x, True)
    t_out = torch.nn.functional.grid_sample(tx, torch.nn.functional.affine_grid(tt, tx.size(), align_corners=False),
                                            align_corners=False)
    j_out = JF.grid_sample(jx, JF.affine_grid(jt, jx.size(), align_corners=False), align_corners=False)
    _compare(t_out, j_out, [tt, tx], [jt, jx], tol=1e-5, grad_tol=1e-4)


@needs_torch
@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 4, 5), L.rand(2, 3, 3, 2).double(), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.randn(3, 4, 5), L.rand(3, 3, 2), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 4, 5), L.rand(1, 3, 3, 2), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 4, 5), L.rand(2, 3, 3, 1), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5).int(), L.ones(2, 3, 3, 2).int(), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 0, 5), L.rand(2, 3, 3, 2), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 1, 4, 5), L.rand(2, 3, 3, 3, 3), mode="bicubic",
                                          align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 4, 5), L.rand(2, 3, 3, 2), mode="foo"),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 4, 5), L.rand(2, 3, 3, 2), padding_mode="foo"),
    lambda L: L.nn.functional.grid_sample(L.randn(2, 3, 4, 5), L.rand(2, 1, 3, 3, 2), align_corners=False),
    lambda L: L.nn.functional.affine_grid(L.randn(2, 2, 3).int(), [2, 3, 4, 5], align_corners=False),
    lambda L: L.nn.functional.affine_grid(L.randn(2, 3, 3), [2, 3, 4, 5], align_corners=False),
    lambda L: L.nn.functional.affine_grid(L.randn(2, 2, 3), [2, 3, 4], align_corners=False),
    lambda L: L.nn.functional.affine_grid(L.randn(2, 2, 3), [2, 3, 0, 5], align_corners=False),
    lambda L: L.nn.functional.affine_grid(L.randn(2, 2, 3), [3, 3, 4, 5], align_corners=False),
])
def test_grid_sample_affine_grid_errors_match_torch(call):
    _same_error(call)


def test_grid_sample_identity_grid_reproduces_the_input():
    x = tj.arange(24.0).view(1, 2, 3, 4)
    for align_corners in (False, True):
        grid = JF.affine_grid(tj.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), x.size(), align_corners=align_corners)
        for mode in ("bilinear", "nearest", "bicubic"):
            out = JF.grid_sample(x, grid, mode=mode, align_corners=align_corners)
            assert tj.allclose(out, x, atol=1e-5), (mode, align_corners)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        JF.grid_sample(x, grid)


# ---- ctc_loss --------------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("blank", [0, 3])
def test_ctc_loss_matches_torch(dtype, tol, concatenated, reduction, zero_infinity, blank):
    steps, batch, classes = 7, 4, 5
    gen = torch.Generator().manual_seed(10)
    log_probs = torch.randn(steps, batch, classes, dtype=getattr(torch, dtype), generator=gen).log_softmax(2)
    target_lengths = torch.tensor([3, 0, 2, 4])
    input_lengths = torch.tensor([7, 3, 1, 6])       # item 2: two labels in one step, an infinite loss
    padded = torch.randint(0, classes, (batch, 4), generator=gen)
    padded[padded == blank] = (blank + 1) % classes
    padded[0, 1] = padded[0, 0]                        # a repeated label needs a blank between
    targets = torch.cat([padded[b, :target_lengths[b]] for b in range(batch)]) if concatenated else padded
    tx, jx = log_probs.clone().requires_grad_(), _j(log_probs, True)
    kw = dict(blank=blank, reduction=reduction, zero_infinity=zero_infinity)
    t_out = torch.nn.functional.ctc_loss(tx, targets, input_lengths, target_lengths, **kw)
    j_out = JF.ctc_loss(jx, _j(targets), _j(input_lengths), _j(target_lengths), **kw)
    _compare(t_out, j_out, [tx], [jx], tol)
    m_out = jnn.CTCLoss(**kw)(jx, _j(targets), _j(input_lengths), _j(target_lengths))
    assert m_out.tolist() == j_out.tolist()


@needs_torch
def test_ctc_loss_unbatched_and_length_lists():
    log_probs = torch.randn(6, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(11)).log_softmax(1)
    tx, jx = log_probs.clone().requires_grad_(), _j(log_probs, True)
    _compare(torch.nn.functional.ctc_loss(tx, torch.tensor([1, 2]), torch.tensor(6), torch.tensor(2),
                                          reduction="none"),
             JF.ctc_loss(jx, tj.tensor([1, 2]), tj.tensor(6), tj.tensor(2), reduction="none"), [tx], [jx])
    _compare(torch.nn.functional.ctc_loss(tx.unsqueeze(1), torch.tensor([[1, 2]]), [6], [2]),
             JF.ctc_loss(jx.unsqueeze(1), tj.tensor([[1, 2]]), [6], [2]), [tx], [jx])


@needs_torch
@pytest.mark.parametrize("case", [
    dict(input_lengths=[6.0, 5.0]), dict(blank=4), dict(blank=-1), dict(input_lengths=[7, 5]),
    dict(input_lengths=[-1, 5]), dict(target_lengths=[4, 2]), dict(target_lengths=[-1, 2]),
    dict(targets=[1, 2, 2, 3, 1, 0]), dict(input_lengths=[6]), dict(target_lengths=[3]), dict(dtype="int32"),
    dict(dims=4), dict(reduction="foo"), dict(targets=[[[1]]]), dict(targets=[[1, 2, 2]]),
    dict(lengths_as="mixed"),
])
def test_ctc_loss_errors_match_torch(case):
    def call(L):
        lp = L.randn(6, 2, 4).log_softmax(2).to(getattr(L, case.get("dtype", "float32")))
        if case.get("dims") == 4:
            lp = lp.unsqueeze(0)
        targets = L.tensor(case.get("targets", [[1, 2, 2], [3, 1, 0]]))
        il = L.tensor(case.get("input_lengths", [6, 5]))
        tl = L.tensor(case.get("target_lengths", [3, 2]))
        if case.get("lengths_as") == "mixed":
            il = (6, 5)
        return L.nn.functional.ctc_loss(lp, targets, il, tl, blank=case.get("blank", 0),
                                        reduction=case.get("reduction", "mean"))
    _same_error(call)


def test_ctc_loss_single_path_value():
    # one step, one label: the only path emits the label, so the loss is -log p(label)
    log_probs = tj.tensor([[[0.1, 0.7, 0.2]]]).log()
    loss = JF.ctc_loss(log_probs, tj.tensor([[1]]), tj.tensor([1]), tj.tensor([1]), reduction="sum")
    assert loss.item() == pytest.approx(-tj.tensor(0.7).log().item(), rel=1e-6)


# ---- linear_cross_entropy --------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("case", [
    dict(), dict(bias=True), dict(out_features=(2,), bias=True), dict(unbatched=True),
    dict(probabilities=True, label_smoothing=0.1), dict(weight=True, ignore_index=1, reduction="sum"),
    dict(reduction="none", label_smoothing=0.2),
])
def test_linear_cross_entropy_matches_torch(case):
    gen = torch.Generator().manual_seed(12)
    classes, out_features = 4, case.get("out_features", ())
    x = torch.randn(3 if not case.get("unbatched") else 5, 5, dtype=torch.float64, generator=gen)
    if case.get("unbatched"):
        x = x[0]
    w = torch.randn(classes, *out_features, 5, dtype=torch.float64, generator=gen)
    b = torch.randn(classes, *out_features, dtype=torch.float64, generator=gen) if case.get("bias") else None
    lead = tuple(x.shape[:-1])
    if case.get("probabilities"):
        target = torch.rand(*lead, classes, *out_features, dtype=torch.float64, generator=gen).softmax(len(lead))
    else:
        target = torch.randint(0, classes, (*lead, *out_features), generator=gen)
    kw = {k: case[k] for k in ("reduction", "ignore_index", "label_smoothing") if k in case}
    class_weight = torch.tensor([0.5, 1.0, 2.0, 1.5], dtype=torch.float64) if case.get("weight") else None
    tx, tw = x.clone().requires_grad_(), w.clone().requires_grad_()
    jx, jw = _j(x, True), _j(w, True)
    t_inputs, j_inputs = [tx, tw], [jx, jw]
    tb = jb = None
    if b is not None:
        tb, jb = b.clone().requires_grad_(), _j(b, True)
        t_inputs, j_inputs = t_inputs + [tb], j_inputs + [jb]
    t_out = torch.nn.functional.linear_cross_entropy(tx, tw, target, linear_bias=tb, weight=class_weight, **kw)
    j_out = JF.linear_cross_entropy(jx, jw, _j(target), linear_bias=jb,
                                    weight=None if class_weight is None else _j(class_weight), **kw)
    _compare(t_out, j_out, t_inputs, j_inputs)


@needs_torch
def test_linear_cross_entropy_module_and_options():
    t_mod = torch.nn.LinearCrossEntropyLoss(4, 3, out_features=(2,), bias=True, label_smoothing=0.1)
    j_mod = jnn.LinearCrossEntropyLoss(4, 3, out_features=(2,), bias=True, label_smoothing=0.1)
    assert repr(j_mod) == repr(t_mod)
    j_mod.load_state_dict({k: _j(v) for k, v in t_mod.state_dict().items()})
    x, target = torch.randn(5, 4), torch.randint(0, 3, (5, 2))
    _close(t_mod(x, target), j_mod(_j(x), _j(target)), 1e-6)
    assert repr(jnn.LinearCrossEntropyOptions()) == repr(torch.nn.LinearCrossEntropyOptions())
    opts = dict(batch_chunk_size=2, chunking_method="aspect_ratio:3", acc_policy="compact")
    x, w, target = torch.randn(6, 4), torch.randn(3, 4), torch.randint(0, 3, (6,))
    _close(torch.nn.functional.linear_cross_entropy(x, w, target, options=torch.nn.LinearCrossEntropyOptions(**opts)),
           JF.linear_cross_entropy(_j(x), _j(w), _j(target), options=jnn.LinearCrossEntropyOptions(**opts)), 1e-6)
    for lib in (torch, tj):
        with pytest.warns(UserWarning, match="options`` ignored"):
            lib.nn.functional.linear_cross_entropy(lib.ones(2, 4), lib.ones(3, 4), lib.tensor([0, 1]),
                                                   label_smoothing=0.1, options=lib.nn.LinearCrossEntropyOptions())


@needs_torch
@pytest.mark.parametrize("call", [
    lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 3, 4), L.ones(3, 4), L.tensor([0, 1])),
    lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 4), L.ones(4), L.tensor([0, 1])),
    lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 4), L.ones(3, 5), L.tensor([0, 1])),
    lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 4), L.ones(3, 4), L.tensor([0, 1]),
                                                   linear_bias=L.ones(4)),
    lambda L: L.nn.functional.linear_cross_entropy(L.ones(4), L.ones(3, 2, 4), L.tensor([0, 1])),
    lambda L: L.nn.functional.linear_cross_entropy(L.ones(2, 4), L.ones(3, 4), L.ones(2, 3), ignore_index=0),
    lambda L: L.nn.LinearCrossEntropyLoss(4, 3, weight=L.ones(4)),
    lambda L: L.nn.LinearCrossEntropyLoss(4, 3, label_smoothing=1.5),
    lambda L: L.nn.LinearCrossEntropyOptions(acc_policy="fast"),
    lambda L: L.nn.LinearCrossEntropyOptions(chunking_method="rows:2"),
    lambda L: L.nn.LinearCrossEntropyOptions(batch_chunk_size=0),
    lambda L: L.nn.LinearCrossEntropyOptions(acc_dtype=L.int32),
])
def test_linear_cross_entropy_errors_match_torch(call):
    _same_error(call)


# ---- lazy modules ----------------------------------------------------------------------------------------------

LAZY_CASES = [("LazyLinear", (4,), {}, (2, 3)), ("LazyLinear", (4,), {"bias": False}, (5, 2, 3)),
              ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 7)),
              ("LazyConv2d", (4, 3), {"groups": 2, "stride": 2}, (2, 6, 7, 7)), ("LazyConv2d", (4, 3), {}, (3, 7, 7)),
              ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
              ("LazyConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5)),
              ("LazyConvTranspose2d", (4, 2), {"output_padding": 1, "stride": 2}, (2, 3, 5, 5)),
              ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 3, 3, 3)),
              ("LazyBatchNorm1d", (), {}, (4, 3)), ("LazyBatchNorm2d", (), {"affine": False}, (4, 3, 2, 2)),
              ("LazyBatchNorm3d", (), {"momentum": None}, (2, 3, 2, 2, 2)), ("LazyInstanceNorm1d", (), {}, (4, 3, 5)),
              ("LazyInstanceNorm2d", (), {"track_running_stats": False}, (4, 3, 2, 2)),
              ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 2, 2))]


def _state(module, lib):
    return {k: repr(v) if lib.nn.parameter.is_lazy(v) else v.tolist() for k, v in module.state_dict().items()}


@needs_torch
@pytest.mark.parametrize("name,args,kwargs,shape", LAZY_CASES)
def test_lazy_module_matches_torch(name, args, kwargs, shape):
    torch.manual_seed(3)
    tj.manual_seed(3)
    t_mod, j_mod = getattr(torch.nn, name)(*args, **kwargs), getattr(jnn, name)(*args, **kwargs)
    assert repr(j_mod) == repr(t_mod) and j_mod.has_uninitialized_params()
    assert _state(j_mod, tj) == _state(t_mod, torch)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(4))
    t_out, j_out = t_mod(x), j_mod(_j(x))           # materialized and initialized from the same random stream
    assert type(j_mod).__name__ == type(t_mod).__name__ and repr(j_mod) == repr(t_mod)
    assert not any(jnn.parameter.is_lazy(t) for t in j_mod.state_dict().values())
    assert not hasattr(j_mod, "_initialize_hook")
    _close(t_out, j_out, 1e-5)
    for (tk, tv), (jk, jv) in zip(t_mod.state_dict().items(), j_mod.state_dict().items()):
        assert jk == tk
        _close(tv, jv, 1e-6)


@needs_torch
def test_lazy_load_state_dict_dtype_and_errors():
    source = torch.nn.Linear(3, 4)
    lazy = jnn.LazyLinear(4)
    lazy.load_state_dict({k: _j(v) for k, v in source.state_dict().items()})
    assert type(lazy).__name__ == "LazyLinear" and lazy.weight.shape == (4, 3) and not lazy.has_uninitialized_params()
    _close(source(torch.ones(2, 3)), lazy(tj.ones(2, 3)), 1e-6)
    assert type(lazy).__name__ == "Linear" and lazy.in_features == 3
    mismatched = jnn.LazyLinear(3)
    mismatched.load_state_dict(jnn.Linear(5, 3).state_dict())
    with pytest.raises(AssertionError, match="in_features inferred from input: 4"):
        mismatched(tj.randn(2, 4))
    double = jnn.LazyBatchNorm2d().double()             # converted before materializing: materializes in float64
    assert double.running_mean.dtype is tj.float64 and jnn.parameter.is_lazy(double.running_mean)
    double(tj.randn(2, 3, 4, 4, dtype=tj.float64))
    assert double.weight.dtype is tj.float64 and type(double.running_mean) is tj.Tensor
    for call in [lambda L: L.nn.Linear(3, 4).load_state_dict(L.nn.LazyLinear(4).state_dict()),
                 lambda L: L.nn.LazyLinear(4).weight + 1, lambda L: L.nn.LazyLinear(4).weight.shape,
                 lambda L: L.nn.LazyLinear(4).weight.numel(), lambda L: L.nn.LazyLinear(4).weight.detach(),
                 lambda L: L.nn.LazyConv2d(4, 3, groups=2)(L.randn(1, 3, 5, 5)),
                 lambda L: L.nn.LazyConv2d(4, 3)(L.randn(5, 5)), lambda L: L.nn.LazyBatchNorm1d()(L.randn(2, 3, 4, 5)),
                 lambda L: L.nn.LazyModuleMixin.initialize_parameters(L.nn.Linear(1, 1)) if hasattr(
                     L.nn, "LazyModuleMixin") else L.nn.modules.lazy.LazyModuleMixin.initialize_parameters(
                     L.nn.Linear(1, 1))]:
        _same_error(call)


def test_lazy_module_trains_copies_and_saves():
    net = jnn.Sequential(jnn.LazyLinear(8), jnn.ReLU(), jnn.LazyLinear(2))
    opt = tj.optim.SGD(net.parameters(), lr=0.1)      # placeholders keep their identity when materialized
    clone = copy.deepcopy(net)
    assert clone[0].has_uninitialized_params() and repr(clone[0].weight) == "<UninitializedParameter>"
    buf = io.BytesIO()
    tj.save(net.state_dict(), buf)
    buf.seek(0)
    assert repr(tj.load(buf, weights_only=False)["0.weight"]) == "<UninitializedParameter>"
    x = tj.randn(5, 3)
    before = None
    for _ in range(2):
        loss = net(x).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        before = loss.item() if before is None else before
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear"]
    assert net(x).pow(2).sum().item() < before
    assert jnn.UninitializedBuffer().to(tj.float64).dtype is tj.float64


# ---- gumbel_softmax, init, stateless, memory formats, attention ------------------------------------------------

@needs_torch
@pytest.mark.parametrize("hard,tau,dim", [(False, 1, -1), (False, 0.5, 0), (True, 1, -1), (True, 2.0, 0)])
def test_gumbel_softmax_draws_and_gradients_match_torch(hard, tau, dim):
    logits = torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0]], dtype=torch.float64)
    tx, jx = logits.clone().requires_grad_(), _j(logits, True)
    torch.manual_seed(7)
    tj.manual_seed(7)
    _compare(torch.nn.functional.gumbel_softmax(tx, tau=tau, hard=hard, dim=dim),
             JF.gumbel_softmax(jx, tau=tau, hard=hard, dim=dim), [tx], [jx], tol=1e-12)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        JF.gumbel_softmax(jx, eps=1e-5)


@needs_torch
def test_init_dirac_eye_sparse_and_deprecated_aliases():
    for shape, groups in [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 3, 3, 3), 2)]:
        t_w, j_w = torch.empty(shape), tj.empty(shape)
        torch.nn.init.dirac_(t_w, groups)
        jnn.init.dirac_(j_w, groups)
        assert j_w.tolist() == t_w.tolist()
    assert jnn.init.eye_(tj.empty(3, 5)).tolist() == torch.nn.init.eye_(torch.empty(3, 5)).tolist()
    torch.manual_seed(5)
    tj.manual_seed(5)
    _close(torch.nn.init.sparse_(torch.empty(6, 4), 0.5, std=0.1), jnn.init.sparse_(tj.empty(6, 4), 0.5, std=0.1),
           1e-7)
    for name in ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
                 "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"):
        args = {"constant": (0.5,), "sparse": (0.5,)}.get(name, ())
        shape = (3, 2, 3) if name == "dirac" else (4, 3)
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`"):
            getattr(jnn.init, name)(tj.empty(shape), *args)
    for call in [lambda L: L.nn.init.dirac_(L.empty(3, 3)), lambda L: L.nn.init.dirac_(L.empty(3, 2, 3), 2),
                 lambda L: L.nn.init.eye_(L.empty(2, 2, 2)), lambda L: L.nn.init.sparse_(L.empty(2, 2, 2), 0.1)]:
        _same_error(call)


@needs_torch
def test_channel_shuffle_checks_and_native_alias():
    x = torch.arange(24.0).view(1, 6, 2, 2)
    assert JF.native_channel_shuffle is JF.channel_shuffle
    assert JF.native_channel_shuffle(_j(x), 3).tolist() == torch.nn.functional.native_channel_shuffle(x, 3).tolist()
    for groups, shape in [(0, (1, 6, 2, 2)), (-1, (1, 6, 2, 2)), (4, (1, 6, 2, 2)), (2, (6, 4)), (0, (2, 2))]:
        _same_error(lambda L: L.nn.functional.channel_shuffle(L.zeros(shape), groups))


def test_stateless_functional_call_and_weight_memory_formats():
    conv = jnn.Conv2d(3, 4, 2)
    x = tj.randn(1, 3, 4, 4)
    zero = {"weight": tj.zeros(4, 3, 2, 2), "bias": tj.ones(4)}
    with pytest.warns(FutureWarning, match="torch.nn.utils.stateless.functional_call` is deprecated"):
        out = jnn.utils.stateless.functional_call(conv, zero, (x,))
    assert out.tolist() == tj.ones(1, 4, 3, 3).tolist()
    assert tj.func.functional_call(conv, zero, x).tolist() == out.tolist()
    model = jnn.Sequential(conv, jnn.Sequential(jnn.ConvTranspose2d(4, 2, 2)), jnn.Conv3d(2, 2, 1))
    weights = [m.weight for m in (model[0], model[1][0], model[2])]
    values = [w.detach().clone() for w in weights]
    assert jnn.utils.convert_conv2d_weight_memory_format(model, tj.channels_last) is model
    assert jnn.utils.convert_conv3d_weight_memory_format(model, tj.channels_last_3d) is model
    for w, v, m in zip(weights, values, (model[0], model[1][0], model[2])):
        assert m.weight is w and isinstance(w, jnn.Parameter) and tj.equal(w, v)


@needs_torch
def test_sdpa_kernel_matches_torch():
    from torch.nn.attention import SDPBackend as TB, sdpa_kernel as t_kernel
    from torch_js.nn.attention import SDPBackend as JB, sdpa_kernel as j_kernel
    assert [(b.name, int(b)) for b in JB] == [(b.name, int(b)) for b in TB.__members__.values()]
    q = torch.randn(1, 2, 3, 4)
    for name in ("MATH", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "OVERRIDEABLE", "ERROR"):
        results = []
        for lib, kernel, backend in ((torch, t_kernel, getattr(TB, name)), (tj, j_kernel, getattr(JB, name))):
            with kernel([backend]):
                flags = (lib.backends.cuda.math_sdp_enabled(), lib.backends.cuda.flash_sdp_enabled(),
                         lib.backends.cuda.mem_efficient_sdp_enabled(), lib.backends.cuda.cudnn_sdp_enabled())
                try:
                    lib.nn.functional.scaled_dot_product_attention(*(q if lib is torch else _j(q),) * 3)
                    results.append((flags, None))
                except RuntimeError as e:
                    results.append((flags, str(e)))
        assert results[1] == results[0], name
    assert tj.backends.cuda.math_sdp_enabled() and tj.backends.cuda.flash_sdp_enabled()   # restored
    for backends in ("math", (JB.MATH,)):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with j_kernel(backends):
                pass


@needs_torch
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_conv_tbc_matches_torch(pad):
    gen = torch.Generator().manual_seed(13)
    x, w, b = (torch.randn(s, dtype=torch.float64, generator=gen) for s in ((5, 2, 3), (3, 3, 4), (4,)))
    t_in = [t.clone().requires_grad_() for t in (x, w, b)]
    j_in = [_j(t, True) for t in (x, w, b)]
    assert JF.conv_tbc is tj.conv_tbc
    _compare(torch.nn.functional.conv_tbc(*t_in, pad), JF.conv_tbc(*j_in, pad), t_in, j_in)
