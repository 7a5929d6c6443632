"""Window functions: torch's hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window, and
torch.signal.windows (bartlett, blackman, cosine, exponential, gaussian, general_cosine, general_hamming, hamming,
hann, kaiser, nuttall).

Each follows PyTorch's code step for step: the torch.* factories scale an arange in the requested dtype and put it
through cos, ... (a periodic window is the symmetric one of length + 1 without its last point), so half dtypes
round where PyTorch's do, and the kaiser window's Bessel function is computed in float64 (ops/special_math/
bessel.py) and rounded; torch.signal.windows are composites of linspace and elementwise ops, so requires_grad=True
gives a result with PyTorch's graph.
"""
import math
from collections.abc import Iterable

from .. import _dtype as D
from .._grad_mode import no_grad
from ._registry import NOT_DIFFERENTIABLE, register
from ._util import c_type_name, check, not_implemented_for
from .._tensor import strided
from .creation import arange, device_arg, empty, full, linspace, ones, tensor, with_requires_grad
from .elementwise import minimum
from .special_functions import i0
from .special_math import bessel


def _window(name, window_length, periodic, dtype, device, requires_grad, layout, compute):
    """The window checks, the empty and one-point windows, the periodic trim, requires_grad."""
    if isinstance(window_length, bool) or not isinstance(window_length, int):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(window_length).__name__}")
    dtype = dtype or D.get_default_dtype()
    dev = device_arg(device)
    check(window_length >= 0, lambda: f"{name} requires non-negative window_length, got window_length="
          f"{window_length}")
    check(dtype.is_floating_point or dtype.is_complex, lambda: f"{name} expects floating point dtypes, got: "
          f"TensorOptions(dtype={c_type_name(dtype)}, device={dev}, layout=Strided (default), requires_grad="
          f"{'true' if requires_grad else 'false (default)'}, pinned_memory=false, memory_format=(nullopt))")
    if window_length == 0:
        return empty((0,), dtype=dtype, device=dev, requires_grad=requires_grad)
    if window_length == 1:
        return ones((1,), dtype=dtype, device=dev, requires_grad=requires_grad)
    if dtype.is_complex:   # passes the check, then meets arange's refusal
        raise not_implemented_for("arange_cpu", dtype)
    n = window_length + 1 if periodic else window_length
    with no_grad():
        w = compute(arange(n, dtype=dtype, device=dev), n)
        if periodic:
            w = w[:window_length].contiguous()
    return with_requires_grad(w, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False, pin_memory=False):
    """alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, layout,
                   lambda k, n: (k * (2.0 * math.pi / (n - 1))).cos() * -beta + alpha)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                pin_memory=False):
    """(1 - cos(2 pi n / (N - 1))) / 2: the hamming window with alpha = beta = 1/2."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, layout,
                   lambda k, n: (k * (2.0 * math.pi / (n - 1))).cos() * -0.5 + 0.5)


def _blackman(k, n):
    k = k * (math.pi / (n - 1))
    return (k * 4).cos() * 0.08 - (k * 2).cos() * 0.5 + 0.42


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, layout, _blackman)


