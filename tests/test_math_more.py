"""The math ops of issue 15 against live torch: lgamma/digamma/polygamma/mvlgamma/erfinv/i0/logit/igamma/igammac
(values, int inputs, out=, in place, gradients, node names, errors; torch.special's names are the same ops),
gcd/lcm/ldexp/frexp/nextafter/isreal (bit for bit), float_power/sinc/heaviside/hypot/xlogy fixes, the window
functions and torch.signal.windows, stft/istft (values, gradients, messages), and the samplers cauchy_/geometric_/
log_normal_/poisson/binomial (PyTorch's draws bit for bit under manual_seed). Torch-free identities and moment checks
run everywhere (Pyodide too)."""
import math
import random
import warnings

import pytest

import torch_js as tj
from optional_torch import needs_torch, torch

FLOATS = ["float64", "float32"]


def _t(values, dtype="float64", requires_grad=False):
    return torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)


def _j(values, dtype="float64", requires_grad=False):
    return tj.tensor(values, dtype=getattr(tj, dtype), requires_grad=requires_grad)


def _close(got, want, rtol, atol=0.0):
    assert list(got.shape) == list(want.shape)
    got, want = got.reshape(-1).tolist(), want.reshape(-1).tolist()
    assert got == pytest.approx(want, rel=rtol, abs=atol, nan_ok=True)


def _same_bits(got, want):
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert repr(got.tolist()) == repr(want.tolist())


def _raises_like(fn_torch, fn_js):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as expected:
        fn_torch()
    with pytest.raises(type(expected.value)) as got:
        fn_js()
    assert str(got.value) == str(expected.value)


# ---- special functions --------------------------------------------------------------------------------------------

GRID = [-3.7, -2.5, -0.5, 0.001, 0.3, 0.5, 1.0, 1.5, 2.0, 3.25, 7.5, 10.0, 33.3, 150.0]
UNIT = [-0.999, -0.7, -0.3, 0.0, 0.2, 0.55, 0.9, 0.9999]
PROB = [0.0, 1e-6, 0.05, 0.3, 0.5, 0.75, 0.999, 1.0]
UNARY = {   # name: (call, grid, float64 rtol)
    "lgamma": (lambda m, x: m.lgamma(x), GRID, 1e-14),
    "digamma": (lambda m, x: m.digamma(x), GRID, 1e-12),
    "polygamma1": (lambda m, x: m.polygamma(1, x), GRID, 1e-8),
    "polygamma3": (lambda m, x: m.polygamma(3, x), GRID, 1e-10),
    "mvlgamma3": (lambda m, x: m.mvlgamma(x, 3), [1.01, 1.5, 2.0, 4.5, 30.0], 1e-13),
    "erfinv": (lambda m, x: m.erfinv(x), UNIT, 1e-14),
    "i0": (lambda m, x: m.i0(x), GRID[:-1], 1e-13),
    "logit": (lambda m, x: m.logit(x), PROB, 1e-14),
    "logit_eps": (lambda m, x: m.logit(x, 0.01), PROB, 1e-14),
}


@needs_torch
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_special_values_and_gradients_match_torch(name, dtype):
    call, grid, rtol = UNARY[name]
    tx, jx = _t(grid, dtype, True), _j(grid, dtype, True)
    ty, jy = call(torch, tx), call(tj, jx)
    _close(jy, ty, rtol if dtype == "float64" else 2e-6, 1e-300 if dtype == "float64" else 1e-6)
    assert jy.dtype == getattr(tj, dtype) and type(jy.grad_fn).__name__ == type(ty.grad_fn).__name__
    if dtype == "float64":
        tg, = torch.autograd.grad(ty.sum(), tx)
        jg, = tj.autograd.grad(jy.sum(), jx)
        _close(jg, tg, 1e-7, 1e-12)


