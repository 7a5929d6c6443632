"""The worker pool on a MiniLM-shaped encoder (issue 19's CPU workload) in Pyodide: linear's bias is added by the
product's own tiles (tjs_pool_gemm: one pooled call a linear, not a product then a second pass over its
output), with `mm` then `add_`'s bits at 1, 2, 3, 5 and 8 threads (blocked and direct paths, in parts, 3-D inputs);
a weight kept in the pool's memory is kept packed there too (wasm_resident.Arena.packed), packed again once written,
with the same bits; and a whole encoder forward gives the same bits at every count."""
import sys

import pytest

import torch_js as tj
import torch_js.nn.functional as JF
from torch_js.backends.cpu import wasm_threads

pytestmark = pytest.mark.skipif(sys.platform != "emscripten", reason="the wasm worker pool runs in Pyodide")
COUNTS = (2, 3, 5, 8)


@pytest.fixture
def workers():
    """The pool's workers for 8 threads up (at most 10 s), the thread count restored afterwards."""
    prior = tj.get_num_threads()
    if not wasm_threads.available():
        pytest.skip(wasm_threads.unavailable_reason())
    ready = wasm_threads.start_workers(max(COUNTS), wait_ms=10000)
    assert ready >= max(COUNTS) - 1, f"only {ready} workers came up"
    yield
    tj.set_num_threads(prior)


def _bits(t):
    return t.contiguous().view(tj.int32).flatten().tolist()


def _same_at_all_counts(fn):
    """fn() at 1 thread (the side module, no pool), then at every count in COUNTS: all bit-identical."""
    tj.set_num_threads(1)
    ref = fn()
    for n in COUNTS:
        tj.set_num_threads(n)
        got = fn()
        assert got.shape == ref.shape and _bits(got) == _bits(ref), f"{n} threads differ from 1"
    return ref


@pytest.fixture
def pool_calls(monkeypatch):
    """The kernels the pool is called for, in order."""
    calls = []
    run = wasm_threads._run
    monkeypatch.setattr(wasm_threads, "_run", lambda pool, kernel, *rest: calls.append(kernel) or run(pool, kernel,
                                                                                                          *rest))
    return calls


@pytest.mark.parametrize("shape", [(256, 384, 384), (256, 384, 1536), (256, 1536, 384), (1, 1024, 4096)])
def test_linear_bias_in_the_products_call(workers, pool_calls, monkeypatch, shape):
    """A pooled linear with a bias is one call of tjs_pool_gemm (each tile adds the bias to its elements) with the
    bits of the product then add_ (the side module's at one thread), on the blocked path (the MiniLM products) and the
    direct one (one row), also in parts (part size lowered: every part's tiles add theirs)."""
    m, n, k = shape
    tj.manual_seed(7)
    x, w, b = tj.randn(m, k), tj.randn(n, k), tj.randn(n)
    ref = _same_at_all_counts(lambda: JF.linear(x, w, b))
    tj.set_num_threads(1)
    assert _bits(ref) == _bits(x.matmul(w.t()) + b)
    tj.set_num_threads(2)
    pool_calls.clear()
    JF.linear(x, w, b)
    assert pool_calls == ["pool_gemm"], pool_calls
    monkeypatch.setattr(wasm_threads, "PART_WORK", 1 << 22)
    pool_calls.clear()
    assert _bits(_same_at_all_counts(lambda: JF.linear(x, w, b))) == _bits(ref)
    # (one row is one part: the direct path cuts products by rows)
    assert set(pool_calls) == {"pool_gemm"} and (m == 1 or len(pool_calls) > len(COUNTS)), pool_calls


def test_linear_bias_3d_and_without_bias(workers, pool_calls):
    """A batch of sequences (rows of all batches in one product) with a bias, and a linear without one."""
    tj.manual_seed(8)
    x, w, b = tj.randn(8, 32, 384), tj.randn(1152, 384), tj.randn(1152)
    _same_at_all_counts(lambda: JF.linear(x, w, b))
    _same_at_all_counts(lambda: JF.linear(x, w))
    assert pool_calls == ["pool_gemm"] * 2 * len(COUNTS), pool_calls