def _bartlett(k, n):
    k = k * (2.0 / (n - 1))
    half = ((n - 1) >> 1) + 1
    k[half:] = k[half:] * -1 + 2
    return k


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False,
                    pin_memory=False):
    """The triangle 2n / (N - 1) up to the middle, 2 - 2n / (N - 1) after it."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, layout, _bartlett)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False, pin_memory=False):
    """I0(beta sqrt(1 - ((n - alpha) / alpha)^2)) / I0(beta), alpha = (N - 1) / 2."""
    def compute(k, n):
        alpha = (n - 1) / 2.0
        x = k.to(D.float64)
        r = (1.0 - ((x - alpha) / alpha) ** 2).abs().sqrt() * float(beta)
        i0_beta = bessel.i0(full((), float(beta), dtype=D.float64, device=x.device))
        return (bessel.i0(r) / i0_beta).to(k.dtype)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, layout, compute)


# ---- torch.signal.windows ----------------------------------------------------------------------------------------

def _signal_checks(name, M, dtype, layout):
    dtype = dtype or D.get_default_dtype()
    if isinstance(M, bool) or not isinstance(M, int):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(M).__name__}")
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (D.float32, D.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _points(M, start, end, dtype, device, requires_grad):
    return linspace(start, end, M, dtype=dtype, device=device, requires_grad=requires_grad)


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """exp(-|n - center| / tau)."""
    dtype = _signal_checks("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if center is None:
        center = (M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / tau
    k = _points(M, -center * constant, (-center + (M - 1)) * constant, dtype, device, requires_grad)
    return (-k.abs()).exp()


def cosine(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sin(pi (n + 1/2) / M) (the sine window)."""
    dtype = _signal_checks("cosine", M, dtype, layout)
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    constant = math.pi / (M + 1 if not sym and M > 1 else M)
    return _points(M, 0.5 * constant, (0.5 + (M - 1)) * constant, dtype, device, requires_grad).sin()


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """exp(-(n - c)^2 / (2 std^2))."""
    dtype = _signal_checks("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    start = -(M if not sym and M > 1 else M - 1) / 2.0
    constant = 1 / (std * math.sqrt(2))
    k = _points(M, start * constant, (start + (M - 1)) * constant, dtype, device, requires_grad)
    return (-k ** 2).exp()


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """I0(beta sqrt(1 - (2n / (M - 1) - 1)^2)) / I0(beta)."""
    dtype = _signal_checks("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1:
        return ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    beta = tensor(beta, dtype=dtype, device=device)
    start = -beta
    constant = 2.0 * beta / (M if not sym else M - 1)
    end = minimum(beta, start + (M - 1) * constant)
    k = _points(M, start.item(), end.item(), dtype, device, requires_grad)
    return i0((beta * beta - k.pow(2)).sqrt()) / i0(beta)


def general_cosine(M, *, a, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """sum_i (-1)^i a_i cos(2 pi i n / (M - 1))."""
    dtype = _signal_checks("general_cosine", M, dtype, layout)
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1:
        return ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    constant = 2 * math.pi / (M if not sym else M - 1)
    k = _points(M, 0, (M - 1) * constant, dtype, device, requires_grad)
    a_i = tensor([(-1) ** i * w for i, w in enumerate(a)], device=device, dtype=dtype, requires_grad=requires_grad)
    i = arange(a_i.shape[0], dtype=a_i.dtype, device=a_i.device, requires_grad=a_i.requires_grad)
    return (a_i.unsqueeze(-1) * (i.unsqueeze(-1) * k).cos()).sum(0)


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """alpha - (1 - alpha) cos(2 pi n / (M - 1))."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    dtype = _signal_checks("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=strided, device=None, requires_grad=False):
    """1 - |2n / (M - 1) - 1|."""
    dtype = _signal_checks("bartlett", M, dtype, layout)
    if M == 0:
        return empty((0,), dtype=dtype, device=device, requires_grad=requires_grad)
    if M == 1:
        return ones((1,), dtype=dtype, device=device, requires_grad=requires_grad)
    constant = 2 / (M if not sym else M - 1)
    return 1 - _points(M, -1, -1 + (M - 1) * constant, dtype, device, requires_grad).abs()


SIGNAL_WINDOWS = (bartlett, blackman, cosine, exponential, gaussian, general_cosine, general_hamming, hamming, hann,
                  kaiser, nuttall)


def _register_all():
    for fn in (hann_window, hamming_window, blackman_window, bartlett_window, kaiser_window):
        register(fn.__name__, fn, "creation", dtype="factory", derivative=NOT_DIFFERENTIABLE, method=False,
                 opinfo=())
    for fn in SIGNAL_WINDOWS:
        register(fn.__name__, fn, "creation", dtype="factory", method=False, namespace="signal.windows",
                 opinfo=(f"signal.windows.{fn.__name__}",))


_register_all()
