"""Forward and backward of the padding, shuffle, resampling, folding, instance/LRN norm, LP pooling, EmbeddingBag
and wrapper modules against live PyTorch, plus their argument errors.

Both libraries build the module under manual_seed(0) (bit-identical init, checked by test_nn_modules.py) and draw
the inputs and the output gradient from the same seeds (torch_js's generator is bit-exact with PyTorch's), so each
case compares the output, the gradient of every floating input and parameter, and the state_dict afterwards
(running statistics, max_norm renormalisation)."""
import warnings

import pytest

import torch_js
import torch_js.nn as nn
from optional_torch import HAVE_TORCH, needs_torch, torch

if HAVE_TORCH:
    import numpy as np


def _randn(*shape):
    return lambda lib: [lib.randn(*shape)]


def _positive(*shape):
    return lambda lib: [lib.rand(*shape) + 0.1]


def _nll2d(lib):
    return [lib.randn(2, 3, 4, 4).log_softmax(1), lib.randint(0, 3, (2, 4, 4))]


def _pooled(nd, shape, kernel, **kw):
    """Values and indices from max pooling (MaxUnpool's inputs)."""
    def make(lib):
        pool = getattr(lib.nn.functional, f"max_pool{nd}d")
        return list(pool(lib.randn(*shape), kernel, return_indices=True, **kw))
    return make


def _unpool3d(lib):
    # torch_js has no max_pool3d: distinct indices within each 4x4x4 output volume stand in for its indices
    return [lib.randn(1, 2, 2, 2, 2), (lib.arange(8) * 7 + 3).reshape(1, 1, 2, 2, 2).expand(1, 2, 2, 2, 2)]


def _bags_2d(lib):
    return [lib.randint(0, 10, (4, 5))]


def _bags_offsets(lib):
    return [lib.tensor([1, 2, 4, 5, 4, 3, 2, 9, 8]), lib.tensor([0, 2, 2, 7])]


def _bags_repeated(lib):
    # scale_grad_by_freq: PyTorch's CPU kernel divides the k-th distinct index (in sorted order) by the count of the
    # k-th entry of the sorted indices rather than by its own count; torch_js divides by its own count (as
    # F.embedding and the definition do). Both agree where those coincide, as here: sorted [1, 3, 4, 4]
    return [lib.tensor([4, 3, 4, 1]), lib.tensor([0, 2])]


def _bags_weighted(lib):
    # index 8 is padding_idx (-2 of 10): left out of its bag
    return [lib.tensor([1, 8, 4, 5, 8, 3, 2, 8]), lib.tensor([0, 3, 5]), lib.rand(8)]


def _bags_last_offset(lib):
    return [lib.tensor([1, 2, 4, 5, 4, 0, 3]), lib.tensor([0, 3, 3, 7])]


