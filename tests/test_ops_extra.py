"""Sorting/selection ops (ops/sorting.py, wasm_ext/sort.c), index_copy, and the composite ops of ops/matrix_shape.py, repeat.py,
joining.py, pointwise_composites.py, calculus.py and histogram.py.

Tests written as `fn(T)` run with T=torch_js and, where torch is importable, with T=torch, and the results are
compared (values, dtypes, shapes, and the index order among ties, which the sort kernel reproduces from
ATen's algorithms). Inputs come from a small LCG so both libraries see the same data. Tests marked
`needs_torch` only compare; the others also pin expected values and run in Pyodide.
"""
import math

import pytest

import torch_js
from oracle import assert_same

try:
    import torch
except ImportError:  # Pyodide
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares against torch (not importable here)")


def both(fn, rtol=0.0, atol=0.0):
    js = fn(torch_js)
    if torch is not None:
        assert_same(js, fn(torch), rtol=rtol, atol=atol)
    return js


def lcg(n, lo, hi, seed=1):
    out, s = [], seed
    for _ in range(n):
        s = (s * 1103515245 + 12345) % (1 << 31)
        out.append(lo + s % (hi - lo))
    return out


def grads(T, fn, x, upstream_seed=7):
    """Gradient of sum(fn(x) * u) w.r.t. x for a float64 leaf x (u from the LCG)."""
    x = x.clone().requires_grad_(True)
    y = fn(x)
    y = y[0] if isinstance(y, tuple) else y
    u = T.tensor([v / 7.0 for v in lcg(y.numel(), -7, 8, upstream_seed)], dtype=T.float64).reshape(y.shape)
    (g,) = T.autograd.grad((y * u).sum(), x)
    return g


# ---- sort / topk / kthvalue / mode / median: tie order --------------------------------------------------------

@pytest.mark.parametrize("n", [5, 16, 17, 40, 300])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int8", "uint8", "float64", "float16"])
def test_sort_ties_and_nan(n, dtype):
    def f(T):
        x = T.tensor(lcg(3 * n, 0, 4, n), dtype=getattr(T, dtype)).reshape(3, n)
        if x.is_floating_point():
            x[0, ::5] = float("nan")
        res = []
        for desc in (False, True):
            for stable in (False, True):
                res += list(T.sort(x, descending=desc, stable=stable))
            res.append(T.argsort(x, dim=0, descending=desc))
        return res
    both(f)


def test_sort_pinned():
    x = torch_js.tensor([3.0, float("nan"), 1.0, 3.0, -1.0])
    v, i = torch_js.sort(x)
    assert i.tolist() == [4, 2, 0, 3, 1]
    v, i = torch_js.sort(x, descending=True, stable=True)
    assert i.tolist() == [1, 0, 3, 2, 4]
    assert torch_js.sort(torch_js.tensor(2.0)).indices.tolist() == 0
    assert torch_js.sort(torch_js.tensor([], dtype=torch_js.int64)).values.shape == (0,)
    r = torch_js.sort(torch_js.tensor([[2, 1], [0, 5]]), dim=0)
    assert r.values.tolist() == [[0, 1], [2, 5]] and r.indices.tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize("n", [5, 10, 64, 200])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int16"])
