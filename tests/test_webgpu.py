"""The webgpu device against the CPU backend: every primitive family, every unary/binary op code, casts between
all dtypes, reductions, softmax, cumsum, matmul, indexing, autograd, device mixing and memory.

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`: Node + Dawn on SwiftShader); skips in
plain CPython and in the Pyodide suite without WebGPU. SwiftShader is a CPU: keep sizes small.
"""
import math
import struct

import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
import torch_js as torch
from torch_js import _dtype as D
from torch_js.backends.cpu import library as _native
from torch_js.backends.cpu import BACKEND as CPU_BE
from torch_js.backends.webgpu import BACKEND as GPU_BE
from torch_js._tensor import _empty, _empty_strided

GPU = "webgpu"
DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16, torch.bfloat16,
          torch.float32]


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


def _flat(v):
    if isinstance(v, list):
        out = []
        for x in v:
            out.extend(_flat(x))
        return out
    return [v]


def assert_close(cpu, gpu, rtol=1e-4, atol=1e-5, what=""):
    """gpu (a webgpu tensor) equals cpu (a CPU tensor) in shape, dtype and values (NaN == NaN)."""
    assert gpu.device.type == GPU, what
    g = gpu.cpu()
    assert g.dtype == cpu.dtype, f"{what}: dtype {g.dtype} != {cpu.dtype}"
    assert tuple(g.shape) == tuple(cpu.shape), f"{what}: shape {tuple(g.shape)} != {tuple(cpu.shape)}"
    a, b = _flat(cpu.tolist()), _flat(g.tolist())
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, float) and (math.isnan(x) or math.isnan(y)):
            assert math.isnan(x) and math.isnan(y), f"{what}[{i}]: cpu {x} gpu {y}"
        elif isinstance(x, float) and math.isinf(x):
            assert x == y, f"{what}[{i}]: cpu {x} gpu {y}"
        elif isinstance(x, float):
            assert abs(x - y) <= atol + rtol * abs(x), f"{what}[{i}]: cpu {x!r} gpu {y!r}"
        else:
            assert x == y, f"{what}[{i}]: cpu {x!r} gpu {y!r}"


def both(fn, *tensors):
    """fn on the CPU tensors and on their webgpu copies."""
    return fn(*tensors), fn(*[t.to(GPU) for t in tensors])


def sample(shape, lo=-2.0, hi=2.0, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) * (hi - lo) + lo
    return x.to(dtype)


# ---- walking skeleton ------------------------------------------------------------------------------------------

def test_ones_add_roundtrip():
    t = torch.ones(4).to(GPU)
    assert t.device.type == GPU
    assert (t + t).cpu().tolist() == [2.0, 2.0, 2.0, 2.0]
    assert (t + t).tolist() == [2.0, 2.0, 2.0, 2.0]
    assert (t * 3).sum().item() == 12.0
    assert "device='webgpu'" in repr(t)


# ---- backend primitives: every op code -------------------------------------------------------------------------

UNARY_PARAMS = {"clamp": (-0.5, 0.5, 0.0), "hardtanh": (-1.0, 1.0, 0.0), "pow_scalar": (2.5, 0, 0),
                "rpow_scalar": (2.0, 0, 0), "softplus": (1.0, 20.0, 0), "leaky_relu": (0.01, 0, 0),
                "elu": (1.0, 1.0, 1.0)}
LOOSE = {"lgamma": 1e-3, "erfc": 1e-3, "tan": 1e-3, "expm1": 1e-4, "pow_scalar": 1e-4, "rpow_scalar": 1e-4,
         "mish": 1e-4, "gelu_erf": 1e-4, "log1p": 1e-4, "atanh": 1e-4, "acosh": 1e-4}


def _prim_unary(be, dev, op, x, p, out_dtype):
    xs = x.to(dev).t()       # a strided (transposed) input
    out = _empty(xs._shape, out_dtype, torch.device(dev))
    be.unary(op, out, xs, *p)
    return out


@pytest.mark.parametrize("op", sorted(_native.UNARY_OPS))
def test_unary_op_codes_float32(op):
    x = sample((5, 7), seed=1)
    x[0, 0], x[0, 1], x[0, 2] = 0.0, 1.0, -1.0
    bool_out = op in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "logical_not")
    od = torch.bool if bool_out else torch.float32
    p = UNARY_PARAMS.get(op, (0.0, 0.0, 0.0))
    if op == "bitwise_not":
        with pytest.raises(TypeError):
            _prim_unary(GPU_BE, GPU, op, x, p, od)
        return
    c = _prim_unary(CPU_BE, "cpu", op, x, p, od)
    g = _prim_unary(GPU_BE, GPU, op, x, p, od)
    tol = LOOSE.get(op, 2e-5)
    assert_close(c, g, rtol=tol, atol=tol, what=op)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int8, torch.uint8, torch.int64])
def test_unary_op_codes_int(dtype):
    x = sample((4, 6), -9, 9, seed=2).to(dtype)
    for op in sorted(_native.UNARY_OPS):
        p = {"clamp": (-3.0, 4.0, 0.0), "hardtanh": (-3.0, 4.0, 0.0), "pow_scalar": (3.0, 0, 0)}.get(op, (0.0,) * 3)
        bool_out = op in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit", "logical_not")
        od = torch.bool if bool_out else dtype
        try:
            c = _prim_unary(CPU_BE, "cpu", op, x, p, od)
        except RuntimeError:
            continue      # no integer kernel on CPU either
        g = _prim_unary(GPU_BE, GPU, op, x, p, od)
        assert_close(c, g, what=f"{op} {dtype}")


