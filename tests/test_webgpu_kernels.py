"""The webgpu device's kernel choice by shape against the CPU backend: matmul's variants (matrix-vector and skinny
kernels, small and big tiles; js_bridge/webgpu/kernels/matmul.mjs planGemm and matmul_table.mjs), reductions and
softmax with workgroups shaped to the rows (kernels/reduce.mjs), and the fused attention of
F.scaled_dot_product_attention (kernels/attention.mjs, ops/fused_attention.py) with its recomputing backward, and
when the recorded kernels are submitted (dispatch.mjs: early submits).

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`, SwiftShader); helpers from test_webgpu.py.
"""
import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
import torch_js as torch
import torch_js.nn.functional as F
from test_webgpu import GPU, assert_close, both, sample


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


# ---- matmul: the kernel by shape -------------------------------------------------------------------------------
def _matmul_programs():
    """Products whose kernel choice differs by shape (js_bridge/webgpu/kernels/matmul.mjs planGemm): decoding
    rows (M = 1), skinny row blocks, few columns (run transposed), nn.Linear's x @ W.T and its backward's g @ W,
    odd sizes past every tile, batches, batch broadcast (stride 0) and transposed operands."""
    w = sample((37, 66), seed=40)          # nn.Linear weight [out, in]
    progs = {}
    for m in (1, 2, 5, 16, 17):
        x = sample((m, 66), seed=41 + m)
        progs[f"x @ W.T, M={m}"] = (lambda x, w: x @ w.t(), x, w)
        progs[f"x @ W, M={m}"] = (lambda x, w: x @ w, sample((m, 37), seed=50 + m), w)
    progs["few columns (N=1)"] = (lambda a, v: a @ v, sample((70, 33), seed=60), sample((33, 1), seed=61))
    progs["few columns (N=3), A transposed"] = (lambda a, b: a.t() @ b, sample((33, 70), seed=62), sample((33, 3), seed=63))
    progs["matrix-vector"] = (lambda a, v: torch.mv(a, v), sample((45, 31), seed=64), sample((31,), seed=65))
    progs["vector-matrix, odd K"] = (lambda v, a: v @ a, sample((31,), seed=66), sample((31, 45), seed=67))
    progs["batched decode, A broadcast"] = (lambda q, k: q @ k.transpose(-1, -2), sample((1, 1, 16), seed=68),
                                            sample((6, 23, 16), seed=69))
    progs["batched skinny, transposed B"] = (lambda a, b: a @ b.transpose(1, 2), sample((3, 4, 20), seed=70),
                                             sample((3, 50, 20), seed=71))
    progs["x @ W.T, vec4 along k, past the tiles"] = (lambda x, w: x @ w.t(), sample((70, 68), seed=76),
                                                       sample((133, 68), seed=77))
    progs["small tiles 40x24x9"] = (lambda a, b: a @ b, sample((40, 9), seed=72), sample((9, 24), seed=73))
    progs["K=1 outer product"] = (lambda a, b: a @ b, sample((19, 1), seed=74), sample((1, 21), seed=75))
    return progs


@pytest.mark.parametrize("variant", [None, "vk16r1", "vk32r4", "vk64r16", "vn64r1", "vn16r8", "vn32r16", "s16",
                                     "s32x16", "s32", "t64d", "t128k8dsu", "n64", "n64k16", "n128x64", "n128"])
def test_matmul_kernel_variants(variant):
    """Every kernel family on every program (variant None: the choice by shape), against the CPU."""
    bridge = torch.webgpu._rt.ensure()
    bridge.gemmForce = variant
    try:
        for what, (fn, *args) in _matmul_programs().items():
            assert_close(*both(fn, *args), rtol=1e-4, atol=1e-4, what=f"{variant}: {what}")
        x, w = sample((3, 8), seed=80), sample((5, 8), seed=81)   # half and bfloat16 through the same kernels
        assert_close(*both(lambda x, w: x @ w.t(), x.half(), w.half()), rtol=1e-2, atol=1e-2, what="half")
        assert_close(*both(lambda x, w: x @ w.t(), x.bfloat16(), w.bfloat16()), rtol=2e-2, atol=2e-2, what="bf16")
    finally:
        bridge.gemmForce = None


