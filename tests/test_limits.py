"""Limits: tensors of any rank PyTorch takes, long kernels split into interruptible pieces with the same bits.

- High rank: 17, 25 and 64 dims (size-1 dims and non-coalescible strides) through elementwise, reduction, matmul
  and indexing ops, against torch; the webgpu backend's coalescing and its RuntimeError past 16 dims.
- Pieces: with the CPU backend's work limits shrunk (library.PIECE / BIG, tjs_gemm's part size), every split path gives
  the same bytes as one kernel call, and checks for signals between pieces.
- KeyboardInterrupt lands within ~0.6 s during a long matmul (CPython: a real SIGALRM).
"""
import itertools
import math
import signal
import sys
import time

import pytest

import torch_js as T
import torch_js.nn.functional as F
from optional_torch import needs_torch, torch
from torch_js.backends import strided
from torch_js.backends.cpu import elementwise, indexing, library, reduction

IN_PYODIDE = sys.platform == "emscripten"


def _same(mine, ref, atol=1e-5):
    assert tuple(mine.shape) == tuple(ref.shape)
    got = mine.detach().reshape(-1).double().tolist()
    want = ref.detach().reshape(-1).double().tolist()
    for g, w in zip(got, want):
        assert (math.isnan(g) and math.isnan(w)) or math.isclose(g, w, rel_tol=1e-4, abs_tol=atol), (g, w)


def _pair(shape, seed=0):
    vals = T.randn(math.prod(shape), generator=T.Generator().manual_seed(seed))
    return vals.reshape(shape), torch.tensor(vals.tolist()).reshape(shape)


# ---- high rank ----------------------------------------------------------------------------------------------

_HIGH_RANK_OPS = {
    "add_broadcast": lambda M, x, y: x + y,
    "mul_scalar": lambda M, x, y: x * 3 - 1,
    "exp": lambda M, x, y: x.exp(),
    "where": lambda M, x, y: M.where(x > 0, x, y),
    "to_int": lambda M, x, y: (x * 10).to(M.int32),
    "half_add": lambda M, x, y: (x.half() + 1).float(),
    "clone_transposed": lambda M, x, y: x.transpose(-1, -4).contiguous(),
    "sum": lambda M, x, y: x.sum(),
    "sum_dims": lambda M, x, y: x.sum(dim=(-1, -3)),
    "mean_keepdim": lambda M, x, y: x.mean(dim=-2, keepdim=True),
    "amax": lambda M, x, y: x.amax(dim=(0, -1)),
    "argmax": lambda M, x, y: x.argmax(dim=-1),
    "max_dim": lambda M, x, y: x.max(dim=-3)[0],
    "var": lambda M, x, y: x.var(dim=-1),
    "matmul": lambda M, x, y: x @ y.transpose(-1, -2),
    "index_tensor": lambda M, x, y: x[..., M.tensor([3, 0, 1])],
    "index_int": lambda M, x, y: x[0, ..., 1],
    "mask": lambda M, x, y: x[x > 0],
    "gather": lambda M, x, y: x.gather(-1, M.zeros(x.shape, dtype=M.int64)),
    "scatter_add": lambda M, x, y: x.scatter_add(-1, M.zeros(x.shape, dtype=M.int64), x),
    "index_put_acc": lambda M, x, y: x.clone().index_put_((M.tensor([0, 0]),), M.ones(()), accumulate=True),
    "sort": lambda M, x, y: x.sort(dim=-1)[0],
    "cumsum": lambda M, x, y: x.cumsum(-2),
    "softmax": lambda M, x, y: x.softmax(-1),
    "cat": lambda M, x, y: M.cat([x, x], dim=-2),
}


@needs_torch
@pytest.mark.parametrize("rank", [17, 25, 64])
@pytest.mark.parametrize("op", sorted(_HIGH_RANK_OPS))
def test_high_rank_like_torch(rank, op):
    """Most dims of size 1 (torch_js's tables stopped at 16 dims: IndexError before)."""
    x, xt = _pair([1] * (rank - 4) + [2, 3, 1, 4])
    y, yt = _pair([1] * (rank - 3) + [3, 1, 4], seed=1)
    f = _HIGH_RANK_OPS[op]
    _same(f(T, x, y), f(torch, xt, yt))