BIN_BOOL = {"eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor"}


def _prim_binary(be, dev, op, a, b, alpha, out_dtype):
    a, b = a.to(dev), b.to(dev)
    shape = a._shape
    out = _empty(shape, out_dtype, torch.device(dev))
    be.binary(op, out, a, a._stride, b, (0,) + b._stride, alpha)   # b broadcast over rows
    return out


@pytest.mark.parametrize("op", sorted(_native.BINARY_OPS))
def test_binary_op_codes(op):
    a = sample((3, 8), -3, 3, seed=3)
    b = sample((8,), -3, 3, seed=4)
    b[0], a[0, 0] = 0.5, 0.0
    a[1, 1], b[1] = 2.0, 2.0   # ties for comparisons
    for dtype in (torch.float32, torch.int32, torch.int16):
        ad, bd = a.to(dtype), b.to(dtype)
        if not dtype.is_floating_point:
            bd = torch.where(bd == 0, torch.ones_like(bd), bd)
            if op in ("lshift", "rshift", "pow"):
                bd = bd.abs()
        od = torch.bool if op in BIN_BOOL else dtype
        alpha = 2.0 if op in ("add", "sub") else 1.0
        try:
            c = _prim_binary(CPU_BE, "cpu", op, ad, bd, alpha, od)
        except RuntimeError:
            with pytest.raises(TypeError):
                _prim_binary(GPU_BE, GPU, op, ad, bd, alpha, od)
            continue
        g = _prim_binary(GPU_BE, GPU, op, ad, bd, alpha, od)
        tol = 1e-4 if op in ("pow", "atan2", "hypot", "xlogy") else 2e-5
        assert_close(c, g, rtol=tol, atol=tol, what=f"{op} {dtype}")


def test_alpha_and_scalar_ops():
    a, b = sample((4, 5), seed=5), sample((4, 5), seed=6)
    for fn in (lambda x, y: torch.add(x, y, alpha=2.5), lambda x, y: torch.sub(x, y, alpha=0.5),
               lambda x, y: x * 3 + 1, lambda x, y: 2 ** x, lambda x, y: x ** 2, lambda x, y: (x > 0) & (y < 0)):
        assert_close(*both(fn, a, b))


def test_copy_cast_all_dtype_pairs():
    base = torch.tensor([[0.0, 1.0, -1.0, 2.5, -2.5, 127.0, 255.0, 300.0], [-129.0, 3.7, -3.7, 1e5, -7.0, 0.5,
                         65504.0, 42.0]])
    for src in DTYPES:
        x = base.to(src)
        xg = x.to(GPU)
        for dst in DTYPES:
            c = x.t().to(dst)
            g = xg.t().to(dst)
            assert_close(c, g, rtol=0, atol=0, what=f"{src}->{dst}")


def test_int64_exact_beyond_int32():
    big = torch.tensor([2 ** 40 + 3, -(2 ** 35) - 1, 7, -1], dtype=torch.int64)
    g = big.to(GPU)
    assert g.cpu().tolist() == big.tolist()
    assert g.clone().tolist() == big.tolist()
    assert g.to(torch.float32).tolist() == big.to(torch.float32).tolist()
    assert torch.full((3,), 2 ** 40, dtype=torch.int64, device=GPU).tolist() == [2 ** 40] * 3
    assert g[torch.tensor([2, 0], device=GPU)].tolist() == [7, 2 ** 40 + 3]
    f = torch.tensor([3e10, -5e9, 1.5], device=GPU)
    assert f.to(torch.int64).tolist() == torch.tensor([3e10, -5e9, 1.5]).to(torch.int64).tolist()


def test_fill_and_where():
    for d in DTYPES:
        c = torch.full((3, 5), 3, dtype=d)
        g = torch.full((3, 5), 3, dtype=d, device=GPU)
        assert_close(c, g, what=f"fill {d}")
    cond = sample((4, 6), seed=7) > 0
    a, b = sample((4, 6), seed=8), sample((6,), seed=9)
    for d in (torch.float32, torch.int64, torch.int8, torch.bool, torch.float16):
        assert_close(*both(lambda c_, x, y: torch.where(c_, x, y), cond, a.to(d), b.to(d)), what=f"where {d}")


def test_to_device_and_dtype_in_one_call():
    x = torch.tensor([1.5, -2.25, 3.0], dtype=torch.float64)
    g = x.to(GPU, torch.float32)
    assert g.device.type == GPU and g.dtype == torch.float32
    back = g.to("cpu", torch.float64)
    assert back.dtype == torch.float64 and back.tolist() == [1.5, -2.25, 3.0]


def test_float64_raises():
    with pytest.raises(TypeError, match="float64"):
        x = torch.ones(3, dtype=torch.float64).to(GPU)
        (x + x).cpu()


# ---- reductions, softmax, scans --------------------------------------------------------------------------------