def test_matmul_profile_nt_entry():
    """A profile's `nt` entry (matmul_table.mjs) picks the tiles and split-K rule of products whose operands both
    run along k (x @ W.T), and only of those: x @ W keeps the profile's own tiles."""
    import js
    from pyodide.ffi import to_js
    bridge = torch.webgpu._rt.ensure()
    before = bridge.matmulProfile
    nt = {"nt": {"tiles": [["n64", 0]], "splitK": {"below": 10000, "target": 20000, "minSlice": 16}}}
    bridge.matmulProfile = js.Object.assign(js.Object.new(), before, to_js(nt, dict_converter=js.Object.fromEntries))
    try:
        x, w = sample((70, 64), seed=84), sample((90, 64), seed=85)
        xg, wg = x.to(GPU), w.to(GPU)
        torch.webgpu.flush()
        with torch.webgpu.counter(kernels=True) as c:
            y = xg @ wg.t()
        assert any(":n64:" in k for k in c.kernels) and c.kernels[-1].startswith("splitk_sum:"), c.kernels
        assert_close(x @ w.t(), y, what="nt profile")
        with torch.webgpu.counter(kernels=True) as c:
            y2 = xg @ wg.t().contiguous()     # W.T stored as [K, N]: B runs along n
        assert not any(":n64:" in k for k in c.kernels), c.kernels
        assert_close(x @ w.t(), y2, what="x @ W")
    finally:
        bridge.matmulProfile = before


def test_matmul_choice_by_shape():
    """Decoding takes the matrix-vector kernel, in one dispatch and without copying W.T; a big square the tiles."""
    w = sample((96, 64), seed=82).to(GPU)
    x = sample((1, 64), seed=83).to(GPU)
    torch.webgpu.flush()
    with torch.webgpu.counter(kernels=True) as c:
        y = x @ w.t()
    assert c["dispatches"] == 1 and c.kernels[0].startswith("gemv:"), c.kernels
    assert_close(sample((1, 64), seed=83) @ sample((96, 64), seed=82).t(), y, what="decode")
    a = torch.ones(128, 128, device=GPU)
    with torch.webgpu.counter(kernels=True) as c:
        b = a @ a          # held: a product nobody keeps is never computed (lazy execution)
    assert c["dispatches"] == 1 and c.kernels[0].startswith("gemm:"), c.kernels
    assert b.sum().item() == 128 * 128 * 128


# ---- reductions and softmax: workgroups shaped to the rows -------------------------------------------------------