@needs_torch
@pytest.mark.parametrize("op", ["add", "contiguous", "sum_dims", "amax", "argmax", "index", "setitem", "where",
                                "cumsum", "matmul"])
def test_non_coalescible_high_rank_like_torch(op):
    """20 dims of size 2 under a permutation no dim of which merges: the kernels take up to 64."""
    n = 20
    x, xt = _pair([2] * n)
    perm = list(range(0, n, 2)) + list(range(1, n, 2))
    f = {
        "add": lambda M, v: v + v.flip(0),
        "contiguous": lambda M, v: v.contiguous(),
        "sum_dims": lambda M, v: v.sum(dim=tuple(range(1, n, 2))),
        "amax": lambda M, v: v.amax(dim=tuple(range(0, n, 2))),
        "argmax": lambda M, v: v.argmax(dim=3),
        "index": lambda M, v: v[..., M.tensor([1, 0, 1])],
        "setitem": lambda M, v: _setitem(v.clone()),
        "where": lambda M, v: M.where(v > 0, v, 0.0),
        "cumsum": lambda M, v: v.cumsum(dim=2),
        "matmul": lambda M, v: v @ v,
    }[op]
    _same(f(T, x.permute(*perm)), f(torch, xt.permute(*perm)), atol=1e-4)   # float32 sums of 1024 terms


def _setitem(v):
    v[..., 1, :] = 5.0
    return v


@needs_torch
def test_more_than_64_dims_like_torch():
    # (torch raises "only tensors with up to 64 dims are supported" for a dim list past 64 dims: sum(dim=...),
    # amax, argmax, any, flip; whole-tensor reductions, elementwise ops, matmul and indexing work)
    x, xt = _pair([1] * 100 + [3, 1, 2])
    _same(x + 1, xt + 1)
    _same(x.sum(), xt.sum())
    _same(x.exp().max(), xt.exp().max())
    _same(x @ x.transpose(-1, -2), xt @ xt.transpose(-1, -2))
    _same(x[..., T.tensor([1, 0, 1])], xt[..., torch.tensor([1, 0, 1])])
    _same(x.sort(-1)[0], xt.sort(-1)[0])
    assert (T.zeros([1] * 200) + 1).shape == (1,) * 200


def test_empty_high_rank():
    x = T.zeros([2] * 20 + [0] + [1] * 30)
    assert (x + 1).shape == x.shape
    assert x.sum(dim=-1).shape == x.shape[:-1]
    s = x.sum(dim=tuple(range(20, 51)))
    assert s.shape == (2,) * 20 and float(s.abs().max()) == 0.0


def test_coalesce_follows_iter_h():
    # size-1 dims dropped; contiguous pairs (also broadcast 0 strides) merged for every operand, else kept
    assert strided.coalesce([2, 1, 3, 4], [[12, 99, 4, 1], [0, 5, 0, 0]]) == ([24], [[1], [0]])
    assert strided.coalesce([2, 3], [[3, 1], [1, 2]]) == ([2, 3], [[3, 1], [1, 2]])
    assert strided.coalesce([1, 1], [[5, 7]]) == ([], [[]])
    assert strided.coalesce([2, 0, 3], [[5, 3, 2]]) == ([2, 0, 3], [[5, 3, 2]])


def test_pieces_cover_the_space_in_order():
    shape, st = [5, 7, 300], [[2100, 300, 1], [0, 1, 7]]
    seen = []
    for sub, sub_st, offs in strided.pieces(shape, st, 1000):
        assert strided.numel(sub) <= 1000 or sub[0] <= strided.ALIGN
        for i in itertools.product(*(range(n) for n in sub)):
            seen.append(offs[0] + sum(a * b for a, b in zip(i, sub_st[0])))
            assert sub_st[1][-1] == 7
    assert seen == list(range(5 * 7 * 300))