@needs_torch
def test_special_int_inputs_out_inplace_and_special_names():
    ints = [1, 2, 3, 7]
    for name in ("lgamma", "digamma", "erfinv", "i0", "logit"):
        _close(getattr(tj, name)(tj.tensor(ints)), getattr(torch, name)(torch.tensor(ints)), 1e-6)
        out = tj.empty(0, dtype=tj.float64)
        getattr(tj, name)(_j([0.25, 0.5]), out=out)
        _close(out, getattr(torch, name)(_t([0.25, 0.5])), 1e-14)
        x = _j([0.25, 0.5])
        assert getattr(x, name + "_")() is x
        _close(x, getattr(torch, name)(_t([0.25, 0.5])), 1e-14)
        _raises_like(lambda: getattr(torch.tensor(ints), name + "_")(), lambda: getattr(tj.tensor(ints), name + "_")())
    x = _j([1.5, 2.5])
    _close(x.polygamma(2), torch.polygamma(2, _t([1.5, 2.5])), 1e-12)
    x.polygamma_(2)
    _close(x, torch.polygamma(2, _t([1.5, 2.5])), 1e-12)
    _close(_j([2.5]).mvlgamma_(2), torch.mvlgamma(_t([2.5]), 2), 1e-14)
    a, b = [0.5, 2.0, 7.0, 30.0], [0.1, 2.5, 3.0, 45.0]
    for name, special in (("igamma", "gammainc"), ("igammac", "gammaincc")):
        want = getattr(torch, name)(_t(a), _t(b))
        _close(getattr(tj, name)(_j(a), _j(b)), want, 1e-12)
        _close(getattr(tj.special, special)(_j(a), _j(b)), want, 1e-12)
        _close(getattr(_j(a), name + "_")(_j(b)), want, 1e-12)
        mixed = getattr(tj, name)(_j(a, "float32"), _j(b))
        assert mixed.dtype == tj.float64
    x = _j(GRID)
    for special, op in (("gammaln", tj.lgamma), ("psi", tj.digamma), ("digamma", tj.digamma), ("i0", tj.i0),
                        ("erfinv", tj.erfinv), ("logit", tj.logit)):
        assert repr(getattr(tj.special, special)(x).tolist()) == repr(op(x).tolist())
    assert tj.special.multigammaln(_j([3.5]), 2).tolist() == tj.mvlgamma(_j([3.5]), 2).tolist()


