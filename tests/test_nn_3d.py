"""3-D convolution and pooling and fractional max pooling, functional and module forms: values, indices and
input/weight/bias gradients (and second derivatives) against live torch in float64 and float32 over strides,
padding, dilation, groups, output_padding, ceil_mode, divisor_override, padding modes and unbatched inputs;
integer and half inputs; PyTorch's random draws for fractional pooling; PyTorch's errors for bad shapes and
arguments."""
import re

import pytest

import torch_js as tj
import torch_js.nn as jnn
import torch_js.nn.functional as JF
from optional_torch import needs_torch, torch

TOL = {"float64": 1e-10, "float32": 2e-5}


def _j(t, requires_grad=None):
    """torch tensor -> torch_js tensor with the same values and dtype."""
    rg = t.requires_grad if requires_grad is None else requires_grad
    return tj.tensor(t.detach().tolist(), dtype=getattr(tj, str(t.dtype)[6:]), requires_grad=rg)


def _rand(shape, seed, dtype="float64", scale=1.0, requires_grad=True):
    """The same random values as a torch tensor and a torch_js tensor."""
    g = torch.Generator().manual_seed(seed)
    t = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(getattr(torch, dtype))
    t.requires_grad_(requires_grad)
    return t, _j(t)


def _close(t, j, tol, what=""):
    assert list(j.shape) == list(t.shape), what
    assert j.dtype == getattr(tj, str(t.dtype)[6:]), what
    assert j.flatten().tolist() == pytest.approx(t.flatten().tolist(), abs=tol, rel=tol, nan_ok=True), what


def _check(t_out, j_out, t_inputs, j_inputs, tol, seed=99):
    """Same values, and the same gradients of <out, g> for a random g with respect to every input."""
    _close(t_out, j_out, tol, "value")
    tg, jg = _rand(tuple(t_out.shape), seed, str(t_out.dtype)[6:], requires_grad=False)
    t_grads = torch.autograd.grad((t_out * tg).sum(), t_inputs)
    j_grads = tj.autograd.grad((j_out * jg).sum(), j_inputs)
    for k, (a, b) in enumerate(zip(t_grads, j_grads)):
        _close(a, b, tol, f"grad {k}")


