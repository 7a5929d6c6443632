"""torch.stft and torch.istft (and the Tensor methods): PyTorch's short-time Fourier transform and its
overlap-add inverse, step for step (its argument checks and messages, center padding, window centering, frames as a
strided view), over the DFT of ops/dft.py, so they differentiate like any composite and run on every backend."""
import math

from .. import _dtype as D
from ._registry import nn_ops, register
from ._util import check, rename_grad_fn, warn_at_caller
from .complex import from_parts, imag, real, view_as_complex, view_as_real
from .creation import arange, ones, zeros
from .dft import dft, hermitian_complete

_FORWARD, _INVERSE = -1, 1     # the sign of the DFT's exponent

_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,{}To suppress this warning and use a "
              "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
_STFT_NO_WINDOW = _NO_WINDOW.format("which is known to cause spectral leakage. Other windows such as "
                                    "torch.hann_window or torch.hamming_window are recommended to reduce spectral "
                                    "leakage.")
_ISTFT_NO_WINDOW = _NO_WINDOW.format("Please provide the same window used by stft to make the inversion lossless.")
_REAL_OUTPUT_DEPRECATED = ("stft with return_complex=False is deprecated. In a future pytorch release, stft will "
                           "return complex tensors for all inputs, and return_complex=False will raise an error.\n"
                           "Note: you can still call torch.view_as_real on the complex output to recover the old "
                           "return format.")


def _opt(v):
    """An optional argument as PyTorch's messages print it (None, or a bool as 0/1)."""
    return "None" if v is None else str(int(v)) if isinstance(v, bool) else str(v)


def _type_string(t):
    """ATen's Tensor::toString: the legacy type name where one exists (torch.FloatTensor), else CPU<dtype>Type."""
    d = t._dtype
    return f"CPU{D.scalar_type_name(d)}Type" if d.is_complex or d is D.bfloat16 else t.type()


def _described(t, shape=None):
    """torch.FloatTensor[28]: a tensor as PyTorch's stft/istft messages name it."""
    return f"{_type_string(t)}[{', '.join(str(s) for s in (t.shape if shape is None else shape))}]"


def _window_desc(window):
    return "None" if window is None else f"{_type_string(window)}{{[{', '.join(str(s) for s in window.shape)}]}}"


def _centered(window, win_length, n_fft, like):
    """The window padded with zeros on both sides to n_fft points (ones of win_length when None)."""
    base = window if window is not None else ones(win_length, dtype=like.dtype, device=like.device)
    if win_length == n_fft:
        return base
    left = (n_fft - win_length) // 2
    return nn_ops.pad(base, [left, n_fft - win_length - left])


