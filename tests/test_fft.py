"""torch_js.fft against torch.fft: every transform over lengths that take each plan of the engine (direct DFTs,
radix steps, a prime radix, Bluestein), real and complex input, float32 and float64, `n`/`s`, `dim` and the three
norms; output dtypes, shapes and strides; PyTorch's argument errors; fftfreq/rfftfreq/fftshift/ifftshift; the
gradients of real-valued losses. The checks at the end need no torch: a naive DFT in Python floats, round trips,
Parseval, gradcheck."""
import cmath
import math
import random

import pytest

import torch_js as tj
from torch_js.ops import dft as _engine
from optional_torch import needs_torch, torch

# lengths covering the plans: direct (<= 16, primes <= 64), radix steps, a prime radix (17·19), Bluestein
SIZES = [1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 30, 31, 32, 45, 60, 64, 97, 100, 127, 128, 243, 256, 323, 509, 1000, 1024,
         4099]
NORMS = [None, "backward", "ortho", "forward"]


@pytest.fixture(autouse=True, scope="module")
def _torch_on_one_thread():
    """PyTorch's threaded kernels (MKL's FFT most) cost milliseconds a call on a busy machine; one thread for this
    module, restored after it."""
    if torch is None:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_sizes_cover_every_plan():
    plans = {_engine.plan(n) for n in SIZES if n > 1}
    assert {"direct", "bluestein", 4, 2, 3, 17}.issubset(plans)
    assert _engine.plan(323) == 17 and _engine.plan(4099) == "bluestein" and _engine.plan(61) == "direct"


def _js(t):
    return tj.tensor(t.detach().tolist(), dtype=getattr(tj, str(t.dtype).replace("torch.", "")))


def _rand(shape, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=getattr(torch, dtype))


def _flat(v):
    if isinstance(v, list):
        return [x for e in v for x in _flat(e)]
    return [v]


def assert_like(js, pt, rtol=None):
    """Same dtype, shape and values: every element within rtol of the largest magnitude (the FFT's error scale)."""
    assert str(js.dtype) == str(pt.dtype), (js.dtype, pt.dtype)
    assert tuple(js.shape) == tuple(pt.shape), (js.shape, pt.shape)
    if rtol is None:
        rtol = 1e-12 if str(pt.dtype) in ("torch.float64", "torch.complex128") else 5e-6
    got, want = _flat(js.detach().tolist()), _flat(pt.detach().tolist())
    scale = max([abs(w) for w in want] + [1e-30])
    bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, want)) if abs(g - w) > rtol * scale]
    assert not bad, (len(bad), bad[:3])


# ---- one-dimensional transforms ---------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "complex64", "float64", "complex128"])
def test_fft_ifft(n, dtype):
    p = _rand((2, n), dtype, n)
    x = _js(p)
    assert_like(tj.fft.fft(x), torch.fft.fft(p))
    assert_like(tj.fft.ifft(x), torch.fft.ifft(p))


@needs_torch
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rfft_irfft_hfft_ihfft(n, dtype):
    p = _rand((3, n), dtype, n)
    x = _js(p)
    assert_like(tj.fft.rfft(x), torch.fft.rfft(p))
    assert_like(tj.fft.ihfft(x), torch.fft.ihfft(p))
    pz = torch.fft.rfft(p)   # a spectrum of n // 2 + 1 bins, with imaginary parts in its own-mirror bins too
    pz = pz + 0.5j * _rand(pz.shape, dtype, n + 1)
    z = _js(pz)
    for m in {n, max(1, 2 * (pz.shape[-1] - 1)), n + 1}:
        assert_like(tj.fft.irfft(z, m), torch.fft.irfft(pz, m))
        assert_like(tj.fft.hfft(z, m), torch.fft.hfft(pz, m))
    if pz.shape[-1] > 1:
        assert_like(tj.fft.irfft(z), torch.fft.irfft(pz))
        assert_like(tj.fft.hfft(z), torch.fft.hfft(pz))