# (spec, inputs from a library, call in training mode)
CASES = [
    ("nn.ReflectionPad1d(2)", _randn(2, 3, 5), False),
    ("nn.ReflectionPad2d((1, 0, 2, 1))", _randn(2, 3, 4, 5), False),
    ("nn.ReflectionPad3d(1)", _randn(1, 2, 3, 4, 5), False),
    ("nn.ReplicationPad1d((3, 1))", _randn(3, 5), False),
    ("nn.ReplicationPad2d(2)", _randn(2, 3, 4, 5), False),
    ("nn.ReplicationPad3d((1, 0, 1, 0, 0, 1))", _randn(1, 2, 3, 4, 5), False),
    ("nn.ZeroPad1d(2)", _randn(2, 3, 5), False),
    ("nn.ZeroPad2d((1, 1, 2, 0))", _randn(3, 4, 5), False),
    ("nn.ZeroPad2d((-1, 1, 2, -2))", _randn(2, 3, 4, 5), False),
    ("nn.ZeroPad3d(1)", _randn(1, 2, 3, 4, 5), False),
    ("nn.ConstantPad1d(2, 3.5)", _randn(2, 3, 5), False),
    ("nn.ConstantPad2d((3, 0, 2, 1), -1.0)", _randn(2, 3, 4, 5), False),
    ("nn.ConstantPad3d(1, 0.5)", _randn(1, 2, 3, 4, 5), False),
    ("nn.CircularPad1d(1)", _randn(2, 3, 5), False),
    ("nn.CircularPad2d((1, 2, 0, 1))", _randn(2, 3, 4, 5), False),
    ("nn.CircularPad3d(1)", _randn(2, 3, 4, 5), False),
    ("nn.PixelShuffle(2)", _randn(2, 8, 3, 3), False),
    ("nn.PixelUnshuffle(3)", _randn(1, 2, 6, 9), False),
    ("nn.ChannelShuffle(2)", _randn(2, 4, 3, 3), False),
    ("nn.Upsample(scale_factor=2)", _randn(1, 2, 3, 4), False),
    ("nn.Upsample(size=(4, 5), mode='bilinear', align_corners=False)", _randn(1, 2, 3, 3), False),
    ("nn.Upsample(scale_factor=(2, 1.5), mode='bicubic')", _randn(1, 1, 4, 4), False),
    ("nn.Upsample(scale_factor=3, mode='linear', align_corners=True)", _randn(2, 2, 5), False),
    ("nn.Upsample(size=(2, 3, 4), mode='trilinear')", _randn(1, 2, 3, 3, 3), False),
    ("nn.Upsample(scale_factor=1.7, mode='nearest-exact')", _randn(1, 2, 5, 4), False),
    ("nn.UpsamplingNearest2d(scale_factor=2)", _randn(1, 2, 3, 4), False),
    ("nn.UpsamplingBilinear2d(size=6)", _randn(1, 2, 3, 4), False),
    ("nn.Unfold(kernel_size=(2, 3))", _randn(2, 3, 4, 5), False),
    ("nn.Unfold(2, dilation=2, padding=1, stride=2)", _randn(1, 2, 6, 7), False),
    ("nn.Fold(output_size=(4, 5), kernel_size=2)", _randn(2, 12, 12), False),
    ("nn.InstanceNorm1d(4)", _randn(3, 4, 6), True),
    ("nn.InstanceNorm1d(4)", _randn(4, 6), True),
    ("nn.InstanceNorm2d(3, affine=True)", _randn(2, 3, 4, 5), True),
    ("nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2)", _randn(2, 3, 4, 5), True),
    ("nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.2)", _randn(2, 3, 4, 5), False),
    ("nn.InstanceNorm3d(2, eps=1e-3, affine=True, bias=False)", _randn(2, 2, 3, 3, 3), True),
    ("nn.LocalResponseNorm(3)", _randn(2, 6, 4, 4), False),
    ("nn.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0)", _randn(2, 5, 7), False),
    ("nn.CrossMapLRN2d(5, alpha=1e-3, beta=0.5, k=2)", _randn(2, 7, 3, 3), False),
    ("nn.CrossMapLRN2d(4, alpha=0.5, beta=0.75, k=1)", _randn(2, 6, 2, 3), False),
    ("nn.CrossMapLRN2d(3, alpha=0.3)", _randn(1, 2, 2, 2), False),
    ("nn.SyncBatchNorm(4)", _randn(3, 4, 5), True),
    ("nn.SyncBatchNorm(4, momentum=None)", _randn(3, 4, 2, 2, 2), True),
    ("nn.SyncBatchNorm(3, affine=False, track_running_stats=False)", _randn(4, 3), False),
    ("nn.LPPool1d(2, 3)", _randn(2, 3, 8), False),
    ("nn.LPPool2d(1.5, (2, 2), stride=1, ceil_mode=True)", _positive(1, 2, 5, 5), False),
    ("nn.LPPool2d(3, 2)", _randn(1, 2, 4, 6), False),
    ("nn.MaxUnpool1d(2)", _pooled(1, (2, 3, 8), 2), False),
    ("nn.MaxUnpool2d(2)", _pooled(2, (2, 3, 4, 6), 2), False),
    ("nn.MaxUnpool2d(3, stride=2, padding=1)", _pooled(2, (3, 5, 5), 3, stride=2, padding=1), False),
    ("nn.MaxUnpool2d((2, 3), stride=1, padding=(0, 1))", _pooled(2, (1, 2, 4, 5), (2, 3), stride=1, padding=(0, 1)),
     False),
    ("nn.MaxUnpool3d(2, 2)", _unpool3d, False),
    ("nn.NLLLoss2d()", _nll2d, False),
    ("nn.EmbeddingBag(10, 3)", _bags_2d, False),
    ("nn.EmbeddingBag(10, 3, mode='max')", _bags_offsets, False),
    ("nn.EmbeddingBag(10, 3, mode='sum', scale_grad_by_freq=True)", _bags_repeated, False),
    ("nn.EmbeddingBag(10, 4, mode='sum', padding_idx=-2, max_norm=1.0)", _bags_weighted, False),
    ("nn.EmbeddingBag(10, 4, mode='mean', padding_idx=8)", lambda lib: _bags_weighted(lib)[:2], False),
    ("nn.EmbeddingBag(6, 2, mode='max', include_last_offset=True)", _bags_last_offset, False),
    ("nn.EmbeddingBag(6, 2, mode='mean', include_last_offset=True)", _bags_last_offset, False),
    ("nn.DataParallel(nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)))", _randn(4, 3), True),
]