def _scale(x, factor):
    return x if factor == 1 else x * factor


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is not None:
        check(window.device == input.device, lambda: f"stft input and window must be on the same device but got "
              f"self on {input.device} and window on {window.device}")
    complex_input = input._dtype.is_complex or (window is not None and window._dtype.is_complex)
    as_complex = complex_input if return_complex is None else return_complex
    if window is None:   # before the return_complex error, as PyTorch warns
        warn_at_caller(_STFT_NO_WINDOW)
    if not as_complex:
        check(return_complex is not None, "stft requires the return_complex parameter be given for real inputs, "
              "and will further require that return_complex=True in a future PyTorch release.")
        warn_at_caller(_REAL_OUTPUT_DEPRECATED)
    pad = n_fft // 2 if center else 0
    shape = list(input.shape)
    if center and shape:
        shape[-1] += 2 * pad

    def fail(what):
        raise RuntimeError(
            f"stft({_described(input, shape)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, window="
            f"{_window_desc(window)}, normalized={int(bool(normalized))}, onesided={_opt(onesided)}, return_complex="
            f"{_opt(return_complex)}, align_to_window={_opt(align_to_window)}) : {what}")

    if center:   # torch.stft pads before the kernel's checks (a 3-D view, so reflect/replicate pad the last dim)
        signal_dim = input.dim()
        x = nn_ops.pad(input.view([1] * (3 - signal_dim) + list(input.shape)), [pad, pad], pad_mode)
        x = x.view(x.shape[-signal_dim:])
    else:
        x = input
    if not (x._dtype.is_floating_point or x._dtype.is_complex):
        fail("expected a tensor of floating point or complex values")
    if x.dim() not in (1, 2):
        fail("expected a 1D or 2D tensor")
    if x.dim() == 1:
        x = x.unsqueeze(0)
    if align_to_window and win < n_fft:   # frames start where their (centered) window does
        left = (n_fft - win) // 2
        x = nn_ops.pad(x, [left, n_fft - win - left])
    batch, length = x.shape
    if n_fft <= 0 or n_fft > length:
        fail(f"expected 0 < n_fft < {length}, but got n_fft={win}")
    if hop <= 0:
        fail(f"expected hop_length > 0, but got hop_length={hop}")
    if win <= 0 or win > n_fft:
        fail(f"expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        fail(f"expected a 1D window tensor of size equal to win_length={win}, but got window with size "
             f"[{', '.join(str(s) for s in window.shape)}]")
    if x._dtype in (D.float16, D.bfloat16):
        raise RuntimeError(f"MKL FFT doesn't support tensors of type: {D.scalar_type_name(x._dtype)}")
    window_ = _centered(window, win, n_fft, x) if (window is not None or win < n_fft) else None
    n_frames = 1 + (length - n_fft) // hop
    xs = x.contiguous()
    frames = xs.as_strided((batch, n_frames, n_fft), (xs.stride(0), hop * xs.stride(1), xs.stride(1)))
    if window_ is not None:
        frames = frames * window_
    complex_fft = frames._dtype.is_complex
    sided = (not complex_fft) if onesided is None else onesided
    if complex_fft:
        check(not sided, "Cannot have onesided output if window or input is complex")
        fr, fi = dft(real(frames), imag(frames), _FORWARD)
    else:
        fr, fi = dft(frames, None, _FORWARD)
        if sided:
            fr, fi = fr[..., :n_fft // 2 + 1], fi[..., :n_fft // 2 + 1]
    factor = 1.0 / math.sqrt(n_fft) if normalized else 1.0
    # PyTorch transposes and squeezes in place: its nodes are TransposeBackward1 and SqueezeBackward4
    out = rename_grad_fn(from_parts(_scale(fr, factor), _scale(fi, factor)).transpose(1, 2), "TransposeBackward1")
    if input.dim() == 1:
        out = rename_grad_fn(out.squeeze(0), "SqueezeBackward4")
    return out if as_complex else view_as_real(out)


def _overlap_add(frames, hop, total):
    """unfold_backward: frames (channel, n_frames, n_fft, ...) summed into a (channel, total, ...) signal, frame f
    starting at f * hop."""
    channel, n_frames, n_fft = frames.shape[:3]
    index = (arange(n_frames, device=frames.device) * hop).unsqueeze(1) + arange(n_fft, device=frames.device)
    out = zeros((channel, total) + tuple(frames.shape[3:]), dtype=frames.dtype, device=frames.device)
    return out.index_add(1, index.reshape(-1), frames.reshape((channel, n_frames * n_fft) + tuple(frames.shape[3:])))


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    hop = n_fft >> 2 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    if window is not None:
        check(window.device == input.device, lambda: f"istft input and window must be on the same device but got "
              f"self on {input.device} and window on {window.device}")
    check(input._dtype.is_complex, "istft requires a complex-valued input tensor matching the output from stft with "
          "return_complex=True.")
    if window is None:
        warn_at_caller(_ISTFT_NO_WINDOW)

    def fail(what):
        raise RuntimeError(
            f"istft({_described(input)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, window="
            f"{_window_desc(window)}, center={int(bool(center))}, normalized={int(bool(normalized))}, onesided="
            f"{_opt(onesided)}, length={_opt(length)}, return_complex={int(bool(return_complex))}) {what}")

    input_dim = input.dim() + 1      # PyTorch counts the dims of the real view
    if input.numel() == 0:
        fail(": input tensor cannot be empty.")
    if input_dim not in (3, 4):
        fail(f": expected a tensor with 3 or 4 dimensions, but got {input_dim}")
    n_frames, fft_size = input.shape[-1], input.shape[-2]
    expected_len = n_fft + hop * (n_frames - 1)
    sided = fft_size != n_fft if onesided is None else onesided
    if sided and n_fft // 2 + 1 != fft_size:
        fail(": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 when "
             f"onesided=True, but got {fft_size}")
    if not sided and n_fft != fft_size:
        fail(": expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
             f"onesided=False, but got {fft_size}")
    if not 0 < hop <= win:
        fail(": expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        fail(": expected 0 < win_length <= n_fft")
    if window is not None and (window.dim() != 1 or window.shape[0] != win):
        fail(": Invalid window shape. window has to be 1D and length of `win_length`")
    part = input._dtype.to_real()
    window_ = _centered(window if window is not None else ones(win, dtype=part, device=input.device), win, n_fft,
                        input)
    spec = input if input.dim() == 3 else input.unsqueeze(0)
    spec = spec.transpose(1, 2)            # (channel, n_frames, fft_size)
    factor = 1.0 / math.sqrt(n_fft) if normalized else 1.0 / n_fft
    sr, si = real(spec), imag(spec)
    if return_complex:
        check(not sided, "Cannot have onesided output if window or input is complex")
        yr, yi = dft(sr, si, _INVERSE)
        frames = from_parts(_scale(yr, factor), _scale(yi, factor))
    else:
        check(window is None or not window._dtype.is_complex,
              "Complex windows are incompatible with return_complex=False")
        half = n_fft // 2 + 1
        yr, _ = dft(*hermitian_complete(sr[..., :half], si[..., :half], n_fft), _INVERSE)
        frames = _scale(yr, factor)
    frames = frames * window_.view(1, 1, n_fft)
    if frames._dtype.is_complex:
        y = view_as_complex(_overlap_add(view_as_real(frames).contiguous(), hop, expected_len).contiguous())
    else:
        y = _overlap_add(frames, hop, expected_len)
    envelope = _overlap_add(window_.pow(2).expand(1, n_frames, n_fft), hop, expected_len)
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (expected_len - n_fft // 2 if center else expected_len)
    y = y[:, start:end]
    envelope = envelope[:, start:end]
    if bool((envelope.abs().min() < 1e-11).item()):
        fail("window overlap add min: 1\n[ CPUBoolType{} ]")
    y = y / envelope
    if input_dim == 3:
        y = y.squeeze(0)
    if end > expected_len:
        warn_at_caller("The length of signal is shorter than the length parameter. Result is being padded with zeros "
                       "in the tail. Please check your center and hop_length settings.")
        y = nn_ops.pad(y, [0, end - expected_len])
    return y


def _register_all():
    register("stft", stft, "spectral", dtype="complex", opinfo=("stft",))
    register("istft", istft, "spectral", dtype="complex_parts", opinfo=())   # op_db's istft samples are complex


_register_all()