@pytest.mark.parametrize("shape,dims", [
    ((300, 3), (1,)), ((7, 33), (1,)), ((2, 1500), (1,)), ((3, 5000), (1,)),     # rows: short to long
    ((500, 40), (0,)), ((6, 20, 24), (0,)), ((33, 12), (0,)), ((9, 70), (0,)),   # columns (kept dim contiguous)
    ((4, 6, 10), (0, 2)), ((5, 6, 7), (1,)), ((1, 1), (0, 1)), ((40, 1), (1,)),  # strided / degenerate
    ((3, 70001), (1,)), ((300, 410), (0, 1)),                                    # two passes (partials)
])
def test_reduction_shapes(shape, dims):
    """The reduction's workgroup shape (kernels/reduce.mjs reduceShape: rows per workgroup, columns, slices, two
    passes) on every kind of layout; ties and NaN across slices keep PyTorch's first index."""
    x = sample(shape, seed=sum(shape))
    flat = x.reshape(-1)
    flat[::7] = 2.5                      # ties (above every other value)
    x2 = x.clone()
    x2.reshape(-1)[len(flat) // 2] = float("nan")
    d = dims[0]
    fns = {"sum": lambda t: t.sum(dims), "amax": lambda t: t.amax(dims), "mean": lambda t: t.mean(dims),
           "argmax": lambda t: t.argmax(d), "min_idx": lambda t: t.min(d).indices, "max": lambda t: t.max(d).values,
           "any": lambda t: (t > 1.9).any(d), "int": lambda t: (t * 10).to(torch.int32).sum(dims),
           "all": lambda t: (t > -1.99).all(), "count": lambda t: torch.count_nonzero(t > 0.5, dim=dims),
           "prod": lambda t: (t * 0.01 + 1).prod(d), "amin": lambda t: t.amin(dims)}
    for name, fn in fns.items():
        assert_close(*both(fn, x), rtol=1e-4, atol=1e-4, what=name)
    for name in ("argmax", "max", "amax"):
        assert_close(*both(fns[name], x2), rtol=1e-4, atol=1e-4, what=name + " nan")


def test_reduction_of_many_elements_takes_two_passes():
    t = torch.ones(100_000, device=GPU)
    torch.webgpu.flush()
    with torch.webgpu.counter(kernels=True) as c:
        s = t.sum()
    assert [k.split("|")[0].endswith("p") for k in c.kernels] == [True, False], c.kernels   # partials, then theirs
    assert s.item() == 100_000.0


@pytest.mark.parametrize("n", [1, 5, 8, 31, 64, 300, 2048, 2049, 5000])
def test_softmax_row_widths(n):
    """Rows of every width (several rows per workgroup, registers, or streaming past 2048), with rows holding
    NaN, +inf, -inf and all -inf, as PyTorch (any NaN or +inf: the row is NaN; all -inf: NaN)."""
    rows = 6
    x = sample((rows, n), -8, 8, seed=n)
    x[1, n // 2] = float("nan")
    x[2, n - 1] = float("inf")
    x[3, 0] = float("-inf")
    x[4] = float("-inf")
    for fn in (lambda t: torch.softmax(t, -1), lambda t: torch.log_softmax(t, -1)):
        assert_close(*both(fn, x), rtol=1e-4, atol=1e-5, what=f"n={n}")


# ---- fused attention ---------------------------------------------------------------------------------------------

def _sdpa_cases():
    """(q, k, v, kwargs) with the layouts models use: heads from a transposed (B, L, H, E) projection, GQA, causal
    with L != S, boolean and additive masks broadcast over batch and heads, a row with every key masked (NaN as
    the composite), odd and unaligned sizes past the kernel's row and key blocks, few rows (the split-keys
    kernel of decoding), 2-D and 5-D inputs."""
    b, h, l, s, e = 2, 3, 70, 45, 20
    q = sample((b, l, h, e), seed=90).transpose(1, 2)           # strided heads, as a GPT block's view
    k = sample((b, s, h, e), seed=91).transpose(1, 2)
    v = sample((b, h, s, 12), seed=92)
    bool_mask = sample((l, s), seed=93) > -1.5
    bool_mask[5] = False                                        # row 5: no key left -> NaN, as the composite
    add_mask = sample((b, 1, l, s), seed=94)
    return {
        "plain": (q, k, v, {}),
        "causal, L > S": (q, k, v, {"is_causal": True}),
        "causal, square": (q, sample((b, h, l, e), seed=95), sample((b, h, l, 9), seed=96), {"is_causal": True}),
        "bool mask": (q, k, v, {"attn_mask": bool_mask}),
        "additive mask, scale": (q, k, v, {"attn_mask": add_mask, "scale": 0.3}),
        "gqa": (sample((1, 6, 17, 8), seed=97), sample((1, 2, 33, 8), seed=98), sample((1, 2, 33, 8), seed=99),
                {"enable_gqa": True, "is_causal": True}),
        "decode (L = 1)": (sample((2, 4, 1, 16), seed=100), sample((2, 4, 40, 16), seed=101),
                           sample((2, 4, 40, 16), seed=102), {}),
        "few rows (keys split), bool mask": (q[:, :, :3], k, v, {"attn_mask": bool_mask[3:6]}),
        "few rows, causal": (q[:, :, :12], q[:, :, :12], v[:, :, :12], {"is_causal": True}),
        "few rows, additive mask": (q[:, :, :4], k, v, {"attn_mask": add_mask[:, :, :4]}),
        "2-D": (sample((5, 7), seed=103), sample((9, 7), seed=104), sample((9, 3), seed=105), {}),
        "5-D": (sample((2, 2, 2, 6, 4), seed=106), sample((2, 2, 2, 5, 4), seed=107), sample((2, 2, 2, 5, 4), seed=108), {}),
    }


@pytest.mark.parametrize("case", list(_sdpa_cases()))
def test_sdpa_fused_matches_cpu(case):
    q, k, v, kw = _sdpa_cases()[case]
    assert_close(*both(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **{
        n: (x.to(q.device) if isinstance(x, torch.Tensor) else x) for n, x in kw.items()}), q, k, v),
        rtol=1e-4, atol=1e-5, what=case)


@pytest.mark.parametrize("rows", [8, 2])
def test_sdpa_split_keys_for_long_rows(rows):
    """The split-keys kernel (`rows` query rows per workgroup, the keys in 64 / rows partitions merged in workgroup
    memory), which short grids take at any length (attention.minWorkgroups), forced here over many rows."""
    bridge = torch.webgpu._rt.ensure()
    bridge.attentionRowsForce = rows
    try:
        for case in ("plain", "causal, L > S", "causal, square", "bool mask", "additive mask, scale", "gqa"):
            q, k, v, kw = _sdpa_cases()[case]
            assert_close(*both(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **{
                n: (x.to(q.device) if isinstance(x, torch.Tensor) else x) for n, x in kw.items()}), q, k, v),
                rtol=1e-4, atol=1e-5, what=f"{case}, {rows} rows")
    finally:
        bridge.attentionRowsForce = None