def test_reductions():
    x = sample((4, 5, 6), seed=10)
    x[1, 2, 3] = x[1, 2, 4] = 5.0          # ties: first index wins
    fns = {
        "sum": lambda t: t.sum(), "sum01": lambda t: t.sum((0, 2)), "sum_keep": lambda t: t.sum(1, keepdim=True),
        "mean": lambda t: t.mean(-1), "prod": lambda t: t.prod(1), "amax": lambda t: t.amax(0),
        "amin": lambda t: t.amin((1, 2)), "max_dim": lambda t: t.max(2).values, "max_idx": lambda t: t.max(2).indices,
        "min_idx": lambda t: t.min(0).indices, "argmax": lambda t: t.argmax(), "argmax1": lambda t: t.argmax(1),
        "argmin": lambda t: t.argmin(-1), "any": lambda t: (t > 1.5).any(1), "all": lambda t: (t > -1.9).all(),
        "count": lambda t: torch.count_nonzero(t > 0, dim=0), "var": lambda t: t.var(1), "std": lambda t: t.std(),
        "norm": lambda t: t.norm(), "logsumexp": lambda t: torch.logsumexp(t, 1), "maxall": lambda t: t.max(),
        "transposed": lambda t: t.transpose(0, 2).sum(-1), "intsum": lambda t: (t * 10).to(torch.int32).sum(1),
        "boolsum": lambda t: (t > 0).sum(),
    }
    for name, fn in fns.items():
        assert_close(*both(fn, x), rtol=1e-4, atol=1e-4, what=name)


def test_reduction_nan_and_large():
    x = sample((3, 1000), seed=11)
    x[1, 17] = float("nan")
    for fn in (lambda t: t.sum(1), lambda t: t.max(1).values, lambda t: t.argmax(1), lambda t: t.min(1).indices):
        assert_close(*both(fn, x), rtol=1e-4, atol=1e-3)


def test_softmax_and_cumulative():
    x = sample((3, 4, 7), seed=12)
    for fn in (lambda t: torch.softmax(t, -1), lambda t: torch.log_softmax(t, 1), lambda t: torch.softmax(t, 0),
               lambda t: t.cumsum(2), lambda t: t.cumsum(0), lambda t: (t * 0.5).cumprod(1),
               lambda t: (t > 0).to(torch.int64).cumsum(-1)):
        assert_close(*both(fn, x), rtol=1e-4, atol=1e-5)


# ---- matmul ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 7), (64, 64, 64), (65, 33, 70), (8, 128, 4)])
def test_matmul_shapes(m, k, n):
    a, b = sample((m, k), seed=13), sample((k, n), seed=14)
    assert_close(*both(lambda x, y: x @ y, a, b), rtol=1e-4, atol=1e-4, what=f"{m}x{k}x{n}")


def test_matmul_transposed_batched_broadcast():
    a, b = sample((3, 6, 5), seed=15), sample((3, 5, 9), seed=16)
    w = sample((9, 5), seed=17)
    fns = [lambda x, y: x @ y, lambda x, y: x.transpose(1, 2).transpose(1, 2) @ y,
           lambda x, y: y.transpose(1, 2) @ x.transpose(1, 2), lambda x, y: x[0] @ y,
           lambda x, y: torch.bmm(x, y), lambda x, y: x @ y[0], lambda x, y: x[:, :, 1:] @ y[:, 1:, :]]
    for i, fn in enumerate(fns):
        assert_close(*both(fn, a, b), rtol=1e-4, atol=1e-4, what=f"variant {i}")
    assert_close(*both(lambda x, y: x @ y.t(), a, w), rtol=1e-4, atol=1e-4, what="linear")
    assert_close(*both(lambda x: x[0] @ x[0].t(), a), rtol=1e-4, atol=1e-4, what="aliased")
    ai, bi = (a * 4).to(torch.int32), (b * 4).to(torch.int32)
    assert_close(*both(lambda x, y: x @ y, ai, bi), what="int32")
    assert_close(*both(lambda x, y: x @ y, a.half(), b.half()), rtol=1e-2, atol=1e-2, what="half")


# ---- indexing --------------------------------------------------------------------------------------------------

def test_indexing_take_put():
    x = sample((5, 6), seed=18)
    idx = torch.tensor([4, 0, -1, 2])
    fns = [lambda t, i: t[i], lambda t, i: t[:, i], lambda t, i: t[i, i], lambda t, i: t[t > 0],
           lambda t, i: torch.gather(t, 1, i.abs().unsqueeze(0).expand(5, 4)),
           lambda t, i: t.index_select(0, i.abs()), lambda t, i: t[1:4, ::2]]
    for j, fn in enumerate(fns):
        assert_close(*both(fn, x, idx), what=f"take {j}")

    def puts(t, i):
        t = t.clone()
        t[i.abs()] = 0.5
        t[:, 0] = t[:, 1]
        t.index_put_((i.abs(),), torch.ones(6, device=t.device), accumulate=True)
        t2 = torch.zeros(5, 6, device=t.device).scatter_add(0, i.abs().unsqueeze(1).expand(4, 6), t[:4])
        t3 = torch.zeros(6, device=t.device).index_add(0, torch.tensor([1, 1, 3], device=t.device),
                                                       torch.ones(3, device=t.device))
        return torch.cat([t, t2, t3.unsqueeze(0)])
    assert_close(*both(puts, x, idx), what="put")


def test_index_error_is_reported():
    x = torch.ones(3, device=GPU)
    with pytest.raises(IndexError, match="out of bounds"):
        y = x[torch.tensor([1, 5], device=GPU)]
        y.cpu()
    assert (x + 1).tolist() == [2.0, 2.0, 2.0]   # the error was consumed


def test_buffer_queue():
    # tensors are numbered by Python and their births and deaths queued for the bridge (runtime.py): a queue that
    # fills up without a bridge call is applied by one, and the bridge's accounting follows
    from torch_js.backends.webgpu import runtime as rt
    torch.webgpu.synchronize()
    live = torch.webgpu.memory_stats()["live"]
    ts = [torch.empty(4, device=GPU) for _ in range(2 * rt.QUEUE_ENTRIES + 5)]
    assert 0 < rt.QUEUE[0] < rt.QUEUE_ENTRIES and all(t._storage.ptr % 2 == 1 for t in ts[:3])
    for i, t in enumerate(ts[-3:]):
        t.fill_(i)
    assert [t.tolist() for t in ts[-3:]] == [[0.0] * 4, [1.0] * 4, [2.0] * 4]
    assert torch.webgpu.memory_stats()["live"] == live + len(ts)
    del ts, t
    assert torch.webgpu.memory_stats()["live"] == live


