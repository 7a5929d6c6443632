"""torch.set_num_threads in Pyodide: large matrix products and float32 maps (GELU, exp, tanh, ...) run in the
shared-memory module on a pool of workers (backends/cpu/wasm_threads.py, wasm_pool.js, threads.c's TJS_WASM_SHARED
pool, wasm_ext/pool/*.c, wasm_resident.py, mk/wasm_threads.mk).

In Pyodide (make test-pyodide; Node has SharedArrayBuffer): matmul, bmm, broadcast and transposed operands (linear),
strided views, float32/float64, products in several parts, and conv2d through im2col give the same bits at 2, 3 and
4 threads as at 1, the workers take part, and the values match a float64 product; every pooled map gives the side
module's bits (special values included) at any count, in place too, softmax too (Pyodide's expf), layer norm (the
composite's bits) and linear's bias added on the pool (mm then add_'s bits), scaled-dot-product attention (the
composite's bits; MultiheadAttention's and TransformerEncoderLayer's read their in-projection in place); a pooled
result is read in place by the next pooled op, and copied in again once written. The warning path (no shared memory)
is checked by standing in an unavailability reason. In CPython: the pool is off and says why, and the raw module (no Pyodide) is
run by Node directly at 1..4 threads, when Node and the build are there."""
import json
import os
import re
import shutil
import subprocess
import sys
import warnings

import pytest

import torch_js as tj
import torch_js.nn.functional as JF
from torch_js.backends.cpu import library, reduction, threads, wasm_resident, wasm_threads

IN_PYODIDE = sys.platform == "emscripten"
pyodide_only = pytest.mark.skipif(not IN_PYODIDE, reason="the wasm worker pool runs in Pyodide")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNTS = (2, 3, 4)


@pytest.fixture
def pool_threads():
    """The pool's workers up (at most 10 s), the thread count restored afterwards."""
    prior = tj.get_num_threads()
    if not wasm_threads.available():
        pytest.skip(wasm_threads.unavailable_reason())
    ready = wasm_threads.start_workers(max(COUNTS), wait_ms=10000)
    assert ready >= max(COUNTS) - 1, f"only {ready} workers came up"   # earlier tests may have started more
    yield
    tj.set_num_threads(prior)


def _bits(t):
    """The exact bit patterns (NaNs included)."""
    return t.contiguous().view(tj.int64 if t.dtype == tj.float64 else tj.int32).flatten().tolist()


def _same_at_all_counts(fn):
    """fn() at 1 thread, then at every count in COUNTS: all bit-identical; returns the 1-thread result."""
    tj.set_num_threads(1)
    ref = fn()
    for n in COUNTS:
        tj.set_num_threads(n)
        got = fn()
        assert got.shape == ref.shape and got.dtype == ref.dtype
        assert _bits(got) == _bits(ref), f"{n} threads differ from 1"
    return ref


def _close_to_float64(got, a, b):
    """float32 product against the float64 one: within K·eps of Σ|a||b| (elementwise bound)."""
    exact = a.to(tj.float64) @ b.to(tj.float64)
    bound = (a.abs().to(tj.float64) @ b.abs().to(tj.float64)) * (a.shape[-1] * 2.0 ** -23) + 1e-30
    assert bool(((got.to(tj.float64) - exact).abs() <= bound).all())


CASES = {
    # name: (operands builder, product)
    "square_f32": (lambda: (tj.randn(300, 310), tj.randn(310, 290)), lambda a, b: a @ b),
    "square_f64": (lambda: (tj.randn(200, 180, dtype=tj.float64), tj.randn(180, 190, dtype=tj.float64)),
                   lambda a, b: a @ b),
    "bmm": (lambda: (tj.randn(6, 70, 130), tj.randn(6, 130, 90)), tj.bmm),
    "broadcast_b": (lambda: (tj.randn(4, 64, 200), tj.randn(200, 150)), lambda a, b: a @ b),
    "linear_transposed_w": (lambda: (tj.randn(96, 384), tj.randn(1536, 384)), lambda x, w: JF.linear(x, w)),
    "strided_views": (lambda: (tj.randn(400, 300)[::2, 10:], tj.randn(300, 520)[5:295, ::2]), lambda a, b: a @ b),
    "odd_sizes": (lambda: (tj.randn(131, 257), tj.randn(257, 97)), lambda a, b: a @ b),
}


@pyodide_only
@pytest.mark.parametrize("case", sorted(CASES))
def test_products_bit_identical_at_any_count(pool_threads, case):
    build, product = CASES[case]
    tj.manual_seed(0)
    a, b = build()
    ref = _same_at_all_counts(lambda: product(a, b))
    if ref.dtype == tj.float32:
        _close_to_float64(ref, a, b.t() if case == "linear_transposed_w" else b)