@needs_torch
def test_special_errors_match_torch():
    c = [1j]
    cases = [lambda m: m.lgamma(m.tensor(c)), lambda m: m.digamma(m.tensor(c)), lambda m: m.erfinv(m.tensor(c)),
             lambda m: m.polygamma(-1, m.tensor([1.0])), lambda m: m.polygamma(2, m.tensor(c)),
             lambda m: m.mvlgamma(m.tensor([True]), 1), lambda m: m.mvlgamma(m.tensor([2.0]), 0),
             lambda m: m.igamma(m.tensor([1, 2]), m.tensor([1, 2])), lambda m: m.igamma(m.tensor([1.0]), 2.0),
             lambda m: m.lgamma(2.0), lambda m: m.lgamma(m.tensor([1.0]), out=m.empty(1, dtype=m.int64)),
             lambda m: m.logit(m.tensor(c))]
    for case in cases:
        _raises_like(lambda: case(torch), lambda: case(tj))
    a = _j([1.5], requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'igamma: input' is not implemented."):
        tj.igamma(a, _j([2.0])).sum().backward()


def test_special_identities():
    n = tj.arange(1, 20, dtype=tj.float64)
    assert tj.lgamma(n).tolist() == pytest.approx([math.lgamma(k) for k in range(1, 20)], rel=1e-15, abs=1e-15)
    assert tj.digamma(_j([1.0])).item() == pytest.approx(-0.5772156649015329, rel=1e-15)
    x = _j([-0.9, -0.2, 0.0, 0.4, 0.95])
    assert tj.erfinv(tj.erf(x)).tolist() == pytest.approx(x.tolist(), abs=1e-14)
    assert (tj.igamma(_j([2.5]), _j([1.5])) + tj.igammac(_j([2.5]), _j([1.5]))).item() == pytest.approx(1.0)
    assert tj.mvlgamma(_j([4.0]), 1).item() == pytest.approx(math.log(6.0))


# ---- number functions ---------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_gcd_lcm_match_torch_bitwise(dtype):
    rnd = random.Random(dtype)
    lo, hi = (0, 255) if dtype == "uint8" else (-(1 << (torch.iinfo(getattr(torch, dtype)).bits - 1)),
                                                 torch.iinfo(getattr(torch, dtype)).max)
    a = [rnd.randint(max(lo, -10 ** 6), min(hi, 10 ** 6)) for _ in range(60)] + [0, 0, lo, hi, 7]
    b = [rnd.randint(max(lo, -10 ** 4), min(hi, 10 ** 4)) for _ in range(60)] + [0, 5, 0, 1, -7 if lo else 7]
    for name in ("gcd", "lcm"):
        _same_bits(getattr(tj, name)(_j(a, dtype), _j(b, dtype)), getattr(torch, name)(_t(a, dtype), _t(b, dtype)))
    _same_bits(_j(a, dtype).gcd_(_j(b, dtype)), torch.gcd(_t(a, dtype), _t(b, dtype)))


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_float_format_functions_match_torch_bitwise(dtype):
    rnd = random.Random(dtype)
    vals = [0.0, -0.0, 1.0, -1.5, 3.0, 5e-324, 1e-310, 2.0 ** -149, 3e-39, 1.7e308, 1e38, math.inf, -math.inf,
            math.nan, 0.1, 65504.0] + [math.ldexp(rnd.random() - 0.5, rnd.randint(-1080, 1023)) for _ in range(80)]
    tx, jx = _t(vals, dtype), _j(vals, dtype)
    (tm, te), (jm, je) = torch.frexp(tx), tj.frexp(jx)
    _same_bits(jm, tm)
    _same_bits(je, te)
    for exps in ([rnd.randint(-1200, 1200) for _ in vals], [2 ** 40, -2 ** 40, 2 ** 31 + 3, -2 ** 31 - 3] * 24):
        _same_bits(tj.ldexp(jx, tj.tensor(exps)), torch.ldexp(tx, torch.tensor(exps)))
    _same_bits(tj.ldexp(jx, _j([1.5] * len(vals), dtype)), torch.ldexp(tx, _t([1.5] * len(vals), dtype)))
    other = [rnd.choice([0.0, -0.0, math.inf, -math.inf, 1.0, v, -v, math.nan]) for v in vals]
    _same_bits(tj.nextafter(jx, _j(other, dtype)), torch.nextafter(tx, _t(other, dtype)))


@needs_torch
def test_number_functions_api_gradients_and_errors():
    x = _j([1.5, -6.0, 0.0])
    m, e = tj.frexp(x)
    assert m.tolist() == tj.frexp(x).mantissa.tolist() == [0.75, -0.75, 0.0] and e.tolist() == [1, 3, 0]
    assert e.dtype == tj.int32
    assert repr(tj.frexp(x)).startswith("torch.return_types.frexp(")
    outs = (tj.empty(0), tj.empty(0, dtype=tj.int32))
    assert tj.frexp(_j([3.0], "float32"), out=outs)[0] is outs[0] and outs[1].tolist() == [2]
    tx, jx = _t([1.5, 2.0], requires_grad=True), _j([1.5, 2.0], requires_grad=True)
    te, je = _t([1.0, 3.0], requires_grad=True), _j([1.0, 3.0], requires_grad=True)
    for call in (lambda m, a, b: m.ldexp(a, b), lambda m, a, b: m.ldexp(a, b.long()),
                 lambda m, a, b: m.frexp(a).mantissa, lambda m, a, b: m.nextafter(a, b)):
        ty, jy = call(torch, tx, te.detach()), call(tj, jx, je.detach())
        assert type(jy.grad_fn).__name__ == type(ty.grad_fn).__name__
        _close(tj.autograd.grad(jy.sum(), jx)[0], torch.autograd.grad(ty.sum(), tx)[0], 1e-15)
    tz, jz = torch.ldexp(tx, te), tj.ldexp(jx, je)
    _close(tj.autograd.grad(jz.sum(), je)[0], torch.autograd.grad(tz.sum(), te)[0], 1e-15)
    assert tj.isreal(tj.tensor([1 + 0j, 1 + 1j])).tolist() == [True, False] and tj.isreal(x).all().item()
    assert _j([2.0]).ldexp_(tj.tensor([3])).tolist() == [16.0]
    cases = [lambda m: m.gcd(m.tensor([1.0]), m.tensor([2.0])), lambda m: m.gcd(m.tensor([True]), m.tensor([True])),
             lambda m: m.gcd(m.tensor([4]), 2), lambda m: m.frexp(m.tensor([1, 2])),
             lambda m: m.frexp(m.tensor([1.0]), out=(m.empty(0), m.empty(0, dtype=m.int64))),
             lambda m: m.frexp(m.tensor([1.0]), out=(m.empty(0, dtype=m.float64), m.empty(0, dtype=m.int32))),
             lambda m: m.tensor([3]).ldexp_(m.tensor([2])), lambda m: m.nextafter(m.tensor([1]), m.tensor([2])),
             lambda m: m.nextafter(m.tensor([1.0]), 2.0), lambda m: m.ldexp(m.tensor([1.0]), 2)]
    for case in cases:
        _raises_like(lambda: case(torch), lambda: case(tj))


@needs_torch
def test_pointwise_fixes_match_torch():
    z = [0j, 1 + 1j, 2 + 0j, -0.5 + 2j]
    _close(tj.view_as_real(tj.sinc(tj.tensor(z))), torch.view_as_real(torch.sinc(torch.tensor(z))), 1e-6)
    assert tj.float_power(tj.tensor([1 + 1j]), 2).dtype == tj.complex128
    assert tj.float_power(_j([2.0]), 2j).dtype == tj.complex128
    _close(tj.xlogy(2, _j([1.5, 0.0, 3.0])), torch.xlogy(2, _t([1.5, 0.0, 3.0])), 1e-15)
    cases = [lambda m: m.hypot(m.tensor([3]), m.tensor([4])), lambda m: m.hypot(m.tensor([True]), m.tensor([True])),
             lambda m: m.heaviside(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)),
             lambda m: m.heaviside(m.tensor([1j]), m.tensor([1j])),
             lambda m: m.float_power(m.tensor([2.0]), m.tensor([2.0]), out=m.empty(1, dtype=m.complex128)),
             lambda m: m.heaviside(m.tensor([1.0], requires_grad=True), m.tensor([1.0])).sum().backward()]
    for case in cases:
        _raises_like(lambda: case(torch), lambda: case(tj))
    assert tj.hypot(tj.tensor([3]), _j([4.0])).tolist() == [5.0]


