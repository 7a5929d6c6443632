"""torch.testing.assert_close: element-wise closeness of tensors, numbers and (nested) sequences and mappings of
them, with PyTorch's default tolerances per dtype and its error messages.

Inputs are split into pairs (sequences item by item, mappings key by key); each pair is compared by the first
kind that takes it: None, bool, Python number, tensor-like. The first failing pair raises; its message names the
item (`The failure occurred for item [1]['a']`) when it sits inside a container.
"""
import cmath
import collections.abc
import warnings

from .. import _dtype as D
from .._tensor import Tensor
from ..ops._registry import torch_ops

__all__ = ["assert_close", "assert_allclose", "default_tolerances"]

# (rtol, atol) per dtype; any dtype not listed (integers, bool) compares exactly
_DTYPE_PRECISIONS = {
    D.float16: (0.001, 1e-5),
    D.bfloat16: (0.016, 1e-5),
    D.float32: (1.3e-6, 1e-5),
    D.float64: (1e-7, 1e-7),
}
for _name, _tols in (("complex32", (0.001, 1e-5)), ("complex64", (1.3e-6, 1e-5)), ("complex128", (1e-7, 1e-7))):
    if hasattr(D, _name):
        _DTYPE_PRECISIONS[getattr(D, _name)] = _tols

_NUMBER_DTYPES = {int: D.int64, float: D.float64}
if hasattr(D, "complex128"):
    _NUMBER_DTYPES[complex] = D.complex128


class _Failure(Exception):
    """A mismatch found while comparing: the exception type to raise, its message, the item's path."""

    def __init__(self, type, msg, *, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg=None):
        if not isinstance(msg, str):
            text = self.msg
            if self.id:
                text += f"\n\nThe failure occurred for item {''.join(str([item]) for item in self.id)}"
            msg = msg(text) if callable(msg) else text
        return self.type(msg)


class _Unsupported(Exception):
    """This pair kind does not take these inputs: try the next."""


def _type_str(x):
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def default_tolerances(*inputs, dtype_precisions=None):
    """(rtol, atol): the largest of each over the inputs' dtypes."""
    dtypes = []
    for x in inputs:
        if isinstance(x, Tensor):
            dtypes.append(x.dtype)
        elif isinstance(x, D.dtype):
            dtypes.append(x)
        else:
            raise TypeError(f"Expected a torch.Tensor or a torch.dtype, but got {_type_str(x)} instead.")
    precisions = dtype_precisions or _DTYPE_PRECISIONS
    rtols, atols = zip(*[precisions.get(d, (0.0, 0.0)) for d in dtypes])
    return max(rtols), max(atols)


def _tolerances(*inputs, rtol, atol, id=()):
    if (rtol is None) ^ (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                                   f"{'rtol' if rtol is None else 'atol'}.", id=id)
    if rtol is not None:
        return rtol, atol
    return default_tolerances(*inputs)


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0

    def line(kind, diff, idx, tol):
        if idx is None:
            text = f"{kind.title()} difference: {diff}"
        else:
            text = f"Greatest {kind} difference: {diff} at index {idx}"
        return text + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += f"{extra.strip()}\n"
    msg += line("absolute", abs_diff, abs_idx, atol) + line("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual, expected, rtol, atol, identifier="Scalars"):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg(identifier, f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff, None,
                         rtol)


def _unravel(flat_index, shape):
    if not shape:
        return ()
    out = []
    for size in reversed(shape):
        flat_index, mod = divmod(flat_index, size)
        out.append(mod)
    return tuple(reversed(out))


def _tensor_mismatch_msg(actual, expected, matches, rtol, atol):
    total = matches.numel()
    mismatched = total - int(torch_ops.sum(matches))
    extra = f"Mismatched elements: {mismatched} / {total} ({mismatched / total:.1%})"
    a, e, m = actual.flatten(), expected.flatten(), matches.flatten()
    if not actual.dtype.is_floating_point and not actual.dtype.is_complex:
        a, e = a.to(D.int64), e.to(D.int64)
    abs_diff = torch_ops.abs(a - e)
    abs_diff[m] = 0
    max_abs, abs_at = torch_ops.max(abs_diff, 0)
    rel_diff = abs_diff / torch_ops.abs(e)
    rel_diff[m] = 0
    max_rel, rel_at = torch_ops.max(rel_diff, 0)
    shape = tuple(matches.shape)
    return _mismatch_msg("Tensor-likes", extra, max_abs.item(), _unravel(int(abs_at), shape), atol, max_rel.item(),
                         _unravel(int(rel_at), shape), rtol)


class _Pair:
    def __init__(self, actual, expected, id=()):
        self.actual, self.expected, self.id = actual, expected, id

    def fail(self, type, msg):
        raise _Failure(type, msg, id=self.id)


class _NonePair(_Pair):
    def __init__(self, actual, expected, *, id=(), **options):
        if not (actual is None or expected is None):
            raise _Unsupported
        super().__init__(actual, expected, id)

    def compare(self):
        if not (self.actual is None and self.expected is None):
            self.fail(AssertionError, f"None mismatch: {self.actual} is not {self.expected}")


class _BooleanPair(_Pair):
    def __init__(self, actual, expected, *, id=(), **options):
        if not (isinstance(actual, bool) and isinstance(expected, bool)):
            raise _Unsupported
        super().__init__(actual, expected, id)

    def compare(self):
        if self.actual is not self.expected:
            self.fail(AssertionError, f"Booleans mismatch: {self.actual} is not {self.expected}")