@needs_torch
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("fn", ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"])
def test_norms_n_and_dim(fn, norm):
    real_input = fn in ("rfft", "ihfft")
    p = _rand((4, 6, 5), "float64" if real_input else "complex128", 7)
    x = _js(p)
    f, g = getattr(tj.fft, fn), getattr(torch.fft, fn)
    for kw in [{}, {"n": 3}, {"n": 11, "dim": 0}, {"dim": 1}, {"n": 8, "dim": -2}]:
        assert_like(f(x, norm=norm, **kw), g(p, norm=norm, **kw))


@needs_torch
def test_input_dtypes_and_layouts():
    cases = [
        lambda L: L.fft.fft(L.arange(6)),
        lambda L: L.fft.fft(L.tensor([True, False, True])),
        lambda L: L.fft.rfft(L.arange(7, dtype=L.int32)),
        lambda L: L.fft.ifft(L.arange(5.).to(L.float64)),
        lambda L: L.fft.fft(L.arange(12.).reshape(3, 4).t()),
        lambda L: L.fft.fft(L.arange(12.).reshape(3, 4), dim=0),
        lambda L: L.fft.rfft(L.arange(12.).reshape(3, 4), dim=0),
        lambda L: L.fft.irfft(L.arange(12.).reshape(3, 4).to(L.cfloat), dim=0),
        lambda L: L.fft.fftn(L.tensor(2.5)),
        lambda L: L.fft.fft(L.arange(6.).reshape(2, 3)[:, 1:]),
    ]
    for c in cases:
        got, want = c(tj), c(torch)
        assert_like(got, want)
        assert got.stride() == want.stride()


@needs_torch
def test_exact_where_pocketfft_is_exact():
    # powers of two go through exact butterflies: the printed spectra of small integer signals are PyTorch's
    for f in (lambda L: L.fft.fft(L.arange(8.)), lambda L: L.fft.fft(L.arange(16.)), lambda L: L.fft.fft2(L.eye(4)),
              lambda L: L.fft.fft(L.tensor([1., 2, 3, 4]))):
        assert repr(f(tj)) == repr(f(torch))


# ---- n-dimensional transforms -----------------------------------------------------------------------------------

_ND = [
    ("fft2", {}), ("ifft2", {}), ("fftn", {}), ("ifftn", {}), ("fftn", {"s": (5, 3)}), ("fftn", {"dim": (0, 2)}),
    ("ifftn", {"s": (2, 9), "dim": (2, 0)}), ("fft2", {"s": (4, -1)}), ("fftn", {"dim": 1}),
    ("rfft2", {}), ("rfftn", {}), ("rfftn", {"s": (3, 7)}), ("rfftn", {"dim": (2, 0)}), ("rfft2", {"dim": (0, 1)}),
    ("irfft2", {}), ("irfftn", {}), ("irfftn", {"s": (5, 6)}), ("irfftn", {"dim": (0, 1)}),
    ("irfft2", {"s": (3, 7), "dim": (1, 0)}), ("irfftn", {"s": (4,)}),
]


@needs_torch
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("case", range(len(_ND)))
def test_n_dimensional(case, norm):
    name, kw = _ND[case]
    real_input = name.startswith("rfft")
    for dtype in (("float32", "float64") if real_input else ("complex64", "complex128")):
        p = _rand((3, 4, 5), dtype, case)
        assert_like(getattr(tj.fft, name)(_js(p), norm=norm, **kw), getattr(torch.fft, name)(p, norm=norm, **kw))
    if not real_input and not name.startswith("irfft"):   # real input to the complex transforms
        p = _rand((3, 4, 5), "float64", case)
        assert_like(getattr(tj.fft, name)(_js(p), norm=norm, **kw), getattr(torch.fft, name)(p, norm=norm, **kw))


# ---- errors ------------------------------------------------------------------------------------------------------

_ERRORS = [
    lambda L: L.fft.fft(L.ones(4), n=0),
    lambda L: L.fft.fft(L.ones(4), norm="bad"),
    lambda L: L.fft.fft(L.ones(4, 6), dim=2),
    lambda L: L.fft.rfft(L.ones(4, dtype=L.cfloat)),
    lambda L: L.fft.ihfft(L.ones(4, dtype=L.cfloat)),
    lambda L: L.fft.fft(L.ones(4, dtype=L.float16)),
    lambda L: L.fft.fft(L.ones(4, dtype=L.bfloat16)),
    lambda L: L.fft.irfft(L.ones(4, 1, dtype=L.cfloat)),
    lambda L: L.fft.fftn(L.ones(4, 6), s=(3,), dim=(0, 1)),
    lambda L: L.fft.fftn(L.ones(4, 6), dim=(0, 0)),
    lambda L: L.fft.fft2(L.ones(3)),
    lambda L: L.fft.fft(L.tensor(1.0)),
    lambda L: L.fft.fft(L.ones(3, 0)),
    lambda L: L.fft.fft(L.ones(0, 3), dim=0),
    lambda L: L.fft.fftn(L.ones(4, 6), s=(8, 0)),
    lambda L: L.fft.fftfreq(-1),
]


@needs_torch
@pytest.mark.parametrize("i", range(len(_ERRORS)))
def test_errors_match_pytorch(i):
    def err(L):
        try:
            _ERRORS[i](L)
        except Exception as e:   # noqa: BLE001  (the type and message are what is compared)
            return type(e).__name__, str(e)
        return None
    got, want = err(tj), err(torch)
    assert got == want and got is not None


# ---- frequencies and shifts ---------------------------------------------------------------------------------------

@needs_torch
def test_frequencies_and_shifts():
    for n in (0, 1, 2, 5, 6, 11):
        for d in (1.0, 0.1, 2):
            assert_like(tj.fft.fftfreq(n, d), torch.fft.fftfreq(n, d), rtol=0)
            assert_like(tj.fft.rfftfreq(n, d), torch.fft.rfftfreq(n, d), rtol=0)
    assert_like(tj.fft.fftfreq(5, dtype=tj.float64), torch.fft.fftfreq(5, dtype=torch.float64), rtol=0)
    assert tj.fft.fftfreq(4, requires_grad=True).requires_grad
    p = torch.arange(30).reshape(5, 6)
    x = _js(p)
    for kw in ({}, {"dim": 1}, {"dim": (0,)}, {"dim": (-1, 0)}):
        assert_like(tj.fft.fftshift(x, **kw), torch.fft.fftshift(p, **kw), rtol=0)
        assert_like(tj.fft.ifftshift(x, **kw), torch.fft.ifftshift(p, **kw), rtol=0)


# ---- gradients -----------------------------------------------------------------------------------------------------

_LOSSES = [
    lambda L, x, z: L.fft.rfft(x).abs().sum(),
    lambda L, x, z: L.fft.fft(x).real.sum() + L.fft.fft(x).imag.pow(2).sum(),
    lambda L, x, z: L.fft.irfft(z).pow(2).sum(),
    lambda L, x, z: L.fft.irfft(z, 9, norm="ortho").sin().sum(),
    lambda L, x, z: L.fft.fft(z).abs().sum() + L.fft.ifft(z, 12, norm="forward").real.sum(),
    lambda L, x, z: L.view_as_real(L.fft.fft(z, 17)).pow(2).sum(),
    lambda L, x, z: L.fft.hfft(z).sum() + L.fft.ihfft(x).abs().sum(),
    lambda L, x, z: L.fft.rfft2(x.reshape(2, 5)).abs().sum() + L.fft.irfftn(z.reshape(2, 3)).pow(2).sum(),
    lambda L, x, z: L.fft.fftn(x.reshape(2, 5), s=(3, 4)).abs().pow(3).sum(),
    lambda L, x, z: L.fft.rfft(x, 37).abs().sum(),   # a direct prime; 67 takes Bluestein
    lambda L, x, z: L.fft.rfft(x, 67).abs().sum(),
]


@needs_torch
@pytest.mark.parametrize("i", range(len(_LOSSES)))
def test_gradients_of_real_losses(i):
    px = _rand((10,), "float64", i).requires_grad_()
    pz = _rand((6,), "complex128", i + 100).requires_grad_()
    x, z = _js(px).requires_grad_(), _js(pz).requires_grad_()
    _LOSSES[i](torch, px, pz).backward()
    _LOSSES[i](tj, x, z).backward()
    for got, want in ((x, px), (z, pz)):
        if want.grad is None:
            assert got.grad is None
        else:
            assert_like(got.grad, want.grad, rtol=1e-10)


@needs_torch
def test_gradients_in_float32():
    px = _rand((4, 33), "float32", 3).requires_grad_()
    x = _js(px).requires_grad_()
    for L, t in ((torch, px), (tj, x)):
        L.fft.rfft(t, norm="ortho").abs().mean().backward()
    assert_like(x.grad, px.grad, rtol=1e-5)


@needs_torch
def test_grad_fn_names():
    x = tj.ones(4, requires_grad=True)
    px = torch.ones(4, requires_grad=True)
    for f in (lambda L, t: L.fft.fft(t), lambda L, t: L.fft.rfft(t), lambda L, t: L.fft.fft(L.fft.fft(t)),
              lambda L, t: L.fft.irfft(L.fft.rfft(t))):
        assert type(f(tj, x).grad_fn).__name__ == type(f(torch, px).grad_fn).__name__


# ---- without torch ---------------------------------------------------------------------------------------------------

def _naive_dft(values, sign):
    n = len(values)
    return [sum(v * cmath.exp(sign * 2j * math.pi * (j * k % n) / n) for j, v in enumerate(values))
            for k in range(n)]


@pytest.mark.parametrize("n", [1, 6, 16, 18, 61, 67, 96, 131])
def test_against_a_naive_dft(n):
    rng = random.Random(n)
    vals = [complex(rng.uniform(-1, 1), rng.uniform(-1, 1)) for _ in range(n)]
    z = tj.tensor(vals, dtype=tj.complex128)
    for got, sign in ((tj.fft.fft(z), -1), (tj.fft.ifft(z, norm="forward"), 1)):
        want = _naive_dft(vals, sign)
        scale = max(abs(w) for w in want)
        assert max(abs(g - w) for g, w in zip(got.tolist(), want)) <= 1e-12 * scale
    z32 = z.to(tj.complex64)
    want = _naive_dft(z32.tolist(), -1)
    scale = max(abs(w) for w in want)
    assert max(abs(g - w) for g, w in zip(tj.fft.fft(z32).tolist(), want)) <= 2e-6 * scale


@pytest.mark.parametrize("n", [5, 8, 67, 1000])
def test_round_trips_and_parseval(n):
    tj.manual_seed(n)
    x = tj.randn(3, n, dtype=tj.float64)
    assert (tj.fft.ifft(tj.fft.fft(x)).real - x).abs().max().item() < 1e-12
    assert (tj.fft.irfft(tj.fft.rfft(x), n) - x).abs().max().item() < 1e-12
    assert (tj.fft.hfft(tj.fft.ihfft(x), n) - x).abs().max().item() < 1e-12
    energy = (x * x).sum().item()
    assert abs(tj.fft.fft(x, norm="ortho").abs().pow(2).sum().item() - energy) < 1e-10 * energy
    y = tj.randn(3, n, dtype=tj.float64)
    lin = tj.fft.fft(2 * x - y) - (2 * tj.fft.fft(x) - tj.fft.fft(y))
    assert lin.abs().max().item() < 1e-11 * n


def test_gradcheck():
    x = tj.randn(7, dtype=tj.float64, requires_grad=True)
    assert tj.autograd.gradcheck(lambda t: tj.fft.rfft(t).abs(), (x,))
    a, b = (tj.randn(5, dtype=tj.float64, requires_grad=True) for _ in range(2))
    assert tj.autograd.gradcheck(lambda u, v: tj.view_as_real(tj.fft.fft(tj.complex(u, v), 19)), (a, b))
    assert tj.autograd.gradcheck(lambda u, v: tj.fft.irfft(tj.complex(u, v), 8), (a, b))