def test_index_copy_checks_on_the_device():
    # index_copy_ with a device index costs no readback; a bad index (negative ones too: index_copy does not wrap
    # them) is reported at the next readback, as CUDA's device-side assert is
    x = torch.zeros(4, 3, device=GPU)
    src = torch.arange(6, dtype=torch.float32).reshape(2, 3).to(GPU)
    idx = torch.tensor([3, 1], device=GPU)
    with torch.webgpu.counter() as c:
        x.index_copy_(0, idx, src)
    assert c["readbacks"] == 0
    assert x.tolist() == [[0.0] * 3, [3.0, 4.0, 5.0], [0.0] * 3, [0.0, 1.0, 2.0]]
    for bad in ([0, 4], [-1, 0]):
        y = torch.zeros(4, 3, device=GPU).index_copy_(0, torch.tensor(bad, device=GPU), src)
        with pytest.raises(IndexError, match="out of bounds"):
            y.cpu()
    assert (x + 0).sum().item() == 15.0


def test_bad_loss_target_is_reported_at_readback():
    # as on CUDA, the target's bounds are checked on the device: the loss costs no sync, the error comes with the
    # next readback and is consumed by it
    logits = torch.zeros(2, 3, device=GPU)
    with torch.webgpu.counter() as c:
        loss = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 3], device=GPU))
    assert c["readbacks"] == 0
    with pytest.raises(IndexError, match="out of bounds"):
        loss.item()
    good = torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2], device=GPU))
    assert abs(good.item() - 1.0986123) < 1e-5


# ---- autograd, devices, memory ---------------------------------------------------------------------------------

def _mlp_step(dev, steps=1):
    torch.manual_seed(0)
    w1 = (torch.randn(4, 8) * 0.5).to(dev).requires_grad_()
    b1 = torch.zeros(8).to(dev).requires_grad_()
    w2 = (torch.randn(8, 3) * 0.5).to(dev).requires_grad_()
    x = torch.randn(16, 4).to(dev)
    y = torch.tensor([0, 1, 2, 1] * 4).to(dev)
    for _ in range(steps):
        h = torch.relu(x @ w1 + b1)
        loss = torch.nn.functional.cross_entropy(h @ w2, y)
        loss.backward()
        with torch.no_grad():
            for p in (w1, b1, w2):
                p -= 0.1 * p.grad
                p.grad = None
    return loss, (w1, b1, w2)


def test_mlp_training_matches_cpu():
    lc, pc = _mlp_step("cpu", steps=3)
    lg, pg = _mlp_step(GPU, steps=3)
    assert abs(lc.item() - lg.item()) < 1e-4
    for a, b in zip(pc, pg):
        assert_close(a.detach(), b.detach(), rtol=1e-4, atol=1e-5)


def test_grads_on_device():
    x = sample((3, 4), seed=19)
    xc = x.clone().requires_grad_()
    xg = x.to(GPU).requires_grad_()
    for t in (xc, xg):
        (torch.tanh(t) * t.exp()).sum(1).softmax(0)[1].backward()
    assert xg.grad.device.type == GPU
    assert_close(xc.grad, xg.grad, rtol=1e-4, atol=1e-5)


def test_mixing_devices_raises():
    a, b = torch.ones(3), torch.ones(3, device=GPU)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        b @ torch.ones(3, 3)


def test_memory_flat_over_training_loop():
    torch.manual_seed(0)
    w = torch.randn(8, 4).to(GPU).requires_grad_()
    x, y = torch.randn(32, 8).to(GPU), torch.randn(32, 4).to(GPU)
    opt = torch.optim.SGD([w], lr=0.01)
    marks = []
    for step in range(200):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
        if step in (20, 199):
            marks.append((torch.webgpu.memory_allocated(), torch.webgpu.memory_reserved()))
    loss.item()
    assert marks[0][0] == marks[1][0], marks
    assert marks[1][1] <= marks[0][1] + 64 * 1024, marks
    torch.webgpu.empty_cache()
    assert torch.webgpu.memory_reserved() < marks[1][1] or marks[1][1] == torch.webgpu.memory_allocated()


def test_async_readback():
    from pyodide.ffi import run_sync
    t = torch.arange(6, device=GPU).reshape(2, 3).t()
    assert run_sync(t.tolist_async()) == [[0, 3], [1, 4], [2, 5]]
    assert run_sync((t.sum() * 2).item_async()) == 30
    assert run_sync(t.cpu_async()).device.type == "cpu"


def test_cpu_reads_straight_into_the_new_storage(monkeypatch):
    """.cpu() and .to("cpu") copy the mapped bytes once, into the CPU tensor's storage (not out of the mapping, into a
    bytes object, then into the storage); views with an offset and strided views read their own elements."""
    base = torch.arange(24, device=GPU, dtype=torch.float32)
    monkeypatch.setattr(type(GPU_BE), "read_bytes", lambda *a: pytest.fail(".cpu() went through read_bytes"))
    assert base[5:17].cpu().tolist() == [float(i) for i in range(5, 17)]   # (the CPU tensor's tolist reads the CPU)
    assert base.reshape(4, 6)[1:, ::2].to("cpu").reshape(-1).tolist() == [6., 8., 10., 12., 14., 16., 18., 20., 22.]
    assert torch.empty(0, device=GPU).cpu().shape == (0,)