def _build(spec, lib):
    lib.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(spec, {"nn": lib.nn})


def _run(spec, make_inputs, training, lib):
    """Output, input/parameter gradients and state_dict of one forward/backward, as numpy arrays."""
    m = _build(spec, lib)
    m.train(training)
    lib.manual_seed(1)
    args = [a.detach().requires_grad_() if a.is_floating_point() else a for a in make_inputs(lib)]
    out = m(*args)
    lib.manual_seed(2)
    g = lib.randn(out.shape)
    if out.requires_grad:
        (out * g).sum().backward()
    grads = [a.grad for a in args if a.is_floating_point()] + [p.grad for p in m.parameters()]
    as_np = lambda t: None if t is None else np.array(t.detach().numpy())  # noqa: E731
    return {"out": as_np(out), "grads": [as_np(t) for t in grads],
            "state": {k: as_np(v) for k, v in m.state_dict().items()}}


def _assert_same(a, b, what, tol=2e-5):
    if a is None or b is None:
        assert a is None and b is None, f"{what}: one side has no gradient"
        return
    assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.shape}/{a.dtype} vs {b.shape}/{b.dtype}"
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


@needs_torch
@pytest.mark.parametrize("spec,make_inputs,training", CASES,
                         ids=[f"{c[0]}-{'train' if c[2] else 'eval'}-{i}" for i, c in enumerate(CASES)])
def test_forward_backward_match_torch(spec, make_inputs, training):
    got = _run(spec, make_inputs, training, torch_js)
    exp = _run(spec, make_inputs, training, torch)
    _assert_same(got["out"], exp["out"], "output")
    assert len(got["grads"]) == len(exp["grads"])
    for i, (a, b) in enumerate(zip(got["grads"], exp["grads"])):
        _assert_same(a, b, f"gradient {i}")
    assert list(got["state"]) == list(exp["state"])
    for k in got["state"]:
        _assert_same(got["state"][k], exp["state"][k], f"state_dict[{k!r}]")


@needs_torch
def test_feature_alpha_dropout_draws_like_torch():
    outs = []
    for lib in (torch_js, torch):
        m = lib.nn.FeatureAlphaDropout(0.3)
        lib.manual_seed(4)
        x = lib.randn(3, 4, 2, 2)
        outs.append(np.array(m(x).numpy()))
        m.eval()
        assert m(x) is x or (m(x) == x).all()
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)