def test_sdpa_is_one_kernel_and_backward_matches():
    """The forward is one dispatch (the composite: two products, a softmax, the masking); gradients of q, k, v
    from the recomputing backward equal the composite's on the CPU."""
    q, k, v, kw = _sdpa_cases()["causal, L > S"]
    qg, kg, vg = (t.to(GPU) for t in (q, k, v))
    torch.webgpu.flush()
    with torch.webgpu.counter(kernels=True) as c:
        out = F.scaled_dot_product_attention(qg, kg, vg, **kw)   # held: a result nobody keeps is not computed
    assert c["dispatches"] == 1 and c.kernels[0].startswith("attention:"), c.kernels
    for case in ("causal, L > S", "additive mask, scale", "gqa"):
        q, k, v, kw = _sdpa_cases()[case]
        grads = []
        for dev in ("cpu", GPU):
            leaves = [t.detach().to(dev).requires_grad_() for t in (q, k, v)]
            args = {n: (x.to(dev) if isinstance(x, torch.Tensor) else x) for n, x in kw.items()}
            out = F.scaled_dot_product_attention(*leaves, **args)
            w = sample(out.shape, seed=110).to(dev)
            (out * w).sum().backward()
            grads.append([t.grad for t in leaves])
            if dev == GPU:
                assert out.grad_fn.name() == "ScaledDotProductFlashAttentionBackward0"
        for name, gc, gg in zip("qkv", *grads):
            assert_close(gc, gg, rtol=1e-4, atol=1e-4, what=f"{case}: d{name}")


def test_sdpa_falls_back_to_the_composite():
    """Dropout, a mask that needs its gradient and head dims past the kernel's run the composite (still right)."""
    q, k, v = sample((2, 3, 6, 8), seed=120), sample((2, 3, 5, 8), seed=121), sample((2, 3, 5, 8), seed=122)
    qg, kg, vg = (t.to(GPU) for t in (q, k, v))
    m = sample((6, 5), seed=123).to(GPU).requires_grad_()
    with torch.webgpu.counter(kernels=True) as c:
        out = F.scaled_dot_product_attention(qg, kg, vg, attn_mask=m)
    assert not any(kk.startswith("attention:") for kk in c.kernels), c.kernels
    out.sum().backward()
    assert m.grad is not None and m.grad.shape == (6, 5)
    wide = sample((1, 1, 3, 300), seed=124)
    assert_close(*both(lambda t: F.scaled_dot_product_attention(t, t, t), wide), rtol=1e-4, atol=1e-5, what="E=300")
    torch.manual_seed(0)
    d = F.scaled_dot_product_attention(qg, kg, vg, dropout_p=0.5)
    assert d.shape == (2, 3, 6, 8)


# ---- GPU time per kernel ---------------------------------------------------------------------------------------
def test_counter_times_each_kernel():
    """counter(timing=True): one timed entry per dispatch, grouped by kernel, and results unchanged by timing."""
    x, w = sample((8, 64), seed=90), sample((32, 64), seed=91)
    xg, wg = x.to(GPU), w.to(GPU)
    torch.webgpu.flush()
    with torch.webgpu.counter(kernels=True, timing=True) as c:
        y = torch.relu(xg @ wg.t() + 1).softmax(-1)
        y.sum()
    assert sum(n for _, n, _ in c.kernel_times) == c["dispatches"] == len(c.kernels) > 0
    assert {k for k, _, _ in c.kernel_times} == set(c.kernels)
    assert all(ms >= 0 for _, _, ms in c.kernel_times)
    assert c.kernel_times == sorted(c.kernel_times, key=lambda r: -r[2])
    table = c.table().splitlines()
    assert table[0].split()[:2] == ["kernel", "calls"] and table[-1].startswith("total")
    assert len(table) == len(c.kernel_times) + 2
    assert_close(torch.relu(x @ w.t() + 1).softmax(-1), y, what="timed")
    with torch.webgpu.counter() as c2:       # timing is off again: one pass for the batch
        (xg @ wg.t()).sum().item()
    with pytest.raises(RuntimeError, match="timing=True"):
        c2.table()