def test_work_counters():
    t = torch.ones(1024).to(GPU)
    (t * 2 + 1).sum().item()   # the scalars 2 and 1 are made (filled) once, then cached
    torch.webgpu.reset_stats()
    assert torch.webgpu.stats()["dispatches"] == 0
    with torch.webgpu.counter() as c:
        v = (t * 2 + 1).sum().item()
    assert v == 3072.0
    assert c["readbacks"] == 1 and c["bytes_read"] == 4 and c["submits"] >= 1, c
    assert 1 <= c["dispatches"] <= 3, c
    with torch.webgpu.counter() as c:
        u = torch.arange(4.0).to(GPU)
        w = u + 1      # recorded: counted when the block ends, whether or not the op was deferred
    assert c["bytes_uploaded"] == 16 and c["dispatches"] == 1 and c["readbacks"] == 0, c
    assert w.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert torch.webgpu.stats()["readbacks"] == 2
    assert set(torch.webgpu.stats()) == set(torch.webgpu.COUNTERS)


# ---- lazy execution (js_bridge/webgpu/lazy.mjs): recorded elementwise ops run fused at sync points ---------------

@pytest.fixture(params=[True, False], ids=["lazy", "eager"])
def lazy_mode(request):
    was = torch.webgpu.set_lazy(request.param)
    yield request.param
    torch.webgpu.set_lazy(was)


def _hazards(dev):
    """Elementwise programs whose fusion must respect views, in-place writes, dtypes and broadcasting."""
    x = sample((6, 5), seed=30).to(dev)
    v = sample((5,), seed=31).to(dev)
    out = {}
    a = x * 2 + 1
    out["transposed read of a pending value"] = a.t() * 3 - a.t().exp()
    y = x * 2
    x2 = x.clone()
    x2.add_(1)                     # in place after a read of the old value
    out["read before an in-place write"] = y + x2
    buf = torch.zeros(6, 5, device=dev)
    buf[:, 0] = v[0] * 2           # writes through a column view, then the whole is read
    buf[2] = v + 1
    out["writes through views"] = buf * 1.5
    h = (x.to(torch.float16) * 3 + 0.1).to(torch.float16)
    out["float16 rounding between ops"] = (h * 7).float()
    u = (x * 100).to(torch.uint8)  # float -> uint8 truncates then wraps
    out["uint8 wrap"] = (u + 200).to(torch.int32)
    m = x > 0
    out["bool mask and where"] = torch.where(m & (v > -1), x.exp(), -x) + m.float()
    i = (x * 10).to(torch.int64)   # int64 results run alone, exactly
    out["int64 in a chain"] = (i * 3 + 5).float() * 0.5
    out["broadcast row"] = (x - v).relu() * v.unsqueeze(0).sigmoid()
    z = x.clone()
    z.mul_(2).sub_(v).clamp_(-1, 1)
    out["in-place chain"] = z
    out["scalar chain"] = ((x * 2 + 1) / 3 - 0.25).sum(dim=1)
    sq = x[:5, :5] * 1.0
    tr = sq.t() * 2 + 0.5          # read transposed, then written in place through the plain view
    sq.add_(1)
    out["in-place write after a transposed read"] = tr
    out["the square after it"] = sq
    out["reduction with prologue and epilogue"] = ((x * 2 - v) ** 2).mean(dim=1) * 3 + 1
    out["reduction read through a transposed view"] = (x * 3 + 1).t().sum(dim=1)
    centered = x - x.sum(dim=1, keepdim=True) / 5     # the epilogue's result read broadcast by the next group
    out["reduced value broadcast"] = centered * centered.abs().amax(dim=0)
    out["any of a mask"] = (x * v > 0.5).any(dim=0)
    w = x * 1.0
    m1, m2 = w.mean(dim=1), w.mean(dim=1) * 2       # the second is a copy of the first, in its epilogue
    w.add_(0.25)                   # a write between two equal reductions: the next is not a copy
    out["the same reduction twice"] = m1 + m2 + w.mean(dim=1)
    out["argmax of a chain"] = (x * x - v).argmax(dim=1)
    m = x.t() * 1.0                # (5, 6)
    out["matmul epilogue"] = ((x @ m + v[0]).relu() * 2).half().float()
    y = x @ m
    y.add_(v[1])                   # in place on the product, as linear's addmm
    out["matmul in-place bias"] = y
    p = x @ m
    out["matmul read transposed"] = p.t() - p
    a = sample((128, 128), seed=32).to(dev)
    q = a @ sample((128, 128), seed=33).to(dev)
    a.t().mul_(2)                  # writes an input of the pending product (same size: could join its epilogue)
    out["write after a matmul's read"] = q * a
    # one op between two kernels runs its own: it reads a scalar nobody keeps (NaN is not cached) from memory
    out["one op on a scalar nobody keeps"] = torch.cumsum(torch.cumsum(x, 0) * float("nan"), 0)
    b = sample((64, 64), seed=34).to(dev)
    out["matmul input read by its epilogue"] = b @ b + b      # the product may bind b as vec4
    n16, n8 = (x * 3).to(torch.int16), (x * 3).to(torch.int8)
    out["narrow ints against negative scalars"] = (n16 > -2) & (n8 != -1) | (n16 == -3)
    # a transpose's copy walks its input's order (lazy.mjs walkInputOrder): joins the kernel that wrote the input
    t3 = (x * 3 - 1).view(2, 3, 5)
    out["transposed copy of a pending value"] = t3.transpose(0, 2).contiguous() + 1
    kept = x * 0.5
    out["transposed copy, the source kept"] = kept.t().contiguous().view(-1)[:7] * kept[0, 0]
    q, k, w = (sample((2, 3, 8, 4), seed=s).to(dev) for s in (35, 36, 37))
    att = torch.nn.functional.scaled_dot_product_attention(q, k, w, is_causal=True)
    out["attention, heads merged"] = att.transpose(1, 2).contiguous().view(2, 8, 12) @ sample((12, 3), seed=38).to(dev)
    out["attention kept, heads merged"] = att.transpose(1, 2).contiguous() - att.transpose(1, 2)
    out["arange"] = torch.arange(7, device=dev) * 3 + torch.arange(3, 17, 2, device=dev)
    return out


