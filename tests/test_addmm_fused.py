"""linear's bias + mat1 @ mat2 in one kernel call (CPU backend's addmm: tjs_addmm, the bias added by the product's
tiles): the bits of mm then add_, in one call or in parts, and the composite wherever the call declines."""
import math

import pytest

import torch_js as torch
import torch_js.nn.functional as F
from torch_js.backends.cpu import reduction


def _bits(t):
    return t.contiguous().view(torch.int32).tolist()


def _two_step(x, w, b):
    y = x.reshape(math.prod(x.shape[:-1]), x.shape[-1]).mm(w.t())
    y.add_(b)
    return y.view(*x.shape[:-1], w.shape[0])


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (3, 5, 7), (8, 64, 33), (64, 96, 130), (2, 300, 9), (0, 4, 5),
                                   (5, 0, 3)])
def test_linear_bias_has_mm_then_add_bits(m, k, n):
    g = torch.Generator().manual_seed(m * 131 + k * 7 + n)
    x, w, b = (torch.randn(*s, generator=g) for s in ((m, k), (n, k), (n,)))
    assert _bits(F.linear(x, w, b)) == _bits(_two_step(x, w, b))


def test_three_dim_input_and_strided_operands():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 6, 40, generator=g)
    w, b = torch.randn(24, 40, generator=g), torch.randn(24, generator=g)
    assert _bits(F.linear(x, w, b)) == _bits(_two_step(x, w, b))
    xt = torch.randn(40, 12, generator=g).t()          # mat1 with a column stride
    assert _bits(F.linear(xt, w, b)) == _bits(_two_step(xt, w, b))
    bs = torch.randn(48, generator=g)[::2]              # a strided bias: declined, the composite runs
    assert _bits(F.linear(xt, w, bs)) == _bits(_two_step(xt, w, bs))


def test_parts_add_the_bias_once():
    g = torch.Generator().manual_seed(5)
    a, bm, bias = torch.randn(70, 90, generator=g), torch.randn(90, 150, generator=g), torch.randn(150, generator=g)
    want = a.mm(bm)
    want.add_(bias)
    out = torch.empty(70, 150)
    # parts of a few thousand multiply-adds: many calls, each adding the bias to its own rows and columns only
    reduction.gemm_parts(out, a, bm, 1, 70, 150, 90, (0,) + a.stride(), (0,) + bm.stride(), 0, 1 << 12, bias)
    assert _bits(out) == _bits(want)


def test_declines_what_it_does_not_take():
    g = torch.Generator().manual_seed(7)
    x, w, b = torch.randn(5, 6, generator=g), torch.randn(4, 6, generator=g), torch.randn(4, generator=g)
    out = torch.empty(5, 4)
    assert reduction._addmm(out, b.double(), x, w.t()) is False
    assert reduction._addmm(out, b[:3], x, w.t()) is False
    assert reduction._addmm(torch.empty(4, 5).t(), b, x, w.t()) is False
    y = F.linear(x.double(), w.double(), b.double())
    assert torch.allclose(y, (x.double() @ w.double().t()) + b.double())


def test_gradients_unchanged():
    g = torch.Generator().manual_seed(9)
    x = torch.randn(6, 10, generator=g, requires_grad=True)
    w = torch.randn(3, 10, generator=g, requires_grad=True)
    b = torch.randn(3, generator=g, requires_grad=True)
    y = F.linear(x, w, b)
    assert y.grad_fn.name() == "AddmmBackward0"
    y.square().sum().backward()
    gy = 2 * y.detach()
    assert torch.allclose(x.grad, gy @ w.detach())
    assert torch.allclose(w.grad, gy.t() @ x.detach())
    assert torch.allclose(b.grad, gy.sum(0))


def test_linear_calls_the_fused_kernel(monkeypatch):
    calls = []
    real = reduction._addmm

    def spy(*args):
        calls.append(real(*args))
        return calls[-1]
    monkeypatch.setattr(reduction, "_addmm", spy)
    x, w, b = torch.randn(4, 8), torch.randn(3, 8), torch.randn(3)
    F.linear(x, w, b)
    assert calls == [True]
