"""torch.testing against PyTorch: assert_close (pass/fail at the default tolerances per dtype, the exception type and
the whole message) and make_tensor (the same values from the same seed, PyTorch's argument errors).

Torch-free checks: the default tolerances sit exactly where the documented table puts them.
"""
import pytest

import torch_js
from optional_torch import HAVE_TORCH, needs_torch, torch
from oracle import assert_same
from torch_js.testing import assert_close, make_tensor


def outcome(fn, m):
    """None when fn(m) passes, else (exception type, message)."""
    try:
        fn(m)
    except Exception as e:   # noqa: BLE001  (any exception type is part of the outcome)
        return type(e).__name__, str(e)
    return None


def same_outcome(fn):
    js = outcome(fn, torch_js)
    if HAVE_TORCH:
        assert js == outcome(fn, torch)
    return js


CASES = {
    "equal": lambda m: m.testing.assert_close(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0])),
    "float32 within": lambda m: m.testing.assert_close(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0 + 1e-6])),
    "float32 outside": lambda m: m.testing.assert_close(m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 2.1, 3.0])),
    "float64 2d": lambda m: m.testing.assert_close(m.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=m.float64),
                                                   m.tensor([[1.0, 2.0], [3.5, 0.0]], dtype=m.float64)),
    "half": lambda m: m.testing.assert_close(m.tensor([1.0, 2.0], dtype=m.float16),
                                             m.tensor([1.001, 2.5], dtype=m.float16)),
    "bfloat16": lambda m: m.testing.assert_close(m.tensor([1.0, 2.0], dtype=m.bfloat16),
                                                 m.tensor([1.0, 2.0625], dtype=m.bfloat16)),
    "int exact": lambda m: m.testing.assert_close(m.tensor([1, 2, 3]), m.tensor([1, 2, 4])),
    "bool": lambda m: m.testing.assert_close(m.tensor([True, False]), m.tensor([True, True])),
    "scalar tensor": lambda m: m.testing.assert_close(m.tensor(1.5), m.tensor(1.25)),
    "zero expected": lambda m: m.testing.assert_close(m.tensor([0.0, 1.0]), m.tensor([1e-3, 1.0])),
    "nan": lambda m: m.testing.assert_close(m.tensor([float("nan"), 1.0]), m.tensor([float("nan"), 1.0])),
    "nan equal_nan": lambda m: m.testing.assert_close(m.tensor([float("nan")]), m.tensor([float("nan")]),
                                                      equal_nan=True),
    "inf": lambda m: m.testing.assert_close(m.tensor([float("inf")]), m.tensor([float("inf")])),
    "shape": lambda m: m.testing.assert_close(m.ones(2), m.ones(3)),
    "dtype": lambda m: m.testing.assert_close(m.ones(2), m.ones(2, dtype=m.float64)),
    "dtype unchecked": lambda m: m.testing.assert_close(m.ones(2), m.ones(2, dtype=m.float64) + 1e-7,
                                                        check_dtype=False),
    "stride": lambda m: m.testing.assert_close(m.ones(2, 3).t(), m.ones(3, 2), check_stride=True),
    "tolerances given": lambda m: m.testing.assert_close(m.tensor([1.0]), m.tensor([1.05]), rtol=0.1, atol=0.0),
    "only rtol": lambda m: m.testing.assert_close(m.tensor([1.0]), m.tensor([1.0]), rtol=0.1),
    "zero tolerances": lambda m: m.testing.assert_close(m.tensor([1.0, 2.0]), m.tensor([1.0, 2.5]), rtol=0, atol=0),
    "msg str": lambda m: m.testing.assert_close(m.tensor([1.0]), m.tensor([2.0]), msg="custom"),
    "msg callable": lambda m: m.testing.assert_close(m.tensor([1.0]), m.tensor([2.0]), msg=lambda s: "<" + s + ">"),
    "numbers": lambda m: m.testing.assert_close(1.0, 1.1),
    "numbers close": lambda m: m.testing.assert_close(1.0, 1.0 + 1e-8),
    "ints": lambda m: m.testing.assert_close(3, 4),
    "bools": lambda m: m.testing.assert_close(True, False),
    "none": lambda m: m.testing.assert_close(None, 1.0),
    "tensor vs number": lambda m: m.testing.assert_close(m.ones(1), 1.0),
    "list of tensors": lambda m: m.testing.assert_close([m.ones(2), m.zeros(2)], [m.ones(2), m.ones(2)]),
    "tuple lengths": lambda m: m.testing.assert_close((m.ones(1),), (m.ones(1), m.ones(1))),
    "nested mapping": lambda m: m.testing.assert_close({"a": [1.0, {"b": m.ones(2)}]}, {"a": [1.0, {"b": m.zeros(2)}]}),
    "mapping keys": lambda m: m.testing.assert_close({"a": 1.0, "b": 2.0}, {"a": 1.0, "c": 2.0}),
    "list vs tensor": lambda m: m.testing.assert_close([1.0, 2.0], [1.0, 2.5]),
    "empty": lambda m: m.testing.assert_close(m.ones(0, 3), m.ones(0, 3)),
}