def test_lazy_matches_eager(lazy_mode):
    want = _hazards("cpu")
    got = _hazards(GPU)
    for what, c in want.items():
        tol = 1e-2 if "float16" in what else 1e-4
        assert_close(c, got[what], rtol=tol, atol=tol, what=what)


def test_lazy_fuses_and_skips_intermediates():
    t = torch.randn(4096).to(GPU)
    (t * 2 + 1).exp().sum().item()
    with torch.webgpu.counter() as c:
        r = ((t * 2 + 1).exp() - t).sum().item()
    want = ((t.cpu() * 2 + 1).exp() - t.cpu()).sum().item()
    assert abs(r - want) <= 1e-4 * abs(want)
    if torch.webgpu.lazy_enabled():
        # one kernel: the reduction computes the chain in its loads; no intermediate reaches memory
        assert c["dispatches"] == 1 and c["fused_kernels"] == 1 and c["fused_nodes"] == 5, c
        assert c["stores_skipped"] == 4, c
    held = t * 2                   # a value a Python name holds is written
    torch.webgpu.flush()
    assert held.tolist() == [v * 2 for v in t.tolist()]


def test_common_patterns_take_fewer_kernels():
    """arange is one kernel; the head merge after attention (transpose, contiguous) is stored by the attention
    kernel; linear's weight gradient is made in the weight's layout (no transpose copy), as ATen's."""
    was = torch.webgpu.set_lazy(True)
    try:
        torch.webgpu.flush()
        with torch.webgpu.counter(kernels=True) as c:
            r = torch.arange(100, device=GPU)
            torch.webgpu.flush()
        assert c.kernels == ["fill:iota:5|0"], c.kernels
        assert r.tolist() == list(range(100))
        q, k, v = (sample((2, 4, 16, 8), seed=s).to(GPU) for s in (40, 41, 42))
        with torch.webgpu.counter(kernels=True) as c:
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            merged = y.transpose(1, 2).contiguous()
            del y
            torch.webgpu.flush()
        assert len(c.kernels) == 1 and c.kernels[0].startswith("attention:") and "|epi|" in c.kernels[0], c.kernels
        want = torch.nn.functional.scaled_dot_product_attention(q.cpu(), k.cpu(), v.cpu(), is_causal=True)
        assert_close(want.transpose(1, 2).contiguous(), merged, what="head merge")
        grads = []
        for dev in ("cpu", GPU):
            torch.manual_seed(3)
            lin = torch.nn.Linear(8, 4).to(dev)
            x = sample((5, 8), seed=43).to(dev)
            with torch.webgpu.counter(kernels=True) as c:
                (lin(x) * sample((5, 4), seed=44).to(dev)).sum().backward()
                torch.webgpu.flush()
            grads.append(lin.weight.grad)
        assert not any(name.startswith("copy:") for name in c.kernels), c.kernels
        assert grads[1].is_contiguous()
        assert_close(grads[0], grads[1], what="linear weight gradient")
    finally:
        torch.webgpu.set_lazy(was)

OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd_momentum_nesterov_wd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "adam_amsgrad_wd": lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw_fused": lambda ps: torch.optim.AdamW(ps, lr=0.01, fused=True),
    "rmsprop_centered_momentum": lambda ps: torch.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_fuse_and_match_cpu(name, lazy_mode):
    sizes = (1000, 10, 300, 7, 64, 1)         # several segments per kernel, and kernels' params past one slot
    torch.manual_seed(0)
    cpu = [torch.randn(n).requires_grad_() for n in sizes]
    gpu = [p.detach().to(GPU).requires_grad_() for p in cpu]
    for params in (cpu, gpu):
        opt = OPTIMIZERS[name](params)
        for _ in range(3):
            opt.zero_grad()
            sum(((p - 0.5) ** 2 * (k + 1)).sum() for k, p in enumerate(params)).backward()
            torch.webgpu.flush()
            with torch.webgpu.counter() as c:
                opt.step()
    for a, b in zip(cpu, gpu):
        assert_close(a.detach(), b.detach(), rtol=1e-5, atol=1e-6, what=name)
    if lazy_mode:
        # each parameter's update is one group; groups run side by side, as many per kernel as bindings allow
        assert c["dispatches"] <= len(sizes) // 2 + 1, c


def test_lazy_errors_raise_at_the_op():
    was = torch.webgpu.set_lazy(True)
    try:
        f = torch.ones(3, device=GPU)
        with pytest.raises(TypeError, match="bitwise_not"):
            out = _empty((3,), torch.float32, torch.device(GPU))
            GPU_BE.unary("bitwise_not", out, f)
        with pytest.raises(RuntimeError):
            f + torch.ones(4, device=GPU)
        assert (f + 1).tolist() == [2.0, 2.0, 2.0]
    finally:
        torch.webgpu.set_lazy(was)