def test_webgpu_coalesces_and_raises_past_16_dims():
    from torch_js.backends.webgpu import backend as wb
    assert wb._fit("add", [1] * 30 + [2, 3], ([0] * 30 + [3, 1],)) == (1, [6], [[1]])
    assert wb._fit("add", [2] * 20 + [0], ([0] * 21,)) is None
    with pytest.raises(RuntimeError, match=r"^add: webgpu supports tensors with dimensions <= 16"):
        wb._fit("add", [2] * 17, ([1] * 17,))


def _webgpu_available():
    if not IN_PYODIDE:
        return False
    try:
        return T.webgpu.is_available()
    except Exception:
        return False


@pytest.mark.skipif(not _webgpu_available(), reason="webgpu bridge not loaded (TORCH_JS_WEBGPU=1 in Pyodide)")
def test_webgpu_high_rank_matches_cpu():
    """17 / 25 / 64 dims on the webgpu device (coalesced to its 16 param dims) equal the CPU results; a shape that
    still needs more than 16 dims raises RuntimeError naming the op."""
    T.webgpu._init_sync()
    for rank in (17, 25, 64):
        x = T.randn([1] * (rank - 4) + [2, 3, 1, 4])
        y = T.randn([1] * (rank - 3) + [3, 1, 4])
        xg, yg = x.to("webgpu"), y.to("webgpu")
        for name, f in (("add", lambda a, b: a + b), ("exp", lambda a, b: a.exp()),
                        ("where", lambda a, b: T.where(a > 0, a, b)), ("sum", lambda a, b: a.sum(dim=(-1, -3))),
                        ("amax", lambda a, b: a.amax(dim=-2)), ("index", lambda a, b: a[..., T.tensor([3, 0])]),
                        ("clone_t", lambda a, b: a.transpose(-1, -4).contiguous())):
            want = f(x, y)
            got = f(xg, yg).cpu()
            assert tuple(got.shape) == tuple(want.shape), (rank, name)
            assert float((got - want).abs().max()) < 1e-5, (rank, name)
    big = T.randn(2 ** 17).to("webgpu").as_strided([2] * 17, [1] * 17)
    with pytest.raises(RuntimeError, match="webgpu supports tensors with dimensions <= 16"):
        big + 1


# ---- pieces: the same bits ----------------------------------------------------------------------------------

def _small_limits(monkeypatch, calls=None):
    monkeypatch.setattr(library, "PIECE", 200)
    monkeypatch.setattr(library, "BIG", 64)
    monkeypatch.setattr(elementwise, "_BIG", 64)
    monkeypatch.setattr(indexing, "_BIG", 64)
    monkeypatch.setattr(reduction, "_BIG", 64)
    monkeypatch.setattr(reduction.CPUGemm, "gemm", _gemm_in_small_parts)
    if calls is not None:
        def count():
            calls.append(1)
            return 0
        monkeypatch.setattr(library, "check_signals", count)


def _gemm_in_small_parts(self, out, a, b, batch, m, n, k, a_strides, b_strides):
    """CPUGemm.gemm with parts of one unit (a block of the blocked drivers, a row of the direct loops)."""
    rc = reduction.gemm_parts(out, a, b, batch, m, n, k, a_strides, b_strides, 0, 1)
    library.check(rc, "matmul")


def _bits(t):
    if isinstance(t, (tuple, list)):
        return tuple(_bits(u) for u in t)
    t = t.detach().contiguous()
    isz = t.element_size()
    return tuple(t.shape), str(t.dtype), t._storage.backend.read_bytes(t._storage, t._offset * isz, t.numel() * isz)