@pyodide_only
def test_workers_take_part(pool_threads):
    """Workers join a large product (a worker that wakes after the caller has taken every tile joins none: on a busy
    machine a product may pass without them, hence a few tries)."""
    tj.set_num_threads(4)
    a = tj.randn(512, 512)
    joined = wasm_threads.joined()
    for _ in range(10):
        a @ a
        if wasm_threads.joined() > joined:
            return
    pytest.fail("no worker took part in 10 products of 512×512×512")


@pyodide_only
def test_only_the_counts_workers_serve(pool_threads):
    """At n threads only workers 1..n-1 serve, also right after calls at a larger count (whose workers still poll for
    the next call): the others sleep, not spin, so that a pool started for all cores uses n of them."""
    a = tj.randn(512, 512)
    tj.set_num_threads(4)
    for _ in range(5):
        a @ a
    tj.set_num_threads(2)
    before = [wasm_threads.joined(w) for w in (1, 2, 3)]
    for _ in range(20):
        a @ a
    after = [wasm_threads.joined(w) for w in (1, 2, 3)]
    assert after[1:] == before[1:], f"workers 2 and 3 served at 2 threads: {before} -> {after}"


@pyodide_only
def test_products_in_parts(pool_threads, monkeypatch):
    """A product of several tjs_gemm parts (part size lowered): the parts run one by one, each threaded."""
    monkeypatch.setattr(wasm_threads, "PART_WORK", 1 << 22)
    tj.manual_seed(1)
    a, b = tj.randn(256, 320), tj.randn(320, 288)
    ref = _same_at_all_counts(lambda: a @ b)
    monkeypatch.setattr(wasm_threads, "PART_WORK", 0)
    tj.set_num_threads(1)
    assert _bits(ref) == _bits(a @ b)


@pyodide_only
def test_conv2d_through_im2col(pool_threads):
    tj.manual_seed(2)
    x, w, bias, w_grouped = tj.randn(4, 16, 30, 30), tj.randn(32, 16, 3, 3), tj.randn(32), tj.randn(32, 8, 3, 3)
    _same_at_all_counts(lambda: JF.conv2d(x, w, bias, padding=1))
    _same_at_all_counts(lambda: JF.conv2d(x, w_grouped, stride=2, groups=2))


@pyodide_only
def test_gradients_bit_identical(pool_threads):
    tj.manual_seed(3)
    a, b = tj.randn(160, 200, requires_grad=True), tj.randn(200, 180, requires_grad=True)

    def grads():
        ga, gb = tj.autograd.grad((a @ b).sin().sum(), (a, b))
        return tj.cat([ga.flatten(), gb.flatten()])
    _same_at_all_counts(grads)


@pyodide_only
def test_small_products_stay_on_pyodides_thread(pool_threads):
    tj.set_num_threads(4)
    joined = wasm_threads.joined()
    a = tj.randn(64, 64)
    r = a @ a
    assert wasm_threads.joined() == joined
    tj.set_num_threads(1)
    assert _bits(r) == _bits(a @ a)


# every op tjs_pool_unary maps, with its parameters where it has some (softplus beta/threshold, elu alpha)
MAPS = {
    "exp": tj.exp, "expm1": tj.expm1, "log": lambda t: tj.log(t.abs()), "log1p": lambda t: tj.log1p(t.abs()),
    "tanh": tj.tanh, "erf": tj.erf, "sigmoid": tj.sigmoid, "silu": JF.silu, "gelu_erf": JF.gelu,
    "gelu_tanh": lambda t: JF.gelu(t, approximate="tanh"), "exp2": tj.exp2, "log2": lambda t: tj.log2(t.abs()),
    "log10": lambda t: tj.log10(t.abs()), "softplus": lambda t: JF.softplus(t, 2.0, 5.0),
    "logsigmoid": JF.logsigmoid, "mish": JF.mish, "elu": lambda t: JF.elu(t, 0.7), "selu": JF.selu,
}


def _map_input():
    """Enough elements for the pool (MIN_MAP and a ragged last piece), wide range, and the special values."""
    tj.manual_seed(4)
    x = tj.randn(wasm_threads.MIN_MAP + 4099) * 30
    x[:9] = tj.tensor([float("inf"), float("-inf"), float("nan"), -0.0, 0.0, 1e-40, -1e-40, 88.0, -104.0])
    return x


def test_pooled_maps_are_the_vectorised_ops():
    """wasm_threads' op list is vec_unary.h's switch (the ops tjs_pool_unary maps), and MAPS covers it."""
    with open(os.path.join(ROOT, "wasm_ext", "vec_unary.h"), encoding="utf-8") as f:
        body = f.read().split("VEC_UNARY_F32(int op", 1)[1]
    cases = {library.UNARY_OPS[m.lower()] for m in re.findall(r"case TJS_UN_(\w+):", body)}
    assert cases == set(wasm_threads._MAP_OPS)
    assert {library.UNARY_OPS[name] for name in MAPS} == cases