def test_split_k():
    """K cut into slices summed by a second kernel (kernels/matmul.mjs splitKPlan), forced here: with and without a
    fused epilogue (bias, activation), a float16 output, and a split that does not divide K (the plain kernel)."""
    bridge = torch.webgpu._rt.ensure()
    x, w, b = sample((70, 64), seed=95), sample((40, 64), seed=96), sample((40,), seed=97)
    bridge.splitKForce = 4
    try:
        xg, wg, bg = x.to(GPU), w.to(GPU), b.to(GPU)
        torch.webgpu.flush()
        with torch.webgpu.counter(kernels=True) as c:
            y = F.gelu(F.linear(xg, wg, bg))
        assert c["dispatches"] == 2 and c.kernels[1].startswith("splitk_sum:"), c.kernels
        assert_close(F.gelu(F.linear(x, w, b)), y, what="split-K with epilogue")
        with torch.webgpu.counter(kernels=True) as c:
            y2 = xg @ wg.t()
        assert c["dispatches"] == 2, c.kernels
        assert_close(x @ w.t(), y2, what="split-K")
        assert_close(*both(lambda x, w: x @ w.t(), x.half(), w.half()), rtol=1e-2, atol=1e-2, what="split-K half")
        x3 = sample((70, 60), seed=98)           # 60 is not 4 whole K tiles: no split
        with torch.webgpu.counter() as c:
            y3 = x3.to(GPU) @ sample((60, 40), seed=99).to(GPU)
        assert c["dispatches"] == 1
        assert_close(x3 @ sample((60, 40), seed=99), y3, what="no split")
    finally:
        bridge.splitKForce = None


# ---- layer norm and RMS norm: one kernel ----------------------------------------------------------------------
@pytest.mark.parametrize("n", [7, 64, 300, 3000])       # rows in registers (short, long) and streamed (beyond)
def test_row_norm_one_kernel(n):
    """F.layer_norm / F.rms_norm run as one kernel (kernels/norm.mjs, ops/fused_norm.py) with the composite's
    values, statistics and gradients (input, weight, bias; and through create_graph, a second order)."""
    x, w, b = sample((5, n), seed=100), sample((n,), seed=101), sample((n,), seed=102)
    g = sample((5, n), seed=103)

    def run(x, w, b, g, rms):
        x, w, b = (t.clone().requires_grad_() for t in (x, w, b))
        y = F.rms_norm(x, (n,), w, 1e-5) if rms else F.layer_norm(x, (n,), w, b, 1e-5)
        grads = torch.autograd.grad(y, (x, w) if rms else (x, w, b), g)
        return (y.detach(),) + grads

    for rms in (False, True):
        xg, wg, bg = x.to(GPU), w.to(GPU), b.to(GPU)
        torch.webgpu.flush()
        with torch.webgpu.counter(kernels=True) as c:
            y = F.rms_norm(xg, (n,), wg, 1e-5) if rms else F.layer_norm(xg, (n,), wg, bg, 1e-5)
        assert c["dispatches"] == 1 and c.kernels[0].startswith("row_norm:"), c.kernels
        cpu, gpu = run(x, w, b, g, rms), run(xg, wg, bg, g.to(GPU), rms)
        for k, (a, z) in enumerate(zip(cpu, gpu)):
            assert_close(a, z, rtol=1e-4, atol=3e-5 * max(1, n / 64), what=f"rms={rms} output {k}")
        assert y.grad_fn is None
    out, mean, rstd = torch.native_layer_norm(x.to(GPU), (n,), None, None, 1e-5)
    ref = torch.native_layer_norm(x, (n,), None, None, 1e-5)
    for a, z in zip(ref, (out, mean, rstd)):
        assert_close(a, z, rtol=1e-4, atol=3e-5, what="native_layer_norm")
    xg = x.to(GPU).requires_grad_()
    (gx,) = torch.autograd.grad(F.layer_norm(xg, (n,)).pow(2).sum(), xg, create_graph=True)
    xc = x.clone().requires_grad_()
    (gc,) = torch.autograd.grad(F.layer_norm(xc, (n,)).pow(2).sum(), xc, create_graph=True)
    assert_close(torch.autograd.grad(gc.sum(), xc)[0], torch.autograd.grad(gx.sum(), xg)[0], rtol=1e-3, atol=1e-3,
                 what="double backward")


