"""torch_js.nn.functional against real torch: forward values and input gradients over a spread of shapes and
parameters, plus dropout's random stream bit for bit. Skipped where torch is not importable (Pyodide)."""
import pytest

import torch_js as tj
import torch_js.nn.functional as JF
from optional_torch import HAVE_TORCH, torch

if HAVE_TORCH:
    import numpy as np
    import torch.nn.functional as TF

pytestmark = pytest.mark.skipif(not HAVE_TORCH, reason="torch not importable")


# ---- harness -------------------------------------------------------------------------------------------------

def to_tj(x):
    if isinstance(x, torch.Tensor):
        t = tj.tensor(x.detach().numpy())
        if x.dim() == 0:
            t = t.reshape(())   # core bug: tj.tensor(0-d ndarray) has shape [1]
        if x.dtype == torch.bool:
            t = t.to(tj.bool)
        return t
    if isinstance(x, (list, tuple)):
        return type(x)(to_tj(v) for v in x)
    return x


def as_np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.detach().numpy())


def assert_close(a, b, atol, rtol, what=""):
    """a: torch_js result, b: torch result (tensors or tuples of them)."""
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, atol, rtol, f"{what}[{i}]")
        return
    if b is None:
        assert a is None, what
        return
    an, bn = as_np(a), as_np(b)
    assert an.shape == bn.shape, f"{what}: shape {an.shape} != {bn.shape}"
    assert str(a.dtype).replace("torch_js.", "torch.") == str(b.dtype), f"{what}: dtype {a.dtype} != {b.dtype}"
    np.testing.assert_allclose(an.astype(np.float64) if an.dtype != bool else an,
                               bn.astype(np.float64) if bn.dtype != bool else bn, atol=atol, rtol=rtol,
                               err_msg=what, equal_nan=True)


