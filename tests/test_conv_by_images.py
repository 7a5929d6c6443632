"""Convolutions without autograd run image batch by image batch (nn/_functional/conv.py's _conv_by_images): the
same bits as the one-gemm path autograd takes, for 1-, 2- and 3-D, strides, padding, dilation, 1x1 kernels,
non-contiguous inputs, batches across several chunks; and values against live torch."""
import pytest

import torch_js as tj
import torch_js.nn.functional as JF
from optional_torch import needs_torch, torch

CASES = [  # nd, N, C, O, spatial, kernel, stride, padding, dilation
    (2, 32, 3, 32, (48, 48), (3, 3), (1, 1), (0, 0), (1, 1)),     # ONet's conv1 (several chunks)
    (2, 5, 32, 64, (23, 23), (3, 3), (1, 1), (0, 0), (1, 1)),     # one image a chunk
    (2, 3, 6, 10, (11, 13), (1, 3), (1, 2), (1, 1), (1, 2)),
    (2, 4, 16, 24, (9, 9), (1, 1), (1, 1), (0, 0), (1, 1)),       # 1x1: images are their own columns
    (1, 7, 9, 13, (40,), (3,), (2,), (1,), (2,)),
    (3, 3, 4, 8, (6, 7, 5), (2, 3, 2), (1, 2, 1), (1, 0, 1), (2, 1, 1)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("transposed_input", [False, True])
def test_no_grad_conv_matches_autograd_path(case, dtype, transposed_input):
    nd, n, c, o, sz, k, s, p, d = case
    dt = getattr(tj, dtype)
    tj.manual_seed(0)
    x = tj.randn(c, n, *sz, dtype=dt).transpose(0, 1) if transposed_input else tj.randn(n, c, *sz, dtype=dt)
    w, b = tj.randn(o, c, *k, dtype=dt), tj.randn(o, dtype=dt)
    conv = getattr(JF, f"conv{nd}d")
    with tj.no_grad():
        fast = conv(x, w, b, s, p, d)
    slow = conv(x, w.clone().requires_grad_(True), b, s, p, d)   # autograd: the one-gemm path
    assert slow.grad_fn is not None
    assert fast.shape == slow.shape and fast.tolist() == slow.detach().tolist()


@needs_torch
@pytest.mark.parametrize("case", CASES)
def test_no_grad_conv_values(case):
    nd, n, c, o, sz, k, s, p, d = case
    tj.manual_seed(1)
    x, w, b = tj.randn(n, c, *sz, dtype=tj.float64), tj.randn(o, c, *k, dtype=tj.float64), tj.randn(o, dtype=tj.float64)
    with tj.no_grad():
        got = getattr(JF, f"conv{nd}d")(x, w, b, s, p, d)
    tx, tw, tb = (torch.tensor(t.tolist(), dtype=torch.float64) for t in (x, w, b))
    want = getattr(torch.nn.functional, f"conv{nd}d")(tx, tw, tb, s, p, d)
    assert list(got.shape) == list(want.shape)
    assert torch.allclose(torch.tensor(got.tolist(), dtype=torch.float64), want, rtol=1e-12, atol=1e-12)
