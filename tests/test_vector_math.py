"""float32 exp, exp2, expm1, log, log2, log10, log1p, tanh, erf, sin, cos and the activations on them (sigmoid, silu,
gelu in both approximations, softplus, logsigmoid, mish, elu, selu): the vectorised kernels of wasm_ext/vec_math.h swept over many float32 inputs (special values, the range-reduction and interval
boundaries with their neighbours, random values over every binade) with a bound in ulps against the float64
result. The reference is Python's math module, so the sweep runs in Pyodide too (the wasm kernels); under CPython
the same sweep also runs against live torch's float64 ops, and special values against torch's float32 ones.
Results must not depend on the layout: strided, transposed and odd-length inputs give the contiguous bits."""
import math
import os
import random
import struct
import subprocess
import sys

import pytest

import torch_js as tj
from optional_torch import needs_torch, torch

INF, NAN = math.inf, math.nan
FLT_MAX = 3.4028234663852886e38
FLT_MAX_ROUND = 3.4028235677973366e38   # the least value rounding to inf in float32


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def next_f32(v, steps):
    """the float32 `steps` representable values above v (below for negative steps); v a float32, finite"""
    bits = struct.unpack("<i", struct.pack("<f", v))[0]
    bits = bits + steps if bits >= 0 else bits - steps   # sign-magnitude: for negatives larger bits go down
    if bits < 0 and v >= 0:   # walked below +0
        bits = (0x80000000 | -bits) - (1 << 32)
    return struct.unpack("<f", struct.pack("<i", bits))[0]


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _gelu_tanh(x):
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    return x * _sigmoid(2 * u)   # 0.5 x (1 + tanh u), without cancellation


def _guard(fn, x):
    """fn(x) as C's libm would give it, for the values Python's math refuses"""
    try:
        return fn(x)
    except OverflowError:
        return INF
    except ValueError:   # log of 0 or negative
        return -INF if x == 0 or (fn is math.log1p and x == -1) else NAN


def _ln2_multiples():
    out = []
    for k in range(-150, 129):   # exp's reduction intervals: (k +- 1/2) ln2
        out += [(k + 0.5) * math.log(2), (k - 0.5) * math.log(2), k * math.log(2)]
    return out


def _pio2_multiples():
    """sin and cos: the float32 values nearest multiples of pi/2 (where the reduced argument cancels most), the
    quadrant boundaries, and the two sides of 6000 (libm beyond)"""
    out = [6000.0, 6000.5, 1e4, 1e6, 3e38]
    for k in list(range(1, 40)) + list(range(40, 3820, 97)):
        out += [k * math.pi / 2, (k + 0.5) * math.pi / 2]
    return out


def _erf_rows(top):
    """erf's, gelu's and tanh's table steps (vec_math.h: |x| rounds to a multiple of 1/128): the points halfway
    between rows, where the rounding flips and |d| is largest, every 1/16 up to the last row `top`, and around it"""
    return [(k + 0.5) / 128 for k in range(0, int(top * 128), 8)] + [top + 0.5 / 128, top, 1 / 256, 1e-3]