def test_lazy_flag():
    was = torch.webgpu.set_lazy(False)
    assert torch.webgpu.lazy_enabled() is False
    assert torch.webgpu.set_lazy(was) is False
    assert torch.webgpu.lazy_enabled() is was


def test_half_types_roundtrip():
    x = sample((3, 4), seed=20)
    for d in (torch.float16, torch.bfloat16):
        assert_close(*both(lambda t: (t.to(d) * 2 + 1).relu(), x), rtol=1e-2, atol=1e-2, what=str(d))


# ---- nn primitives: conv (im2col + gemm, col2im), pooling ------------------------------------------------------

def _conv_pool_cases():
    F = torch.nn.functional
    x2, w2 = sample((2, 3, 7, 6), seed=21), sample((4, 3, 3, 2), seed=22)
    x3, w3 = sample((1, 2, 4, 5, 4), seed=23), sample((3, 2, 2, 3, 2), seed=24)
    two_d = {
        "conv": lambda t, k: F.conv2d(t, k, stride=(2, 1), padding=1, dilation=(1, 2)),
        "conv_groups": lambda t, k: F.conv2d(t[:, :2], k[:, :1], groups=2, padding=(0, 1)),
        "maxpool": lambda t, k: F.max_pool2d(t, 3, stride=2, padding=1),
        "maxpool_dil": lambda t, k: F.max_pool2d(t, 2, dilation=2),
        "avgpool": lambda t, k: F.avg_pool2d(t, 3, stride=2, padding=1, count_include_pad=False),
        "avgpool_pad": lambda t, k: F.avg_pool2d(t, 2, padding=1),
        "adaptive_avg": lambda t, k: F.adaptive_avg_pool2d(t, (3, 4)),
        "adaptive_max": lambda t, k: F.adaptive_max_pool2d(t, 2),
        "unfold": lambda t, k: F.unfold(t, (2, 3), padding=1),
        "fold": lambda t, k: F.fold(F.unfold(t, 2), (7, 6), 2),
    }
    # three spatial dims: the same kernels with a depth
    three_d = {
        "conv3d": lambda t, k: F.conv3d(t, k, stride=(1, 2, 1), padding=(1, 0, 1), dilation=(2, 1, 1)),
        "conv_transpose3d": lambda t, k: F.conv_transpose3d(t, k.transpose(0, 1), stride=2, output_padding=1),
        "maxpool3d": lambda t, k: F.max_pool3d(t, 2, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1)),
        "avgpool3d": lambda t, k: F.avg_pool3d(t, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        "avgpool3d_div": lambda t, k: F.avg_pool3d(t, 2, divisor_override=3),
        "adaptive_avg3d": lambda t, k: F.adaptive_avg_pool3d(t, (3, 2, 3)),
        "adaptive_max3d": lambda t, k: F.adaptive_max_pool3d(t, (2, 3, 2)),
    }
    return [(name, fn, x2, w2) for name, fn in two_d.items()] + [(name, fn, x3, w3) for name, fn in three_d.items()]


def test_conv_and_pool_forward_backward():
    for name, fn, x, w in _conv_pool_cases():
        xc, wc = x.clone().requires_grad_(), w.clone().requires_grad_()
        xg, wg = x.to(GPU).requires_grad_(), w.to(GPU).requires_grad_()
        yc, yg = fn(xc, wc), fn(xg, wg)
        assert_close(yc.detach(), yg.detach(), rtol=1e-4, atol=1e-4, what=name)
        (yc * yc).sum().backward()
        (yg * yg).sum().backward()
        assert_close(xc.grad, xg.grad, rtol=1e-4, atol=1e-4, what=name + " grad x")
        if wc.grad is not None:
            assert_close(wc.grad, wg.grad, rtol=1e-4, atol=1e-4, what=name + " grad w")


# ---- ops without OpInfo samples in the fixture: factories, random draws, decompositions, in-place variants -----
# Each entry builds its result on a device; the webgpu result must be on webgpu and equal the CPU one (random
# ops draw from the CPU generator on every device, so the same seed gives the same values).

def _dev_input(dev, shape=(4, 5), seed=0):
    return sample(shape, seed=seed).to(dev)


def _spd(dev, n=4):
    a = sample((n, n), seed=3)
    return (a @ a.T + n * torch.eye(n)).to(dev)


def _svd_parts(dev):
    u, s, vh = torch.linalg.svd(_dev_input(dev, (5, 3)), full_matrices=False)
    return (u * s) @ vh, s          # the reconstruction and the spectrum are sign-free


def _eigh_parts(dev):
    w, v = torch.linalg.eigh(_spd(dev))
    return (v * w) @ v.mT, w


def _fold(dev):
    x = _dev_input(dev, (1, 3 * 2 * 2, 9))
    return torch.nn.functional.fold(x, (4, 4), 2)