def test_row_norm_declines():
    """Inputs the kernel does not take run the composite: a non-contiguous input, float16; 2-D norms are rows too."""
    x = sample((6, 8), seed=104)
    for fn in (lambda t: F.layer_norm(t.t(), (6,)), lambda t: F.layer_norm(t.half(), (8,)).float(),
               lambda t: F.layer_norm(t.view(2, 3, 8), (3, 8))):
        assert_close(*both(fn, x), rtol=1e-3, atol=2e-3)
    assert torch.nn.LayerNorm(8).to(GPU)(x.to(GPU)).grad_fn.name() == "NativeLayerNormBackward0"
    assert torch.nn.RMSNorm(8).to(GPU)(x.to(GPU)).grad_fn.name() == "MulBackward0"


# ---- row epilogue: a row reduction and the ops that broadcast its result back over the row, one kernel ---------
def _hf_rms(x, w, eps=1e-5):
    """Hugging Face's LlamaRMSNorm.forward, as written there (and the variance, which a caller may keep)."""
    v = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(v + eps)), v


def _smollm_rms(x, w, eps=1e-5):
    """examples/smollm2's RMSNorm.forward."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def _counted(fn, *cpu):
    """fn on the CPU tensors and, lazily recorded, on their webgpu copies: (cpu result, gpu result, counter). A
    first run fills the scalars Python caches on the device (eps, 2.0), so the counted one holds only fn's work."""
    was = torch.webgpu.set_lazy(True)
    try:
        gpu = [t.to(GPU) for t in cpu]
        fn(*[t.clone() for t in gpu])
        torch.webgpu.flush()
        with torch.webgpu.counter(kernels=True) as c:
            out = fn(*gpu)
            torch.webgpu.flush()
        return fn(*cpu), out, c
    finally:
        torch.webgpu.set_lazy(was)


# decoding's row; rows shorter than the workgroup (several per workgroup); a row past 4 elements per invocation
@pytest.mark.parametrize("shape", [(1, 1, 576), (3, 7, 64), (2, 5, 3000)])
def test_hand_written_rms_norm_is_one_kernel(shape):
    """RMSNorm written out (x.pow(2).mean(-1, keepdim=True), rsqrt, the products; lazy.mjs fitsRow): the reduction's
    workgroup owns the row, so the products that read its result back over the row run in its kernel (a row
    epilogue), with the composite's values; a variance the caller keeps is stored too."""
    x, w = sample(shape, seed=110), sample(shape[-1:], seed=111)
    want, got, c = _counted(_smollm_rms, x, w)
    assert c["dispatches"] == 1 and c.kernels[0].startswith("reduce:sum:"), c.kernels
    assert_close(want, got, rtol=1e-4, atol=1e-5, what=f"smollm2 RMSNorm {shape}")
    (want, want_v), (got, got_v), c = _counted(_hf_rms, x, w)
    assert c["dispatches"] == 1, c.kernels
    assert_close(want, got, rtol=1e-4, atol=1e-5, what=f"HF RMSNorm {shape}")
    assert_close(want_v, got_v, rtol=1e-4, atol=1e-5, what=f"HF RMSNorm's variance {shape}")