# name: (torch_js fn, float64 reference, ulp bound, extra ulps allowed for input conditioning (|x| -> ulps),
#        boundaries of the kernel's intervals)
FUNCS = {
    "exp": (tj.exp, math.exp, 2, None, [88.72283935546875, 88.7228, -87.33654, -103.97208, -103.2789, 89, -104]),
    "expm1": (tj.expm1, math.expm1, 2, None, [16.6355, 17.3287, -16.6355, -17.3287, 1e-8, 88.72283935546875]),
    "log": (tj.log, math.log, 2, None, [0.70710677, 1.4142135, 1.17549435e-38, 1, 2, 0.5]),
    "log1p": (tj.log1p, math.log1p, 2, None, [-0.29289322, 0.41421356, 5.96e-8, -1, -0.999999]),
    "tanh": (tj.tanh, math.tanh, 3, None, _erf_rows(9.25) + [9.011, 44.4]),
    "erf": (tj.erf, math.erf, 3, None, _erf_rows(4) + [3.8325]),
    "sin": (tj.sin, math.sin, 3, None, _pio2_multiples()),
    "cos": (tj.cos, math.cos, 3, None, _pio2_multiples()),
    "exp2": (tj.exp2, lambda x: 2.0 ** x, 2, None, [128, 127.99, -126, -149, -150, -151, 0.5, -0.5]),
    "log2": (tj.log2, math.log2, 2, None, [0.70710677, 1.4142135, 1.17549435e-38, 1, 2, 0.5, 1024]),
    "log10": (tj.log10, math.log10, 3, None, [0.70710677, 1.4142135, 1.17549435e-38, 1, 10, 1e-5]),
    "softplus": (tj.nn.functional.softplus, lambda x: x if x > 20 else math.log1p(math.exp(x)), 3, None, [20, -20]),
    "logsigmoid": (tj.nn.functional.logsigmoid, lambda x: min(x, 0) - math.log1p(math.exp(-abs(x))), 3, None,
                   [-88.7228, -103.97, 16.6]),
    "mish": (tj.nn.functional.mish, lambda x: x if x > 50 else x * math.tanh(math.log1p(math.exp(x))), 4, None,
             [-88.7228, -103.97, 0.625, -0.625] + _erf_rows(9.25)),
    "elu": (tj.nn.functional.elu, lambda x: x if x > 0 else math.expm1(x), 2, None, [16.6355, -16.6355, -17.3287]),
    "selu": (tj.nn.functional.selu,
             lambda x: 1.0507009873554804934 * (x if x > 0 else 1.6732632423543772848 * math.expm1(x)), 3, None,
             [16.6355, -16.6355, -17.3287]),
    "sigmoid": (tj.sigmoid, _sigmoid, 3, None, [-88.7228, 88.7228, -103.97, 16.6]),
    "silu": (tj.nn.functional.silu, lambda x: x * _sigmoid(x), 3, None, [-88.7228, -103.97, 16.6]),
    # gelu: x Q(-x) from the normal tail's own table in x (vec_math.h), no rounded x / sqrt(2) whose error the
    # tail would multiply by x^2: the bound holds down to the table's end (x = -12.754)
    "gelu": (tj.nn.functional.gelu, lambda x: x * 0.5 * math.erfc(-x / math.sqrt(2)), 3, None,
             [s * b for b in _erf_rows(12.75) for s in (1, -1)]),
    "gelu_tanh": (lambda x: tj.nn.functional.gelu(x, approximate="tanh"), _gelu_tanh, 4,
                  lambda a: 5 * (a + 0.044715 * a ** 3), [-9.5, -4.9, 0.625]),
}
# below this |reference| only an absolute error is checked: gelu's tail under x = -12.754 (past its table, -2e-36)
# is 0, gelu_tanh's under -9 stops where e^{-2u} overflows; mish's results below 2e-36
# (x < -80) are x tanh(log1p(e^x)) of a subnormal e^x, PyTorch's formula, with that factor's few bits
ABS_FLOOR = {"gelu": 4e-36, "gelu_tanh": 1e-30, "mish": 2e-36}

SPECIALS = [f32(v) for v in (0.0, -0.0, INF, -INF, NAN, FLT_MAX, -FLT_MAX, 1.17549435e-38, -1.17549435e-38,
                              1e-45, -1e-45, 5.877472e-39, -5.877472e-39, 1.0, -1.0)]


def sweep_inputs(boundaries, seed=0):
    rng = random.Random(seed)
    vals = list(SPECIALS)
    for b in [f32(v) for v in boundaries + _ln2_multiples()[::7]]:
        for s in (1, -1):
            vals += [next_f32(s * b, k) for k in (-2, -1, 0, 1, 2)]
    for _ in range(6000):   # every binade
        vals.append(f32(rng.choice((1, -1)) * 2.0 ** rng.uniform(-149, 128)))
    for _ in range(6000):   # where the functions bend
        vals.append(f32(rng.uniform(-12, 12)))
    for _ in range(2000):
        vals.append(f32(rng.uniform(-110, 90)))
    return vals


def ulp_error(got, ref):
    """|got - ref| in float32 ulps of ref; 0 for equal specials, inf for a wrong special"""
    if math.isnan(ref) or math.isnan(got):
        return 0.0 if math.isnan(ref) and math.isnan(got) else INF
    if abs(ref) >= FLT_MAX_ROUND:
        return 0.0 if got == math.copysign(INF, ref) else INF
    if math.isinf(got):
        return INF
    if ref == 0 or got == 0:
        if got == ref == 0 and math.copysign(1, got) != math.copysign(1, ref):
            return INF   # the sign of a zero
    e = math.frexp(ref)[1] if ref != 0 else -149
    return abs(got - ref) / 2.0 ** max(e - 24, -149)


def _run(fn, values):
    return fn(tj.tensor(values, dtype=tj.float32)).tolist()


def _check_ulps(name, values, got, ref):
    _, _, bound, conditioning, _ = FUNCS[name]
    floor = ABS_FLOOR.get(name, 0.0)
    bad = []
    for x, g, r in zip(values, got, ref):
        allowed = bound + (conditioning(abs(x)) if conditioning and math.isfinite(x) else 0)
        err = ulp_error(g, r)
        if err > allowed and not (abs(r) < floor and abs(g - r) <= floor):
            bad.append((x, g, r, err))
    assert not bad, f"{name}: {len(bad)}/{len(values)} beyond {bound} ulp, e.g. (x, got, ref, ulps) {bad[:4]}"