@pytest.mark.parametrize("case", ["linear", "matmul", "odd", "shared_b"])
def test_weights_kept_packed(workers, case):
    """A float32 B seen again unchanged is kept packed in the arena (one pack per layout: W.t() for linear, W as it is
    for a matmul), its products the side module's bits; written in place, it is packed again (same bits as fresh);
    a batch of products sharing one B (stride 0) reads the one pack."""
    tj.manual_seed(10)
    x, w = tj.randn(300, 260), tj.randn(200, 260)
    wt = w.t().contiguous()
    product = {"linear": lambda: JF.linear(x, w), "matmul": lambda: x @ wt[:, :133],
               "odd": lambda: x[:, :257] @ w.t()[:257, :131], "shared_b": lambda: x.view(3, 100, 260) @ w.t()}[case]
    tj.set_num_threads(1)
    ref = product()
    for n in COUNTS * 2:   # the first calls place the weight, the next pack it, the others read the pack
        tj.set_num_threads(n)
        assert _bits(product()) == _bits(ref), f"{n} threads"
    # a pack of this weight, live: counting packs would not do, a dead weight's entry is reused when Python gives
    # the new storage the dead one's id and address
    kept = [p[0]() for p in wasm_threads._state["arena"].packs.values() if p[0] is not None]
    assert any(s is w._storage or s is wt._storage for s in kept), "no B kept packed"
    with tj.no_grad():
        w.mul_(0.5)
        wt.mul_(0.5)
        x.add_(1.0)
    tj.set_num_threads(1)
    ref = product()
    for n in COUNTS:
        tj.set_num_threads(n)
        assert _bits(product()) == _bits(ref), f"{n} threads after the weight changed"


def test_packs_within_their_budget(workers, monkeypatch):
    """Packs have a budget of their own: when the next pack does not fit, the packs are dropped and made again as
    their weights come back (two 8 MB packs in one 16 MB region: every product packs again), same bits; with no
    room at all the tiles pack B themselves; the arena's operands stay where they are either way."""
    from torch_js.backends.cpu import wasm_resident
    tj.manual_seed(11)
    x, w1, w2 = tj.randn(64, 1024), tj.randn(2048, 1024), tj.randn(2048, 1024)
    tj.set_num_threads(1)
    refs = [_bits(JF.linear(x, w)) for w in (w1, w2)]
    tj.set_num_threads(2)
    JF.linear(x, w1), JF.linear(x, w2)   # seen once: placed in the arena from the next product on
    arena = wasm_threads._state["arena"]
    for budget in (16 << 20, 0):
        monkeypatch.setattr(arena, "pack_region", wasm_resident._Region(arena.pool, lambda: budget))
        arena.packs.clear()
        entries = dict(arena.entries)
        for _ in range(3):
            for w, ref in zip((w1, w2), refs):
                assert _bits(JF.linear(x, w)) == ref, f"pack budget {budget}"
        assert len(arena.packs) == (1 if budget else 0), arena.packs
        assert all(arena.entries.get(k) == e for k, e in entries.items())


def test_minilm_encoder_forward_at_every_count(workers, pool_calls):
    """The MiniLM-shaped encoder (2 of its 6 layers): the forward's bits at every count, its linears one call each."""
    tj.manual_seed(9)
    layer = tj.nn.TransformerEncoderLayer(384, 12, 1536, dropout=0.0, activation="gelu", batch_first=True)
    enc = tj.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = tj.randn(8, 32, 384)
    with tj.no_grad():
        _same_at_all_counts(lambda: enc(x))
    per_forward = len(pool_calls) // len(COUNTS)
    assert pool_calls[:per_forward].count("pool_gemm") == 2 * 4, pool_calls[:per_forward]