def test_row_epilogue_softmax_layer_norm_and_centering():
    """A softmax written out is two kernels (the max with exp(x - max) over the row, the sum with the division), a
    layer norm written out too (the mean with x - mean, the variance with the rest); centering by the mean over two
    dims is one, and so is centering into another buffer."""
    x = sample((6, 40), seed=112)

    def layer_norm(x, w, b):
        d = x - x.mean(-1, keepdim=True)
        return d / torch.sqrt((d * d).mean(-1, keepdim=True) + 1e-5) * w + b
    want, got, c = _counted(layer_norm, sample((4, 3, 96), seed=118), sample((96,), seed=119), sample((96,), seed=120))
    assert c["dispatches"] == 2 and all(k.startswith("reduce:") for k in c.kernels), c.kernels
    assert_close(want, got, rtol=1e-4, atol=1e-5, what="layer norm written out")
    want, got, c = _counted(lambda x, w: (x - x.mean((-2, -1), keepdim=True)) * w[:, None],
                            sample((2, 96, 5), seed=121), sample((96,), seed=122))
    assert c["dispatches"] == 1, c.kernels
    assert_close(want, got, what="centering over two dims")

    def softmax(x):
        e = (x - x.amax(-1, keepdim=True)).exp()
        return e / e.sum(-1, keepdim=True)
    want, got, c = _counted(softmax, x)
    assert c["dispatches"] == 2 and all(k.startswith("reduce:") for k in c.kernels), c.kernels
    assert_close(want, got, what="softmax written out")

    def center(x, out):
        out.copy_(x - x.mean(-1, keepdim=True))
        return out
    want, got, c = _counted(center, x, torch.zeros(6, 40))
    assert c["dispatches"] == 1, c.kernels
    assert_close(want, got, what="centering into another buffer")


def test_row_epilogue_declines():
    """What the row epilogue does not take runs as before, with the same values: a reduction in two passes (few
    long rows), a reduction over a leading or a middle dim (the product's walk is not the reduction's), a value of
    the prologue read back over the row, an in-place write of the reduction's input, and an argmax."""
    def rms(dim):
        return lambda x: x * torch.rsqrt(x.pow(2).mean(dim, keepdim=True) + 1e-5)
    progs = {
        "two passes": (rms(-1), sample((2, 40000), seed=113), 3),
        "leading dim": (rms(0), sample((64, 6), seed=114), 2),
        "middle dim": (lambda x: x / x.sum(1, keepdim=True), sample((3, 4, 96), seed=123), 2),
        "prologue value": (lambda x: (lambda sq: sq / sq.mean(-1, keepdim=True))(x * x), sample((5, 30), seed=115), 2),
        "in place on the input": (lambda x: x.sub_(x.mean(-1, keepdim=True)), sample((5, 30), seed=116), 2),
        "argmax": (lambda x: x.argmax(-1, keepdim=True).float() + x, sample((5, 30), seed=117), None),
    }
    for what, (fn, x, kernels) in progs.items():
        want, got, c = _counted(fn, x)
        assert kernels is None or c["dispatches"] == kernels, (what, c.kernels)
        assert_close(want, got, what=what)


def test_early_submit():
    """A batch is submitted early once it holds `early.dispatches` dispatches and has been open `early.ms` of host
    time (dispatch.mjs): the GPU starts on a long step while the rest is recorded; results are unchanged."""
    disp = torch.webgpu._rt.ensure().disp
    x = torch.arange(64.0).to(GPU)
    want = torch.arange(64.0) + 40.0
    counts, before = {}, disp.early.ms
    try:
        for ms in (0, 1e9):
            disp.early.ms = ms
            torch.webgpu.synchronize()
            with torch.webgpu.counter() as c:
                y = x
                for _ in range(40):    # 40 dependent eager-sized steps, each its own dispatch
                    y = (y + 1).contiguous()
                    torch.webgpu.flush()
                got = y.cpu()
            counts[ms] = c["submits"]
            assert torch.equal(got, want)
    finally:
        disp.early.ms = before
    assert counts[1e9] == 1 and counts[0] >= 2, counts


# ---- the fuser: a buffer written in pieces ---------------------------------------------------------------------
def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