class _NumberPair(_Pair):
    def __init__(self, actual, expected, *, id=(), rtol=None, atol=None, equal_nan=False, check_dtype=False,
                 **options):
        kinds = tuple(_NUMBER_DTYPES)
        if not (isinstance(actual, kinds) and isinstance(expected, kinds)) or isinstance(actual, bool) \
                or isinstance(expected, bool):   # a bool against a number: no pair takes it (TypeError)
            raise _Unsupported
        super().__init__(actual, expected, id)
        self.rtol, self.atol = _tolerances(_NUMBER_DTYPES[type(actual)], _NUMBER_DTYPES[type(expected)], rtol=rtol,
                                           atol=atol, id=id)
        self.equal_nan, self.check_dtype = equal_nan, check_dtype

    def compare(self):
        if self.check_dtype and type(self.actual) is not type(self.expected):
            self.fail(AssertionError, f"The (d)types do not match: {type(self.actual)} != {type(self.expected)}.")
        if self.actual == self.expected:
            return
        if self.equal_nan and cmath.isnan(self.actual) and cmath.isnan(self.expected):
            return
        abs_diff = abs(self.actual - self.expected)
        if cmath.isfinite(abs_diff) and abs_diff <= self.atol + self.rtol * abs(self.expected):
            return
        self.fail(AssertionError, _scalar_mismatch_msg(self.actual, self.expected, self.rtol, self.atol))


class _TensorLikePair(_Pair):
    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, **options):
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            raise _Unsupported
        if not allow_subclasses and type(actual) is not type(expected):
            raise _Unsupported
        actual, expected = self._to_tensor(actual), self._to_tensor(expected)
        super().__init__(actual, expected, id)
        self.rtol, self.atol = _tolerances(actual, expected, rtol=rtol, atol=atol, id=id)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_layout, self.check_stride = check_layout, check_stride

    @staticmethod
    def _to_tensor(x):
        if isinstance(x, Tensor):
            return x
        try:
            return torch_ops.as_tensor(x)
        except Exception:
            raise _Unsupported from None

    def compare(self):
        a, e = self.actual, self.expected
        self._compare_attributes(a, e)
        a, e = self._equalize(a, e)
        matches = torch_ops.isclose(a, e, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)
        if bool(torch_ops.all(matches)):
            return
        if tuple(a.shape) == ():
            msg = _scalar_mismatch_msg(a.item(), e.item(), self.rtol, self.atol)
        else:
            msg = _tensor_mismatch_msg(a, e, matches, self.rtol, self.atol)
        self.fail(AssertionError, msg)

    def _compare_attributes(self, a, e):
        def mismatch(name, x, y):
            self.fail(AssertionError, f"The values for attribute '{name}' do not match: {x} != {y}.")
        if a.shape != e.shape:
            mismatch("shape", a.shape, e.shape)
        if a.layout != e.layout:
            if self.check_layout:
                mismatch("layout", a.layout, e.layout)
        elif self.check_stride and a.stride() != e.stride():
            mismatch("stride()", a.stride(), e.stride())
        if self.check_device and a.device != e.device:
            mismatch("device", a.device, e.device)
        if self.check_dtype and a.dtype != e.dtype:
            mismatch("dtype", a.dtype, e.dtype)

    @staticmethod
    def _equalize(a, e):
        if a.device != e.device:
            a, e = a.cpu(), e.cpu()
        if a.dtype != e.dtype:
            common = D.promote_types(a.dtype, e.dtype)
            a, e = a.to(common), e.to(common)
        return a, e


_PAIR_KINDS = (_NonePair, _BooleanPair, _NumberPair, _TensorLikePair)


def _pairs(actual, expected, id, options):
    seq, mapping = collections.abc.Sequence, collections.abc.Mapping
    if isinstance(actual, seq) and not isinstance(actual, str) and isinstance(expected, seq) \
            and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           id=id)
        out = []
        for i in range(len(actual)):
            out.extend(_pairs(actual[i], expected[i], (*id, i), options))
        return out
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        a_keys, e_keys = set(actual.keys()), set(expected.keys())
        if a_keys != e_keys:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(e_keys - a_keys)}\n"
                                           f"Additional keys in the actual mapping: {sorted(a_keys - e_keys)}", id=id)
        try:
            keys = sorted(a_keys)
        except Exception:
            keys = a_keys
        out = []
        for k in keys:
            out.extend(_pairs(actual[k], expected[k], (*id, k), options))
        return out
    for kind in _PAIR_KINDS:
        try:
            return [kind(actual, expected, id=id, **options)]
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {_type_str(actual)} and "
                              f"{_type_str(expected)}.", id=id)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False, check_device=True,
                 check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless actual and expected are close: |actual - expected| <= atol + rtol * |expected|
    element-wise, with equal shapes (and devices, dtypes, layouts unless told not to check them). Without rtol and
    atol, the tolerances of the dtypes involved (float32: 1.3e-6 and 1e-5; integers and bool: exact)."""
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                   check_stride=check_stride)
    try:
        pairs = _pairs(actual, expected, (), options)
    except _Failure as failure:
        raise failure.to_error() from None
    for pair in pairs:
        try:
            pair.compare()
        except _Failure as failure:
            raise failure.to_error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated since PyTorch 1.12: assert_close with its own looser defaults and no dtype check."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. "
                  "Please use `torch.testing.assert_close()` instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = torch_ops.tensor(actual)
    if not isinstance(expected, Tensor):
        expected = torch_ops.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, dtype_precisions={
            D.float16: (1e-3, 1e-3), D.float32: (1e-4, 1e-5), D.float64: (1e-5, 1e-8)})
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)
