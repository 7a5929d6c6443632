"""torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp), torch.autograd.Variable and
gradcheck/gradgradcheck against PyTorch: values, which results carry history (create_graph), tuple structure,
strict mode and PyTorch's errors and messages.

Torch-free checks: Jacobians and Hessians of functions with known derivatives, and gradcheck catching a wrong
backward.
"""
import warnings

import pytest

import torch_js
from optional_torch import HAVE_TORCH, torch
from oracle import assert_same
from torch_js.autograd.gradcheck import GradcheckError


def _same(js, pt, tol):
    if isinstance(pt, (tuple, list)):
        assert isinstance(js, tuple) == isinstance(pt, tuple) and len(js) == len(pt), (js, pt)
        for a, b in zip(js, pt):
            _same(a, b, tol)
    elif hasattr(pt, "requires_grad"):
        assert js.requires_grad == pt.requires_grad, f"requires_grad {js.requires_grad} vs torch {pt.requires_grad}"
        assert_same(js, pt, rtol=tol, atol=tol)
    else:
        assert js == pt, (js, pt)


def both(fn, tol=1e-10):
    js = fn(torch_js)
    if HAVE_TORCH:
        _same(js, fn(torch), tol)
    return js


def error_of(fn, m):
    with pytest.raises(Exception) as info:
        fn(m)
    return type(info.value).__name__, str(info.value)


def same_error(fn):
    js = error_of(fn, torch_js)
    if HAVE_TORCH:
        assert js == error_of(fn, torch)
    return js


def x3(m, requires_grad=False):
    return m.tensor([0.5, -1.25, 2.0], dtype=m.float64, requires_grad=requires_grad)


def y2(m, requires_grad=False):
    return m.tensor([[1.0, -0.5], [0.25, 2.0]], dtype=m.float64, requires_grad=requires_grad)


def vec(m, n=3):
    return m.linspace(-1, 2, n, dtype=m.float64)


SINGLE = lambda x: (x.sin() * x.exp()).cumsum(0)   # noqa: E731
PAIR = lambda x, y: ((y @ x[:2]).tanh(), (x.sum() * y).exp())   # noqa: E731
SCALAR = lambda x: (x.sin() * x).sum() + x.prod()   # noqa: E731
SCALAR2 = lambda x, y: (y @ x[:2]).pow(3).sum() * x[2]   # noqa: E731


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_and_hessian(create_graph):
    both(lambda m: m.autograd.functional.jacobian(SINGLE, x3(m, create_graph), create_graph=create_graph))
    both(lambda m: m.autograd.functional.jacobian(PAIR, (x3(m, create_graph), y2(m)), create_graph=create_graph))
    both(lambda m: m.autograd.functional.jacobian(lambda x, y: x * 2, (x3(m), y2(m))))   # zeros where independent
    both(lambda m: m.autograd.functional.jacobian(PAIR, (x3(m), y2(m)), vectorize=True))
    both(lambda m: m.autograd.functional.jacobian(SINGLE, x3(m), vectorize=True, strategy="forward-mode"))
    both(lambda m: m.autograd.functional.hessian(SCALAR, x3(m, create_graph), create_graph=create_graph))
    both(lambda m: m.autograd.functional.hessian(SCALAR2, (x3(m), y2(m, create_graph)), create_graph=create_graph))


@pytest.mark.parametrize("create_graph", [False, True])
def test_products(create_graph):
    F = lambda m: m.autograd.functional   # noqa: E731
    both(lambda m: F(m).vjp(SINGLE, x3(m, create_graph), vec(m), create_graph=create_graph))
    both(lambda m: F(m).vjp(PAIR, (x3(m), y2(m)), (vec(m, 2), y2(m).t()), create_graph=create_graph))
    both(lambda m: F(m).jvp(SINGLE, x3(m, create_graph), vec(m), create_graph=create_graph))
    both(lambda m: F(m).jvp(PAIR, (x3(m), y2(m)), (vec(m), y2(m) * 2), create_graph=create_graph))
    both(lambda m: F(m).hvp(SCALAR, x3(m, create_graph), vec(m), create_graph=create_graph))
    both(lambda m: F(m).vhp(SCALAR2, (x3(m), y2(m, create_graph)), (vec(m), y2(m)), create_graph=create_graph))
    both(lambda m: F(m).hvp(SCALAR2, (x3(m), y2(m)), (vec(m), y2(m)), create_graph=create_graph))
    both(lambda m: F(m).vjp(lambda x: x.sum(), x3(m)))   # v may be omitted for a one-element output


def test_second_derivative_through_create_graph():
    def run(m):
        x = x3(m, requires_grad=True)
        jac = m.autograd.functional.jacobian(SINGLE, x, create_graph=True)
        return m.autograd.grad(jac.sum(), x)
    both(run)