def _torch_fn(name):
    if name == "gelu_tanh":
        return lambda x: torch.nn.functional.gelu(x, approximate="tanh")
    return getattr(torch.nn.functional, name, None) or getattr(torch, name)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_ulps_against_float64_math(name):
    fn, ref_fn, _, _, boundaries = FUNCS[name]
    values = sweep_inputs(boundaries)
    _check_ulps(name, values, _run(fn, values), [_guard(ref_fn, x) for x in values])


@needs_torch
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_ulps_against_torch_float64(name):
    fn, _, _, _, boundaries = FUNCS[name]
    tfn = _torch_fn(name)
    values = sweep_inputs(boundaries, seed=1)
    ref = tfn(torch.tensor(values, dtype=torch.float64)).tolist()
    if name == "gelu_tanh":   # torch's float64 0.5 x (1 + tanh u) cancels in the tail: compare above it only
        ref = [r if x > -3 else _gelu_tanh(x) for x, r in zip(values, ref)]
    if name == "gelu":
        ref = [r if x > -3 else _guard(FUNCS["gelu"][1], x) for x, r in zip(values, ref)]
    _check_ulps(name, values, _run(fn, values), ref)


@needs_torch
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_special_values_as_torch(name):
    """inf, -inf, NaN, +-0 and the float32 extremes give PyTorch's float32 results (NaN where it has NaN, the same
    infinities and signed zeros), except where PyTorch's own float32 kernel is off by more than rounding."""
    fn = FUNCS[name][0]
    tfn = _torch_fn(name)
    values = [v for v in SPECIALS if abs(v) > 1e-30 or v == 0]
    # PyTorch's vectorised erf makes gelu(inf) NaN and gelu(FLT_MAX) inf; the exact values are inf and FLT_MAX
    if name == "gelu":
        values = [v for v in values if not (v > 0 and (math.isinf(v) or v == FLT_MAX))]
    got = _run(fn, values)
    want = tfn(torch.tensor(values, dtype=torch.float32)).tolist()
    for x, g, w in zip(values, got, want):
        if math.isfinite(w) and abs(w) not in (0.0, 1.0) and g != 0:   # an ordinary value (log(FLT_MAX), exp(1))
            assert g == pytest.approx(w, rel=3e-7), f"{name}({x}) = {g}, torch {w}"
            continue
        if name == "gelu" and w == 0:
            # PyTorch's gelu of -0 or of a large negative x is -0 (x·Φ(x)) on its scalar path and +0 on its vector
            # path, which an 8-element tensor takes with AVX2 but not with AVX-512: the sign depends on the host
            assert g == 0, f"{name}({x}) = {g}, torch {w}"
            continue
        assert (math.isnan(g) and math.isnan(w)) or (g == w and math.copysign(1, g) == math.copysign(1, w)), \
            f"{name}({x}) = {g}, torch {w}"


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_layout_does_not_change_results(name):
    """contiguous rows, their odd tails, strided and transposed views all give the same bits"""
    fn = FUNCS[name][0]
    rng = random.Random(2)
    values = [f32(rng.uniform(-20, 20)) for _ in range(7 * 13)] + [INF, -INF, NAN, -0.0, 0.0]
    base = tj.tensor(values, dtype=tj.float32)
    want = [struct.pack("f", v) for v in fn(base).tolist()]

    def bits(t):
        return [struct.pack("f", v) for v in t.flatten().tolist()]

    wide = tj.zeros(2 * len(values), dtype=tj.float32)
    wide[::2] = base
    assert bits(fn(wide[::2])) == want                                   # stride 2
    for n in (1, 3, 5, 9, 17):                                           # short rows and tails
        assert bits(fn(base[:n])) == want[:n]
    grid = base[:91].reshape(7, 13)
    assert bits(fn(grid.t()).t().contiguous()) == want[:91]              # transposed (inner stride 13)
    assert bits(fn(grid[:, 1:12])) == [w for i, w in enumerate(want[:91]) if 0 < i % 13 < 12]   # row offsets


@pytest.mark.parametrize("flag,header", [("--erf-table", "vec_erf_table.h"), ("--tanh-table", "vec_tanh_table.h")])
def test_tables_are_what_the_fit_script_writes(flag, header):
    """erf's, gelu's and tanh's tables (wasm_ext/vec_*_table.h) are tools/fit_vec_math.py's output, not edited"""
    pytest.importorskip("mpmath")
    if sys.platform == "emscripten":
        pytest.skip("no subprocess in Pyodide")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    written = subprocess.run([sys.executable, os.path.join(root, "tools", "fit_vec_math.py"), flag],
                             capture_output=True, text=True, check=True).stdout
    with open(os.path.join(root, "wasm_ext", header)) as f:
        assert written == f.read(), f"wasm_ext/{header} differs from tools/fit_vec_math.py {flag}: regenerate it"