def _cases():
    g = T.Generator().manual_seed(0)

    def r(*shape, dtype=T.float32):
        return T.randn(*shape, generator=g).to(dtype)

    x, y = r(37, 129), r(37, 129)
    xd = r(9, 7, 33, dtype=T.float64)
    xi = (r(23, 70) * 100).to(T.int64)
    img = r(3, 4, 21, 19)
    w = r(6, 4, 3, 3)
    A = r(6, 12, 12, dtype=T.float64)
    spd = A @ A.transpose(-1, -2) + 12 * T.eye(12, dtype=T.float64)
    idx = T.randint(-37, 37, (500,), generator=g)
    vol, w3 = r(2, 3, 7, 9, 8), r(4, 3, 2, 3, 2)
    return {
        "add": lambda: x + y,
        "add_bcast_col": lambda: x + y[:, :1],
        "sub_alpha_t": lambda: T.sub(x.t(), y.t(), alpha=0.5),
        "exp_strided": lambda: x[:, ::3].exp(),
        "half": lambda: (x.half() * 3).bfloat16(),
        "copy_cast": lambda: xd.to(T.float32).transpose(0, 2).contiguous(),
        "fill": lambda: T.full((41, 77), 2.5),
        "where": lambda: T.where(x > 0, x, y.t().t()),
        "sum_all": lambda: x.sum(),
        "sum_rows": lambda: x.sum(1),
        "sum_cols": lambda: x.sum(0),
        "sum_cols_f64": lambda: xd.sum(1),
        "prod": lambda: (x * 0.1 + 1).prod(0),
        "amax": lambda: x.amax(0),
        "argmax": lambda: x.argmax(1),
        "max_dim": lambda: x.max(0),
        "int_sum": lambda: xi.sum(1),
        "any": lambda: (x > 2).any(0),
        "count_nonzero": lambda: (x > 0).count_nonzero(1),
        "take": lambda: x[idx],
        "take_cols": lambda: x[:, idx[:60] % 129],
        "put": lambda: x.clone().index_put_((idx,), r(500, 129)),
        "put_acc": lambda: x.clone().index_put_((idx,), r(500, 129), accumulate=True),
        "put_scalar": lambda: _put_scalar(x.clone(), idx),
        "sort": lambda: xd.sort(dim=-1),
        "topk": lambda: x.topk(5, dim=1),
        "kthvalue": lambda: x.kthvalue(3, dim=1),
        "cumsum": lambda: xd.cumsum(1),
        "cummax": lambda: xd.cummax(1),
        "logcumsumexp": lambda: xd.logcumsumexp(0),
        "softmax": lambda: x.softmax(1),
        "searchsorted": lambda: T.searchsorted(x.sort(dim=1)[0], y),
        "conv2d": lambda: F.conv2d(img, w, padding=1),
        "conv2d_grad": lambda: _conv_grad(img, w),
        "unfold": lambda: F.unfold(img, 3),
        "fold": lambda: F.fold(F.unfold(img, 3), (21, 19), 3),
        "max_pool": lambda: F.max_pool2d(img, 3, 1, return_indices=True),
        "avg_pool": lambda: F.avg_pool2d(img, 4, 2, padding=1),
        "adaptive_avg_pool": lambda: F.adaptive_avg_pool2d(img, (5, 4)),
        "pool_grad": lambda: _pool_grad(img),
        "conv3d": lambda: F.conv3d(vol, w3, padding=1, stride=(1, 2, 1)),
        "conv_transpose3d": lambda: F.conv_transpose3d(vol, w3.transpose(0, 1), stride=2),
        "max_pool3d": lambda: F.max_pool3d(vol, 3, 1, 1, return_indices=True),
        "avg_pool3d": lambda: F.avg_pool3d(vol, 3, 2, 1, count_include_pad=False),
        "adaptive_max_pool3d": lambda: F.adaptive_max_pool3d(vol, (3, 4, 5), return_indices=True),
        "lu": lambda: T.linalg.lu_factor(A),
        "solve": lambda: T.linalg.solve(A, r(6, 12, 3, dtype=T.float64)),
        "cholesky": lambda: T.linalg.cholesky(spd),
        "qr": lambda: T.linalg.qr(A),
        "solve_triangular": lambda: T.linalg.solve_triangular(spd, A, upper=False),
        "svd": lambda: T.linalg.svd(A),
        "svd_tall": lambda: T.linalg.svd(r(40, 17, dtype=T.float64)),
        "normal_fill": lambda: T.randn(1003, generator=T.Generator().manual_seed(5)),
        "uniform_fill": lambda: T.rand(1003, dtype=T.float64, generator=T.Generator().manual_seed(5)),
        "eigh": lambda: T.linalg.eigh(spd),
        "mm_f32": lambda: r(300, 200) @ r(200, 530),
        "mm_f32_t": lambda: r(200, 300).t() @ r(530, 200).t(),
        "mm_f64": lambda: r(130, 270, dtype=T.float64) @ r(270, 90, dtype=T.float64),
        "mm_batch_shared_b": lambda: r(7, 40, 50) @ r(50, 33),
        "mm_batch": lambda: r(5, 64, 70) @ r(5, 70, 90),
        "mm_direct": lambda: r(7, 9, 11) @ r(7, 11, 13),
        "mv": lambda: r(300, 200) @ r(200),
        "vm": lambda: r(200) @ r(200, 300),
        "bmm_vec": lambda: r(9, 1, 200) @ r(9, 200, 100),
        "mm_int": lambda: xi[:, :50] @ xi[:50, :].t()[:50, :20].contiguous(),
        "mm_int32": lambda: xi.to(T.int32)[:20] @ xi.to(T.int32).t()[:, :30],
        "mm_empty_k": lambda: r(30, 0) @ r(0, 40),
    }