@needs_torch
def test_adaptive_log_softmax_matches_torch():
    res = []
    for lib in (torch_js, torch):
        m = _build("nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15], div_value=2.0, head_bias=True)", lib)
        lib.manual_seed(1)
        x = lib.randn(12, 8).requires_grad_()
        target = lib.randint(0, 20, (12,))
        out, loss = m(x, target)
        loss.backward()
        one_out, one_loss = m(x.detach()[3], target[3])
        got = [out, loss, x.grad, m.head.weight.grad, m.head.bias.grad, m.tail[1][0].weight.grad,
               m.log_prob(x.detach()), one_out, one_loss]
        res.append(([np.array(t.detach().numpy()) for t in got], m.predict(x.detach()).tolist()))
    for i, (a, b) in enumerate(zip(res[0][0], res[1][0])):
        _assert_same(a, b, f"result {i}")
    assert res[0][1] == res[1][1]
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
        m = _build("nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 15])", torch_js)
        m(torch_js.randn(2, 8), torch_js.tensor([3, 20]))
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 4])


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


ERRORS = [
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(1, 2, 2, 2), lib.tensor([[[[0, 1], [2, 19]]] * 2])]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(1, 2, 2, 2), lib.tensor([[[[0, 1], [-2, 3]]] * 2])]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(1, 2, 2, 2), lib.zeros(1, 2, 2, 1, dtype=lib.int64)]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(1, 2, 2, 2), lib.zeros(1, 2, 2, 2, dtype=lib.int32)]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(2, 2), lib.zeros(2, 2, dtype=lib.int64)]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(2, 0, 2, 2), lib.zeros(2, 0, 2, 2, dtype=lib.int64)]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.ones(1, 1, 2, 2, dtype=lib.int32),
                                       lib.zeros(1, 1, 2, 2, dtype=lib.int64)]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), (6, 5)]),
    ("nn.MaxUnpool2d(2)", lambda lib: [lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64), [5]]),
    ("nn.MaxUnpool2d(2, padding=3)", lambda lib: [lib.randn(1, 1, 2, 2), lib.zeros(1, 1, 2, 2, dtype=lib.int64)]),
    ("nn.MaxUnpool1d(2)", lambda lib: [lib.randn(3, 2), lib.tensor([[0, 9], [1, 1], [0, 0]])]),
    ("nn.MaxUnpool3d(2)", lambda lib: [lib.randn(3, 2, 2), lib.zeros(3, 2, 2, dtype=lib.int64)]),
    ("nn.MaxUnpool3d(2, stride=0)", lambda lib: [lib.randn(3, 2, 2, 2), lib.zeros(3, 2, 2, 2, dtype=lib.int64)]),
    ("nn.MaxUnpool3d(2)", lambda lib: [lib.randn(3, 2, 2, 2), lib.full((3, 2, 2, 2), 99, dtype=lib.int64)]),
    ("nn.CircularPad2d(1)", lambda lib: [lib.randn(2, 3)]),
    ("nn.InstanceNorm1d(3)", lambda lib: [lib.randn(2, 3, 4, 5)]),
    ("nn.InstanceNorm2d(3, affine=True)", lambda lib: [lib.randn(2, 4, 3, 3)]),
    ("nn.CrossMapLRN2d(3)", lambda lib: [lib.randn(2, 3, 4)]),
    ("nn.SyncBatchNorm(3)", lambda lib: [lib.randn(3)]),
    ("nn.SyncBatchNorm(0)", lambda lib: [lib.randn(2, 0, 3)]),
    ("nn.EmbeddingBag(5, 2)", lambda lib: [lib.tensor([1, 2, 3]), lib.tensor([1, 2])]),
    ("nn.EmbeddingBag(5, 2)", lambda lib: [lib.tensor([1, 2, 3]), lib.tensor([0, 4])]),
    ("nn.EmbeddingBag(5, 2)", lambda lib: [lib.tensor([1, 2, 3])]),
    ("nn.EmbeddingBag(5, 2)", lambda lib: [lib.tensor([[1, 2, 3]]), lib.tensor([0])]),
    ("nn.EmbeddingBag(5, 2)", lambda lib: [lib.tensor([[[1]]])]),
    ("nn.EmbeddingBag(5, 2)", lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([0])]),
    ("nn.EmbeddingBag(5, 2, mode='mean')", lambda lib: [lib.tensor([1, 2]), lib.tensor([0]), lib.ones(2)]),
    ("nn.EmbeddingBag(5, 2, mode='sum')", lambda lib: [lib.tensor([1, 2]), lib.tensor([0]), lib.ones(3)]),
    ("nn.EmbeddingBag(5, 2, mode='prod')", lambda lib: [lib.tensor([1, 2]), lib.tensor([0])]),
    ("nn.EmbeddingBag(5, 2, mode='max', scale_grad_by_freq=True)", lambda lib: [lib.tensor([1]), lib.tensor([0])]),
]


