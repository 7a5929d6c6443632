"""Fewer dispatches for a decoding step of examples/smollm2 (issue 16) on webgpu's lazy engine, each against the same
program run eagerly (one kernel per op, lazy execution off: bit for bit) and the CPU:

- a virtual cat (js_bridge/webgpu/lazy.mjs splitAtPieces): an elementwise op that reads whole a buffer a group wrote
  in pieces along one dim (rotate_half's cat) is cut into one op per piece, which joins that group and takes the
  pieces from registers: the rotary embedding x * cos + rotate_half(x) * sin is one kernel (q's and k's side by side
  in one), where it was the cat's kernel and the products';
- a pair of products (lazy.mjs pairGemm, kernels/matvec.mjs): two matrix-vector products of one input by weights of
  one shape run as one kernel that takes both dot products of each column, their epilogues merged: the gated MLP's
  gate and up projections with silu(gate) * up (Llama's down(silu(gate(x)) * up(x))), and k's and v's projections.

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`, SwiftShader); helpers from test_webgpu.py.
"""
import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
import torch_js as torch
from test_webgpu import GPU, assert_close, sample


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


def _run(fn, *cpu):
    """fn on the webgpu copies of the CPU tensors, lazily recorded (counted; a first run fills the scalars Python
    caches on the device) and eagerly (one kernel per op): (lazy result, eager result, counter)."""
    was = torch.webgpu.set_lazy(True)
    try:
        gpu = [t.to(GPU) for t in cpu]
        fn(*[t.clone() for t in gpu])
        torch.webgpu.flush()
        with torch.webgpu.counter(kernels=True) as c:
            out = fn(*gpu)
            torch.webgpu.flush()
        torch.webgpu.set_lazy(False)
        eager = fn(*[t.to(GPU) for t in cpu])
        return out, eager, c
    finally:
        torch.webgpu.set_lazy(was)


def _same(a, b, what):
    """Bit for bit (as lists: NaN-free values here)."""
    if isinstance(a, (tuple, list)):
        for x, y in zip(a, b):
            _same(x, y, what)
        return
    assert a.shape == b.shape and a.cpu().tolist() == b.cpu().tolist(), what


def _rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def _rope(x, cos, sin):
    return x * cos + _rotate_half(x) * sin


# ---- virtual cat -----------------------------------------------------------------------------------------------
def _heads(h, w, heads):
    """h @ w.T split into heads (b, heads, t, d), as examples/smollm2's attention."""
    b, t, _ = h.shape
    return (h @ w.t()).view(b, t, heads, -1).transpose(1, 2)


@pytest.mark.parametrize("heads,t,d", [(9, 1, 64), (3, 1, 16), (3, 5, 16)])
def test_rope_is_one_kernel(heads, t, d):
    """examples/smollm2's rotary embedding of a projection: the product (with x * cos in its epilogue where it
    decodes, t = 1), then the cat's pieces and the products in one kernel (3 kernels before the virtual cat)."""
    h, w = sample((1, t, 32), seed=1), sample((heads * d, 32), seed=2)
    cos, sin = sample((t, d), seed=3), sample((t, d), seed=4)
    fn = lambda h, w, cos, sin: _rope(_heads(h, w, heads), cos, sin)   # noqa: E731
    got, eager, c = _run(fn, h, w, cos, sin)
    assert c["dispatches"] == (2 if t == 1 else 3) and c.kernels[-1].startswith("fused|"), c.kernels
    _same(got, eager, f"rope {heads, t, d}")
    assert_close(fn(h, w, cos, sin), got, what=f"rope {heads, t, d}")


def test_q_and_k_ropes_are_one_kernel():
    """q's and k's rotary embeddings (9 and 3 heads) after their products run side by side in one kernel (six
    kernels before the virtual cat)."""
    h, wq, wk = sample((1, 1, 32), seed=4), sample((9 * 64, 32), seed=5), sample((3 * 64, 32), seed=6)
    cos, sin = sample((1, 64), seed=7), sample((1, 64), seed=8)

    def both_ropes(h, wq, wk, cos, sin):
        q, k = _heads(h, wq, 9), _heads(h, wk, 3)
        return _rope(q, cos, sin), _rope(k, cos, sin)
    got, eager, c = _run(both_ropes, h, wq, wk, cos, sin)
    assert c["dispatches"] == 3, c.kernels
    _same(got, eager, "q and k ropes")
    for want, have in zip(both_ropes(h, wq, wk, cos, sin), got):
        assert_close(want, have, what="q and k ropes")


def _cases():
    """Programs around a cat: (fn, inputs, dispatches lazily): cuts along dim 0, pieces of three, an in-place op on
    the cat, a write over the cat's own source, a cat that joined a product's epilogue (its pieces as many elements
    as the product); and declines (the cat read transposed, broadcast, in part)."""
    a, b, y = sample((4, 6), seed=10), sample((4, 6), seed=11), sample((8, 6), seed=12)
    x = sample((3, 12), seed=13)
    yield "dim 0", lambda a, b, y: torch.cat([a.exp(), b * 2], 0) * y, (a, b, y), 1
    yield "three pieces", lambda x: torch.cat([x[:, :4].exp(), -x[:, 4:8], x[:, 8:] * 2], -1) + x, (x,), 1
    yield "in place on the cat", lambda x: _rotate_half(x).mul_(3.0), (x,), 1
    yield "over its source", lambda x: x.copy_(_rotate_half(x) * 2), (x,), 1
    yield "in a product's epilogue", lambda h, w, z: (h @ w.t() * 2, _rotate_half(z) * 3), \
        (sample((1, 24), seed=15), sample((32, 24), seed=16), sample((1, 64), seed=17)), 1
    yield "read with a dim of one more", lambda x: _rotate_half(x).unsqueeze(1) * 2, (x,), 1
    yield "read transposed", lambda a, b: torch.cat([a.exp(), b * 2], 1).t() * 2, (a, b), 2
    yield "read broadcast", lambda x, z: _rotate_half(x).unsqueeze(1) * z, (x, sample((3, 2, 12), seed=14)), 2
    yield "read in part", lambda x: _rotate_half(x)[:, 2:10] * 2, (x,), 2


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_virtual_cat_cuts_and_declines(case):
    what, fn, inputs, kernels = case
    got, eager, c = _run(fn, *inputs)
    _same(got, eager, what)
    _close(fn(*[t.clone() for t in inputs]), got, what)
    assert c["dispatches"] == kernels, (what, c.kernels)