def compare(name, args, kwargs=None, grad=True, atol=1e-5, rtol=1e-4, tfn=None, jfn=None, nograd=()):
    """Run F.<name> in both libraries; compare outputs and the gradients of every floating tensor argument
    (except the positions in nograd)."""
    kwargs = kwargs or {}
    tfn = tfn or getattr(TF, name)
    jfn = jfn or getattr(JF, name)
    t_args = [a.detach().clone().requires_grad_(grad and a.is_floating_point() and i not in nograd)
              if isinstance(a, torch.Tensor) else a for i, a in enumerate(args)]
    t_kwargs = {k: (v.detach().clone() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    j_args = [to_tj(a) for a in args]
    for ja, ta in zip(j_args, t_args):
        if isinstance(ta, torch.Tensor) and ta.requires_grad:
            ja.requires_grad_(True)
    j_kwargs = {k: to_tj(v) for k, v in t_kwargs.items()}
    t_out = tfn(*t_args, **t_kwargs)
    j_out = jfn(*j_args, **j_kwargs)
    assert_close(j_out, t_out, atol, rtol, f"{name} forward")
    if not grad:
        return j_out, t_out
    t_first = t_out[0] if isinstance(t_out, tuple) else t_out
    j_first = j_out[0] if isinstance(j_out, tuple) else j_out
    if not t_first.requires_grad:
        return j_out, t_out
    gen = torch.Generator().manual_seed(1234)
    g = torch.randn(t_first.shape, dtype=t_first.dtype, generator=gen)
    t_first.backward(g)
    j_first.backward(to_tj(g))
    for i, (ta, ja) in enumerate(zip(t_args, j_args)):
        if isinstance(ta, torch.Tensor) and ta.requires_grad:
            assert ja.grad is not None, f"{name}: no grad for argument {i}"
            assert_close(ja.grad, ta.grad, atol * 10, rtol * 10, f"{name} grad[{i}]")
    return j_out, t_out


def rnd(*shape, dtype=torch.float64 if HAVE_TORCH else None, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=dtype, generator=g) * scale


# ---- activations ---------------------------------------------------------------------------------------------

ACTS = [("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {}),
        ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 1.5}), ("gelu", {}),
        ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("softplus", {}),
        ("softplus", {"beta": 2.0, "threshold": 1.0}), ("hardtanh", {}), ("hardtanh", {"min_val": -0.5, "max_val": 2}),
        ("hardswish", {}), ("hardsigmoid", {}), ("logsigmoid", {}), ("sigmoid", {}), ("tanh", {}), ("softsign", {}),
        ("tanhshrink", {}), ("softshrink", {}), ("hardshrink", {"lambd": 0.3}), ("softmax", {"dim": 1}),
        ("log_softmax", {"dim": -1}), ("softmin", {"dim": 0}), ("glu", {}), ("glu", {"dim": 0})]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,kw", ACTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ACTS)])
def test_activation(name, kw, dtype):
    x = rnd(4, 6, dtype=getattr(torch, dtype), scale=3.0)
    tol = 1e-5 if dtype == "float32" else 1e-10
    compare(name, [x], kw, atol=tol, rtol=tol * 10)


def test_threshold_prelu():
    x = rnd(3, 4, 5, scale=2)
    compare("threshold", [x, 0.5, -1.0])
    compare("prelu", [x, torch.tensor([0.25], dtype=torch.float64)])
    compare("prelu", [x, rnd(4, seed=3)])


def test_activation_double_backward():
    x = tj.tensor([[-1.5, -0.2, 0.3, 2.0]], dtype=tj.float64, requires_grad=True)
    tx = torch.tensor([[-1.5, -0.2, 0.3, 2.0]], dtype=torch.float64, requires_grad=True)
    for name in ("gelu", "silu", "elu", "softplus", "mish", "logsigmoid"):
        (gj,) = tj.autograd.grad(getattr(JF, name)(x).sum(), x, create_graph=True)
        (gt,) = torch.autograd.grad(getattr(TF, name)(tx).sum(), tx, create_graph=True)
        assert_close(tj.autograd.grad(gj.sum(), x)[0], torch.autograd.grad(gt.sum(), tx)[0], 1e-9, 1e-8, name)


def test_inplace_activations():
    x = rnd(5, 5)
    xj = to_tj(x)
    JF.relu(xj, inplace=True)
    assert_close(xj, TF.relu(x), 0, 0)
    xj = to_tj(x)
    JF.leaky_relu_(xj, 0.1)
    assert_close(xj, TF.leaky_relu(x, 0.1), 1e-12, 0)


# ---- linear / conv -------------------------------------------------------------------------------------------

def test_linear_bilinear():
    compare("linear", [rnd(4, 5), rnd(3, 5, seed=1), rnd(3, seed=2)], atol=1e-10)
    compare("linear", [rnd(2, 4, 5), rnd(3, 5, seed=1)], atol=1e-10)
    compare("bilinear", [rnd(4, 5), rnd(4, 6, seed=1), rnd(3, 5, 6, seed=2), rnd(3, seed=3)], atol=1e-10)


CONV2D = [  # N, C, H, W, O, kernel, stride, padding, dilation, groups
    (2, 3, 7, 8, 4, 3, 1, 1, 1, 1), (1, 4, 9, 9, 6, 3, 2, 0, 1, 2), (2, 4, 10, 7, 4, (3, 2), (2, 1), (1, 0), (2, 1), 4),
    (3, 2, 5, 5, 4, 1, 1, 0, 1, 1), (1, 3, 6, 6, 2, 1, 1, 0, 1, 1), (2, 3, 8, 8, 5, 3, 1, "same", 2, 1),
    (2, 2, 7, 6, 3, (2, 4), 1, "same", 1, 1), (1, 2, 6, 6, 3, 3, 1, "valid", 1, 1), (2, 6, 5, 5, 6, 3, 1, 1, 1, 6)]


@pytest.mark.parametrize("case", CONV2D)
def test_conv2d(case):
    n, c, h, w, o, k, s, p, d, g = case
    kk = k if isinstance(k, tuple) else (k, k)
    compare("conv2d", [rnd(n, c, h, w), rnd(o, c // g, *kk, seed=1), rnd(o, seed=2), s, p, d, g], atol=1e-10)


def test_conv2d_float32_unbatched():
    compare("conv2d", [rnd(3, 6, 6, dtype=torch.float32), rnd(4, 3, 3, 3, seed=1, dtype=torch.float32)],
            {"padding": 1}, atol=1e-5)


@pytest.mark.parametrize("case", [(2, 3, 10, 4, 3, 1, 0, 1, 1), (1, 4, 9, 6, 3, 2, 1, 2, 2), (2, 2, 8, 2, 4, 1, "same", 1, 1)])
def test_conv1d(case):
    n, c, l, o, k, s, p, d, g = case
    compare("conv1d", [rnd(n, c, l), rnd(o, c // g, k, seed=1), rnd(o, seed=2), s, p, d, g], atol=1e-10)


@pytest.mark.parametrize("case", [  # N, Cin, H, W, Cout, k, stride, padding, output_padding, groups, dilation
    (2, 3, 5, 4, 4, 3, 1, 0, 0, 1, 1), (1, 4, 4, 4, 6, 3, 2, 1, 1, 2, 1), (2, 2, 3, 5, 3, (2, 3), (2, 1), (0, 1), (1, 0), 1, 1),
    (1, 2, 4, 4, 2, 3, 2, 1, 0, 1, 2)])
def test_conv_transpose2d(case):
    n, ci, h, w, co, k, s, p, op, g, d = case
    kk = k if isinstance(k, tuple) else (k, k)
    compare("conv_transpose2d", [rnd(n, ci, h, w), rnd(ci, co // g, *kk, seed=1), rnd(co, seed=2), s, p, op, g, d],
            atol=1e-10)


def test_conv_transpose1d():
    compare("conv_transpose1d", [rnd(2, 3, 7), rnd(3, 2, 3, seed=1), None, 2, 1, 1], atol=1e-10)


def test_conv2d_double_backward():
    x = rnd(1, 2, 5, 5).requires_grad_()
    w = rnd(3, 2, 3, 3, seed=1).requires_grad_()
    xj, wj = to_tj(x).requires_grad_(), to_tj(w).requires_grad_()
    gt = torch.autograd.grad(TF.conv2d(x, w, padding=1).pow(2).sum(), (x, w), create_graph=True)
    gj = tj.autograd.grad(JF.conv2d(xj, wj, padding=1).pow(2).sum(), (xj, wj), create_graph=True)
    st = torch.autograd.grad(gt[0].sum() + gt[1].sum(), (x, w))
    sj = tj.autograd.grad(gj[0].sum() + gj[1].sum(), (xj, wj))
    assert_close(sj, st, 1e-9, 1e-8, "conv2d double backward")


def test_unfold_fold():
    compare("unfold", [rnd(2, 3, 6, 7)], {"kernel_size": (2, 3), "dilation": 1, "padding": 1, "stride": 2},
            atol=1e-12)
    compare("fold", [rnd(2, 12, 20)], {"output_size": (5, 6), "kernel_size": 2, "stride": 1, "padding": 0},
            atol=1e-12)


# ---- pooling -------------------------------------------------------------------------------------------------

POOL2D = [dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, ceil_mode=True),
          dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), ceil_mode=True), dict(kernel_size=3, stride=1)]


@pytest.mark.parametrize("kw", POOL2D)
def test_max_pool2d(kw):
    x = rnd(2, 3, 9, 10)
    (jo, ji), (to, ti) = compare("max_pool2d", [x], dict(kw, return_indices=True))
    assert (ji.numpy() == ti.numpy()).all()
    compare("max_pool2d", [rnd(3, 9, 10, dtype=torch.float32)], dict(kw, dilation=2) if "padding" not in kw else kw)


@pytest.mark.parametrize("kw", POOL2D)
@pytest.mark.parametrize("cip", [True, False])
def test_avg_pool2d(kw, cip):
    compare("avg_pool2d", [rnd(2, 3, 9, 10)], dict(kw, count_include_pad=cip), atol=1e-12)
    compare("avg_pool2d", [rnd(2, 3, 9, 10, dtype=torch.float32)], dict(kw, count_include_pad=cip, divisor_override=4))


def test_pool1d():
    x = rnd(2, 3, 11)
    compare("max_pool1d", [x, 3, 2, 1], atol=1e-12)
    compare("max_pool1d", [x, 2], {"dilation": 2, "ceil_mode": True}, atol=1e-12)
    compare("avg_pool1d", [x, 3, 2, 1], {"count_include_pad": False}, atol=1e-12)
    compare("adaptive_avg_pool1d", [x, 4], atol=1e-12)
    compare("adaptive_max_pool1d", [x, 5], atol=1e-12)


@pytest.mark.parametrize("os_", [(4, 5), (3, 3), 1, (9, 10), (7, None), (13, 4)])
def test_adaptive_pool2d(os_):
    x = rnd(2, 3, 9, 10)
    compare("adaptive_avg_pool2d", [x, os_], atol=1e-12)
    compare("adaptive_max_pool2d", [x, os_], atol=1e-12)
    (jo, ji), (to, ti) = compare("adaptive_max_pool2d", [x, os_, True], atol=1e-12)
    assert (ji.numpy() == ti.numpy()).all()


def test_max_pool_nan_and_double_backward():
    x = rnd(1, 1, 4, 4)
    x[0, 0, 1, 1] = float("nan")
    compare("max_pool2d", [x, 2], grad=False)
    x = rnd(1, 2, 6, 6).requires_grad_()
    xj = to_tj(x).requires_grad_()
    for fn, args in (("max_pool2d", (2,)), ("avg_pool2d", (3, 1, 1)), ("adaptive_avg_pool2d", ((4, 4),))):
        (gt,) = torch.autograd.grad(getattr(TF, fn)(x, *args).pow(2).sum(), x, create_graph=True)
        (gj,) = tj.autograd.grad(getattr(JF, fn)(xj, *args).pow(2).sum(), xj, create_graph=True)
        assert_close(tj.autograd.grad((gj * gj).sum(), xj)[0], torch.autograd.grad((gt * gt).sum(), x)[0],
                     1e-9, 1e-8, fn)


# ---- normalisation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm(shape, training):
    c = shape[1]
    x = rnd(*shape)
    rm, rv = rnd(c, seed=5) * 0.1, rnd(c, seed=6).abs() + 0.5
    rmj, rvj = to_tj(rm), to_tj(rv)
    w, b = rnd(c, seed=7), rnd(c, seed=8)
    compare("batch_norm", [x, rm, rv, w, b, training, 0.2, 1e-5], atol=1e-10, nograd=(1, 2),
            jfn=lambda x_, rm_, rv_, *a: JF.batch_norm(x_, rmj, rvj, *a),
            tfn=lambda x_, rm_, rv_, *a: TF.batch_norm(x_, rm, rv, *a))
    assert_close(rmj, rm, 1e-12, 1e-10, "running_mean")
    assert_close(rvj, rv, 1e-12, 1e-10, "running_var")


def test_norms():
    x = rnd(2, 6, 4, 5)
    compare("layer_norm", [x, (4, 5), rnd(4, 5, seed=1), rnd(4, 5, seed=2)], atol=1e-10)
    compare("layer_norm", [x, [5]], atol=1e-10)
    compare("group_norm", [x, 3, rnd(6, seed=1), rnd(6, seed=2)], atol=1e-10)
    compare("instance_norm", [x], atol=1e-10)
    compare("instance_norm", [x, None, None, rnd(6, seed=1), rnd(6, seed=2)], atol=1e-10)
    compare("rms_norm", [x, (5,), rnd(5, seed=1)], atol=1e-10)
    rm, rv = torch.zeros(6, dtype=torch.float64), torch.ones(6, dtype=torch.float64)
    rmj, rvj = to_tj(rm), to_tj(rv)
    TF.instance_norm(x, rm, rv)
    JF.instance_norm(to_tj(x), rmj, rvj)
    assert_close(rmj, rm, 1e-12, 1e-10, "in running_mean")
    assert_close(rvj, rv, 1e-12, 1e-10, "in running_var")


# ---- losses --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_nll(reduction):
    x = rnd(5, 4)
    t = torch.tensor([0, 3, 1, -100, 2])
    t2 = torch.tensor([0, 3, 1, 1, 2])
    w = rnd(4, seed=2).abs() + 0.1
    for kw in ({}, {"weight": w}, {"label_smoothing": 0.2}, {"weight": w, "label_smoothing": 0.1},
               {"ignore_index": 1}):
        tt = t2 if "ignore_index" in kw else t
        compare("cross_entropy", [x, tt], dict(kw, reduction=reduction), atol=1e-10)
        if "label_smoothing" not in kw:
            compare("nll_loss", [x.log_softmax(1), tt], dict(kw, reduction=reduction), atol=1e-10)
    # probability targets, spatial inputs
    compare("cross_entropy", [x, rnd(5, 4, seed=3).softmax(1)], {"reduction": reduction, "label_smoothing": 0.1},
            atol=1e-10)
    compare("cross_entropy", [rnd(2, 3, 4, 5), torch.randint(0, 3, (2, 4, 5), generator=torch.Generator()
                                                             .manual_seed(0))], {"reduction": reduction}, atol=1e-10)
    compare("cross_entropy", [rnd(3), torch.tensor(1)], {"reduction": reduction}, atol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(reduction):
    a, b = rnd(4, 5), rnd(4, 5, seed=1)
    kw = {"reduction": reduction}
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss"):
        compare(name, [a, b], kw, atol=1e-10, nograd=(1,) if name == "soft_margin_loss" else ())
    compare("smooth_l1_loss", [a, b], dict(kw, beta=0.5), atol=1e-10)
    compare("huber_loss", [a, b], dict(kw, delta=0.7), atol=1e-10)
    p = torch.sigmoid(a)
    y = (b > 0).double()
    compare("binary_cross_entropy", [p, y], kw, atol=1e-10)
    compare("binary_cross_entropy", [p, y], dict(kw, weight=rnd(5, seed=4).abs()), atol=1e-10)
    compare("binary_cross_entropy_with_logits", [a, y], dict(kw, pos_weight=rnd(5, seed=4).abs()), atol=1e-10)
    compare("binary_cross_entropy_with_logits", [a, torch.sigmoid(b)], kw, atol=1e-10)
    compare("kl_div", [a.log_softmax(1), b.softmax(1)], kw, atol=1e-10)
    compare("kl_div", [a.log_softmax(1), b.log_softmax(1)], dict(kw, log_target=True), atol=1e-10)
    compare("margin_ranking_loss", [a[0], b[0], torch.tensor([1., -1., 1., 1., -1.], dtype=torch.float64)],
            dict(kw, margin=0.3), atol=1e-10)


def test_kl_div_batchmean():
    a, b = rnd(4, 5), rnd(4, 5, seed=1)
    compare("kl_div", [a.log_softmax(1), b.softmax(1)], {"reduction": "batchmean"}, atol=1e-10)


# ---- dropout -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,shape,p", [("dropout", (7, 33), 0.3), ("dropout", (1000,), 0.5),
                                          ("dropout2d", (3, 4, 5, 5), 0.4), ("dropout1d", (3, 4, 6), 0.25),
                                          ("alpha_dropout", (50, 20), 0.2), ("dropout", (4, 4), 1.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_bit_exact(name, shape, p, dtype):
    x = rnd(*shape, dtype=getattr(torch, dtype))
    torch.manual_seed(123)
    tj.manual_seed(123)
    t_out = getattr(TF, name)(x, p, training=True)
    j_out = getattr(JF, name)(to_tj(x), p, training=True)
    assert (as_np(j_out) == as_np(t_out)).all()
    # the generator advanced identically
    assert_close(tj.rand(3, dtype=getattr(tj, dtype)), torch.rand(3, dtype=getattr(torch, dtype)), 0, 0)
    assert JF.dropout(to_tj(x), p, training=False) is not None


def test_dropout_grad():
    x = rnd(6, 7).requires_grad_()
    xj = to_tj(x).requires_grad_()
    torch.manual_seed(7)
    tj.manual_seed(7)
    TF.dropout(x, 0.4).sum().backward()
    JF.dropout(xj, 0.4).sum().backward()
    assert_close(xj.grad, x.grad, 0, 0)


# ---- embedding / one_hot / misc ------------------------------------------------------------------------------

def test_embedding():
    w = rnd(10, 4)
    idx = torch.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])
    compare("embedding", [idx, w], atol=1e-12)
    compare("embedding", [idx, w], {"padding_idx": 2}, atol=1e-12)
    compare("embedding", [idx, w], {"padding_idx": -1, "scale_grad_by_freq": True}, atol=1e-12)
    wt, wj = rnd(10, 4, scale=3), to_tj(rnd(10, 4, scale=3))
    TF.embedding(idx, wt, max_norm=1.0)
    JF.embedding(to_tj(idx), wj, max_norm=1.0)
    assert_close(wj, wt, 1e-10, 1e-10, "max_norm renorm")


def test_one_hot():
    t = torch.tensor([[0, 2], [1, 3]])
    compare("one_hot", [t], grad=False)
    compare("one_hot", [t, 6], grad=False)


def test_distances_normalize():
    a, b = rnd(4, 5), rnd(4, 5, seed=1)
    compare("cosine_similarity", [a, b], atol=1e-10)
    compare("cosine_similarity", [a, b[:1]], {"dim": 1, "eps": 1e-6}, atol=1e-10)
    compare("pairwise_distance", [a, b], atol=1e-10)
    compare("pairwise_distance", [a, b], {"p": 1.0, "keepdim": True}, atol=1e-10)
    compare("normalize", [a], atol=1e-10)
    compare("normalize", [a], {"p": 1, "dim": 0}, atol=1e-10)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad(mode):
    x = rnd(2, 3, 5, 6)
    compare("pad", [x, (2, 1, 0, 3)], {"mode": mode}, atol=1e-12)
    compare("pad", [x[0], (2, 1, 1, 3)], {"mode": mode}, atol=1e-12)
    compare("pad", [rnd(2, 3, 5), (3, 1)], {"mode": mode}, atol=1e-12)
    if mode == "constant":
        compare("pad", [x, (1, -2, 1, 1, 1, 0)], {"value": 2.5}, atol=1e-12)
    if mode in ("replicate", "circular"):
        compare("pad", [rnd(1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)], {"mode": mode}, atol=1e-12)


@pytest.mark.parametrize("kw", [dict(size=(7, 9), mode="nearest"), dict(scale_factor=2, mode="nearest"),
                                dict(scale_factor=1.7, mode="nearest"), dict(size=(3, 4), mode="nearest"),
                                dict(size=(7, 9), mode="nearest-exact"),
                                dict(size=(7, 9), mode="bilinear", align_corners=False),
                                dict(size=(7, 9), mode="bilinear", align_corners=True),
                                dict(scale_factor=0.6, mode="bilinear"), dict(size=(2, 3), mode="area")])
def test_interpolate_2d(kw):
    compare("interpolate", [rnd(2, 3, 5, 6, dtype=torch.float32)], kw, atol=1e-5)
    compare("interpolate", [rnd(2, 3, 5, 6)], kw, atol=1e-10)


def test_interpolate_1d():
    compare("interpolate", [rnd(2, 3, 5)], {"size": 8, "mode": "linear"}, atol=1e-10)
    compare("interpolate", [rnd(2, 3, 5)], {"scale_factor": 3, "mode": "nearest"}, atol=1e-10)


def test_pixel_shuffle():
    compare("pixel_shuffle", [rnd(2, 8, 3, 4), 2], atol=0)
    compare("pixel_unshuffle", [rnd(2, 2, 6, 4), 2], atol=0)


# ---- attention -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"scale": 0.3}])
def test_sdpa(kw):
    q, k, v = rnd(2, 3, 5, 8), rnd(2, 3, 7, 8, seed=1), rnd(2, 3, 7, 4, seed=2)
    if kw.get("is_causal"):
        k, v = k[:, :, :5], v[:, :, :5]
    compare("scaled_dot_product_attention", [q, k, v], kw, atol=1e-10)


def test_sdpa_masks():
    q, k, v = rnd(2, 3, 5, 8), rnd(2, 3, 7, 8, seed=1), rnd(2, 3, 7, 4, seed=2)
    bmask = torch.rand(5, 7, generator=torch.Generator().manual_seed(3)) > 0.3
    bmask[:, 0] = True
    compare("scaled_dot_product_attention", [q, k, v, bmask], atol=1e-10)
    compare("scaled_dot_product_attention", [q, k, v, rnd(2, 1, 5, 7, seed=4)], atol=1e-10)


@pytest.mark.parametrize("need_weights,avg", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("self_attn", [True, False])
def test_multi_head_attention_forward(need_weights, avg, self_attn):
    e, h, L, S, n = 8, 2, 5, 6, 3
    q = rnd(L, n, e)
    kv = q if self_attn else rnd(S, n, e, seed=1)
    s = L if self_attn else S
    w_in, b_in = rnd(3 * e, e, seed=2) * 0.3, rnd(3 * e, seed=3)
    w_out, b_out = rnd(e, e, seed=4) * 0.3, rnd(e, seed=5)
    kpm = torch.zeros(n, s, dtype=torch.bool)
    kpm[1, -1] = True
    mask = rnd(L, s, seed=6)

    def run(lib, F, conv):
        qq = conv(q)
        kk = qq if self_attn else conv(kv)
        args = [conv(t) for t in (w_in, b_in)]
        for t in args:
            t.requires_grad_(True)
        out, wts = F.multi_head_attention_forward(qq, kk, kk, e, h, args[0], args[1], None, None, False, 0.0,
                                                  conv(w_out), conv(b_out), training=True,
                                                  key_padding_mask=conv(kpm), need_weights=need_weights,
                                                  attn_mask=conv(mask), average_attn_weights=avg)
        out.sum().backward()
        return out, wts, args[0].grad

    rt = run(torch, TF, lambda t: t.clone())
    rj = run(tj, JF, to_tj)
    assert_close(rj[0], rt[0], 1e-10, 1e-9, "mha out")
    assert_close(rj[1], rt[1], 1e-10, 1e-9, "mha weights")
    assert_close(rj[2], rt[2], 1e-9, 1e-8, "mha in_proj grad")


def test_registry():
    from torch_js.ops._registry import ops_in
    names = ops_in("nn.functional")
    for n in ("conv2d", "max_pool2d", "batch_norm", "cross_entropy", "scaled_dot_product_attention", "gelu"):
        assert n in names