# ---- windows ------------------------------------------------------------------------------------------------------

WINDOW_TOL = {"float64": 1e-13, "float32": 2e-6, "float16": 3e-3, "bfloat16": 2e-2}


@needs_torch
@pytest.mark.parametrize("dtype", sorted(WINDOW_TOL))
@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_window_functions_match_torch(name, dtype):
    for n in (0, 1, 2, 3, 8, 17, 64):
        for periodic in (True, False):
            want = getattr(torch, name)(n, periodic, dtype=getattr(torch, dtype))
            got = getattr(tj, name)(n, periodic, dtype=getattr(tj, dtype))
            assert got.dtype == getattr(tj, dtype) and list(got.shape) == list(want.shape)
            _close(got.double(), want.double(), 0, WINDOW_TOL[dtype])
    _close(tj.hamming_window(9, False, 0.6, 0.3), torch.hamming_window(9, False, 0.6, 0.3), 1e-6)
    _close(tj.kaiser_window(9, True, 3.5), torch.kaiser_window(9, True, 3.5), 3e-6)
    assert tj.hann_window(4, requires_grad=True).requires_grad
    for case in (lambda m: m.hann_window(-1), lambda m: m.hann_window(5, dtype=m.int64),
                 lambda m: m.blackman_window(5.0), lambda m: m.kaiser_window(5, dtype=m.complex64)):
        _raises_like(lambda: case(torch), lambda: case(tj))