def test_strict_mode_and_errors():
    F = lambda m: m.autograd.functional   # noqa: E731
    same_error(lambda m: F(m).jacobian(lambda x, y: x * 2, (x3(m), y2(m)), strict=True))
    same_error(lambda m: F(m).jacobian(lambda x: m.ones(2, dtype=m.float64), x3(m), strict=True))
    same_error(lambda m: F(m).jacobian(lambda x: x * 2, x3(m), create_graph=True, strict=True))
    same_error(lambda m: F(m).hessian(lambda x: x.sum(), x3(m), strict=True))
    same_error(lambda m: F(m).vjp(lambda x: x * 2, x3(m), vec(m), strict=True, create_graph=True))
    same_error(lambda m: F(m).jvp(lambda x: m.ones(3, dtype=m.float64), x3(m), vec(m), strict=True))
    same_error(lambda m: F(m).vhp(lambda x: (x * 2).sum(), x3(m), vec(m), strict=True))
    same_error(lambda m: F(m).hvp(lambda x: (x * 2).sum(), x3(m), vec(m), strict=True))
    both(lambda m: F(m).hvp(lambda x: (x * x).sum(), x3(m), vec(m), strict=True))   # a constant Hessian is fine
    same_error(lambda m: F(m).vjp(SINGLE, x3(m)))
    same_error(lambda m: F(m).vjp(SINGLE, x3(m), vec(m, 2)))
    same_error(lambda m: F(m).vjp(PAIR, (x3(m), y2(m)), (vec(m, 2),)))
    same_error(lambda m: F(m).vjp(PAIR, (x3(m), y2(m)), (vec(m, 2), vec(m, 4))))
    same_error(lambda m: F(m).jvp(SINGLE, [x3(m)], vec(m)))
    same_error(lambda m: F(m).jvp(SINGLE, (x3(m), 3.0), vec(m)))
    same_error(lambda m: F(m).jacobian(lambda x: 3.0, x3(m)))
    same_error(lambda m: F(m).hessian(SINGLE, x3(m)))
    same_error(lambda m: F(m).hessian(lambda x: (x.sum(), x.sum()), x3(m)))
    same_error(lambda m: F(m).hvp(SINGLE, x3(m), vec(m)))
    same_error(lambda m: F(m).jacobian(SINGLE, x3(m), strategy="sideways"))
    same_error(lambda m: F(m).jacobian(SINGLE, x3(m), strategy="forward-mode"))
    same_error(lambda m: F(m).jacobian(SINGLE, x3(m), strategy="forward-mode", vectorize=True, create_graph=True))
    same_error(lambda m: F(m).jacobian(SINGLE, x3(m), vectorize=True, strict=True))


def test_known_derivatives():
    F = torch_js.autograd.functional
    x = x3(torch_js)
    torch_js.testing.assert_close(F.jacobian(torch_js.sin, x), torch_js.diag(x.cos()))
    torch_js.testing.assert_close(F.hessian(lambda t: t.pow(3).sum(), x), torch_js.diag(6 * x))
    _, hv = F.hvp(lambda t: t.pow(3).sum(), x, torch_js.ones_like(x))
    torch_js.testing.assert_close(hv, 6 * x)
    _, jv = F.jvp(torch_js.exp, x, torch_js.ones_like(x))
    torch_js.testing.assert_close(jv, x.exp())


# ---- Variable --------------------------------------------------------------------------------------------------------
def test_variable():
    def run(m):
        t = m.tensor([1.0, 2.0], requires_grad=True)
        v = m.autograd.Variable(t)
        w = m.autograd.Variable(m.ones(2), requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.autograd.Variable(m.ones(1), volatile=True)
        v.data.add_(0)   # shares t's memory
        return (type(v).__name__, v.requires_grad, v.is_leaf, w.requires_grad, w.is_leaf,
                isinstance(t, m.autograd.Variable), isinstance(3, m.autograd.Variable),
                m.autograd.Variable().shape, [str(c.message) for c in caught], v.data_ptr() == t.data_ptr())
    both(run)
    same_error(lambda m: m.autograd.Variable([1.0, 2.0]))
    same_error(lambda m: m.autograd.Variable(m.ones(1), requires_grad=True, volatile=True))
    same_error(lambda m: m.autograd.Variable(m.ones(1, dtype=m.int64), requires_grad=True))
    same_error(lambda m: m.autograd.Variable(m.ones(1), _grad_fn=3))


# ---- gradcheck / gradgradcheck --------------------------------------------------------------------------------------
def _bad_square(m):
    class BadSquare(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * g   # should be 2 * x * g
    return BadSquare.apply


def test_gradcheck():
    both(lambda m: m.autograd.gradcheck(lambda a, b: (a.sin() * b, a.sum()), (x3(m, True), x3(m).exp())))
    both(lambda m: m.autograd.gradgradcheck(lambda a: (a.sin() * a).cumsum(0), (x3(m, True),)))
    both(lambda m: m.autograd.gradcheck(_bad_square(m), (x3(m, True),), raise_exception=False))
    same_error(lambda m: m.autograd.gradcheck(_bad_square(m), (x3(m, True),)))
    same_error(lambda m: m.autograd.gradcheck(m.sin, (x3(m),)))

    def seeded_gradgrad(m):
        m.manual_seed(0)
        return m.autograd.gradgradcheck(lambda a: a.pow(3), (x3(m, True),), raise_exception=False), m.rand(1)
    both(seeded_gradgrad)   # the random grad_outputs come from the generator as PyTorch's do


def test_gradcheck_flags_a_wrong_backward():
    x = x3(torch_js, True)
    assert torch_js.autograd.gradcheck(lambda t: t.exp(), (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        torch_js.autograd.gradcheck(_bad_square(torch_js), (x,))
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        assert torch_js.autograd.gradcheck(lambda t: t * 2, (torch_js.ones(2, requires_grad=True),), eps=1e-2)