def _message(exc):
    """An exception's text with each printed set's items sorted: PyTorch prints sets of choices, whose order
    varies between processes (string hashing)."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", str(exc))


def _inputs(shapes, dtype, seed=1):
    pairs = [_rand(s, seed + k, dtype) for k, s in enumerate(shapes)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


# ---- convolutions ---------------------------------------------------------------------------------------------

CONV3D = [
    dict(x=(2, 4, 5, 6, 7), w=(6, 4, 3, 2, 3)),
    dict(x=(2, 4, 5, 6, 7), w=(6, 2, 2, 3, 2), stride=(1, 2, 3), padding=(1, 0, 2), dilation=(2, 1, 1), groups=2),
    dict(x=(4, 5, 6, 7), w=(3, 4, 2, 2, 2), stride=2, padding=1, bias=False),          # unbatched
    dict(x=(1, 3, 4, 5, 6), w=(6, 1, 3, 3, 3), padding="same", dilation=(1, 2, 1), groups=3),
    dict(x=(2, 3, 4, 4, 4), w=(2, 3, 2, 3, 1), padding="same"),                        # even kernel: padded right
    dict(x=(2, 3, 4, 4, 4), w=(5, 3, 1, 1, 1)),                                       # 1x1x1: no im2col
    dict(x=(2, 3, 5, 4, 4), w=(2, 3, 2, 2, 2), padding="valid", stride=[2, 1, 1]),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONV3D, ids=lambda c: str(c))
def test_conv3d_matches_torch(cfg, dtype):
    cfg = dict(cfg)
    shapes = [cfg.pop("x"), cfg.pop("w")]
    if cfg.pop("bias", True):
        shapes.append((shapes[1][0],))
    ts, js = _inputs(shapes, dtype)
    t_out = torch.nn.functional.conv3d(*ts, **cfg)
    j_out = JF.conv3d(*js, **cfg)
    _check(t_out, j_out, ts, js, TOL[dtype])


CONV_T3D = [
    dict(x=(2, 4, 3, 4, 3), w=(4, 3, 2, 3, 2)),
    dict(x=(2, 4, 3, 4, 3), w=(4, 2, 3, 2, 2), stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2),
         groups=2, dilation=(1, 2, 1)),
    dict(x=(4, 3, 2, 3), w=(4, 3, 2, 2, 2), stride=2, output_padding=1, bias=False),  # unbatched
    dict(x=(1, 2, 2, 3, 2), w=(2, 2, 3, 3, 3), dilation=2, padding=2, stride=3, output_padding=2),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", CONV_T3D, ids=lambda c: str(c))
def test_conv_transpose3d_matches_torch(cfg, dtype):
    cfg = dict(cfg)
    shapes = [cfg.pop("x"), cfg.pop("w")]
    if cfg.pop("bias", True):
        shapes.append((shapes[1][1] * cfg.get("groups", 1),))
    ts, js = _inputs(shapes, dtype)
    t_out = torch.nn.functional.conv_transpose3d(*ts, **cfg)
    j_out = JF.conv_transpose3d(*js, **cfg)
    _check(t_out, j_out, ts, js, TOL[dtype])


@needs_torch
def test_conv3d_second_derivatives_match_torch():
    ts, js = _inputs([(1, 2, 3, 4, 3), (3, 2, 2, 2, 2), (3,)], "float64")
    t_out = torch.nn.functional.conv3d(*ts, stride=(1, 2, 1), padding=1)
    j_out = JF.conv3d(*js, stride=(1, 2, 1), padding=1)
    t_g = torch.autograd.grad((t_out ** 2).sum(), ts[:2], create_graph=True)
    j_g = tj.autograd.grad((j_out ** 2).sum(), js[:2], create_graph=True)
    t_gg = torch.autograd.grad(t_g[0].pow(2).sum() + t_g[1].sum(), ts[:2])
    j_gg = tj.autograd.grad(j_g[0].pow(2).sum() + j_g[1].sum(), js[:2])
    for a, b in zip(t_gg, j_gg):
        _close(a, b, 1e-9)


@needs_torch
def test_conv1d_conv2d_integers_match_torch():
    x, w = torch.arange(48, dtype=torch.int32).reshape(1, 3, 4, 4), torch.ones(2, 3, 2, 2, dtype=torch.int32)
    assert JF.conv2d(_j(x), _j(w), padding=1).tolist() == torch.nn.functional.conv2d(x, w, padding=1).tolist()
    x8, w8 = x.flatten(2).to(torch.int8), w.flatten(2).to(torch.int8) * 50
    assert JF.conv1d(_j(x8), _j(w8), stride=2).tolist() == torch.nn.functional.conv1d(x8, w8, stride=2).tolist()


@needs_torch
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
def test_conv3d_integers_wrap_as_torch(dtype):
    g = torch.Generator().manual_seed(3)
    x = torch.randint(0, 60, (2, 2, 3, 4, 3), generator=g).to(getattr(torch, dtype))
    w = torch.randint(0, 40, (3, 2, 2, 2, 2), generator=g).to(getattr(torch, dtype))
    t_out = torch.nn.functional.conv3d(x, w, padding=1)
    j_out = JF.conv3d(_j(x), _j(w), padding=1)
    assert j_out.dtype == getattr(tj, dtype) and j_out.tolist() == t_out.tolist()
    if dtype == "int64":
        wt = w.transpose(0, 1)
        assert JF.conv_transpose3d(_j(x), _j(wt), stride=2).tolist() == \
            torch.nn.functional.conv_transpose3d(x, wt, stride=2).tolist()


@needs_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_conv3d_half_types_match_torch(dtype):
    tx, jx = _rand((1, 2, 3, 4, 3), 4, dtype, requires_grad=False)
    tw, jw = _rand((2, 2, 2, 2, 2), 5, dtype, requires_grad=False)
    _close(torch.nn.functional.conv3d(tx, tw, padding=1), JF.conv3d(jx, jw, padding=1), 2e-2)
    _close(torch.nn.functional.conv_transpose3d(tx, tw, stride=2), JF.conv_transpose3d(jx, jw, stride=2), 2e-2)


# ---- convolution modules --------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_conv3d_module_padding_modes_match_torch(mode, dtype):
    kw = dict(stride=(1, 2, 1), padding=(1, 2, 1), dilation=(1, 1, 2), groups=2, padding_mode=mode)
    torch.manual_seed(7)
    tm = torch.nn.Conv3d(4, 6, (3, 2, 3), **kw).to(getattr(torch, dtype))
    tj.manual_seed(7)
    jm = jnn.Conv3d(4, 6, (3, 2, 3), **kw).to(getattr(tj, dtype))
    # PyTorch's kaiming_uniform_ / bias draws under the same seed
    assert jm.weight.tolist() == tm.weight.tolist() and jm.bias.tolist() == tm.bias.tolist()
    assert repr(jm) == repr(tm)
    assert list(jm.state_dict()) == list(tm.state_dict())
    tx, jx = _rand((2, 4, 4, 5, 6), 11, dtype)
    t_out, j_out = tm(tx), jm(jx)
    _check(t_out, j_out, [tx, tm.weight, tm.bias], [jx, jm.weight, jm.bias], TOL[dtype])
    # unbatched
    tx, jx = _rand((4, 4, 5, 6), 12, dtype)
    _check(tm(tx), jm(jx), [tx], [jx], TOL[dtype])


@needs_torch
@pytest.mark.parametrize("args", [
    dict(in_channels=4, out_channels=6, kernel_size=(2, 3, 1), output_padding=1, stride=2, dilation=2),
    dict(in_channels=4, out_channels=2, kernel_size=3, padding=1, groups=2, bias=False),
])
def test_conv_transpose3d_module_matches_torch(args):
    torch.manual_seed(8)
    tm = torch.nn.ConvTranspose3d(**args).double()
    tj.manual_seed(8)
    jm = jnn.ConvTranspose3d(**args).double()
    assert jm.weight.tolist() == tm.weight.tolist()
    assert repr(jm) == repr(tm) and list(jm.state_dict()) == list(tm.state_dict())
    tx, jx = _rand((2, 4, 3, 2, 3), 13)
    params_t = [tx] + [p for p in tm.parameters()]
    params_j = [jx] + [p for p in jm.parameters()]
    _check(tm(tx), jm(jx), params_t, params_j, 1e-10)
    # output_size picks the output padding (batched and unbatched sizes)
    size = [s - op for s, op in zip(tm(tx).shape[2:], tm.output_padding)]     # the smallest valid size
    _close(tm(tx, output_size=size), jm(jx, output_size=size), 1e-10)
    _close(tm(tx[0], output_size=[4] + size), jm(jx[0], output_size=[4] + size), 1e-10)
    with pytest.raises(ValueError) as te:
        tm(tx, output_size=[1, 1, 1])
    with pytest.raises(ValueError) as je:
        jm(jx, output_size=[1, 1, 1])
    assert str(je.value) == str(te.value)


@needs_torch
def test_conv3d_module_constructor_errors_match_torch():
    for kwargs in [dict(groups=0), dict(groups=4), dict(padding="same", stride=2), dict(padding="full"),
                   dict(padding_mode="mirror")]:
        with pytest.raises(ValueError) as te:
            torch.nn.Conv3d(6, 6, 3, **kwargs)
        with pytest.raises(ValueError) as je:
            jnn.Conv3d(6, 6, 3, **kwargs)
        assert _message(je.value) == _message(te.value)
    with pytest.raises(ValueError) as te:
        torch.nn.ConvTranspose3d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError) as je:
        jnn.ConvTranspose3d(2, 2, 3, padding_mode="reflect")
    assert str(je.value) == str(te.value)


# ---- pooling ---------------------------------------------------------------------------------------------------

MAX3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0), dilation=(2, 1, 2)),
    dict(kernel_size=2, stride=1, padding=1, dilation=2, ceil_mode=True),
    dict(kernel_size=[3], stride=[2], padding=[1], dilation=[1]),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 5, 4, 6)])
@pytest.mark.parametrize("cfg", MAX3D, ids=lambda c: str(c))
def test_max_pool3d_matches_torch(cfg, shape, dtype):
    tx, jx = _rand(shape, 21, dtype)
    t_out, t_idx = torch.nn.functional.max_pool3d(tx, return_indices=True, **cfg)
    j_out, j_idx = JF.max_pool3d(jx, return_indices=True, **cfg)
    assert j_idx.dtype == tj.int64 and j_idx.tolist() == t_idx.tolist()
    _check(t_out, j_out, [tx], [jx], TOL[dtype])
    m_kw = dict(cfg)
    t_mod, j_mod = torch.nn.MaxPool3d(**m_kw), jnn.MaxPool3d(**m_kw)
    assert repr(j_mod) == repr(t_mod)
    assert j_mod(jx).tolist() == j_out.tolist()
    assert JF.max_pool3d_with_indices(jx, **cfg)[1].tolist() == t_idx.tolist()


@needs_torch
def test_max_pool3d_ties_and_nan_pick_torch_indices():
    # small integers make ties in most windows; NaN wins (the last NaN of a window); -inf windows keep the first
    g = torch.Generator().manual_seed(5)
    x = torch.randint(0, 3, (2, 2, 4, 5, 4), generator=g).double()
    x[0, 0, 1, 2, 1] = float("nan")
    x[0, 0, 1, 2, 2] = float("nan")
    x[1, 1, :2, :2, :2] = float("-inf")
    for kw in [dict(kernel_size=2, stride=1), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)]:
        t_out, t_idx = torch.nn.functional.max_pool3d(x, return_indices=True, **kw)
        j_out, j_idx = JF.max_pool3d(_j(x), return_indices=True, **kw)
        assert j_idx.tolist() == t_idx.tolist()
        _close(t_out, j_out, 0)
        t_out, t_idx = torch.nn.functional.adaptive_max_pool3d(x, (3, 2, 3), return_indices=True)
        j_out, j_idx = JF.adaptive_max_pool3d(_j(x), (3, 2, 3), return_indices=True)
        assert j_idx.tolist() == t_idx.tolist()
        _close(t_out, j_out, 0)


AVG3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, divisor_override=5),
    dict(kernel_size=(3, 2, 2), stride=[2], padding=(1, 0, 1), count_include_pad=False, divisor_override=2),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(2, 3, 5, 6, 7), (3, 5, 4, 6)])
@pytest.mark.parametrize("cfg", AVG3D, ids=lambda c: str(c))
def test_avg_pool3d_matches_torch(cfg, shape, dtype):
    tx, jx = _rand(shape, 22, dtype)
    t_out = torch.nn.functional.avg_pool3d(tx, **cfg)
    j_out = JF.avg_pool3d(jx, **cfg)
    _check(t_out, j_out, [tx], [jx], TOL[dtype])
    t_mod, j_mod = torch.nn.AvgPool3d(**cfg), jnn.AvgPool3d(**cfg)
    assert repr(j_mod) == repr(t_mod)
    assert j_mod(jx).tolist() == j_out.tolist()


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("size", [(3, 4, 5), (2, None, 3), 7, 1, [1, 4, 2]])
def test_adaptive_pool3d_matches_torch(size, dtype):
    for shape in [(2, 3, 5, 6, 7), (3, 5, 4, 6)]:
        tx, jx = _rand(shape, 23, dtype)
        _check(torch.nn.functional.adaptive_avg_pool3d(tx, size), JF.adaptive_avg_pool3d(jx, size), [tx], [jx],
               TOL[dtype])
        t_out, t_idx = torch.nn.functional.adaptive_max_pool3d(tx, size, return_indices=True)
        j_out, j_idx = JF.adaptive_max_pool3d(jx, size, return_indices=True)
        assert j_idx.tolist() == t_idx.tolist()
        _check(t_out, j_out, [tx], [jx], TOL[dtype])
    assert repr(jnn.AdaptiveAvgPool3d(size)) == repr(torch.nn.AdaptiveAvgPool3d(size))
    assert repr(jnn.AdaptiveMaxPool3d(size, True)) == repr(torch.nn.AdaptiveMaxPool3d(size, True))
    assert jnn.AdaptiveMaxPool3d(size, True)(jx)[1].tolist() == t_idx.tolist()


@needs_torch
def test_adaptive_pool3d_empty_output_and_batch():
    tx, jx = _rand((2, 3, 4, 4, 4), 24)
    for size in [(2, 0, 2), (0, 0, 0)]:
        assert list(JF.adaptive_avg_pool3d(jx, size).shape) == list(torch.nn.functional.adaptive_avg_pool3d(tx, size)
                                                                   .shape)
        out, idx = JF.adaptive_max_pool3d(jx, size, return_indices=True)
        assert list(out.shape) == list(idx.shape) == [2, 3] + list(size)
    tx, jx = torch.zeros(0, 2, 4, 4, 4), tj.zeros(0, 2, 4, 4, 4)
    for fn in ["max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]:
        assert list(getattr(JF, fn)(jx, 2).shape) == list(getattr(torch.nn.functional, fn)(tx, 2).shape)


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cfg", [dict(norm_type=2, kernel_size=2), dict(norm_type=3, kernel_size=(2, 3, 2),
                                                                      stride=(1, 2, 1), ceil_mode=True),
                                 dict(norm_type=1.5, kernel_size=2, stride=1), dict(norm_type=float("inf"),
                                                                                     kernel_size=2),
                                 dict(norm_type=-float("inf"), kernel_size=(1, 2, 2))], ids=lambda c: str(c))
def test_lp_pool3d_matches_torch(cfg, dtype):
    tx, jx = _rand((2, 3, 4, 5, 6), 26, dtype)
    tx = tx.detach().abs().requires_grad_()   # fractional powers of positives
    jx = _j(tx)
    _check(torch.nn.functional.lp_pool3d(tx, **cfg), JF.lp_pool3d(jx, **cfg), [tx], [jx], 1e-9 if dtype ==
           "float64" else 1e-4)
    mod_kw = dict(cfg)
    t_mod, j_mod = torch.nn.LPPool3d(**mod_kw), jnn.LPPool3d(**mod_kw)
    assert repr(j_mod) == repr(t_mod)
    _close(t_mod(tx), j_mod(jx), 1e-9 if dtype == "float64" else 1e-4)


@needs_torch
def test_pool3d_second_derivatives_match_torch():
    tx, jx = _rand((2, 2, 4, 5, 4), 27)
    fns = [lambda F, x: F.max_pool3d(x, 2, stride=1, padding=1),
           lambda F, x: F.avg_pool3d(x, 3, stride=2, padding=1, count_include_pad=False),
           lambda F, x: F.adaptive_avg_pool3d(x, (3, 2, 3)),
           lambda F, x: F.adaptive_max_pool3d(x, (2, 3, 2))]
    for fn in fns:
        (t_g,) = torch.autograd.grad(fn(torch.nn.functional, tx).pow(3).sum(), tx, create_graph=True)
        (j_g,) = tj.autograd.grad(fn(JF, jx).pow(3).sum(), jx, create_graph=True)
        _close(t_g, j_g, 1e-10)
        (t_gg,) = torch.autograd.grad(t_g.pow(2).sum(), tx)
        (j_gg,) = tj.autograd.grad(j_g.pow(2).sum(), jx)
        _close(t_gg, j_gg, 1e-9)


@needs_torch
def test_pool3d_grad_fn_names_match_torch():
    tx, jx = _rand((1, 2, 4, 4, 4), 28)
    for name, args in [("max_pool3d", (2,)), ("avg_pool3d", (2,)), ("adaptive_avg_pool3d", ((2, 2, 3),)),
                       ("adaptive_max_pool3d", (2,))]:
        t_name = getattr(torch.nn.functional, name)(tx, *args).grad_fn.name()
        assert type(getattr(JF, name)(jx, *args).grad_fn).__name__ == t_name


@needs_torch
@pytest.mark.parametrize("dtype", ["int64", "int8", "uint8", "float16", "bfloat16"])
def test_pool3d_other_dtypes_match_torch(dtype):
    g = torch.Generator().manual_seed(9)
    x = torch.randint(0, 100, (2, 2, 4, 5, 4), generator=g).to(getattr(torch, dtype))
    t_out, t_idx = torch.nn.functional.max_pool3d(x, 2, stride=1, return_indices=True)
    j_out, j_idx = JF.max_pool3d(_j(x), 2, stride=1, return_indices=True)
    assert j_out.dtype == getattr(tj, dtype) and j_out.tolist() == t_out.tolist()
    assert j_idx.tolist() == t_idx.tolist()
    if dtype == "int64":   # the only integer avg_pool3d takes: it truncates
        t_avg = torch.nn.functional.avg_pool3d(x, 3, stride=1, padding=1, count_include_pad=False)
        assert JF.avg_pool3d(_j(x), 3, stride=1, padding=1, count_include_pad=False).tolist() == t_avg.tolist()
    if dtype in ("float16", "bfloat16"):
        _close(torch.nn.functional.adaptive_avg_pool3d(x, 3), JF.adaptive_avg_pool3d(_j(x), 3), 1e-2)
        _close(torch.nn.functional.adaptive_max_pool3d(x, 3), JF.adaptive_max_pool3d(_j(x), 3), 0)


# ---- fractional max pooling ------------------------------------------------------------------------------------

FRACTIONAL = [
    (2, dict(kernel_size=2, output_size=(3, 4))),
    (2, dict(kernel_size=(2, 3), output_size=4)),
    (2, dict(kernel_size=(3, 1), output_ratio=(0.5, 0.7))),
    (3, dict(kernel_size=2, output_size=(2, 3, 4))),
    (3, dict(kernel_size=(1, 2, 3), output_size=3)),
    (3, dict(kernel_size=2, output_ratio=0.5)),
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("nd,cfg", FRACTIONAL, ids=lambda c: str(c))
def test_fractional_max_pool_given_samples_match_torch(nd, cfg, batched, dtype):
    shape = ((2,) if batched else ()) + (3,) + ((7, 9) if nd == 2 else (5, 6, 7))
    tx, jx = _rand(shape, 31, dtype)
    g = torch.Generator().manual_seed(32)
    samples = torch.rand((2 if batched else 1, 3, nd), generator=g, dtype=getattr(torch, dtype))
    t_fn = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    j_fn = getattr(JF, f"fractional_max_pool{nd}d")
    t_out, t_idx = t_fn(tx, return_indices=True, _random_samples=samples, **cfg)
    j_out, j_idx = j_fn(jx, return_indices=True, _random_samples=_j(samples), **cfg)
    assert j_idx.dtype == tj.int64 and j_idx.tolist() == t_idx.tolist()
    _check(t_out, j_out, [tx], [jx], 0)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("nd,cfg", FRACTIONAL, ids=lambda c: str(c))
def test_fractional_max_pool_seeded_draws_match_torch(nd, cfg, dtype):
    """The samples come from torch.rand(N, C, nd) in the input's dtype: the same seed, the same windows."""
    shape = (3, 2) + ((11, 13) if nd == 2 else (7, 8, 9))
    g = torch.Generator().manual_seed(33)
    x = torch.randint(-4, 5, shape, generator=g).to(getattr(torch, dtype))   # ties in most windows
    x[0, 0].view(-1)[3] = float("nan")
    x[1, 1].view(-1)[:4] = float("nan")
    t_fn = getattr(torch.nn.functional, f"fractional_max_pool{nd}d")
    j_fn = getattr(JF, f"fractional_max_pool{nd}d")
    for seed in (0, 1, 123):
        torch.manual_seed(seed)
        t_out, t_idx = t_fn(x, return_indices=True, **cfg)
        tj.manual_seed(seed)
        j_out, j_idx = j_fn(_j(x), return_indices=True, **cfg)
        assert j_idx.tolist() == t_idx.tolist()
        _close(t_out, j_out, 0)
        assert tj.rand(3).tolist() == torch.rand(3).tolist()     # the generator advanced alike