NO_SAMPLE_OPS = {
    "zeros": lambda dev: torch.zeros(2, 3, device=dev),
    "ones": lambda dev: torch.ones(2, 3, dtype=torch.int64, device=dev),
    "full": lambda dev: torch.full((2, 2), 7.5, device=dev),
    "arange": lambda dev: torch.arange(1, 10, 2, device=dev),
    "linspace": lambda dev: torch.linspace(-1, 1, 7, device=dev),
    "logspace": lambda dev: torch.logspace(0, 2, 5, device=dev),
    "eye": lambda dev: torch.eye(3, 4, device=dev),
    "tensor": lambda dev: torch.tensor([[1.5, 2.0], [3.0, -4.0]], device=dev),
    "full_like": lambda dev: torch.full_like(_dev_input(dev), 3.0),
    "zeros_like": lambda dev: torch.zeros_like(_dev_input(dev)),
    "empty_strided.shape": lambda dev: torch.tensor(list(torch.empty_strided((2, 3), (1, 2), device=dev).stride()),
                                                    device=dev),
    "scalar_tensor": lambda dev: torch.scalar_tensor(2.5, device=dev),
    "rand": lambda dev: (torch.manual_seed(1), torch.rand(3, 4, device=dev))[1],
    "randn": lambda dev: (torch.manual_seed(1), torch.randn(3, 4, device=dev))[1],
    "randint": lambda dev: (torch.manual_seed(1), torch.randint(0, 10, (8,), device=dev))[1],
    "randperm": lambda dev: (torch.manual_seed(1), torch.randperm(9, device=dev))[1],
    "randn_like": lambda dev: (torch.manual_seed(1), torch.randn_like(_dev_input(dev)))[1],
    "normal": lambda dev: (torch.manual_seed(1), torch.normal(_dev_input(dev), 0.5))[1],
    "bernoulli": lambda dev: (torch.manual_seed(1), torch.bernoulli(_dev_input(dev).sigmoid()))[1],
    "multinomial": lambda dev: (torch.manual_seed(1), torch.multinomial(_dev_input(dev).exp(), 3))[1],
    "dropout1d": lambda dev: (torch.manual_seed(1), torch.nn.functional.dropout1d(_dev_input(dev, (2, 3, 4)), 0.5))[1],
    "feature_alpha_dropout": lambda dev: (torch.manual_seed(1), torch.nn.functional.feature_alpha_dropout(
        _dev_input(dev, (2, 3, 4)), 0.5, True))[1],
    "det": lambda dev: torch.det(_spd(dev)),
    "slogdet": lambda dev: torch.slogdet(_spd(dev))[1],
    "inverse": lambda dev: torch.inverse(_spd(dev)),
    "matrix_power": lambda dev: torch.matrix_power(_spd(dev), -2),
    "chain_matmul": lambda dev: torch.chain_matmul(_dev_input(dev, (3, 4)), _dev_input(dev, (4, 2)),
                                                   _dev_input(dev, (2, 3))),
    "inner": lambda dev: torch.inner(_dev_input(dev, (3, 4)), _dev_input(dev, (2, 4), seed=1)),
    "ger": lambda dev: torch.ger(_dev_input(dev, (3,)), _dev_input(dev, (4,), seed=1)),
    "meshgrid": lambda dev: torch.meshgrid(_dev_input(dev, (3,)), _dev_input(dev, (2,)), indexing="xy")[0],
    "row_stack": lambda dev: torch.row_stack([_dev_input(dev, (3,)), _dev_input(dev, (3,), seed=1)]),
    "linalg.svd": lambda dev: _svd_parts(dev)[0],
    "linalg.svd.S": lambda dev: _svd_parts(dev)[1],
    "svd.S": lambda dev: torch.svd(_dev_input(dev, (5, 3)))[1],
    "linalg.eigh": lambda dev: _eigh_parts(dev)[0],
    "linalg.eigh.w": lambda dev: _eigh_parts(dev)[1],
    "relu_": lambda dev: torch.nn.functional.relu_(_dev_input(dev)),
    "leaky_relu_": lambda dev: torch.nn.functional.leaky_relu_(_dev_input(dev), 0.1),
    "elu_": lambda dev: torch.nn.functional.elu_(_dev_input(dev)),
    "hardtanh_": lambda dev: torch.nn.functional.hardtanh_(_dev_input(dev), -0.5, 0.5),
    "threshold_": lambda dev: torch.nn.functional.threshold_(_dev_input(dev), 0.1, 20.0),
    "fold": _fold,
    "max_pool2d_with_indices": lambda dev: torch.nn.functional.max_pool2d_with_indices(
        _dev_input(dev, (1, 2, 4, 4)), 2)[1],
    "adaptive_max_pool1d_with_indices": lambda dev: torch.nn.functional.adaptive_max_pool1d_with_indices(
        _dev_input(dev, (1, 2, 7)), 3)[1],
    "lp_pool2d": lambda dev: torch.nn.functional.lp_pool2d(_dev_input(dev, (1, 2, 4, 4)), 2.0, 2),
    "embedding_renorm_": lambda dev: torch.nn.functional.embedding(
        torch.tensor([0, 2], device=dev), _dev_input(dev, (3, 4)) * 3, max_norm=1.0),
    "sum_to_size": lambda dev: _dev_input(dev).sum_to_size(1, 5),
    "type_as": lambda dev: _dev_input(dev).type_as(torch.ones(1, dtype=torch.int32, device=dev)),
    "copy_": lambda dev: torch.zeros(4, 5, device=dev).copy_(_dev_input("cpu")),
    "fill_": lambda dev: _dev_input(dev).fill_(2.0),
    "zero_": lambda dev: _dev_input(dev).zero_(),
}


@pytest.mark.parametrize("name", sorted(NO_SAMPLE_OPS))
def test_op_without_opinfo_samples(name):
    fn = NO_SAMPLE_OPS[name]
    cpu, gpu = fn("cpu"), fn(GPU)
    assert_close(cpu, gpu, rtol=1e-4, atol=1e-4, what=name)