def _close(want, got, what):
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        assert_close(w, g, what=what)


# ---- a pair of products ----------------------------------------------------------------------------------------
def _mlp(h, wg, wu, wd):
    """Llama's gated MLP: down(silu(gate(h)) * up(h))."""
    return torch.nn.functional.silu(h @ wg.t()) * (h @ wu.t()) @ wd.t()


@pytest.mark.parametrize("k,n", [(64, 96), (30, 37)])   # vec4 loads; K % 4 and N past the last column block
def test_gated_mlp_is_two_kernels(k, n):
    """Decoding's MLP: gate and up (with silu(gate) * up) one kernel, then down (3 kernels before the pair)."""
    h, wg, wu, wd = sample((1, 1, k), seed=20), sample((n, k), seed=21), sample((n, k), seed=22), sample((k, n), seed=23)
    got, eager, c = _run(_mlp, h, wg, wu, wd)
    assert c["dispatches"] == 2 and c.kernels[0].startswith("gemv2:"), c.kernels
    _same(got, eager, f"gated MLP {k, n}")
    assert_close(_mlp(h, wg, wu, wd), got, what=f"gated MLP {k, n}")


def _pair_cases():
    """(what, fn, inputs, dispatches lazily): pairs (both results kept; B2 at an offset that is no vec4 group; two
    rows), and products that stay apart (one weight twice, weights of two shapes, A written in between, prefill)."""
    h, w1, w2 = sample((1, 24), seed=30), sample((40, 24), seed=31), sample((40, 24), seed=32)
    flat = sample((40 * 24 + 1,), seed=33)   # a weight at element offset 1 (no vec4 loads)
    yield "both kept", lambda h, a, b: (h @ a.t(), h @ b.t()), (h, w1, w2), 1
    yield "B2 unaligned", lambda h, a, f: (h @ a.t() + 1, (h @ f[1:].view(40, 24).t()).exp()), (h, w1, flat), 1
    yield "two rows", lambda h, a, b: (h @ a.t()) * (h @ b.t()), (sample((2, 24), seed=34), w1, w2), 1
    yield "one weight twice", lambda h, a: (h @ a.t(), (h @ a.t()) * 2), (h, w1), 2
    yield "two shapes", lambda h, a, b: (h @ a.t(), h @ b[:30].t()), (h, w1, w2), 2
    yield "A written between", lambda h, a, b: (h @ a.t(), h.mul_(2) @ b.t()), (h, w1, w2), 3
    yield "prefill", lambda h, a, b: (h @ a.t()) * (h @ b.t()), (sample((64, 24), seed=35), w1, w2), None


@pytest.mark.parametrize("case", list(_pair_cases()), ids=lambda c: c[0])
def test_pairs_and_products_apart(case):
    what, fn, inputs, kernels = case
    got, eager, c = _run(fn, *inputs)
    _same(got, eager, what)
    _close(fn(*[t.clone() for t in inputs]), got, what)
    if kernels is not None:
        assert c["dispatches"] == kernels, (what, c.kernels)


# ---- the decoding step ---------------------------------------------------------------------------------------------
def _step_dispatches(layers):
    """Dispatches of one greedy decoding step (its kernels compiled) of examples/smollm2's Llama, random weights."""
    from example_modules import load_example
    model_mod = load_example("smollm2/model", "smollm2_model_fusion", torch)
    torch.manual_seed(0)
    cfg = model_mod.LlamaConfig(vocab_size=128, dim=64, n_layers=layers, n_heads=4, n_kv_heads=2, ffn_dim=96,
                                rope_theta=10000.0, norm_eps=1e-5, context_length=64)
    model = model_mod.Llama(cfg).eval().to(GPU)
    with torch.no_grad():
        model.setup_cache(16)
        logits = model(torch.tensor([[5, 17, 99]], device=GPU))
        ids, pos = logits.argmax(-1, keepdim=True), torch.tensor([3], device=GPU)
        for _ in range(2):
            with torch.webgpu.counter(kernels=True) as c:
                model_mod.greedy_step(model, ids, pos)
            ids.item()
    return c["dispatches"], c.kernels


def test_decoding_step_dispatches_per_layer():
    """A layer of the decoding step is 11 kernels (18 before the virtual cat, the pairs and the fused attention):
    the norm, q, k with v, the rotary embeddings, the two KV-cache writes, attention, the out-projection (with the
    residual add and the next norm's square), the norm, gate with up, down."""
    (one, _), (two, kernels) = _step_dispatches(1), _step_dispatches(2)
    assert two - one == 11, "\n".join(k[:90] for k in kernels)