@needs_torch
def test_fractional_max_pool_modules_match_torch():
    tx, jx = _rand((2, 3, 6, 7, 8), 34)
    samples = torch.rand(2, 3, 3, dtype=torch.float64)
    t_mod = torch.nn.FractionalMaxPool3d((2, 2, 3), output_size=(3, 4, 3), return_indices=True,
                                         _random_samples=samples)
    j_mod = jnn.FractionalMaxPool3d((2, 2, 3), output_size=(3, 4, 3), return_indices=True,
                                    _random_samples=_j(samples))
    assert repr(j_mod) == repr(t_mod) == "FractionalMaxPool3d()"
    assert list(j_mod.state_dict()) == list(t_mod.state_dict()) == ["_random_samples"]
    (t_out, t_idx), (j_out, j_idx) = t_mod(tx), j_mod(jx)
    assert j_idx.tolist() == t_idx.tolist()
    _check(t_out, j_out, [tx], [jx], 0)
    t2, j2 = torch.nn.FractionalMaxPool2d(3, output_ratio=0.5), jnn.FractionalMaxPool2d(3, output_ratio=0.5)
    assert j2.output_ratio == t2.output_ratio and list(j2.state_dict()) == list(t2.state_dict()) == []
    torch.manual_seed(4)
    tj.manual_seed(4)
    _close(t2(tx[0]), j2(jx[0]), 0)
    # the indices unpool back to where the maxima were
    _close(torch.nn.functional.max_unpool3d(t_out, t_idx, (2, 2, 3), output_size=(6, 7, 8)),
           JF.max_unpool3d(j_out, j_idx, (2, 2, 3), output_size=(6, 7, 8)), 0)


