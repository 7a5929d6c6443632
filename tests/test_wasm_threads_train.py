"""Training steps on threads (issue 19): what a small CNN's step spends its time on besides products, and how its
products are cut.

In Pyodide (make test-pyodide): max and average pooling run on the worker pool (backends/cpu/wasm_threads.py pool,
wasm_ext/pool/pool_planes.c: pool.c's code, the planes shared out) with the one-thread bits at 2, 3 and 4 threads
(float32 and float64, NaNs, indices, padding and strides), the workers take part, and a CNN training step's loss and
gradients are the same bits at every count. Natively and in Pyodide: a short wide product (a convolution's: few rows,
many columns) runs in parts of about tjs_gemm's part size, not one part per NC block of columns, with the same bits
as one call."""
import pytest

import torch_js as tj
import torch_js.nn.functional as JF
from torch_js.backends.cpu import library, reduction, wasm_threads
from test_wasm_threads import COUNTS, _bits, _same_at_all_counts, pool_threads, pyodide_only  # noqa: F401


def _gemm_in_parts(a, b, work):
    """a @ b (2-D, contiguous) through reduction.gemm_parts with parts of `work` (0: the default); (result, parts)."""
    m, k = a.shape
    n = b.shape[1]
    out = tj.empty(m, n, dtype=a.dtype)
    parts = [1]

    def count():
        parts.append(1)
        return 0
    prior = library.check_signals
    library.check_signals = count   # called between two parts
    try:
        library.check(reduction.gemm_parts(out, a, b, 1, m, n, k, (0, k, 1), (0, n, 1), 0, work), "matmul")
    finally:
        library.check_signals = prior
    return out, len(parts)


def test_short_wide_product_in_few_parts():
    """A convolution's product (64 × 288 by 288 × 16384: ~1.1 default parts of work) takes 2 parts, where one part a
    512-column block made 32 (a call, and on threads a wait for the workers, each); the bits are one call's."""
    tj.manual_seed(5)
    a, b = tj.randn(64, 288), tj.randn(288, 16384)
    got, parts = _gemm_in_parts(a, b, 0)
    assert parts == 2
    one, single = _gemm_in_parts(a, b, 1 << 40)
    assert single == 1
    assert _bits(got) == _bits(one)
    # a smaller part size: the columns split evenly into parts of whole NC blocks, same bits
    small, many = _gemm_in_parts(a, b, 64 * 288 * 2048)
    assert many == 8 and _bits(small) == _bits(one)


def test_uneven_bands_split_evenly():
    """Rows in bands of even height (64 rows that one part holds 56 of: 32 + 32, not 56 + 8), same bits."""
    tj.manual_seed(6)
    a, b = tj.randn(64, 4096), tj.randn(4096, 288)
    got, parts = _gemm_in_parts(a, b, 56 * 288 * 4096)
    assert parts == 2
    one, _ = _gemm_in_parts(a, b, 1 << 40)
    assert _bits(got) == _bits(one)


POOLS = {
    "max2x2_indices": lambda x: tj.cat([t.flatten().to(x.dtype) for t in JF.max_pool2d(x, 2, return_indices=True)]),
    "max3x3_pad_stride": lambda x: JF.max_pool2d(x, 3, stride=2, padding=1),
    "max_dilated_ceil": lambda x: JF.max_pool2d(x, 3, stride=2, dilation=2, ceil_mode=True),
    "avg3x3_pad": lambda x: JF.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
    "adaptive_avg": lambda x: JF.adaptive_avg_pool2d(x, (5, 7)),
    "max3d": lambda x: JF.max_pool3d(x.view(x.shape[0], 4, -1, *x.shape[2:]), 2),
}


@pyodide_only
@pytest.mark.parametrize("dtype", [tj.float32, tj.float64])
@pytest.mark.parametrize("name", sorted(POOLS))
def test_pooling_bit_identical_at_any_count(pool_threads, name, dtype):
    tj.manual_seed(7)
    x = tj.randn(16, 32, 24, 40, dtype=dtype)
    x[0, 0, 0, :5] = float("nan")
    x[1, 2, 3, 4] = float("inf")
    x[3, 1] = 0.0   # ties: the first index wins
    _same_at_all_counts(lambda: POOLS[name](x))


