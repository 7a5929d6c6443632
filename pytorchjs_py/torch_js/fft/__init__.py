"""torch_js.fft: PyTorch's torch.fft namespace.

The transforms take PyTorch's arguments (`n`/`s` trim or zero-pad the signal, `dim`, `norm` = "backward" (the
default: forward transforms unscaled, inverse ones by 1/n), "ortho" (1/sqrt(n) both ways) or "forward" (the
reverse of "backward")) and return complex64 for float32 (or integral/bool) input and complex128 for float64.
They run on ops/dft.py's dft, an O(n log n) transform written in real tensor ops, so they differentiate like any
composite: gradients of real-valued losses through fft/ifft/rfft/irfft/hfft/ihfft and the n-dim forms match
PyTorch's (its complex gradient convention is the real views' gradient; see ops/complex.py).

Complex results lay out as PyTorch's do: the transformed dim is computed last and moved back into place.
"""
import math

from .. import _dtype as D
from .._tensor import Tensor, wrap_dim
from ..ops import inplace as _ip
from ..ops._api import autocasting
from ..ops._autocast import policy as autocast_policy
from ..ops._registry import torch_ops
from ..ops._util import rename_grad_fn
from ..ops.complex import from_parts, imag, real
from ..ops.dft import dft, hermitian_complete

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn",
           "rfftn", "irfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_FORWARD, _INVERSE = -1, 1   # the sign of the exponent


def _tensor_arg(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _signal(input, name, real_only=False):
    """The input as a float or complex tensor: integers and bool become the default float dtype; half dtypes
    have no CPU FFT in PyTorch."""
    _tensor_arg(name, input)
    d = input._dtype
    if d is D.float16 or d is D.bfloat16:
        raise RuntimeError(f"Unsupported dtype {D.scalar_type_name(d)}")
    if d.is_complex:
        if real_only:
            raise RuntimeError(f"{name} expects a real input tensor, but got {D.scalar_type_name(d)}")
        return input
    return input if d.is_floating_point else input.to(D.get_default_dtype())


def _check_norm(norm):
    if norm not in (None, "backward", "ortho", "forward"):
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')


def _scale(norm, n, forward):
    """The factor a transform of n points is multiplied by under `norm`."""
    if norm == "ortho":
        return 1 / math.sqrt(n)
    if (norm == "forward") == forward:
        return 1 / n
    return 1.0


def _swapped(norm):
    """The norm of the inverse transform that computes a Hermitian (hfft/ihfft) one."""
    return {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}[norm]


def _points(n):
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def _dim(x, dim):
    if x.dim() == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, x.dim())


def _resize(x, dim, n):
    """x trimmed or zero-padded to n along dim."""
    size = x.shape[dim]
    if n == size:
        return x
    if n < size:
        return x.narrow(dim, 0, n)
    pad = list(x.shape)
    pad[dim] = n - size
    return torch_ops.cat([x, torch_ops.zeros(pad, dtype=x._dtype, device=x._storage.device)], dim)


def _transform(x, dim, sign, scale):
    """The DFT of x (real or complex) along dim, scaled, as a complex tensor."""
    last = x.movedim(dim, -1)
    if x._dtype.is_complex:
        xr, xi = dft(real(last), imag(last), sign)
    else:
        xr, xi = dft(last, None, sign)
    if scale != 1:
        xr, xi = xr * scale, xi * scale
    return from_parts(xr, xi).movedim(-1, dim)


def _finish(r, node, out):
    rename_grad_fn(r, node)
    return _ip.write_out(out, r) if out is not None else r


def _c2c(input, n, dim, norm, out, sign, name):
    x = _signal(input, name)
    dim = _dim(x, dim)
    n = _points(x.shape[dim] if n is None else n)
    _check_norm(norm)
    node = "FftC2CBackward0" if x._dtype.is_complex else "FftR2CBackward0"
    return _finish(_transform(_resize(x, dim, n), dim, sign, _scale(norm, n, sign == _FORWARD)), node, out)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    return _c2c(input, n, dim, norm, out, _FORWARD, "fft")


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    return _c2c(input, n, dim, norm, out, _INVERSE, "ifft")