@pytest.mark.parametrize("what", ["rotate_half", "rope", "cat of three", "overlapping pieces"])
def test_lazy_writes_one_buffer_in_disjoint_pieces(what):
    """A cat of computed pieces (rotate_half: -x2 and x1 into the two halves of one buffer) is one kernel: the
    fuser lets a group write a buffer through views with no element in common (lazy.mjs disjoint). Pieces that
    overlap keep their order (two kernels)."""
    x, cos = sample((1, 3, 5, 8), seed=80), sample((5, 8), seed=81)
    if what == "cat of three":   # (pieces of one size: a group runs one walk)
        x = sample((4, 9), seed=84)
    programs = {
        "rotate_half": (_rotate_half, 1),
        "rope": (lambda x: x * cos.to(x.device) + _rotate_half(x) * cos.to(x.device).flip(-1), None),
        "cat of three": (lambda x: torch.cat([x[..., :3].exp(), -x[..., 3:6], x[..., 6:] * 2], -1), 1),
        "overlapping pieces": (lambda x: x.clone().index_fill_(-1, torch.tensor([1]).to(x.device), 0.0)
                               .narrow(-1, 0, 6).mul_(2), None),
    }
    fn, kernels = programs[what]
    want, _ = both(fn, x)
    xg = x.to(GPU)
    torch.webgpu.synchronize()
    with torch.webgpu.counter() as c:
        got = fn(xg)
        torch.webgpu.flush()
    assert_close(want, got, what=what)
    if kernels is not None and torch.webgpu.lazy_enabled():
        assert c["dispatches"] == kernels, c


def test_lazy_pieces_that_overlap_stay_in_order():
    """Two writes to one buffer through views that share elements (strides that do not nest: a sliding window)
    run in program order."""
    base = torch.zeros(12).to(GPU)
    a, b = base.as_strided((3, 4), (2, 1)), base.as_strided((3, 4), (2, 1), 1)
    a.copy_(sample((3, 4), seed=82).to(GPU))
    b.copy_(sample((3, 4), seed=83).to(GPU))
    want = torch.zeros(12)
    want.as_strided((3, 4), (2, 1)).copy_(sample((3, 4), seed=82))
    want.as_strided((3, 4), (2, 1), 1).copy_(sample((3, 4), seed=83))
    assert_close(want, base, what="overlapping strided writes")


# ---- t[idx] and t[idx] = v: the index read by the take or put itself -------------------------------------------
def test_index_take_and_put_are_one_kernel_each():
    """One index tensor: index_offsets is held and the take or put computes the offsets itself (index.mjs
    heldOffsets): one dispatch each, the CPU's values, negative indices wrapped, bounds errors still raised."""
    src = sample((5, 6, 7), seed=90)
    idx = torch.tensor([4, -1, 0, 2])
    val = sample((5, 4, 7), seed=91)
    programs = {
        "take on dim 1": lambda s, i, v: s[:, i],
        "index_select": lambda s, i, v: s.index_select(2, i.abs()),
        "embedding": lambda s, i, v: F.embedding(i.abs(), s[0]),
        "put on dim 1": lambda s, i, v: _put(s, i, v),
        "put accumulate": lambda s, i, v: s.clone().index_put_((i,), s[:4] * 2, accumulate=True),
    }
    for what, fn in programs.items():
        want = fn(src, idx, val)
        s, i, v = src.to(GPU), idx.to(GPU), val.to(GPU)
        torch.webgpu.synchronize()
        with torch.webgpu.counter(kernels=True) as c:
            got = fn(s, i, v)
            torch.webgpu.flush()
        assert_close(want, got, what=what)
        assert not any(k.startswith("index_offsets") for k in c.kernels), (what, c.kernels)
    bad = torch.tensor([1, 9]).to(GPU)
    with pytest.raises(IndexError, match="out of bounds"):
        src.to(GPU)[:, bad].sum().item()
    with pytest.raises(IndexError, match="out of bounds"):
        t = src.to(GPU)
        t[:, bad] = 0.0
        t.sum().item()


def _put(s, i, v):
    t = s.clone()
    t[:, i] = v
    return t


def test_held_index_offsets_keep_their_order():
    """The index changes right after its take (the decoding step's position += 1): the take saw the old value, and
    offsets read later (two indices: the second accumulates onto the first's) are computed as before."""
    src = sample((6, 5), seed=92).to(GPU)
    pos = torch.tensor([2]).to(GPU)
    first = src[pos]
    pos.add_(1)
    second = src[pos]
    assert_close(src.cpu()[[2]], first)
    assert_close(src.cpu()[[3]], second)
    rows, cols = torch.tensor([0, 5, 3]).to(GPU), torch.tensor([4, 0, 1]).to(GPU)
    assert_close(src.cpu()[[0, 5, 3], [4, 0, 1]], src[rows, cols])