def _put_scalar(t, idx):
    t[idx] = 7.0
    return t


def _conv_grad(img, w):
    x = img.clone().requires_grad_()
    F.conv2d(x, w, stride=2).sum().backward()
    return x.grad


def _pool_grad(img):
    x = img.clone().requires_grad_()
    (F.max_pool2d(x, 2).sum() + F.avg_pool2d(x, 3, 1).sum()).backward()
    return x.grad


@pytest.mark.parametrize("case", sorted(_cases()))
def test_pieces_give_the_same_bits(case, monkeypatch):
    want = _bits(_cases()[case]())
    calls = []
    _small_limits(monkeypatch, calls)
    got = _bits(_cases()[case]())
    assert got == want
    if case not in ("mm_empty_k",):
        assert calls, "no signal check between pieces: the op ran as one kernel call"


def test_interrupted_op_leaves_the_library_usable(monkeypatch):
    _small_limits(monkeypatch)
    n = []

    def interrupt():
        n.append(1)
        if len(n) == 3:
            raise KeyboardInterrupt
        return 0

    a, b = T.randn(300, 300), T.randn(300, 300)   # (random fills check for signals between pieces too)
    monkeypatch.setattr(library, "check_signals", interrupt)
    with pytest.raises(KeyboardInterrupt):
        a @ b
    n.clear()
    with pytest.raises(KeyboardInterrupt):
        (a + b).sum(1)
    monkeypatch.setattr(library, "check_signals", lambda: 0)
    c = a @ b
    monkeypatch.undo()
    assert _bits(c) == _bits(a @ b)


def test_small_ops_are_one_call(monkeypatch):
    calls = []
    monkeypatch.setattr(library, "check_signals", lambda: calls.append(1))
    a = T.randn(64, 64)
    (a @ a + 1).sum(0).sort()
    assert not calls


# ---- KeyboardInterrupt --------------------------------------------------------------------------------------

@pytest.mark.skipif(IN_PYODIDE or not hasattr(signal, "setitimer"), reason="needs SIGALRM (CPython)")
def test_keyboard_interrupt_lands_during_a_long_matmul():
    """A 4096^2 matmul runs for seconds; the SIGALRM handler's KeyboardInterrupt must land within ~0.6 s (it
    lands between two parts of tjs_gemm). Pyodide delivers its interrupt buffer at the same points."""
    a, b = T.randn(4096, 4096), T.randn(4096, 4096)

    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, handler)
    try:
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            a @ b
        landed = time.perf_counter() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert landed - 0.2 < 0.6, f"KeyboardInterrupt landed {landed - 0.2:.2f} s after the signal"
