"""int64 on the webgpu device against the CPU backend: WGSL has no 64-bit integers, so the kernels compute on the two
storage words (js_bridge/webgpu/kernels/int64.mjs). Values around +-2**31, 2**40, 2**62 and the int64 limits, through
every integer op code of the elementwise primitives, the tensor API (scalars, int32 / bool mixes, broadcasting,
in-place), reductions (one- and two-pass), scans, matmul, pooling, accumulating puts and casts to float.

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`); skips elsewhere (see tests/test_webgpu.py).
"""
import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
import torch_js as torch
from torch_js.backends.cpu import library as _native
from torch_js.backends.cpu import BACKEND as CPU_BE
from torch_js.backends.webgpu import BACKEND as GPU_BE
from torch_js._tensor import _empty

GPU = "webgpu"
BIG = [0, 1, -1, 7, -9, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32 + 3, 2**40, -2**40 + 12345, 2**62, -2**62,
       2**63 - 1, -2**63, 123456789012345, -98765432109]
NONZERO = [v for v in BIG if v != 0]
SHIFTS = [0, 1, 5, 31, 32, 33, 40, 62, 63, 64, 100, -1, 2**32 + 1]
BOOL_OUT = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "isnan", "isinf",
            "isfinite", "isposinf", "isneginf", "signbit", "logical_not"}


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


def same(cpu, gpu, what=""):
    """gpu (a webgpu tensor) equals cpu (a CPU tensor) exactly, in dtype, shape and values."""
    assert gpu.device.type == GPU, what
    g = gpu.cpu()
    assert g.dtype == cpu.dtype, f"{what}: dtype {g.dtype} != {cpu.dtype}"
    assert tuple(g.shape) == tuple(cpu.shape), what
    assert g.tolist() == cpu.tolist(), what


def both(fn, *tensors):
    """fn on the CPU tensors and on their webgpu copies, compared exactly."""
    same(fn(*tensors), fn(*[t.to(GPU) for t in tensors]))


def big(values=BIG, dtype=torch.int64):
    return torch.tensor(values, dtype=dtype)


# ---- every op code of the primitives ---------------------------------------------------------------------------

def _prim(be, dev, fam, op, ins, out_dtype, *params):
    ins = [t.to(dev) for t in ins]
    out = _empty(ins[0]._shape, out_dtype, torch.device(dev))
    if fam == "unary":
        be.unary(op, out, ins[0], *params)
    else:   # a as a column, b as a row: every pair
        be.binary(op, out, ins[0], ins[0]._stride, ins[1], ins[1]._stride, *params)
    return out


@pytest.mark.parametrize("op", sorted(_native.BINARY_OPS))
def test_binary_op_codes(op):
    n = len(BIG)
    rhs = SHIFTS if op in ("lshift", "rshift") else [0, 1, 2, 3, 5, 31, 62, 63, 64] if op == "pow" else \
        NONZERO if op in ("floor_divide", "remainder", "fmod", "trunc_divide") else BIG
    a = big().reshape(n, 1).expand(n, len(rhs))
    b = big(rhs).reshape(1, len(rhs)).expand(n, len(rhs))
    od = torch.bool if op in BOOL_OUT else torch.int64
    for alpha in ((1.0, 3.0, -2.0**33) if op in ("add", "sub") else (1.0,)):
        try:
            c = _prim(CPU_BE, "cpu", "binary", op, (a, b), od, alpha)
        except RuntimeError:   # no integer kernel on CPU either (float-only ops)
            with pytest.raises(TypeError):
                _prim(GPU_BE, GPU, "binary", op, (a, b), od, alpha)
            return
        same(c, _prim(GPU_BE, GPU, "binary", op, (a, b), od, alpha), f"{op} alpha={alpha}")


@pytest.mark.parametrize("op", sorted(_native.UNARY_OPS))
def test_unary_op_codes(op):
    x = big().reshape(3, 6)
    params = {"clamp": (-2.0**40, 2.0**62, 0.0), "hardtanh": (-2.0**31, 2.0**32, 0.0),
              "pow_scalar": (3.0, 0.0, 0.0)}.get(op, (0.0, 0.0, 0.0))
    od = torch.bool if op in BOOL_OUT else torch.int64
    try:
        c = _prim(CPU_BE, "cpu", "unary", op, (x,), od, *params)
    except RuntimeError:
        return   # no integer kernel on CPU either
    same(c, _prim(GPU_BE, GPU, "unary", op, (x,), od, *params), op)


# ---- the tensor API: scalars, mixed dtypes, broadcasting, in-place ---------------------------------------------

def test_the_reported_cases():
    x = torch.zeros(3, dtype=torch.int64, device=GPU)
    assert (x + 2**40).tolist() == [2**40] * 3
    assert (x + 2**31).tolist() == [2**31] * 3
    z = torch.tensor([2**40] * 3, device=GPU)
    assert (z * 1).tolist() == [2**40] * 3