@needs_torch
@pytest.mark.parametrize("spec,make_inputs", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_bad_input_errors_match_torch(spec, make_inputs):
    got = _error(lambda: _build(spec, torch_js)(*make_inputs(torch_js)))
    exp = _error(lambda: _build(spec, torch)(*make_inputs(torch)))
    assert exp is not None and got is not None
    assert got[0] == exp[0]
    # ATen appends a dump of the (empty) tensor it formatted into some messages; type names differ by library
    exp_msg = exp[1].split("\n[ torch.")[0].replace("'torch.Tensor'", "'torch_js._tensor.Tensor'")
    assert got[1] == exp_msg


@pytest.mark.parametrize("spec,msg", [
    ("nn.EmbeddingBag(5, 2, padding_idx=5)", "padding_idx must be within num_embeddings"),
    ("nn.EmbeddingBag(5, 2, padding_idx=-6)", "padding_idx must be within num_embeddings"),
    ("nn.Embedding(5, 2, padding_idx=7)", "Padding_idx must be within num_embeddings"),
])
def test_padding_idx_out_of_range(spec, msg):
    with pytest.raises(AssertionError, match=msg):
        eval(spec, {"nn": nn})


def test_modules_keep_their_arguments():
    assert nn.ZeroPad2d(1).padding == (1, 1, 1, 1) and nn.ZeroPad2d(1).value == 0.0
    assert isinstance(nn.ZeroPad1d(1), nn.ConstantPad1d)
    assert nn.ReflectionPad3d([1, 2, 3, 4, 5, 6]).padding == (1, 2, 3, 4, 5, 6)
    assert nn.Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)
    assert nn.Upsample(size=3, scale_factor=0).scale_factor is None
    assert isinstance(nn.NLLLoss2d(), nn.NLLLoss)
    up = nn.Upsample(scale_factor=2)
    state = up.__getstate__()
    del state["recompute_scale_factor"]
    up.__setstate__(state)
    assert up.recompute_scale_factor is True


def test_sync_batchnorm_conversion_shares_parameters():
    torch_js.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm1d(4, affine=False)))
    bn = net[1]
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert type(conv[1]) is nn.SyncBatchNorm and type(conv[2][0]) is nn.SyncBatchNorm
    assert conv[1].weight is bn.weight and conv[1].running_mean is bn.running_mean
    assert conv[2][0].weight is None and conv[0] is net[0]
    assert list(conv.state_dict()) == list(net.state_dict())


def test_data_parallel_wraps_and_prefixes_state_dict():
    torch_js.manual_seed(0)
    inner = nn.Linear(3, 2)
    dp = nn.DataParallel(inner, device_ids=[0])
    x = torch_js.randn(4, 3)
    assert dp(x).tolist() == inner(x).tolist()
    assert list(dp.state_dict()) == ["module.weight", "module.bias"] and dp.device_ids == []


def test_embedding_bag_from_pretrained():
    w = torch_js.arange(12.0).reshape(4, 3)
    bag = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not bag.weight.requires_grad
    assert bag(torch_js.tensor([[0, 1], [2, 3]])).tolist() == [[3.0, 5.0, 7.0], [15.0, 17.0, 19.0]]
    assert nn.EmbeddingBag.from_pretrained(w, freeze=False).weight.requires_grad