@needs_torch
@pytest.mark.parametrize("name", ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine",
                                  "general_hamming", "hamming", "hann", "kaiser", "nuttall"])
def test_signal_windows_match_torch(name):
    kw = {"a": [0.5, 0.3, 0.2]} if name == "general_cosine" else {}
    for dtype in FLOATS:
        for n in (0, 1, 2, 5, 16, 33):
            for sym in (True, False):
                want = getattr(torch.signal.windows, name)(n, sym=sym, dtype=getattr(torch, dtype), **kw)
                got = getattr(tj.signal.windows, name)(n, sym=sym, dtype=getattr(tj, dtype), **kw)
                _close(got, want, 0, 1e-14 if dtype == "float64" else 1e-6)
    want = getattr(torch.signal.windows, name)(6, requires_grad=True, **kw)
    got = getattr(tj.signal.windows, name)(6, requires_grad=True, **kw)
    assert got.requires_grad == want.requires_grad
    for case in (lambda m: getattr(m.signal.windows, name)(-1, **kw),
                 lambda m: getattr(m.signal.windows, name)(5, dtype=m.float16, **kw)):
        _raises_like(lambda: case(torch), lambda: case(tj))


def test_window_identities():
    assert tj.hann_window(16).sum().item() == pytest.approx(8.0, abs=1e-5)   # periodic hann: constant overlap-add
    w = tj.hann_window(9, periodic=False, dtype=tj.float64)
    assert w.tolist() == pytest.approx(w.flip(0).tolist()) and w[4].item() == 1.0
    assert tj.signal.windows.hann(9, dtype=tj.float64).tolist() == pytest.approx(w.tolist(), abs=1e-15)
    assert tj.kaiser_window(7, False, 0.0).tolist() == pytest.approx([1.0] * 7)


# ---- stft / istft -------------------------------------------------------------------------------------------------

STFT_CASES = [   # n_fft, hop, win, window, center, pad_mode, normalized, onesided
    (8, None, None, None, True, "reflect", False, None), (16, 4, 12, "hann", True, "constant", True, None),
    (10, 3, 7, "hamming", False, "reflect", False, False), (9, 2, None, "hann", True, "replicate", False, True),
    (16, 16, 16, "ones", False, "reflect", True, None)]


def _stft_window(m, kind, n, dtype):
    if kind is None:
        return None
    return m.ones(n, dtype=dtype) if kind == "ones" else getattr(m, kind + "_window")(n, dtype=dtype)