@needs_torch
@pytest.mark.parametrize("case", list(CASES))
def test_assert_close_like_pytorch(case):
    same_outcome(CASES[case])


def test_default_tolerances_per_dtype():
    # |a - e| <= atol + rtol * |e|, with (rtol, atol) = float32 (1.3e-6, 1e-5), float64 (1e-7, 1e-7)
    e = torch_js.tensor([100.0], dtype=torch_js.float64)
    assert_close(e + (1e-7 + 1e-5) * 0.99, e)
    with pytest.raises(AssertionError, match="Tensor-likes are not close!"):
        assert_close(e + (1e-7 + 1e-5) * 1.01, e)
    f = torch_js.tensor([0.0, 4.0])
    with pytest.raises(AssertionError) as info:
        assert_close(f + torch_js.tensor([0.0, 1e-3]), f)
    assert "Mismatched elements: 1 / 2 (50.0%)" in str(info.value)
    assert "at index (1,) (up to 1e-05 allowed)" in str(info.value)
    with pytest.raises(AssertionError, match="are not equal"):
        assert_close(torch_js.tensor([1, 2]), torch_js.tensor([1, 3]))
    with pytest.raises(AssertionError, match=r"The failure occurred for item \[1\]\['x'\]"):
        assert_close([0, {"x": 1.0}], [0, {"x": 2.0}])


MAKE = {
    "float32": lambda m: m.testing.make_tensor(3, 4, dtype=m.float32, device="cpu"),
    "float64 bounds": lambda m: m.testing.make_tensor((2, 3), dtype=m.float64, device="cpu", low=-1, high=1),
    "float16": lambda m: m.testing.make_tensor([5], dtype=m.float16, device="cpu"),
    "bfloat16": lambda m: m.testing.make_tensor(5, dtype=m.bfloat16, device="cpu", low=0.5),
    "huge range": lambda m: m.testing.make_tensor(4, dtype=m.float32, device="cpu", low=-3e38, high=3e38),
    "int64": lambda m: m.testing.make_tensor(6, dtype=m.int64, device="cpu"),
    "uint8 clamp": lambda m: m.testing.make_tensor(6, dtype=m.uint8, device="cpu", low=-5, high=300),
    "int8 frac": lambda m: m.testing.make_tensor(6, dtype=m.int8, device="cpu", low=-2.5, high=3.2),
    "bool": lambda m: m.testing.make_tensor(2, 3, dtype=m.bool, device="cpu"),
    "noncontiguous": lambda m: m.testing.make_tensor(2, 3, dtype=m.float32, device="cpu", noncontiguous=True),
    "exclude zero": lambda m: m.testing.make_tensor(20, dtype=m.int32, device="cpu", low=-1, high=2,
                                                    exclude_zero=True),
    "requires grad": lambda m: m.testing.make_tensor(2, dtype=m.float64, device="cpu", requires_grad=True),
}


@needs_torch
@pytest.mark.parametrize("case", list(MAKE))
def test_make_tensor_like_pytorch(case):
    torch_js.manual_seed(7)
    torch.manual_seed(7)
    js, pt = MAKE[case](torch_js), MAKE[case](torch)
    assert_same(js, pt, check_stride=True)
    assert js.requires_grad == pt.requires_grad and js.is_contiguous() == pt.is_contiguous()


@pytest.mark.parametrize("kwargs", [dict(low=2, high=1), dict(low=float("nan")), dict(dtype="int", requires_grad=True),
                                    dict(noncontiguous=True, memory_format="torch.contiguous_format"),
                                    dict(dtype="uint8", low=300, high=400)])
def test_make_tensor_errors(kwargs):
    def run(m):
        kw = dict(kwargs)
        kw["dtype"] = {"int": m.int64, "uint8": m.uint8}.get(kw.get("dtype"), m.float32)
        if kw.get("memory_format"):
            kw["memory_format"] = m.contiguous_format
        return m.testing.make_tensor(3, device="cpu", **kw)
    result = same_outcome(run)
    assert result is not None and result[0] == "ValueError"


def test_make_tensor_ranges():
    torch_js.manual_seed(0)
    t = make_tensor(1000, dtype=torch_js.float32, device="cpu", low=-2, high=3)
    assert t.min().item() >= -2 and t.max().item() < 3
    i = make_tensor(1000, dtype=torch_js.int16, device="cpu")
    assert set(i.tolist()) == set(range(-9, 10))
    nz = make_tensor(200, dtype=torch_js.float32, device="cpu", low=0, high=1e-30, exclude_zero=True)
    assert bool((nz != 0).all())