@needs_torch
@pytest.mark.parametrize("cls,args", [
    ("FractionalMaxPool2d", (2,)), ("FractionalMaxPool2d", (2, 3, 0.5)), ("FractionalMaxPool2d", (2, None, 1.5)),
    ("FractionalMaxPool2d", (2, None, (0.5, 0.0))), ("FractionalMaxPool3d", (0, 2)), ("FractionalMaxPool3d", ((2, 0, 2), 2)),
    ("FractionalMaxPool3d", (2, None, (0.5, 0.5, 1.0))), ("FractionalMaxPool3d", (2,)),
])
def test_fractional_module_constructor_errors_match_torch(cls, args):
    with pytest.raises(ValueError) as te:
        getattr(torch.nn, cls)(*args)
    with pytest.raises(ValueError) as je:
        getattr(jnn, cls)(*args)
    assert str(je.value) == str(te.value)


# ---- errors ----------------------------------------------------------------------------------------------------

def _z(m, *shape, dtype="float32"):
    return m.zeros(*shape, dtype=getattr(m, dtype))


ERRORS = {
    # conv3d / conv_transpose3d
    "conv3d_4d_weight": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1)),
    "conv3d_input_dims": lambda m: m.nn.functional.conv3d(_z(m, 2, 3, 3), _z(m, 2, 2, 1, 1, 1)),
    "conv3d_stride_len": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), stride=(1, 2)),
    "conv3d_padding_len": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1),
                                                          padding=[1, 1]),
    "conv3d_channels": lambda m: m.nn.functional.conv3d(_z(m, 1, 3, 3, 3, 3), _z(m, 2, 2, 1, 1, 1)),
    "conv3d_groups": lambda m: m.nn.functional.conv3d(_z(m, 1, 4, 3, 3, 3), _z(m, 3, 2, 1, 1, 1), groups=2),
    "conv3d_groups0": lambda m: m.nn.functional.conv3d(_z(m, 1, 4, 3, 3, 3), _z(m, 3, 2, 1, 1, 1), groups=0),
    "conv3d_bias": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), _z(m, 3)),
    "conv3d_kernel_too_big": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 2, 5, 5), _z(m, 2, 2, 3, 1, 1)),
    "conv3d_dilation0": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), dilation=0),
    "conv3d_neg_padding": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), padding=-1),
    "conv3d_stride0": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), stride=0),
    "conv3d_same_strided": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1),
                                                           padding="same", stride=2),
    "conv3d_bad_padding_string": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1),
                                                                 padding="full"),
    "conv3d_weight_dtype": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1,
                                                                                     dtype="float64")),
    "conv3d_weight_dtype_double": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3, dtype="float64"),
                                                                  _z(m, 2, 2, 1, 1, 1)),
    "conv3d_bias_dtype": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1),
                                                         _z(m, 2, dtype="float64")),
    "conv3d_bool": lambda m: m.nn.functional.conv3d(_z(m, 1, 2, 3, 3, 3, dtype="bool"),
                                                   _z(m, 2, 2, 1, 1, 1, dtype="bool")),
    "conv_t3d_output_padding": lambda m: m.nn.functional.conv_transpose3d(
        _z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 2, 2, 2), stride=2, output_padding=(0, 2, 0)),
    "conv_t3d_too_small": lambda m: m.nn.functional.conv_transpose3d(_z(m, 1, 2, 1, 1, 1), _z(m, 2, 2, 1, 1, 1),
                                                                    padding=1),
    "conv_t3d_channels": lambda m: m.nn.functional.conv_transpose3d(_z(m, 1, 3, 3, 3, 3), _z(m, 2, 2, 1, 1, 1)),
    "conv_t3d_bias": lambda m: m.nn.functional.conv_transpose3d(_z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1),
                                                               _z(m, 3)),
    "conv_t3d_neg_output_padding": lambda m: m.nn.functional.conv_transpose3d(
        _z(m, 1, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), output_padding=-1),
    "conv_t3d_padding_string": lambda m: m.nn.functional.conv_transpose3d(_z(m, 1, 2, 3, 3, 3),
                                                                         _z(m, 2, 2, 1, 1, 1), padding="same"),
    "conv_t3d_int32": lambda m: m.nn.functional.conv_transpose3d(_z(m, 1, 2, 3, 3, 3, dtype="int32"),
                                                                _z(m, 2, 2, 1, 1, 1, dtype="int32")),
    "conv_t3d_groups": lambda m: m.nn.functional.conv_transpose3d(_z(m, 1, 3, 3, 3, 3), _z(m, 3, 2, 1, 1, 1),
                                                                 groups=2),
    # the same path runs 1-D and 2-D convolutions; a float32 batch > 1 takes PyTorch's oneDNN path and its wording
    "conv3d_onednn_weight_dtype": lambda m: m.nn.functional.conv3d(_z(m, 2, 2, 3, 3, 3),
                                                                  _z(m, 2, 2, 1, 1, 1, dtype="float64")),
    "conv3d_onednn_dilation0": lambda m: m.nn.functional.conv3d(_z(m, 2, 2, 3, 3, 3), _z(m, 2, 2, 2, 2, 2),
                                                               dilation=0),
    "conv_t3d_onednn_bias_dtype": lambda m: m.nn.functional.conv_transpose3d(
        _z(m, 2, 2, 3, 3, 3), _z(m, 2, 2, 1, 1, 1), _z(m, 2, dtype="float64")),
    "conv1d_kernel_too_big": lambda m: m.nn.functional.conv1d(_z(m, 1, 3, 2), _z(m, 4, 3, 3)),
    "conv1d_dilation0": lambda m: m.nn.functional.conv1d(_z(m, 1, 3, 6), _z(m, 4, 3, 3), dilation=0),
    "conv2d_onednn_dilation0": lambda m: m.nn.functional.conv2d(_z(m, 2, 3, 5, 6), _z(m, 4, 3, 3, 2), dilation=0),
    "conv2d_weight_dtype": lambda m: m.nn.functional.conv2d(_z(m, 1, 3, 5, 6), _z(m, 4, 3, 3, 2, dtype="float64")),
    "conv2d_bias_dtype_long": lambda m: m.nn.functional.conv2d(_z(m, 1, 3, 5, 6, dtype="int64"),
                                                              _z(m, 4, 3, 3, 2, dtype="int64"),
                                                              _z(m, 4, dtype="float64")),
    "conv_t1d_output_padding": lambda m: m.nn.functional.conv_transpose1d(_z(m, 1, 3, 4), _z(m, 3, 2, 1), stride=2,
                                                                         output_padding=2),
    "conv_t2d_int32": lambda m: m.nn.functional.conv_transpose2d(_z(m, 1, 3, 4, 4, dtype="int32"),
                                                                _z(m, 3, 2, 2, 2, dtype="int32")),
    # max_pool3d
    "max_pool3d_dims": lambda m: m.nn.functional.max_pool3d(_z(m, 3, 4, 5), 2),
    "max_pool3d_kernel_len": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), (2, 2)),
    "max_pool3d_stride_len": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, (2, 2)),
    "max_pool3d_padding_len": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 2, (1, 1)),
    "max_pool3d_dilation_len": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 2, 0, (1, 1)),
    "max_pool3d_pad_big": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 2, 2),
    "max_pool3d_pad_half_kernel": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 1, 9, 9, 9), 3, 1, 2, 2),
    "max_pool3d_kernel0": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 0),
    "max_pool3d_stride0": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 0),
    "max_pool3d_dilation0": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 1, 0, 0),
    "max_pool3d_neg_pad": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 1, -1),
    "max_pool3d_too_small": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 1, 1, 5, 5), 2),
    "max_pool3d_empty_channels": lambda m: m.nn.functional.max_pool3d(_z(m, 2, 0, 4, 4, 4), 2),
    "max_pool3d_unbatched_empty": lambda m: m.nn.functional.max_pool3d(_z(m, 0, 4, 4, 4), 2),
    "max_pool3d_bool": lambda m: m.nn.functional.max_pool3d(_z(m, 1, 2, 4, 4, 4, dtype="bool"), 2),
    # avg_pool3d
    "avg_pool3d_dims": lambda m: m.nn.functional.avg_pool3d(_z(m, 3, 4, 5), 2),
    "avg_pool3d_kernel_len": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4), (2, 2)),
    "avg_pool3d_stride_len": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4), 2, (1, 1)),
    "avg_pool3d_padding_len": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 2, (1, 1)),
    "avg_pool3d_divisor0": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4), 2, divisor_override=0),
    "avg_pool3d_pad_big": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4), 2, 2, 2),
    "avg_pool3d_smaller_than_kernel": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 1, 2, 5, 5), 3, padding=1),
    "avg_pool3d_empty_depth": lambda m: m.nn.functional.avg_pool3d(_z(m, 2, 2, 0, 4, 4), 2),
    "avg_pool3d_int32": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4, dtype="int32"), 2),
    "avg_pool3d_half": lambda m: m.nn.functional.avg_pool3d(_z(m, 1, 2, 4, 4, 4, dtype="float16"), 2),
    # adaptive pooling
    "adaptive_avg_pool3d_dims": lambda m: m.nn.functional.adaptive_avg_pool3d(_z(m, 3, 4, 5), 2),
    "adaptive_avg_pool3d_size_len": lambda m: m.nn.functional.adaptive_avg_pool3d(_z(m, 1, 2, 4, 4, 4), (2, 2)),
    "adaptive_avg_pool3d_negative": lambda m: m.nn.functional.adaptive_avg_pool3d(_z(m, 1, 2, 4, 4, 4), (2, -1, 2)),
    "adaptive_avg_pool3d_empty": lambda m: m.nn.functional.adaptive_avg_pool3d(_z(m, 2, 2, 0, 4, 4), 2),
    "adaptive_avg_pool3d_long": lambda m: m.nn.functional.adaptive_avg_pool3d(_z(m, 1, 2, 4, 4, 4, dtype="int64"),
                                                                             2),
    "adaptive_avg_pool3d_too_long": lambda m: m.nn.functional.adaptive_avg_pool3d(_z(m, 1, 2, 4, 4, 4),
                                                                                 (2, 2, 2, 2, 2)),
    "adaptive_max_pool3d_dims": lambda m: m.nn.functional.adaptive_max_pool3d(_z(m, 3, 4, 5), 2),
    "adaptive_max_pool3d_size_len": lambda m: m.nn.functional.adaptive_max_pool3d(_z(m, 1, 2, 4, 4, 4), (2, 2)),
    "adaptive_max_pool3d_negative": lambda m: m.nn.functional.adaptive_max_pool3d(_z(m, 1, 2, 4, 4, 4), (2, -1, 2)),
    "adaptive_max_pool3d_empty": lambda m: m.nn.functional.adaptive_max_pool3d(_z(m, 2, 0, 4, 4, 4), 2),
    "adaptive_max_pool3d_long": lambda m: m.nn.functional.adaptive_max_pool3d(_z(m, 1, 2, 4, 4, 4, dtype="int64"),
                                                                             2),
    # fractional max pooling
    "fmp2d_no_size": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5), 2),
    "fmp2d_ratio_len": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5), 2,
                                                                      output_ratio=(0.5, 0.5, 0.5)),
    "fmp2d_ratio_float": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5), 2, output_ratio=0.5),
    "fmp2d_dims": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 1, 2, 5, 5), 2, output_size=2),
    "fmp2d_too_few_dims": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 5, 5), 2, output_size=2),
    "fmp2d_kernel_len": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5), (2, 2, 2),
                                                                       output_size=2),
    "fmp2d_size_len": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5), 2, output_size=(2,)),
    "fmp2d_too_large": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 6), 3, output_size=4),
    "fmp2d_too_large_width": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 6), 2,
                                                                            output_size=(2, 6)),
    "fmp2d_empty": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 2, 0, 5, 5), 2, output_size=2),
    "fmp2d_negative_size": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5), 2, output_size=-1),
    "fmp2d_samples_dtype": lambda m: m.nn.functional.fractional_max_pool2d(
        _z(m, 1, 2, 5, 5), 2, output_size=2, _random_samples=_z(m, 1, 2, 2, dtype="float64")),
    "fmp2d_samples_dims": lambda m: m.nn.functional.fractional_max_pool2d(
        _z(m, 1, 2, 5, 5), 2, output_size=2, _random_samples=_z(m, 2, 2)),
    "fmp2d_samples_batch": lambda m: m.nn.functional.fractional_max_pool2d(
        _z(m, 3, 2, 5, 5), 2, output_size=2, _random_samples=_z(m, 2, 2, 2)),
    "fmp2d_samples_channels": lambda m: m.nn.functional.fractional_max_pool2d(
        _z(m, 2, 5, 5), 2, output_size=2, _random_samples=_z(m, 1, 3, 2)),
    "fmp2d_samples_last": lambda m: m.nn.functional.fractional_max_pool2d(
        _z(m, 1, 2, 5, 5), 2, output_size=2, _random_samples=_z(m, 1, 2, 3)),
    "fmp2d_long": lambda m: m.nn.functional.fractional_max_pool2d(_z(m, 1, 2, 5, 5, dtype="int64"), 2,
                                                                 output_size=2),
    "fmp2d_long_samples": lambda m: m.nn.functional.fractional_max_pool2d(
        _z(m, 1, 2, 5, 5, dtype="int64"), 2, output_size=2, _random_samples=_z(m, 1, 2, 2, dtype="int64")),
    "fmp3d_dims": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 2, 5, 5), 2, output_size=2),
    "fmp3d_kernel_len": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 1, 2, 4, 5, 6), (2, 2),
                                                                       output_size=2),
    "fmp3d_too_large_time": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 1, 2, 4, 5, 6), 2,
                                                                           output_size=(3, 2, 2)),
    "fmp3d_too_large_width": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 1, 2, 4, 5, 6), 2,
                                                                            output_size=(2, 4, 5)),
    "fmp3d_too_large_height": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 1, 2, 4, 5, 6), 2,
                                                                             output_size=(2, 4, 2)),
    "fmp3d_samples_last": lambda m: m.nn.functional.fractional_max_pool3d(
        _z(m, 1, 2, 4, 5, 6), 2, output_size=2, _random_samples=_z(m, 1, 2, 2)),
    "fmp3d_empty": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 2, 0, 4, 4, 4), 2, output_size=2),
    "fmp3d_ratio_short": lambda m: m.nn.functional.fractional_max_pool3d(_z(m, 1, 2, 4, 5, 6), 2,
                                                                        output_ratio=(0.5, 0.5)),
}


