"""torch.utils.checkpoint against PyTorch: outputs, gradients (inputs, closed-over parameters), the generator state
(dropout recomputes the same mask; the caller's stream goes on as without checkpointing), torch.autograd.grad,
double backward, keyword arguments, checkpoint_sequential, warnings and errors; both use_reentrant variants.

Torch-free checks: a checkpointed computation has the gradients of the plain one, and the segment's graph is gone.
"""
import warnings

import pytest

import torch_js
from optional_torch import HAVE_TORCH, torch
from oracle import assert_same
from torch_js.utils.checkpoint import checkpoint


def _same(js, pt, tol=1e-5):
    if isinstance(pt, (tuple, list)):
        assert len(js) == len(pt)
        for a, b in zip(js, pt):
            _same(a, b, tol)
    elif pt is None or isinstance(pt, (str, bool, int, float)):
        assert js == pt, (js, pt)
    else:
        assert_same(js, pt, rtol=tol, atol=tol)


def both(fn, tol=1e-5):
    js = fn(torch_js)
    if HAVE_TORCH:
        _same(js, fn(torch), tol)
    return js


def _net(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(4, 6), m.nn.Tanh(), m.nn.Dropout(0.5), m.nn.Linear(6, 3), m.nn.Sigmoid())


@pytest.mark.parametrize("reentrant", [True, False])
@pytest.mark.parametrize("sequential", [False, True])
def test_gradients_and_rng(reentrant, sequential):
    def run(m):
        net = _net(m)
        m.manual_seed(1)
        x = m.randn(5, 4, requires_grad=True)
        if sequential:
            y = m.utils.checkpoint.checkpoint_sequential(net, 2, x, use_reentrant=reentrant)
        else:
            y = m.utils.checkpoint.checkpoint(net, x, use_reentrant=reentrant)
        draw_after_forward = m.rand(2)
        (y * y).sum().backward()
        draw_after_backward = m.rand(2)   # the recomputation put the generator back
        return [y.detach(), x.grad, draw_after_forward, draw_after_backward] + [p.grad for p in net.parameters()]
    both(run)


def test_non_reentrant_grad_kwargs_nested_outputs_and_parameters_only():
    def run(m):
        net = _net(m).eval()
        w = m.tensor([0.5, -1.0, 2.0], requires_grad=True)

        def f(x, *, scale):
            h = net(x) * w
            return {"out": h * scale, "aux": (h.sum(), 3)}
        x = m.ones(2, 4)   # needs no grad: the gradients reach the closed-over parameters
        out = checkpoint_of(m)(f, x, scale=2.0, use_reentrant=False)
        gw, gb = m.autograd.grad(out["out"].sum() + out["aux"][0], (w, net[0].bias))
        return out["out"], out["aux"][1], gw, gb
    both(run)


def checkpoint_of(m):
    return m.utils.checkpoint.checkpoint


def test_non_reentrant_double_backward():
    def run(m):
        x = m.tensor([0.5, 1.5, -2.0], dtype=m.float64, requires_grad=True)
        y = checkpoint_of(m)(lambda t: (t.sin() * t).exp(), x, use_reentrant=False)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)
        return g.detach(), gg
    both(run, tol=1e-12)


def test_reentrant_without_inputs_requiring_grad():
    def run(m):
        net = _net(m).eval()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = checkpoint_of(m)(net, m.ones(2, 4), use_reentrant=True)
        return y.requires_grad, [str(w.message) for w in caught]
    assert both(run) == (False, ["None of the inputs have requires_grad=True. Gradients will be None"])


def test_use_reentrant_default_and_argument_errors():
    def run(m):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            y = checkpoint_of(m)(lambda t: t * 2, m.ones(2, requires_grad=True))
        return type(y.grad_fn).__name__, [str(w.message)[:60] for w in caught]
    both(run)

    def error(m, **kwargs):
        with pytest.raises(ValueError) as info:
            checkpoint_of(m)(lambda t, **kw: t, m.ones(1), **kwargs)
        return str(info.value)
    both(lambda m: error(m, use_reentrant=True, scale=2))
    both(lambda m: error(m, use_reentrant=True, debug=True))
    both(lambda m: error(m, use_reentrant=False, determinism_check="sometimes"))


def test_non_reentrant_nondeterministic_function_raises():
    calls = []

    def f(t):
        calls.append(1)
        return t.repeat(len(calls))   # a different shape when recomputed
    y = checkpoint(f, torch_js.ones(2, requires_grad=True), use_reentrant=False)
    with pytest.raises(torch_js.utils.checkpoint.CheckpointError, match="different metadata"):
        y.sum().backward()


@pytest.mark.parametrize("reentrant", [True, False])
def test_matches_the_plain_computation(reentrant):
    torch_js.manual_seed(0)
    lin = torch_js.nn.Linear(3, 3)
    x = torch_js.randn(4, 3, requires_grad=True)
    f = lambda t: lin(t).relu().pow(2)   # noqa: E731
    plain = f(x).sum()
    grads = torch_js.autograd.grad(plain, (x, lin.weight, lin.bias))
    x.grad = None
    out = checkpoint(f, x, use_reentrant=reentrant).sum()
    out.backward()
    for g, got in zip(grads, (x.grad, lin.weight.grad, lin.bias.grad)):
        torch_js.testing.assert_close(got, g)
    if not reentrant:
        # one node stands for the segment, with edges only to what came from outside it
        node = checkpoint(f, x, use_reentrant=False).grad_fn
        assert type(node).__name__ == "CheckpointBackward"
        leaves = {id(e[0].variable) for e in node.next_functions if e is not None}
        assert leaves == {id(x), id(lin.weight), id(lin.bias)}


def test_context_fn_wraps_forward_and_recompute():
    def run(m):
        entered = []

        class Ctx:
            def __init__(self, name):
                self.name = name

            def __enter__(self):
                entered.append((self.name, m.is_grad_enabled()))

            def __exit__(self, *exc):
                return False
        x = m.ones(2, requires_grad=True)
        y = checkpoint_of(m)(lambda t: t.exp(), x, use_reentrant=False,
                             context_fn=lambda: (Ctx("forward"), Ctx("recompute")))
        y.sum().backward()
        return entered, x.grad
    both(run)