@needs_torch
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", range(len(STFT_CASES)))
def test_stft_istft_match_torch(case, dtype):
    n_fft, hop, win, wkind, center, pad_mode, normalized, onesided = STFT_CASES[case]
    vals = torch.randn(2, 45, generator=torch.Generator().manual_seed(case), dtype=torch.float64).tolist()
    tx, jx = _t(vals, dtype, True), _j(vals, dtype, True)
    tw, jw = (_stft_window(m, wkind, win or n_fft, getattr(m, dtype)) for m in (torch, tj))
    kw = dict(hop_length=hop, win_length=win, center=center, pad_mode=pad_mode, normalized=normalized,
              onesided=onesided, return_complex=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, js = torch.stft(tx, n_fft, window=tw, **kw), tj.stft(jx, n_fft, window=jw, **kw)
        tol = 1e-12 if dtype == "float64" else 3e-5
        assert js.dtype == (tj.complex128 if dtype == "float64" else tj.complex64)
        _close(tj.view_as_real(js), torch.view_as_real(ts), tol, tol)
        if dtype == "float64":
            _close(tj.autograd.grad(js.abs().sum(), jx)[0], torch.autograd.grad(ts.abs().sum(), tx)[0], 1e-9, 1e-12)
        if center and wkind is not None:
            ikw = dict(hop_length=hop, win_length=win, center=center, normalized=normalized, onesided=onesided)
            ti, ji = torch.istft(ts, n_fft, window=tw, length=45, **ikw), tj.istft(js, n_fft, window=jw, length=45, **ikw)
            _close(ji, ti, tol, tol)
    assert tj.arange(20.0).stft(8, window=tj.ones(8), return_complex=True).shape == (5, 11)


@needs_torch
def test_stft_istft_errors_and_warnings_match_torch():
    x = list(range(20))
    cases = [lambda m: m.stft(m.tensor(x, dtype=m.float32), 8),
             lambda m: m.stft(m.tensor(x), 8, return_complex=True),
             lambda m: m.stft(m.tensor(x, dtype=m.float32).view(1, 1, 20), 8, return_complex=True),
             lambda m: m.stft(m.tensor(x, dtype=m.float32), 8, hop_length=0, return_complex=True),
             lambda m: m.stft(m.tensor(x, dtype=m.float32), 8, window=m.ones(5), return_complex=True),
             lambda m: m.stft(m.tensor(x, dtype=m.float32), 8, align_to_window=True, return_complex=True),
             lambda m: m.stft(m.tensor(x, dtype=m.complex64), 8, return_complex=True, onesided=True),
             lambda m: m.istft(m.ones(5, 11), 8),
             lambda m: m.istft(m.ones(5, 11, dtype=m.complex64), 8, window=m.ones(3)),
             lambda m: m.istft(m.ones(5, 11, dtype=m.complex64), 6),
             lambda m: m.istft(m.ones(5, 11, dtype=m.complex64), 8, window=m.zeros(8))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case in cases:
            _raises_like(lambda: case(torch), lambda: case(tj))
    with pytest.warns(UserWarning, match="A window was not provided"):
        tj.stft(tj.arange(20.0), 8, return_complex=True)
    got = tj.stft(tj.arange(24.0), 8, hop_length=4, win_length=4, center=False, align_to_window=True,
                  return_complex=True, window=tj.ones(4))
    want = torch.stft(torch.arange(24.0), 8, hop_length=4, win_length=4, center=False, align_to_window=True,
                      return_complex=True, window=torch.ones(4))
    _close(tj.view_as_real(got), torch.view_as_real(want), 1e-6, 1e-5)


def test_istft_inverts_stft():
    x = tj.randn(3, 200, generator=tj.Generator().manual_seed(3), dtype=tj.float64)
    w = tj.hann_window(32, dtype=tj.float64)
    spec = tj.stft(x, 32, hop_length=8, window=w, return_complex=True)
    assert spec.shape == (3, 17, 26)
    back = tj.istft(spec, 32, hop_length=8, window=w, length=200)
    assert back.reshape(-1).tolist() == pytest.approx(x.reshape(-1).tolist(), abs=1e-12)
    full = tj.stft(x[0], 32, hop_length=8, window=w, onesided=False, return_complex=True)
    back = tj.istft(full, 32, hop_length=8, window=w, onesided=False, return_complex=True, length=200)
    assert tj.view_as_real(back)[:, 0].tolist() == pytest.approx(x[0].tolist(), abs=1e-12)
    energy = (tj.stft(x[0], 32, hop_length=32, window=tj.ones(32, dtype=tj.float64), center=False,
                      onesided=False, normalized=True, return_complex=True).abs() ** 2).sum().item()
    assert energy == pytest.approx((x[0, :192] ** 2).sum().item(), rel=1e-12)   # Parseval, frame by frame


# ---- samplers -----------------------------------------------------------------------------------------------------

SAMPLERS = {
    "cauchy": lambda m, d: m.empty(5, 7, dtype=d).t().cauchy_(0.3, 2.5),
    "log_normal": lambda m, d: m.empty(33, dtype=d).log_normal_(0.5, 0.75),
    "geometric": lambda m, d: m.empty(40, dtype=d).geometric_(0.2),
    "poisson": lambda m, d: m.poisson(m.tensor([0.0, 0.5, 3.0, 9.99, 10.0, 25.0, 1000.0, 1e6] * 6, dtype=d)),
    "binomial": lambda m, d: m.binomial(m.tensor([0.0, 1, 5, 10, 20, 100, 1000, 12345] * 6, dtype=d),
                                        m.tensor([0.5, 1.0, 0.05, 0.95, 0.5, 0.3, 0.999, 0.01] * 6, dtype=d)),
}


@needs_torch
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_samplers_draw_torchs_values(name, dtype):
    if name == "binomial" and dtype == "float16":
        dtype = "float32"     # PyTorch's binomial has no half kernel
    torch.manual_seed(11)
    tj.manual_seed(11)
    _same_bits(SAMPLERS[name](tj, getattr(tj, dtype)), SAMPLERS[name](torch, getattr(torch, dtype)))
    _same_bits(tj.randn(3, dtype=tj.float64), torch.randn(3, dtype=torch.float64))   # the stream and normal cache
    assert tj.get_rng_state().tolist() == torch.get_rng_state().tolist()
    g, tg = tj.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    _same_bits(tj.poisson(tj.full((9,), 12.5), generator=g), torch.poisson(torch.full((9,), 12.5), generator=tg))
    _same_bits(tj.empty(6, dtype=tj.int64).geometric_(0.3, generator=g),
               torch.empty(6, dtype=torch.int64).geometric_(0.3, generator=tg))


@needs_torch
def test_sampler_errors_and_gradients_match_torch():
    cases = [lambda m: m.poisson(m.tensor([1, 2])), lambda m: m.poisson(m.tensor([1.0, -2.0])),
             lambda m: m.binomial(m.tensor([10.0]), m.tensor([0.5], dtype=m.float64)),
             lambda m: m.binomial(m.tensor([10, 20]), m.tensor([5, 2])), lambda m: m.binomial(m.tensor([1.0]), 0.5),
             lambda m: m.binomial(m.tensor([10.5]).half(), m.tensor([0.5]).half()),
             lambda m: m.tensor([1, 2]).cauchy_(), lambda m: m.tensor([1.0, 2]).cauchy_(1.0, -1.0),
             lambda m: m.tensor([1.0]).geometric_(1), lambda m: m.tensor([True]).geometric_(0.5),
             lambda m: m.tensor([1, 2]).log_normal_(), lambda m: m.tensor([1.0]).log_normal_(0, 0),
             lambda m: m.tensor([1.0], requires_grad=True).cauchy_(),
             lambda m: m.binomial(m.tensor([2.0], requires_grad=True), m.tensor([0.5])).sum().backward()]
    for case in cases:
        _raises_like(lambda: case(torch), lambda: case(tj))
    x = tj.tensor([2.0, 3.0], requires_grad=True)
    y = tj.poisson(x)
    assert type(y.grad_fn).__name__ == "PoissonBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_sampler_moments():
    tj.manual_seed(123)
    n = 20000
    p = tj.poisson(tj.full((n,), 4.5, dtype=tj.float64))
    assert abs(p.mean().item() - 4.5) < 0.06 and abs(p.var().item() - 4.5) < 0.2
    big = tj.poisson(tj.full((n,), 60.0, dtype=tj.float64))
    assert abs(big.mean().item() - 60.0) < 0.25 and abs(big.var().item() - 60.0) < 3.0
    b = tj.binomial(tj.full((n,), 40.0), tj.full((n,), 0.35))
    assert abs(b.mean().item() - 14.0) < 0.1 and abs(b.var().item() - 9.1) < 0.5
    assert b.min().item() >= 0 and b.max().item() <= 40
    g = tj.empty(n, dtype=tj.float64).geometric_(0.25)
    assert abs(g.mean().item() - 4.0) < 0.1 and g.min().item() >= 1
    c = tj.empty(n, dtype=tj.float64).cauchy_(1.0, 2.0)
    assert abs(c.median().item() - 1.0) < 0.1 and abs(((c - 1.0).abs() < 2.0).double().mean().item() - 0.5) < 0.02
    ln = tj.empty(n, dtype=tj.float64).log_normal_(0.5, 0.25).log()
    assert abs(ln.mean().item() - 0.5) < 0.01 and abs(ln.std().item() - 0.25) < 0.01
