"""torch.testing.make_tensor: a random tensor for tests, drawing from the generator exactly as PyTorch does (so a seeded
call gives PyTorch's values): uniform_ over [low, high) for floating dtypes, randint for integers and bool."""
import collections.abc
import functools
import math
import warnings

from .. import _dtype as D
from ..ops._registry import torch_ops

__all__ = ["make_tensor"]

_INTEGRAL = [D.uint8, D.int8, D.int16, D.int32, D.int64]
_FLOATING = [D.float16, D.bfloat16, D.float32, D.float64]
_BOOL_OR_INTEGRAL = [D.bool_, *_INTEGRAL]


def _uniform_random_(t, low, high):
    # a range wider than the dtype's max would overflow high - low: draw half of it and double
    if high - low >= D.finfo(t.dtype).max:
        return t.uniform_(low / 2, high / 2).mul_(2)
    return t.uniform_(low, high)


def _low_high(low, high, dtype, *, lowest_inclusive, highest_exclusive, default_low, default_high):
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype in _FLOATING:
        warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is deprecated "
                      "since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.", FutureWarning,
                      stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest_inclusive or low >= highest_exclusive:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest_inclusive}, {highest_exclusive})")
    low = min(max(low, lowest_inclusive), highest_exclusive)
    high = min(max(high, lowest_inclusive), highest_exclusive)
    if dtype in _BOOL_OR_INTEGRAL:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of `shape` with values drawn uniformly from [low, high): floating dtypes default to [-9, 9),
    integers to [-9, 10) (clamped to the dtype's range), bool to {False, True}. noncontiguous: every other element of
    a twice-as-wide last dimension; exclude_zero: zeros become 1 (integers) or the dtype's smallest normal."""
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and dtype in _BOOL_OR_INTEGRAL:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and functools.reduce(lambda x, y: x * y, shape, 1) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype is D.bool_:
        low, high = _low_high(low, high, dtype, lowest_inclusive=0, highest_exclusive=2, default_low=0,
                              default_high=2)
        result = torch_ops.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _INTEGRAL:
        info = D.iinfo(dtype)
        low, high = _low_high(low, high, dtype, lowest_inclusive=info.min,
                              highest_exclusive=info.max + (1 if dtype is not D.int64 else 0), default_low=-9,
                              default_high=10)
        result = torch_ops.randint(low, high, shape, device=device, dtype=dtype)
    elif dtype in _FLOATING:
        info = D.finfo(dtype)
        low, high = _low_high(low, high, dtype, lowest_inclusive=info.min, highest_exclusive=info.max,
                              default_low=-9, default_high=9)
        result = _uniform_random_(torch_ops.empty(shape, device=device, dtype=dtype), low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). To request "
                        "support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if dtype in _BOOL_OR_INTEGRAL else D.finfo(dtype).tiny
    if dtype in _FLOATING:
        result.requires_grad = requires_grad
    return result