def _onesided(x, dim, n, sign, scale):
    """The first n//2 + 1 bins of real x's DFT along dim (the rest is their conjugate mirror)."""
    last = x.movedim(dim, -1)
    xr, xi = dft(last, None, sign)
    keep = n // 2 + 1
    xr, xi = xr[..., :keep], xi[..., :keep]
    if scale != 1:
        xr, xi = xr * scale, xi * scale
    return from_parts(xr, xi).movedim(-1, dim)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    x = _signal(input, "rfft", real_only=True)
    dim = _dim(x, dim)
    n = _points(x.shape[dim] if n is None else n)
    _check_norm(norm)
    return _finish(_onesided(_resize(x, dim, n), dim, n, _FORWARD, _scale(norm, n, True)), "FftR2CBackward0", out)


def _hermitian_inverse(z, dim, n, sign, scale):
    """The real signal of n points whose DFT's first n//2 + 1 bins are z (complex) along dim: the spectrum is
    completed by conjugate symmetry, X[n - k] = conj(X[k]), and transformed; the imaginary parts of the bins that
    are their own mirror (0, and n/2 for even n) do not reach the result, as in PyTorch's irfft."""
    z = _resize(z, dim, n // 2 + 1)
    last = z.movedim(dim, -1)
    xr, _ = dft(*hermitian_complete(real(last), imag(last), n), sign)
    if scale != 1:
        xr = xr * scale
    return xr.movedim(-1, dim)


def _as_complex(x):
    return x if x._dtype.is_complex else x.to(x._dtype.to_complex())


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    z = _as_complex(_signal(input, "irfft"))
    dim = _dim(z, dim)
    n = _points(2 * (z.shape[dim] - 1) if n is None else n)
    _check_norm(norm)
    return _finish(_hermitian_inverse(z, dim, n, _INVERSE, _scale(norm, n, False)), "FftC2RBackward0", out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    z = _as_complex(_signal(input, "hfft"))
    dim = _dim(z, dim)
    n = _points(2 * (z.shape[dim] - 1) if n is None else n)
    _check_norm(norm)
    # the DFT of a Hermitian signal: conj(x)'s inverse transform, with the forward transform's scale
    return _finish(_hermitian_inverse(z.conj(), dim, n, _INVERSE, _scale(_swapped(norm), n, False)),
                   "FftC2RBackward0", out)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    x = _signal(input, "ihfft", real_only=True)
    dim = _dim(x, dim)
    n = _points(x.shape[dim] if n is None else n)
    _check_norm(norm)
    r = _onesided(_resize(x, dim, n), dim, n, _INVERSE, _scale(norm, n, False))
    return _finish(r, "FftR2CBackward0", out)


# ---- n-dimensional transforms ---------------------------------------------------------------------------------

def _dims_and_sizes(x, s, dim, default_dim=None):
    """PyTorch's resolution of (s, dim): every dim, the last len(s) dims, or those given; sizes -1 keep theirs."""
    if dim is None:
        dim = default_dim
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None and isinstance(s, int):
        s = (s,)
    if dim is not None and s is not None and len(s) != len(dim):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    nd = x.dim()
    if dim is None:
        if s is not None and len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
        dims = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    else:
        dims = tuple(wrap_dim(d, nd) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    sizes = tuple(x.shape[d] if s is None or s[i] == -1 else s[i] for i, d in enumerate(dims))
    for n in sizes:
        _points(n)
    return dims, sizes


def _nd_c2c(input, s, dim, norm, out, sign, name, default_dim=None):
    x = _signal(input, name)
    dims, sizes = _dims_and_sizes(x, s, dim, default_dim)
    _check_norm(norm)
    node = "FftC2CBackward0" if x._dtype.is_complex else "FftR2CBackward0"
    if not dims:
        return _finish(_as_complex(x).clone(), node, out)
    for d, n in zip(dims, sizes):
        x = _transform(_resize(x, d, n), d, sign, _scale(norm, n, sign == _FORWARD))
    return _finish(x, node, out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    return _nd_c2c(input, s, dim, norm, out, _FORWARD, "fftn")


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _nd_c2c(input, s, dim, norm, out, _INVERSE, "ifftn")


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _nd_c2c(input, s, dim, norm, out, _FORWARD, "fft2")


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _nd_c2c(input, s, dim, norm, out, _INVERSE, "ifft2")


def _rfftn(input, s, dim, norm, out, name, default_dim=None):
    x = _signal(input, name, real_only=True)
    dims, sizes = _dims_and_sizes(x, s, dim, default_dim)
    _check_norm(norm)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    for d, n in zip(dims, sizes):
        x = _resize(x, d, n)
    z = _onesided(x, dims[-1], sizes[-1], _FORWARD, _scale(norm, sizes[-1], True))
    for d, n in zip(dims[:-1], sizes[:-1]):
        z = _transform(z, d, _FORWARD, _scale(norm, n, True))
    return _finish(z, "FftR2CBackward0", out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _rfftn(input, s, dim, norm, out, "rfftn")


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _rfftn(input, s, dim, norm, out, "rfft2")


def _irfftn(input, s, dim, norm, out, name, default_dim=None):
    z = _as_complex(_signal(input, name))
    dims, sizes = _dims_and_sizes(z, s, dim, default_dim)
    _check_norm(norm)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = dims[-1]
    n_last = sizes[-1] if s is not None and s[-1] != -1 else 2 * (z.shape[last] - 1)
    _points(n_last)
    for d, n in zip(dims[:-1], sizes[:-1]):
        z = _transform(_resize(z, d, n), d, _INVERSE, _scale(norm, n, False))
    return _finish(_hermitian_inverse(z, last, n_last, _INVERSE, _scale(norm, n_last, False)), "FftC2RBackward0",
                   out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _irfftn(input, s, dim, norm, out, "irfftn")


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _irfftn(input, s, dim, norm, out, "irfft2")


# ---- frequencies and shifts ----------------------------------------------------------------------------------

def _frequencies(count, n, d, dtype, device, requires_grad, signed):
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    r = torch_ops.arange(count, dtype=dtype or D.get_default_dtype(), device=device)
    if signed and count:   # the upper half counts down from -(n // 2)
        half = (n + 1) // 2
        r[half:] = torch_ops.arange(-(n // 2), 0, dtype=r._dtype, device=device)
    if n:   # PyTorch multiplies by the reciprocal (a C double: 1/0 is inf)
        r = r * (1.0 / (n * d) if n * d != 0 else math.copysign(math.inf, n * d))
    return r.requires_grad_(requires_grad) if requires_grad else r


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False, out=None):
    r = _frequencies(n, n, d, dtype, device, requires_grad, True)
    return _ip.write_out(out, r) if out is not None else r


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False, out=None):
    r = _frequencies(n // 2 + 1 if n >= 0 else n, n, d, dtype, device, requires_grad, False)
    return _ip.write_out(out, r) if out is not None else r


def _shift(input, dim, inverse):
    _tensor_arg("fftshift" if not inverse else "ifftshift", input)
    dims = tuple(range(input.dim())) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if not dims:
        return input.clone()
    shifts = [(input.shape[d] + inverse) // 2 for d in dims]
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    return _shift(input, dim, False)


def ifftshift(input, dim=None):
    return _shift(input, dim, True)


# under CPU autocast these run in float32, as PyTorch's fft_* kernels do (ops/_autocast.py FP32)
for _name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
              "hfft", "ihfft"):
    globals()[_name] = autocasting(globals()[_name], _name, autocast_policy("fft", _name))
del _name