@pyodide_only
def test_workers_take_part_in_pooling(pool_threads, monkeypatch):
    """Pooling at 2 threads goes through the pool (its kernel called, workers joining); at 1 thread it does not."""
    x = tj.randn(64, 32, 32, 32)
    calls = []
    real = wasm_threads._run

    def run(pool, kernel, *rest):
        calls.append(kernel)
        return real(pool, kernel, *rest)
    monkeypatch.setattr(wasm_threads, "_run", run)
    tj.set_num_threads(1)
    JF.max_pool2d(x, 2)
    assert "pool_planes" not in calls
    tj.set_num_threads(2)
    joined = wasm_threads.joined()
    for _ in range(10):
        JF.max_pool2d(x, 2)
        if wasm_threads.joined() > joined:
            break
    assert "pool_planes" in calls
    assert wasm_threads.joined() > joined, "no worker took part in 10 pools of 2048 planes"


@pyodide_only
def test_cnn_training_step_bit_identical(pool_threads):
    """A step of bench/cpu_peers_workloads.py's cnn_train shape (smaller batch): loss, every gradient and the
    updated weights have the same bits at every count."""
    nn = tj.nn

    def step():
        tj.manual_seed(8)
        model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 8 * 8, 10))
        opt = tj.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = tj.randn(16, 3, 32, 32), tj.randint(0, 10, (16,))
        for _ in range(2):
            opt.zero_grad()
            loss = JF.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        grads = [p.grad.flatten() for p in model.parameters()]
        return tj.cat([loss.detach().view(1)] + grads + [p.detach().flatten() for p in model.parameters()])
    _same_at_all_counts(step)


CONVS = {
    "conv2d_pad": lambda x, w: JF.conv2d(x, w, padding=1),
    "conv2d_stride_dilation": lambda x, w: JF.conv2d(x, w, stride=2, dilation=2, padding=2),
    "unfold_fold": lambda x, w: JF.fold(JF.unfold(x, 3, padding=1, stride=2), x.shape[-2:], 3, padding=1, stride=2),
    "conv_transpose2d": lambda x, w: JF.conv_transpose2d(x, w.transpose(0, 1), stride=2, padding=1),
}


@pyodide_only
@pytest.mark.parametrize("dtype", [tj.float32, tj.float64])
@pytest.mark.parametrize("name", sorted(CONVS))
def test_im2col_col2im_bit_identical_at_any_count(pool_threads, name, dtype):
    """Convolutions' im2col and col2im (unfold, fold, a transposed convolution's) on the pool: the one-thread bits,
    and input, weight gradients too (col2im reading the product where it sits)."""
    tj.manual_seed(9)
    x = tj.randn(12, 16, 20, 24, dtype=dtype, requires_grad=True)
    w = tj.randn(24, 16, 3, 3, dtype=dtype, requires_grad=True)

    def run():
        y = CONVS[name](x, w)
        gx, gw = tj.autograd.grad(y.sin().sum(), (x, w), allow_unused=True)
        return tj.cat([y.detach().flatten(), gx.flatten()] + ([gw.flatten()] if gw is not None else []))
    _same_at_all_counts(run)


@pyodide_only
def test_conv_columns_on_the_pool(pool_threads, monkeypatch):
    """A training convolution at 2 threads: im2col and col2im run on the pool and the product reads the columns
    where im2col left them (not copied in again)."""
    calls = []
    real = wasm_threads._run

    def run(pool, kernel, fmt, values, *copies):
        calls.append((kernel, sum(copies[2::3])))
        return real(pool, kernel, fmt, values, *copies)
    monkeypatch.setattr(wasm_threads, "_run", run)
    tj.set_num_threads(2)
    x = tj.randn(32, 32, 16, 16, requires_grad=True)
    conv = tj.nn.Conv2d(32, 64, 3, padding=1)
    conv(x).sum().backward()
    kernels = [k for k, _ in calls]
    assert "pool_im2col" in kernels and "pool_col2im" in kernels
    i = kernels.index("pool_im2col")
    assert kernels[i + 1] == "pool_gemm" and calls[i + 1][1] < 288 * 32 * 256 * 4, "the columns were copied in again"