@pyodide_only
@pytest.mark.parametrize("name", sorted(MAPS))
def test_maps_bit_identical_at_any_count(pool_threads, name):
    x = _map_input()
    _same_at_all_counts(lambda: MAPS[name](x))   # (workers taking part: test_workers_take_part_in_maps)


@pyodide_only
def test_maps_in_place_and_strided(pool_threads):
    """In place (out is the input) and a non-contiguous input (left to the side module): the same bits."""
    x = _map_input()
    _same_at_all_counts(lambda: x.clone().exp_())
    wide = tj.randn(2 * wasm_threads.MIN_MAP, 3)
    _same_at_all_counts(lambda: JF.gelu(wide[:, 1]))


@pyodide_only
@pytest.mark.parametrize("n", [32, 1000, 70000])
def test_softmax_bit_identical_at_any_count(pool_threads, n):
    """Softmax rows as the side module computes them (Pyodide's expf bit for bit), -inf, NaN and huge rows
    included; log_softmax stays on Pyodide's thread."""
    tj.manual_seed(7)
    rows = -(-wasm_threads.MIN_MAP // n) + 3
    x = tj.randn(rows, n) * 40
    x[0, :3] = tj.tensor([float("-inf"), 90.0, -200.0])
    x[1] = float("-inf")
    x[2, 5] = float("nan")
    x[3, :] = tj.linspace(-120.0, 95.0, n)
    for dim_first in (False, True):
        t = x.t().contiguous().t() if dim_first else x   # a transposed input is made contiguous first
        _same_at_all_counts(lambda: JF.softmax(t, -1))
    _same_at_all_counts(lambda: JF.log_softmax(x, -1))


@pyodide_only
def test_side_module_softmax_is_libm_expf_one_at_a_time():
    """The side module's float32 softmax (four exponentials at a time, wasm_ext/pool/libm_expf.h) gives the bits of
    Pyodide's own expf called one element at a time: row maximum, expf(x - max) rounded to float, their sum in double
    in order, one reciprocal rounded to float, one product an element (reduce.c's scalar loop)."""
    import ctypes
    import struct
    expf = ctypes.CDLL(None).expf
    expf.restype, expf.argtypes = ctypes.c_float, [ctypes.c_float]

    def f32(v):
        return struct.unpack("f", struct.pack("f", v))[0]
    tj.manual_seed(12)
    x = tj.randn(5, 37) * 30
    x[0, :4] = tj.tensor([90.0, -200.0, float("-inf"), 88.5])
    x[1, 7] = float("nan")
    x[2] = tj.linspace(-104.0, 89.0, 37)
    tj.set_num_threads(1)
    got = JF.softmax(x, -1)
    for row, out in zip(x.tolist(), got.tolist()):
        m = float("nan") if any(v != v for v in row) else max(row)
        e = [expf(f32(v - m)) for v in row]
        s = 0.0
        for v in e:
            s += v
        inv = f32(1.0 / s)
        assert _bits(tj.tensor(out)) == _bits(tj.tensor([f32(v * inv) for v in e])), row


@pyodide_only
def test_maps_and_softmax_in_pieces(pool_threads, monkeypatch):
    """Inputs past library.PIECE go through the pool a piece at a time (whole rows for softmax): the same bits."""
    x = _map_input()
    rows = tj.randn(3000, 70) * 20
    monkeypatch.setattr(library, "PIECE", 10000)
    _same_at_all_counts(lambda: JF.gelu(x))
    _same_at_all_counts(lambda: JF.softmax(rows, -1))


def _pooled_norms(monkeypatch):
    """Counts the layer norms the pool computed (wasm_threads.layer_norm returning True)."""
    taken = []
    pooled = wasm_threads.layer_norm

    def counting(*args):
        done = pooled(*args)
        taken.append(done)
        return done
    monkeypatch.setattr(wasm_threads, "layer_norm", counting)
    return taken


def _declined(fn, *where):
    """fn() at 1 thread with each (module, name) of `where` replaced by a kernel that declines: the composite's."""
    saved = [(module, name, getattr(module, name)) for module, name in where]
    for module, name, _ in saved:
        setattr(module, name, lambda *args: False)
    try:
        tj.set_num_threads(1)
        return fn()
    finally:
        for module, name, kernel in saved:
            setattr(module, name, kernel)


def _same_as_composite(fn):
    """fn() with the pool's and the library's layer norm declined (nn.functional's composite), then fn() at 1 thread
    and at every count in COUNTS: all bit-identical."""
    ref = _declined(fn, (wasm_threads, "layer_norm"), (reduction, "_layer_norm"))
    for n in (1,) + COUNTS:
        tj.set_num_threads(n)
        assert _bits(fn()) == _bits(ref), f"{n} thread(s) differ from the composite"


def _norm_input(rows, n):
    tj.manual_seed(11)
    x = tj.randn(rows, n) * 3 + 0.5
    x[0] = 7.25                                    # a constant row: variance 0, rstd 1/sqrt(eps)
    x[1, 3] = float("nan")
    x[2, :4] = tj.tensor([1e30, -1e30, 3e-38, -0.0])
    x[3] = tj.linspace(-1e4, 1e4, n)
    return x


@pyodide_only
@pytest.mark.parametrize("n", [384, 1000, 37])
def test_layer_norm_bit_identical_at_any_count(pool_threads, monkeypatch, n):
    """Pooled layer norm (wasm_ext/norm.c) gives the composite's bits, output, mean and rstd, with and without the
    affine parameters, over one dim and over two, at any count; the pool took every one of them."""
    taken = _pooled_norms(monkeypatch)
    x = _norm_input(-(-wasm_threads.MIN_MAP // n) + 5, n)
    w, b = tj.randn(n), tj.randn(n)
    for weight, bias in ((w, b), (w, None), (None, b), (None, None)):
        _same_as_composite(lambda: JF.layer_norm(x, (n,), weight, bias, eps=1e-5))
        for i in (1, 2):
            _same_as_composite(lambda: tj.native_layer_norm(x, [n], weight, bias, 1e-6)[i])
    two, w2 = (x if x.shape[0] % 2 == 0 else x[1:]).reshape(-1, 2, n), tj.randn(2, n)
    _same_as_composite(lambda: JF.layer_norm(two, (2, n), w2, None))
    assert taken and all(taken), taken


@pytest.mark.parametrize("n", [384, 37])
def test_layer_norm_kernel_where_the_tensors_are(monkeypatch, n):
    """Without the pool (one thread in Pyodide: the side module; CPython: the native library at any count)
    tjs_layer_norm runs on the tensors' own memory with the composite's bits; RMS norm and a norm autograd records
    stay with the composite."""
    taken, kernel = [], reduction._layer_norm
    monkeypatch.setattr(reduction, "_layer_norm", lambda *args: taken.append(kernel(*args)) or taken[-1])
    monkeypatch.setattr(wasm_threads, "pooled", lambda: False)
    x, w, b = _norm_input(40, n), tj.randn(n), tj.randn(n)
    for weight, bias in ((w, b), (None, b), (None, None)):
        _same_as_composite(lambda: JF.layer_norm(x, (n,), weight, bias, eps=1e-5))
        _same_as_composite(lambda: tj.native_layer_norm(x, [n], weight, bias, 1e-6)[2])
    assert taken and all(taken), taken
    taken.clear()
    _same_as_composite(lambda: JF.rms_norm(x, (n,), w))
    w.requires_grad_()
    _same_as_composite(lambda: JF.layer_norm(x, (n,), w).detach())
    assert not any(taken), taken


@pyodide_only
def test_layer_norm_in_pieces_and_what_stays_composite(pool_threads, monkeypatch):
    """Rows past library.PIECE go a piece at a time (the same bits); small inputs, float64, non-contiguous inputs,
    RMS norm and a norm autograd records stay with the composite (the gradient's bits the same at any count)."""
    taken = _pooled_norms(monkeypatch)
    x, w, b = _norm_input(400, 384), tj.randn(384), tj.randn(384)
    monkeypatch.setattr(library, "PIECE", 10000)
    _same_as_composite(lambda: JF.layer_norm(x, (384,), w, b))
    assert taken and all(taken)
    monkeypatch.undo()
    taken = _pooled_norms(monkeypatch)
    small, wide = tj.randn(8, 384), x.to(tj.float64)
    strided = tj.randn(384, 2 * 400)[:, ::2].t()
    for t in (small, wide, strided):
        _same_as_composite(lambda: JF.layer_norm(t, (384,)))
    _same_as_composite(lambda: JF.rms_norm(x, (384,), w))
    w.requires_grad_()

    def grad():
        w.grad = None
        JF.layer_norm(x, (384,), w).sum().backward()
        return w.grad
    _same_as_composite(grad)
    assert not any(taken), taken


@pyodide_only
def test_linear_bias_added_on_the_pool(pool_threads, monkeypatch):
    """linear's bias is added to the pooled product by its tiles (tjs_gemm_bias): the bits of mm then add_
    at any count, for 2-D, 3-D and non-contiguous inputs (matmul then the bias's bits), with autograd recording (the
    gradients too); float64 and a bias that broadcasts from one element take mm then add_."""
    from torch_js.backends.cpu import reduction
    fused = []
    pooled = reduction._pooled_addmm
    monkeypatch.setattr(reduction, "_pooled_addmm", lambda *args: fused.append(pooled(*args)) or fused[-1])
    tj.manual_seed(5)
    x, w, b = tj.randn(4, 64, 384), tj.randn(1536, 384), tj.randn(1536)
    _same_at_all_counts(lambda: JF.linear(x, w, b))
    _same_at_all_counts(lambda: JF.linear(x[0], w, b))
    xt = x.transpose(0, 1)   # not contiguous, nothing to record: flattened (a copy) into the same addmm
    ref = _same_at_all_counts(lambda: JF.linear(xt, w, b))
    tj.set_num_threads(1)
    assert _bits(ref) == _bits(xt.matmul(w.t()) + b)
    assert fused and all(fused), fused
    fused.clear()
    _same_at_all_counts(lambda: JF.linear(x.double(), w.double(), b.double()))
    _same_at_all_counts(lambda: JF.linear(x, w, b[:1]))
    assert not any(fused), fused
    wg = w.clone().requires_grad_()

    def grad():
        wg.grad = None
        JF.linear(x, wg, b).square().sum().backward()
        return wg.grad
    _same_at_all_counts(grad)


class _Taken(list):
    """A list of what the pool returned, with `here`: what the side module returned."""


def _pooled_attention(monkeypatch):
    """Records what each call of the pool's attention (wasm_ext/attention.c) returned: True taken, False declined;
    and what the side module's (backends/cpu/reduction.py, at one thread) returned, in taken.here."""
    taken, here = _Taken(), []
    pooled, side = wasm_threads.attention, reduction._attention
    monkeypatch.setattr(wasm_threads, "attention", lambda *args: taken.append(pooled(*args)) or taken[-1])
    monkeypatch.setattr(reduction, "_attention", lambda *args: here.append(side(*args)) or here[-1])
    taken.here = here
    return taken


def _same_as_composite_attention(fn):
    """fn() with every fused attention declined (nn.functional's composite: MultiheadAttention splits its
    in-projection with copies), then fn() at 1 thread (the side module's tjs_attention) and at every count in COUNTS
    (the pool's): all bit-identical."""
    ref = _declined(fn, (wasm_threads, "attention_takes"), (reduction, "_attention"))
    assert _bits(_same_at_all_counts(fn)) == _bits(ref), "tjs_attention differs from the composite"


@pyodide_only
def test_attention_bit_identical_at_any_count(pool_threads, monkeypatch):
    """scaled_dot_product_attention on the pool (one call: both products, scale, mask, softmax) gives the composite's
    bits at any count: no mask, float and bool masks that broadcast, causal, a given scale, grouped-query heads,
    3-D inputs, strided (transposed) inputs, sizes that are no multiple of a vector, and keys up to 256."""
    taken = _pooled_attention(monkeypatch)
    tj.manual_seed(7)
    q, k, v = tj.randn(2, 4, 40, 32), tj.randn(2, 4, 48, 32), tj.randn(2, 4, 48, 32)
    fmask, bmask = tj.randn(40, 48), tj.rand(2, 1, 40, 48) > 0.3
    sdpa = JF.scaled_dot_product_attention
    _same_as_composite_attention(lambda: sdpa(q, k, v))
    _same_as_composite_attention(lambda: sdpa(q, k, v, attn_mask=fmask))
    _same_as_composite_attention(lambda: sdpa(q, k, v, attn_mask=bmask))
    _same_as_composite_attention(lambda: sdpa(q, k, v, scale=0.3))
    _same_as_composite_attention(lambda: sdpa(q, k[:, :, :40], v[:, :, :40], is_causal=True))
    _same_as_composite_attention(lambda: sdpa(q, k[:, :2], v[:, :2], enable_gqa=True))
    _same_as_composite_attention(lambda: sdpa(q[0], k[0], v[0]))
    qt = tj.randn(2, 40, 4, 32).transpose(1, 2)   # (batch, row, head, col) memory
    _same_as_composite_attention(lambda: sdpa(qt, k, v))
    odd_q, odd_k, odd_v = tj.randn(3, 5, 33, 30), tj.randn(3, 5, 37, 30), tj.randn(3, 5, 37, 18)
    _same_as_composite_attention(lambda: sdpa(odd_q, odd_k, odd_v))
    long_q, long_k, long_v = tj.randn(1, 2, 64, 32), tj.randn(1, 2, 256, 32), tj.randn(1, 2, 256, 32)
    _same_as_composite_attention(lambda: sdpa(long_q, long_k, long_v))
    assert taken and all(taken), taken
    assert taken.here and all(taken.here), taken.here


@pyodide_only
def test_attention_in_multihead_and_encoder_layers(pool_threads, monkeypatch):
    """MultiheadAttention without weights (batch first or not, a key padding mask, a causal mask) and a MiniLM-shaped
    TransformerEncoderLayer in eval take the pool's attention, q, k and v read as views of the in-projection where
    the pool left it: the composite's bits at any count."""
    taken = _pooled_attention(monkeypatch)
    hits = _reads_in_place(monkeypatch)
    tj.manual_seed(8)
    mha = tj.nn.MultiheadAttention(192, 6, batch_first=True).eval()
    x, pad = tj.randn(4, 48, 192), tj.zeros(4, 48, dtype=tj.bool)
    pad[1, 40:] = True
    causal = tj.nn.Transformer.generate_square_subsequent_mask(48)
    with tj.no_grad():
        _same_as_composite_attention(lambda: mha(x, x, x, need_weights=False)[0])
        assert taken and all(taken) and any(hits), (taken, hits)
        _same_as_composite_attention(lambda: mha(x, x, x, key_padding_mask=pad, need_weights=False)[0])
        _same_as_composite_attention(lambda: mha(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)[0])
        seq = tj.nn.MultiheadAttention(192, 6).eval()
        _same_as_composite_attention(lambda: seq(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1),
                                        need_weights=False)[0])
        layer = tj.nn.TransformerEncoderLayer(384, 12, 1536, activation="gelu", batch_first=True).eval()
        tokens = tj.randn(8, 32, 384)
        _same_as_composite_attention(lambda: layer(tokens))
    assert all(taken), taken


@pyodide_only
def test_attention_the_pool_declines(pool_threads, monkeypatch):
    """What stays with the composite (the same bits at any count): float64, inputs autograd records (the gradients
    too), keys or head dims past 256, products small enough for gemm's direct loop, dropout; MultiheadAttention
    asked for its weights, and one too small for the pool (its composite reading the in-projection's views)."""
    taken = _pooled_attention(monkeypatch)
    tj.manual_seed(9)
    q, k, v = tj.randn(2, 4, 40, 32), tj.randn(2, 4, 48, 32), tj.randn(2, 4, 48, 32)
    sdpa = JF.scaled_dot_product_attention
    _same_at_all_counts(lambda: sdpa(q.double(), k.double(), v.double()))
    long_k, small = tj.randn(2, 4, 300, 32), tj.randn(64, 8, 8, 8)
    _same_at_all_counts(lambda: sdpa(q, long_k, long_k))
    _same_at_all_counts(lambda: sdpa(small, small, small))
    assert taken and not any(taken), taken
    taken.clear()
    _same_at_all_counts(lambda: (tj.manual_seed(10), sdpa(q, k, v, dropout_p=0.5))[1])
    qg = q.clone().requires_grad_()

    def grad():
        qg.grad = None
        sdpa(qg, k, v).square().sum().backward()
        return qg.grad
    _same_at_all_counts(grad)
    mha = tj.nn.MultiheadAttention(192, 6, batch_first=True).eval()
    x, few = tj.randn(4, 48, 192), tj.randn(4, 5, 192)
    with tj.no_grad():
        _same_at_all_counts(lambda: mha(x, x, x)[1])
        # the in-projection split into views, then too little work for the pool: the composite reads the views
        _same_at_all_counts(lambda: mha(few, few, few, need_weights=False)[0])
    assert not any(taken), taken


def _reads_in_place(monkeypatch):
    """Counts the operands pooled ops read where the last result sits (wasm_threads._operand_at's hits)."""
    hits = []
    find = wasm_threads._operand_at

    def counting(*args):
        at = find(*args)
        hits.append(bool(at))
        return at
    monkeypatch.setattr(wasm_threads, "_operand_at", counting)
    return hits


@pyodide_only
def test_results_read_where_they_sit(pool_threads, monkeypatch):
    """A layer's chain (layer norm, product, GELU, product, softmax, product) reads each result where the last
    pooled op left it, and gives the one-thread bits at any count; the whole of a result or a view of it."""
    hits = _reads_in_place(monkeypatch)
    tj.manual_seed(3)
    x, w1, w2 = tj.randn(256, 384), tj.randn(1536, 384) / 20, tj.randn(384, 1536) / 40
    g, s = tj.randn(384), tj.randn(96, 32, 32)

    def chain():
        with tj.no_grad():
            y = JF.linear(JF.gelu(JF.linear(JF.layer_norm(x, (384,), g), w1)), w2)
            yy = y.t()[:, :128] @ y[:128]
            p = JF.softmax(s * 2, -1)
            return tj.cat([yy.flatten(), (p @ p).flatten()])
    _same_at_all_counts(chain)
    # at each count: norm -> product -> GELU -> product -> product (y twice), softmax -> product (p twice)
    assert sum(hits) >= 7 * len(COUNTS), hits


@pyodide_only
def test_changed_results_are_copied_again(pool_threads, monkeypatch):
    """A result written after it was kept (in place: its version moves; by a kernel that moves no version, as a
    composite writing its own intermediate; its storage freed and its memory reused) is copied in again: the
    product sees the new values."""
    hits = _reads_in_place(monkeypatch)
    tj.set_num_threads(2)
    x, w = tj.randn(256, 384), tj.randn(384, 384)
    with tj.no_grad():
        y = JF.gelu(x)
        y.mul_(2)
        assert _bits(y @ w) == _bits(y.clone() @ w)
        y = JF.gelu(x)
        y._storage.backend.fill(y, 0.5)   # a kernel writing y: no version bump
        assert _bits(y @ w) == _bits(tj.full_like(y, 0.5) @ w)
        tj.cos(x[:2])                     # any other kernel between two pooled ops
        y = JF.gelu(x)
        z = tj.zeros(3)
        z.add_(1)
        assert _bits(y @ w) == _bits(y.clone() @ w)
    assert hits and not any(hits), hits


def test_numpy_views_end_kept_copies():
    """Tensor.numpy() (memory shared, writes bump no version) takes the storage out of the pool's kept copies."""
    pytest.importorskip("numpy")
    t = tj.randn(4)
    assert wasm_resident._cacheable(t._storage)
    t[1:].numpy()
    assert not wasm_resident._cacheable(t._storage)


@pyodide_only
def test_results_written_through_numpy_are_copied_again(pool_threads):
    """A NumPy view writes the tensor's memory with no version bump and no kernel: the storage stops qualifying for
    the pool's kept copies (wasm_resident), so the product sees the new values."""
    np = pytest.importorskip("numpy")
    tj.set_num_threads(2)
    x, w = tj.randn(256, 384), tj.randn(384, 384)
    with tj.no_grad():
        y = JF.gelu(x)
        y.numpy()[:] = np.float32(0.25)
        assert _bits(y @ w) == _bits(tj.full_like(y, 0.25) @ w)


@pyodide_only
def test_workers_take_part_in_maps(pool_threads):
    tj.set_num_threads(4)
    x = tj.randn(1 << 20)
    joined = wasm_threads.joined()
    for _ in range(10):
        JF.gelu(x)
        if wasm_threads.joined() > joined:
            return
    pytest.fail("no worker took part in 10 GELUs of 2^20 elements")


def _arena():
    return wasm_threads._state["arena"]


@pyodide_only
def test_weights_stay_resident_until_written(pool_threads):
    """A weight seen twice unchanged is copied into the arena once and read from there; every kind of write makes
    the next product see the new values: in place (version), through .data (aliased: never kept), a frombuffer
    tensor's bytearray (memory it does not own: never kept)."""
    tj.manual_seed(5)
    x, w = tj.randn(256, 384), tj.randn(1536, 384)

    def check(weight):
        tj.set_num_threads(1)
        ref = JF.linear(x, weight)
        tj.set_num_threads(3)
        got = JF.linear(x, weight)
        assert _bits(got) == _bits(ref)

    tj.set_num_threads(3)
    JF.linear(x, w)
    copied = _arena().copied
    JF.linear(x, w)   # second sighting of both operands: into the arena
    kept = (x.numel() + w.numel()) * 4
    assert _arena().copied == copied + kept
    check(w)
    assert _arena().copied == copied + kept   # read from there since
    with tj.no_grad():
        w.mul_(0.5)   # in place: the version moves, the same place is refilled
    check(w)
    assert _arena().copied == copied + kept + w.numel() * 4
    w.data.add_(1.0)   # through an alias: its memory is not kept any more
    check(w)
    check(w)
    buf = bytearray(w.contiguous()._raw_bytes())
    wb = tj.frombuffer(buf, dtype=tj.float32).view(1536, 384)
    check(wb)
    check(wb)
    buf[0:4] = bytes(4)
    check(wb)
    assert not wasm_resident._cacheable(wb._storage) and not wasm_resident._cacheable(w._storage)


@pyodide_only
def test_full_arena_empties_between_products(pool_threads, monkeypatch):
    """Operands past the budget are staged; the arena empties before the next product and fills again."""
    monkeypatch.setattr(wasm_resident, "BUDGET", 0)
    monkeypatch.setitem(wasm_threads._state, "arena", wasm_resident.Arena(wasm_threads._pool()))
    tj.manual_seed(6)
    x, ws = tj.randn(128, 256), [tj.randn(512, 256) for _ in range(3)]
    tj.set_num_threads(1)
    refs = [JF.linear(x, w) for w in ws]
    tj.set_num_threads(2)
    for _ in range(3):
        assert [_bits(JF.linear(x, w)) for w in ws] == [_bits(r) for r in refs]
    assert _arena().copied == 0 and _arena().region.chunks == []


@pyodide_only
def test_default_count_is_the_cores_node_reports():
    """Node 20 has no navigator: the cores come from os.availableParallelism through wasm_pool.js."""
    from pyodide.code import run_js  # type: ignore  (exists only in Pyodide)
    cores = int(run_js("process.getBuiltinModule('os').availableParallelism()"))
    assert threads.machine_cores() == cores
    assert threads._DEFAULT == min(cores, threads.DEFAULT_CAP)


@pyodide_only
def test_without_shared_memory_one_thread_said_once(monkeypatch):
    prior = tj.get_num_threads()
    monkeypatch.setitem(wasm_threads._state, "reason", "SharedArrayBuffer is not available (test)")
    monkeypatch.setitem(threads._state, "warned", False)
    try:
        with pytest.warns(RuntimeWarning, match="one thread: SharedArrayBuffer is not available"):
            tj.set_num_threads(4)
        assert tj.get_num_threads() == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            tj.set_num_threads(3)   # said once only
        assert tj.get_num_threads() == 1
    finally:
        monkeypatch.undo()
        tj.set_num_threads(prior)


@pytest.mark.skipif(IN_PYODIDE, reason="CPython side")
def test_off_outside_pyodide():
    assert not wasm_threads.available()
    assert "not in Pyodide" in wasm_threads.unavailable_reason()


_NODE_SCRIPT = r"""
const fs = require("fs");
const [poolJs, wasm] = process.argv.slice(1);
const { unavailableReason, createPool } = (0, eval)(fs.readFileSync(poolJs, "utf8"));
if (unavailableReason()) {
  console.log(JSON.stringify({ skip: unavailableReason() }));
  process.exit(0);
}
const heap = { HEAPU8: new Uint8Array(8 << 20) };
const pool = createPool(fs.readFileSync(wasm), heap);
const M = 150, N = 170, K = 190, F = 4;
const A = new Float32Array(M * K).map((_, i) => Math.sin(i)), B = new Float32Array(K * N).map((_, i) => Math.cos(i));
heap.HEAPU8.set(new Uint8Array(A.buffer), 0);
heap.HEAPU8.set(new Uint8Array(B.buffer), M * K * F);
const base = pool.reserve((M * K + K * N + M * N) * F), a = base, b = a + M * K * F, o = b + K * N * F;
pool.copyIn(a, 0, M * K * F);
pool.copyIn(b, M * K * F, K * N * F);
const ARGS = 4 << 20, OUT = 5 << 20;
pool.ensureWorkers(3);
if (pool.waitReady(3, 10000) !== 3) throw new Error("workers did not start");
const results = [];
for (const threads of [1, 2, 3, 4]) {
  pool.setThreads(threads);
  const args = new BigInt64Array([8, 1, M, N, K, o, a, b, 0, K, 1, 0, N, 1, 0, 0].map(BigInt));
  heap.HEAPU8.set(new Uint8Array(args.buffer), ARGS);
  pool.copyIn(pool.argsAddr, ARGS, 16 * 8);
  const rc = pool.call("gemm");
  if (rc !== 0) throw new Error("tjs_gemm returned " + rc);
  pool.copyOut(OUT, o, M * N * F);
  results.push(Array.from(new Uint32Array(heap.HEAPU8.buffer, OUT, M * N)));
}
// a worker that wakes after the caller took every tile joins none (a busy machine): a few more tries at 4
for (let i = 0; i < 50 && pool.joined() === 0; i++) pool.call("gemm");
const C = new Float32Array(new Uint32Array(results[0]).buffer);
let err = 0;
for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
  let s = 0;
  for (let k = 0; k < K; k++) s += A[i * K + k] * B[k * N + j];
  err = Math.max(err, Math.abs(s - C[i * N + j]));
}
console.log(JSON.stringify({ same: results.every((r) => r.join() === results[0].join()), err, joined: pool.joined() }));
"""


@pytest.mark.skipif(IN_PYODIDE, reason="runs Node as a process (CPython side)")
def test_module_and_pool_in_node_directly():
    """The built module and wasm_pool.js without Pyodide: same bits at 1..4 threads, values, workers took part."""
    node = shutil.which("node")
    wasm = os.path.join(os.path.dirname(library.LIB_PATH), "libtjs_wasm32_threads.wasm")
    if node is None or not os.path.exists(wasm):
        pytest.skip("needs node and `make build`'s libtjs_wasm32_threads.wasm")
    pool_js = os.path.join(os.path.dirname(wasm_threads.__file__), "wasm_pool.js")
    out = subprocess.run([node, "-e", _NODE_SCRIPT, pool_js, wasm], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    if "skip" in got:   # e.g. a Node before 20.16 (no process.getBuiltinModule)
        pytest.skip(got["skip"])
    assert got["same"] and got["err"] < 1e-3 and got["joined"] > 0