@pytest.mark.parametrize("fn", [
    lambda x, y: x + 2**40, lambda x, y: 2**40 - x, lambda x, y: x * 2**33 - 5, lambda x, y: x // 3,
    lambda x, y: x % 1000003, lambda x, y: -x, lambda x, y: abs(x), lambda x, y: x * x + y,
    lambda x, y: torch.add(x, y, alpha=2**35), lambda x, y: torch.sub(x, y, alpha=-7),
    lambda x, y: torch.div(x, 7, rounding_mode="trunc"), lambda x, y: torch.div(x, -7, rounding_mode="floor"),
    lambda x, y: x.clamp(-2**40, 2**45), lambda x, y: x.clamp(min=2**31), lambda x, y: torch.maximum(x, y),
    lambda x, y: torch.minimum(x, y), lambda x, y: (x < y) | (x == 2**40), lambda x, y: x >= 2**31,
    lambda x, y: torch.where(x > y, x, y), lambda x, y: x & y, lambda x, y: x ^ ~y, lambda x, y: x >> 35,
    lambda x, y: x << 20, lambda x, y: x.sign(), lambda x, y: x ** 2, lambda x, y: torch.logical_not(x),
    lambda x, y: x.to(torch.float32), lambda x, y: (x * 3).to(torch.int32), lambda x, y: x.bool(),
])
def test_tensor_ops(fn):
    x = big()
    y = big(list(reversed(BIG)))
    both(fn, x, y)


def test_mixed_with_int32_bool_and_broadcasting():
    x = big().reshape(3, 6)
    i32 = torch.tensor([2**31 - 1, -2**31, 5, -3, 0, 77], dtype=torch.int32)
    bl = torch.tensor([True, False, True, True, False, False])
    both(lambda a, b, c: a + b, x, i32, bl)                  # int32 promoted to int64
    both(lambda a, b, c: a * b + c, x, i32, bl)
    both(lambda a, b, c: b.reshape(6, 1) * a.reshape(1, 18) + c.reshape(6, 1), x, i32, bl)
    both(lambda a, b, c: (b + 2**31).sum(), x, i32, bl)      # int32 + int: stays int32 (wraps)
    both(lambda a, b, c: b.to(torch.int64) * 2**31, x, i32, bl)


def test_in_place():
    for fn in (lambda x, y: x.add_(2**40), lambda x, y: x.mul_(y), lambda x, y: x.sub_(y, alpha=3),
               lambda x, y: x.clamp_(-2**35, 2**35), lambda x, y: x.floor_divide_(7), lambda x, y: x.neg_(),
               lambda x, y: x.bitwise_or_(y), lambda x, y: x[2:8].add_(y[:6])):
        c, g = big(), big().to(GPU)
        y = big(list(reversed(BIG)))
        fn(c, y)
        fn(g, y.to(GPU))
        same(c, g)


def test_cast_to_float_rounds_once():
    # the low word alone would round twice: 2**40 + 2**31 + 65537 must round up, to ... + 2**17
    vals = [2**40 + 2**31 + 65537, -(2**40 + 2**31 + 65537), 2**31 + 1, 2**32 - 1, 3 * 2**60 + 2**36 + 1, -2**63,
            2**63 - 1, 16777217, -16777217]
    both(lambda x: x.to(torch.float32), big(vals))
    both(lambda x: x.to(torch.float16), big(vals[-2:]))


# ---- reductions, scans, matmul, pooling, puts ------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: x.sum(), lambda x: x.sum(1), lambda x: x.sum(0), lambda x: x.prod(1), lambda x: x.max(),
    lambda x: x.min(), lambda x: x.amax(0), lambda x: x.argmax(), lambda x: x.argmin(1), lambda x: x.max(1)[0],
    lambda x: x.max(1)[1], lambda x: x.min(0)[0], lambda x: x.cumsum(1), lambda x: x.cumprod(0),
    lambda x: x.cumsum(0), lambda x: (x > 2**31).sum(), lambda x: x.count_nonzero(),
])
def test_reductions(fn):
    both(fn, big().reshape(3, 6))


def test_long_reductions_two_pass():
    # 40000 elements: the split (two-pass) reduction, its partials int64
    x = torch.arange(40000, dtype=torch.int64) * (2**31 + 7) - 2**40
    both(lambda t: t.sum(), x)
    both(lambda t: t.max(), x)
    both(lambda t: t.min(), x)
    both(lambda t: torch.count_nonzero(t > 0), x)           # int32 partial counts, their sum into int64
    # an int32 sum is int64 (PyTorch): no wrap at 2**31
    i32 = torch.full((40000,), 2**31 - 1, dtype=torch.int32)
    both(lambda t: t.sum(), i32)
    both(lambda t: t.reshape(200, 200).sum(1), i32)
    both(lambda t: t[:50].cumsum(0), i32)


def test_matmul():
    a = big().reshape(3, 6)
    b = (torch.arange(12, dtype=torch.int64) * 2**29 - 2**31).reshape(6, 2)
    both(lambda x, y: x @ y, a, b)
    both(lambda x, y: torch.bmm(x.reshape(1, 3, 6), y.reshape(1, 6, 2)), a, b)


def test_pooling():
    x = (torch.arange(32, dtype=torch.int64) * (2**36 + 3) - 2**40).reshape(1, 2, 4, 4)
    both(lambda t: torch.nn.functional.max_pool2d(t, 2), x)
    both(lambda t: torch.nn.functional.avg_pool2d(t, 2), x)


def test_accumulating_puts_carry_into_the_high_word():
    idx = torch.tensor([0, 1, 0, 2, 0, 1])
    src = big([2**32 - 1, 2**40, 2**32 - 1, -5, 2**63 - 1, -2**40 - 1])
    both(lambda s, i: torch.full((3,), 2**32 - 1, device=s.device).index_add_(0, i, s), src, idx)
    both(lambda s, i: torch.zeros(3, dtype=torch.int64, device=s.device).index_put_((i,), s, accumulate=True), src, idx)
    both(lambda s, i: torch.zeros(3, dtype=torch.int64, device=s.device).scatter_add_(0, i, s), src, idx)