@needs_torch
@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    with pytest.raises(Exception) as te:
        ERRORS[name](torch)
    with pytest.raises(Exception) as je:
        ERRORS[name](tj)
    assert type(je.value) is type(te.value), (type(je.value), je.value, te.value)
    assert str(je.value) == str(te.value)


# ---- torch-free checks (these also run in Pyodide) -------------------------------------------------------------

def test_conv_transpose3d_is_the_adjoint_of_conv3d():
    """<conv3d(x, w), y> == <x, conv_transpose3d(y, w)> for the same geometry."""
    tj.manual_seed(0)
    x, w = tj.randn(2, 4, 5, 6, 5, dtype=tj.float64), tj.randn(6, 2, 3, 2, 2, dtype=tj.float64)
    kw = dict(stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1), groups=2)
    y = tj.randn(*JF.conv3d(x, w, **kw).shape, dtype=tj.float64)
    lhs = (JF.conv3d(x, w, **kw) * y).sum().item()
    back = JF.conv_transpose3d(y, w, output_padding=(0, 0, 1), **kw)
    rhs = (x * back).sum().item()
    assert back.shape[2:] == (5, 6, 5) and lhs == pytest.approx(rhs, rel=1e-12)


def test_conv3d_counts_window_overlaps():
    x = tj.ones(1, 1, 2, 3, 2, dtype=tj.float64, requires_grad=True)
    y = JF.conv3d(x, tj.ones(1, 1, 2, 2, 2, dtype=tj.float64), padding=(0, 1, 0))
    assert y.flatten().tolist() == [4.0, 8.0, 8.0, 4.0]   # rows -1..2 of 3, each window 2 wide in depth and width
    y.sum().backward()
    assert x.grad[0, 0, 0].tolist() == [[2.0, 2.0], [2.0, 2.0], [2.0, 2.0]]


def test_pool3d_on_an_increasing_volume():
    x = tj.arange(64, dtype=tj.float64).reshape(1, 1, 4, 4, 4)
    out, idx = JF.max_pool3d(x, 2, return_indices=True)
    assert idx.tolist() == out.to(tj.int64).tolist() == [[[[[21, 23], [29, 31]], [[53, 55], [61, 63]]]]]
    assert JF.avg_pool3d(x, 2).flatten().tolist() == [10.5, 12.5, 18.5, 20.5, 42.5, 44.5, 50.5, 52.5]
    assert JF.adaptive_max_pool3d(x, 1).item() == 63.0
    # fractional windows for sample 0.5 on 4 -> 2 with K = 2: α = 2, starts int(0.5·2) − int(0.5·2) = 0 and 4 − 2
    frac, fidx = JF.fractional_max_pool3d(x, 2, output_size=2, return_indices=True,
                                          _random_samples=tj.full((1, 1, 3), 0.5, dtype=tj.float64))
    assert fidx.tolist() == idx.tolist() and frac.tolist() == out.tolist()