def test_topk_ties(n, dtype):
    def f(T):
        x = T.tensor(lcg(4 * n, -3, 4, n + 1), dtype=getattr(T, dtype)).reshape(4, n)
        res = []
        for k in sorted({1, 2, 3, n // 2, n}):
            for largest in (True, False):
                for srt in (True, False):
                    res += list(T.topk(x, k, largest=largest, sorted=srt))
        res += list(T.topk(x, 2, dim=0))
        return res
    both(f)


@pytest.mark.parametrize("n", [3, 7, 40])
def test_kthvalue_mode_median_ties(n):
    def f(T):
        x = T.tensor(lcg(5 * n, 0, 5, n + 2), dtype=T.float32).reshape(5, n)
        x[1, 1] = float("nan")
        res = []
        for k in sorted({1, 2, n // 2 + 1, n}):
            res += list(T.kthvalue(x, k))
        res += list(T.kthvalue(x, 2, dim=0, keepdim=True))
        res += list(T.mode(x)) + list(T.mode(x, 0, keepdim=True))
        res += list(T.median(x, 1)) + list(T.nanmedian(x, 1)) + list(T.median(x, 0, True))
        res += [T.median(x), T.nanmedian(x), T.median(x[2:])]
        xi = T.tensor(lcg(5 * n, 0, 3, n + 3)).reshape(5, n)
        res += list(T.mode(xi, 1)) + list(T.median(xi, 1)) + list(T.kthvalue(xi, 1, 1))
        return res
    both(f)


def test_median_pinned():
    x = torch_js.tensor([[1.0, 5.0, 2.0, 2.0], [float("nan"), 1.0, float("nan"), 0.0]])
    v, i = torch_js.median(x, 1)
    assert v.tolist()[0] == 2.0 and i.tolist()[0] == 2 and math.isnan(v.tolist()[1]) and i.tolist()[1] == 0
    v, i = torch_js.nanmedian(x, 1)
    assert v.tolist() == [2.0, 0.0] and i.tolist() == [2, 3]
    assert torch_js.median(torch_js.tensor([4, 1, 3, 2])).item() == 2


def test_errors():
    x = torch_js.ones(2, 2)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        torch_js.topk(x, 3)
    with pytest.raises(RuntimeError, match="kthvalue"):
        torch_js.kthvalue(x, 3)
    with pytest.raises(IndexError):
        torch_js.sort(x, 2)


# ---- gradients -----------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("name", ["sort", "sort_desc", "topk", "topk_small", "kthvalue", "median_dim", "median",
                                  "nanmedian", "mode", "cummax", "cummin", "logcumsumexp", "msort"])
def test_selection_grads(name):
    fns = {
        "sort": lambda T, x: T.sort(x, 1)[0],
        "sort_desc": lambda T, x: T.sort(x, 0, descending=True)[0],
        "topk": lambda T, x: T.topk(x, 3, 1)[0],
        "topk_small": lambda T, x: T.topk(x, 2, 0, largest=False)[0],
        "kthvalue": lambda T, x: T.kthvalue(x, 2, 1)[0],
        "median_dim": lambda T, x: T.median(x, 1)[0],
        "median": lambda T, x: T.median(x),
        "nanmedian": lambda T, x: T.nanmedian(x),
        "mode": lambda T, x: T.mode(x, 1)[0],
        "cummax": lambda T, x: T.cummax(x, 1)[0],
        "cummin": lambda T, x: T.cummin(x, 0)[0],
        "logcumsumexp": lambda T, x: T.logcumsumexp(x, 1),
        "msort": lambda T, x: T.msort(x),
    }

    def f(T):
        x = T.tensor([v / 2.0 for v in lcg(24, -4, 4, 3)], dtype=T.float64).reshape(4, 6)
        return grads(T, lambda t: fns[name](T, t), x)
    both(f, rtol=1e-10, atol=1e-12)


def test_sort_double_backward():
    x = torch_js.tensor([3.0, 1.0, 2.0], dtype=torch_js.float64, requires_grad=True)
    v = torch_js.sort(x)[0]
    (g,) = torch_js.autograd.grad((v * v).sum(), x, create_graph=True)
    assert g.tolist() == [6.0, 2.0, 4.0]
    (gg,) = torch_js.autograd.grad(g.sum(), x)
    assert gg.tolist() == [2.0, 2.0, 2.0]


def test_logcumsumexp_wide_range():
    def f(T):
        x = T.tensor([-1000.0, 0.0, 1000.0, float("-inf"), 5.0], dtype=T.float64)
        return [T.logcumsumexp(x, 0), T.logcumsumexp(T.tensor([[float("-inf")] * 3]), 1)]
    r = both(f, rtol=1e-12)
    assert r[0].tolist()[0] == -1000.0


# ---- unique / searchsorted / cummax --------------------------------------------------------------------------

def test_unique_family():
    def f(T):
        x = T.tensor(lcg(30, 0, 6, 5)).reshape(5, 6)
        res = [T.unique(x)]
        res += list(T.unique(x, return_inverse=True, return_counts=True))
        res += list(T.unique(x, sorted=False, return_counts=True))
        res += list(T.unique(x, dim=0, return_inverse=True, return_counts=True))
        res += list(T.unique(T.tensor([[1, 2], [1, 2], [0, 3]]), dim=0, return_inverse=True))
        res += list(T.unique(T.tensor([[1, 2, 1], [0, 2, 0]]), dim=1, return_counts=True))
        res += list(T.unique_consecutive(T.tensor([1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True,
                                         return_counts=True))
        res += list(T.unique_consecutive(T.tensor([[1, 1], [1, 1], [2, 0]]), dim=0, return_counts=True))
        res.append(T.unique(T.tensor([1.0, float("nan"), float("nan"), 1.0])))
        res.append(T.unique(T.tensor([], dtype=T.int64)))
        return res
    r = both(f)
    assert r[0].tolist() == sorted(set(lcg(30, 0, 6, 5)))


def test_searchsorted_bucketize():
    def f(T):
        b = T.tensor([1.0, 3.0, 3.0, 5.0, 7.0])
        v = T.tensor([[0.0, 3.0, 6.0], [9.0, 1.0, 5.0]])
        res = [T.searchsorted(b, v), T.searchsorted(b, v, right=True), T.searchsorted(b, v, side="right"),
               T.searchsorted(b, v, out_int32=True), T.searchsorted(b, 3), T.bucketize(v, b),
               T.bucketize(v, b, right=True)]
        b2 = T.tensor([[1, 2, 3], [4, 5, 6]])
        res.append(T.searchsorted(b2, T.tensor([[2, 3], [7, 0]])))
        uns = T.tensor([5.0, 1.0, 3.0])
        res.append(T.searchsorted(uns, T.tensor([2.0, 4.0]), sorter=T.argsort(uns)))
        res.append(T.searchsorted(T.tensor([1, 3, 5]), T.tensor([2.5, 3.0])))
        return res
    r = both(f)
    assert r[0].tolist() == [[0, 1, 4], [5, 0, 3]]


def test_cummax_cummin():
    def f(T):
        x = T.tensor([[1.0, 3.0, 3.0, float("nan"), 2.0, float("nan"), 5.0], [0.0, -1.0, 0.0, -1.0, 4.0, 4.0, 1.0]])
        xi = T.tensor(lcg(12, 0, 3, 9)).reshape(3, 4)
        return list(T.cummax(x, 1)) + list(T.cummin(x, 1)) + list(T.cummax(xi, 0)) + list(T.cummin(xi, 1))
    r = both(f)
    assert r[1].tolist()[1] == [0, 0, 2, 2, 4, 5, 5]


# ---- composites (matrix_shape, repeat, joining, pointwise_composites, calculus, histogram) ------------------

def test_triangles_diagonals():
    def f(T):
        x = T.arange(24.0).reshape(2, 3, 4)
        y = x.clone()
        y.tril_(1)
        v = T.tensor([1.0, 2.0, 3.0])
        return [T.tril(x), T.triu(x, -1), T.tril(x, 5), y, T.diag(v), T.diag(v, -2), T.diag(x[0], 1),
                T.diag_embed(x, 1, 0, 2), T.diagflat(x[0], -1), T.trace(x[0]), T.trace(T.ones(3, 2, dtype=T.int32)),
                T.tril_indices(3, 4, 1), T.triu_indices(4, 3, -1)]
    r = both(f)
    assert r[4].tolist() == [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]


def test_repeat_family():
    def f(T):
        x = T.tensor([[1, 2], [3, 4]])
        return [x.repeat(2, 1, 3), T.tile(x, (2,)), x.repeat_interleave(2), T.repeat_interleave(x, 2, dim=0),
                T.repeat_interleave(x, T.tensor([1, 3]), dim=1), T.repeat_interleave(T.tensor([2, 0, 1])),
                x.repeat_interleave(T.tensor([2]), dim=0)]
    r = both(f)
    assert r[5].tolist() == [0, 0, 2]


def test_grids_blocks_rot():
    def f(T):
        a, b = T.tensor([1, 2, 3]), T.tensor([4, 5])
        res = list(T.meshgrid(a, b, indexing="xy")) + list(T.meshgrid([a, b], indexing="ij"))
        res += [T.cartesian_prod(a, b), T.combinations(a), T.combinations(a, 2, with_replacement=True),
                T.block_diag(T.ones(2, 2), T.tensor([7, 8, 9]), T.tensor(5))]
        x = T.arange(6).reshape(2, 3)
        res += [T.rot90(x), T.rot90(x, 2), T.rot90(x, -1, [1, 0]), T.column_stack([a, a * 2]),
                T.row_stack([a, a]), x.narrow_copy(1, 1, 2)]
        res += list(T.hsplit(x, [1])) + list(T.vsplit(x, 2))
        return res
    both(f)


def test_inplace_views():
    x = torch_js.zeros(2, 3)
    assert x.unsqueeze_(0).shape == (1, 2, 3)
    assert x.squeeze_(0).shape == (2, 3)
    assert x.t_().shape == (3, 2)
    assert x.transpose_(0, 1).shape == (2, 3)
    a = torch_js.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.unsqueeze_(1)
    assert b.shape == (2, 1)
    (g,) = torch_js.autograd.grad(b.sum(), a)
    assert g.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        a.unsqueeze_(0)


def test_elementwise_composites():
    def f(T):
        x = T.tensor([-2.0, 0.0, 0.5, float("inf"), float("-inf"), float("nan")])
        y = T.tensor([1.0, 0.0, -3.0, float("inf"), float("-inf"), 2.0])
        return [T.logaddexp(x, y), T.logaddexp2(x, y), T.sinc(x), T.deg2rad(T.tensor([180, 90])),
                T.rad2deg(x), T.nan_to_num(x), T.nan_to_num(x, 1.0, 2.0, -3.0), T.float_power(x, 2),
                T.heaviside(x, T.tensor(0.5)), T.addcmul(x, x, y, value=0.5), T.addcdiv(y, x, y, value=-2),
                T.diff(T.tensor([1, 4, 9, 16]), 2), T.diff(x, append=y), T.diff(T.tensor([True, False, False])),
                T.cross(T.tensor([[1.0, 0.0, 0.0]]), T.tensor([[0.0, 1.0, 0.0]])),
                T.trapezoid(T.tensor([1.0, 2.0, 4.0]), T.tensor([0.0, 1.0, 3.0])),
                T.cumulative_trapezoid(T.tensor([1.0, 2.0, 4.0]), dx=0.5),
                T.index_fill(T.zeros(3, 2), 0, T.tensor([0, 2]), 7.0),
                T.bincount(T.tensor([0, 2, 2, 5])), T.histc(T.tensor([0.0, 1.0, 1.0, 3.0]), bins=3)]
    both(f, rtol=1e-6, atol=1e-7)


def test_addc_inplace_optimizer_path():
    p = torch_js.ones(3)
    with torch_js.no_grad():
        p.addcmul_(torch_js.tensor([1.0, 2.0, 3.0]), torch_js.tensor([2.0, 2.0, 2.0]), value=0.5)
        p.addcdiv_(torch_js.tensor([1.0, 2.0, 3.0]), torch_js.tensor([2.0, 2.0, 2.0]), value=-1)
    assert p.tolist() == [1.5, 2.0, 2.5]


@needs_torch
@pytest.mark.parametrize("name", ["tril", "diag_embed", "repeat", "repeat_interleave", "rot90", "block_diag",
                                  "logaddexp", "sinc", "addcdiv", "cross", "trapezoid", "index_fill"])
def test_composite_grads(name):
    fns = {
        "tril": lambda T, x: T.tril(x, -1),
        "diag_embed": lambda T, x: T.diag_embed(x, 1),
        "repeat": lambda T, x: x.repeat(2, 1, 2),
        "repeat_interleave": lambda T, x: T.repeat_interleave(x, T.tensor([1, 0, 2, 1]), dim=0),
        "rot90": lambda T, x: T.rot90(x, 3),
        "block_diag": lambda T, x: T.block_diag(x, x[:2, :1]),
        "logaddexp": lambda T, x: T.logaddexp(x, x.flip(0)),
        "sinc": lambda T, x: T.sinc(x),
        "addcdiv": lambda T, x: T.addcdiv(x, x, x * x + 1, value=0.3),
        "cross": lambda T, x: T.linalg.cross(x[:, :3], x[:, 3:]),
        "trapezoid": lambda T, x: T.trapezoid(x, dim=0),
        "index_fill": lambda T, x: T.index_fill(x, 1, T.tensor([0, 2]), -1.0),
    }

    def f(T):
        x = T.tensor([v / 2.0 for v in lcg(24, -4, 4, 11)], dtype=T.float64).reshape(4, 6)
        x[0, 0] = 0.0
        if name == "cross" and not hasattr(T, "linalg"):
            return grads(T, lambda t: T.REGISTRY[("linalg", "cross")].fn(t[:, :3], t[:, 3:]), x)
        return grads(T, lambda t: fns[name](T, t), x)
    both(f, rtol=1e-10, atol=1e-12)


def test_index_copy():
    # the op added by docs/architecture.md's "how to add an op": values, duplicates (last write wins), 0-d forms,
    # the in-place method, and PyTorch's checks in PyTorch's order
    def f(T):
        x = T.zeros(3, 4)
        b = T.zeros(3)
        return [x.index_copy(1, T.tensor([0, 2]), T.arange(6.0).reshape(3, 2)),
                T.index_copy(x, 0, T.tensor([2, 0]), T.ones(2, 4)),
                T.zeros(5).index_copy(0, T.tensor([1, 1]), T.tensor([1.0, 2.0])),
                T.zeros(()).index_copy(0, T.tensor(0), T.tensor(5.0)),
                T.zeros(3).index_copy(0, T.tensor([1]), T.tensor(5.0)),
                T.zeros(3, dtype=T.int64).index_copy(0, T.tensor([2]), T.tensor([7])),
                b.index_copy_(0, T.tensor([1]), T.tensor([4.0])), b]
    r = both(f)
    assert r[0].tolist() == [[0.0, 0.0, 1.0, 0.0], [2.0, 0.0, 3.0, 0.0], [4.0, 0.0, 5.0, 0.0]]
    assert r[2].tolist() == [0.0, 2.0, 0.0, 0.0, 0.0] and r[6] is r[7] and r[7].tolist() == [0.0, 4.0, 0.0]
    T = torch_js
    x = T.zeros(3, 4)
    cases = [
        (lambda: x.index_copy(0, T.tensor([[0, 2]]), T.ones(2, 4)), IndexError,
         "index_copy_(): Index should have dimension 1 or 0 (got 2)"),
        (lambda: x.index_copy(0, T.tensor([0, 1, 2], dtype=T.int32), T.ones(2, 4)), RuntimeError,
         "index_copy_(): Expected a long tensor for index, but got Int"),
        (lambda: x.index_copy(0, T.tensor([0, 1, 2]), T.ones(2, 4, dtype=T.float64)), RuntimeError,
         "index_copy_(): self and source expected to have the same dtype, but got (self) Float and (source) Double"),
        (lambda: x.index_copy(0, T.tensor([0, 1]), T.ones(2, 4, 1)), IndexError,
         "index_copy_(): When source and destination are not scalars, their dimensionality must match. Source "
         "dimensionality (3), destination dimensionality (2)"),
        (lambda: x.index_copy(0, T.tensor([0, 1, 2]), T.ones(2, 3)), RuntimeError,
         "index_copy_(): Source/destination tensor must have same slice shapes. Destination slice shape: 4 at "
         "dimension 0 and source slice shape: 3 at dimension 0."),
        (lambda: x.index_copy(0, T.tensor([0, 1, 2]), T.ones(2, 4)), IndexError,
         "index_copy_(): Number of indices (3) should be equal to source.size(dim) (2)"),
        (lambda: x.index_copy(0, T.tensor([0, -1]), T.ones(2, 4)), IndexError,
         "index_copy_(): index -1 is out of bounds for dimension 0 with size 3"),
        (lambda: T.zeros(3).index_copy(0, T.tensor([1, 2]), T.tensor(5.0)), IndexError,
         "index_copy_(): When source is scalar, index should have one element (got 2)"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc) as info:
            call()
        assert str(info.value) == msg


@needs_torch
def test_index_copy_grads():
    def f(T):
        x = T.tensor([v / 2.0 for v in lcg(12, -4, 4, 3)], dtype=T.float64).reshape(3, 4)
        src = T.tensor([v / 4.0 for v in lcg(8, -4, 4, 5)], dtype=T.float64).reshape(2, 4).requires_grad_()
        gx = grads(T, lambda t: T.index_copy(t, 0, T.tensor([2, 0]), src), x)
        x2 = x.detach().requires_grad_()
        (T.index_copy(x2, 0, T.tensor([2, 0]), src) * T.arange(12.0, dtype=T.float64).reshape(3, 4)).sum().backward()
        return [gx, src.grad]
    both(f)


@needs_torch
def test_cumprod_and_logical_not_in_place_match_torch():
    def run(m):
        a = m.tensor([1.5, 0.0, -2.0])
        assert a.logical_not_() is a
        b = m.tensor([1, 2, 3])
        b.cumprod_(0)
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y.cumprod_(0)
        y.sum().backward()
        return a.tolist(), b.tolist(), x.grad.tolist(), y.grad_fn.name()
    assert run(torch_js) == run(torch)


def test_nan_passes_through_clamps_and_clamped_activations():
    """NaN stays NaN through clamp and the activations built on it, in every kernel build (the relaxed-SIMD wasm
    one turned the clamp's selects into relaxed min/max, whose NaN lanes gave the bound)."""
    F = torch_js.nn.functional
    x = torch_js.tensor([float("nan"), 0.5, -2.0, 7.0] * 5)
    for name, f in [("clip", lambda v: v.clip(-1, 1)), ("clamp_min", lambda v: v.clamp(min=-1)),
                    ("clamp_max", lambda v: v.clamp(max=1)), ("relu6", F.relu6), ("hardtanh", F.hardtanh),
                    ("hardsigmoid", F.hardsigmoid), ("hardswish", F.hardswish)]:
        y = f(x).tolist()
        assert all(math.isnan(v) for v in y[::4]), name
        assert not any(math.isnan(v) for i, v in enumerate(y) if i % 4), name
