"""Autograd against PyTorch: retain_graph, higher-order grads, grad modes, leaves and accumulation, hooks,
in-place checks (version counters, CopySlices), custom Functions, numerical gradient checks, deep graphs.

Expected values are written inline wherever they are cheap to derive by hand, so these tests also run in
Pyodide (no torch); the `both(...)` comparisons additionally check against torch when it is importable.
"""
import math
import sys

import pytest

import torch_js
from oracle import assert_same, values

try:
    import torch
except ImportError:  # Pyodide
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares against torch (not importable here)")


def both(fn, rtol=1e-5, atol=1e-6):
    js = fn(torch_js)
    if torch is not None:
        assert_same(js, fn(torch), rtol=rtol, atol=atol)
    return js


def close(a, b, tol=1e-5):
    a, b = values(a), (values(b) if not isinstance(b, list) else b)
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        assert abs(x - y) <= tol * (1 + abs(y)), (a, b)


def raises_like(fn, exc, match=None):
    with pytest.raises(exc, match=match) as ei:
        fn(torch_js)
    if torch is not None:
        with pytest.raises(exc, match=match):
            fn(torch)
    return ei.value


# ---------------------------------------------------------------------------------------------------------------
# backward, retain_graph, accumulation


def test_backward_simple_and_accumulate():
    def fn(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()
        y.backward(retain_graph=True)
        g1 = x.grad.clone()
        y.backward()                      # accumulates into x.grad
        return g1, x.grad
    g1, g2 = both(fn)
    assert values(g1) == [2.0, 4.0, 6.0] and values(g2) == [4.0, 8.0, 12.0]


def test_second_backward_without_retain_raises():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * 2).sum()
        y.backward()
        y.backward()
    e = raises_like(fn, RuntimeError, match="Trying to backward through the graph a second time")
    assert "retain_graph=True" in str(e)


def test_backward_with_gradient_argument():
    def fn(T):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x * 3
        y.backward(T.tensor([[1.0, 0.5], [0.0, -1.0]]))
        return x.grad
    assert values(both(fn)) == [3.0, 1.5, 0.0, -3.0]


def test_grad_zeroing_and_none():
    x = torch_js.ones(2, requires_grad=True)
    assert x.grad is None
    (x * 2).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    assert values(x.grad) == [3.0, 3.0]
    x.grad.zero_()
    assert values(x.grad) == [0.0, 0.0]


def test_autograd_grad_does_not_touch_dot_grad():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        (g,) = T.autograd.grad((x ** 2).sum(), x)
        return g, x.grad is None
    g, none = both(fn)
    assert values(g) == [2.0, 4.0] and none


def test_grad_allow_unused_and_unused_raises():
    def fn(T):
        x = T.ones(2, requires_grad=True)
        z = T.ones(2, requires_grad=True)
        return T.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None
    assert both(fn)
    raises_like(lambda T: T.autograd.grad((T.ones(2, requires_grad=True) * 2).sum(),
                                          [T.ones(2, requires_grad=True)]), RuntimeError)


def test_grad_of_non_leaf_and_multiple_outputs():
    def fn(T):
        x = T.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x.tanh()
        y1 = (h * 3).sum()
        y2 = (h ** 2).sum()
        gh, gx = T.autograd.grad([y1, y2], [h, x])
        return gh, gx
    both(fn)


# ---------------------------------------------------------------------------------------------------------------
# higher-order derivatives


def _nth(T, f, x, n):
    out = []
    y = f(x).sum()
    for _ in range(n):
        (y,) = T.autograd.grad(y, x, create_graph=True)
        out.append(y)
        y = y.sum()
    return out


HIGHER = {
    "cube": lambda T: (lambda x: x ** 3),
    "tanh": lambda T: (lambda x: x.tanh()),
    "exp_sin": lambda T: (lambda x: x.sin().exp()),
    "softmax": lambda T: (lambda x: x.softmax(0) * T.tensor([1.0, 2.0, 3.0, 4.0])),
    "log_softmax": lambda T: (lambda x: x.log_softmax(0) * T.tensor([1.0, -2.0, 0.5, 4.0])),
    "matmul": lambda T: (lambda x: (x.reshape(2, 2) @ x.reshape(2, 2)) ** 2),
    "sigmoid_mul": lambda T: (lambda x: x.sigmoid() * x),
    "div": lambda T: (lambda x: 1 / (x + 2)),
    "sqrt_log": lambda T: (lambda x: (x * x + 1).sqrt().log()),
    "pow_tensor": lambda T: (lambda x: x.abs().add(0.5) ** x),
    "mean_var": lambda T: (lambda x: x.var() * x.mean()),
    "norm": lambda T: (lambda x: x.norm()),
}


@pytest.mark.parametrize("name", list(HIGHER))
def test_higher_order(name):
    def fn(T):
        x = T.tensor([0.3, -0.7, 1.1, 0.4], requires_grad=True)
        return _nth(T, HIGHER[name](T), x, 3)
    both(fn, rtol=1e-4, atol=1e-5)


def test_higher_order_inline_cube():
    x = torch_js.tensor([2.0, -1.0], requires_grad=True)
    d1, d2, d3 = _nth(torch_js, lambda t: t ** 3, x, 3)
    assert values(d1) == [12.0, 3.0]
    assert values(d2) == [12.0, -6.0]
    assert values(d3) == [6.0, 6.0]
    t = torch_js.tensor([0.5], requires_grad=True)
    g1, g2 = _nth(torch_js, lambda v: v.tanh(), t, 2)
    th = math.tanh(0.5)
    close(g1, [1 - th * th])
    close(g2, [-2 * th * (1 - th * th)])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_backward_then_grad_of_grad():
    def fn(T):
        x = T.tensor([1.5, 2.0], requires_grad=True)
        y = (x ** 4).sum()
        y.backward(create_graph=True)
        g = x.grad
        x2 = g.requires_grad, g.grad_fn is not None
        (gg,) = T.autograd.grad(g.sum(), x)
        return g.detach(), gg, x2
    g, gg, flags = both(fn)
    assert flags == (True, True)
    assert values(gg) == [12 * 1.5 ** 2, 48.0]


def test_hessian_vector_product_matmul():
    def fn(T):
        A = T.tensor([[2.0, 1.0], [0.5, 3.0]])
        x = T.tensor([1.0, -1.0], requires_grad=True)
        f = (x @ A @ x) ** 2
        (g,) = T.autograd.grad(f, x, create_graph=True)
        v = T.tensor([0.3, 0.7])
        (hv,) = T.autograd.grad(g @ v, x)
        return g.detach(), hv
    both(fn, rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# grad modes


def test_no_grad_context_and_decorator():
    x = torch_js.ones(2, requires_grad=True)
    with torch_js.no_grad():
        y = x * 2
        assert not torch_js.is_grad_enabled()
    assert torch_js.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @torch_js.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert torch_js.is_grad_enabled()

    @torch_js.no_grad()
    def gen():
        yield torch_js.is_grad_enabled()
    assert list(gen()) == [False]


def test_enable_grad_inside_no_grad_and_set_grad_enabled():
    x = torch_js.ones(2, requires_grad=True)
    with torch_js.no_grad():
        with torch_js.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad

    @torch_js.enable_grad()
    def f(t):
        return t * 3
    with torch_js.no_grad():
        assert f(x).requires_grad

    with torch_js.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert torch_js.is_grad_enabled()
    torch_js.set_grad_enabled(False)          # also a plain function call
    try:
        assert not (x * 2).requires_grad
    finally:
        torch_js.set_grad_enabled(True)
    with torch_js.set_grad_enabled(True):
        assert (x * 2).requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError):
        with torch_js.no_grad():
            raise ValueError("boom")
    assert torch_js.is_grad_enabled()


def test_inference_mode():
    x = torch_js.ones(2, requires_grad=True)
    with torch_js.inference_mode():
        y = x * 2
    assert not y.requires_grad


# ---------------------------------------------------------------------------------------------------------------
# leaves, requires_grad_, detach, retain_grad, grad_fn chain


def test_requires_grad_flags_and_detach():
    def fn(T):
        x = T.ones(3)
        a = x.requires_grad, x.is_leaf
        x.requires_grad_()
        y = x * 2
        d = y.detach()
        d2 = d.requires_grad, d.is_leaf, d.grad_fn is None
        d[0] = 5.0                           # shares storage with y
        return a, x.is_leaf, y.is_leaf, y.requires_grad, d2, y.detach()
    r = both(fn)
    assert r[0] == (False, True) and r[2] is False and r[4] == (False, True, True)
    assert values(r[5])[0] == 5.0


def test_requires_grad_on_non_leaf_false_raises():
    raises_like(lambda T: setattr(T.ones(2, requires_grad=True) * 2, "requires_grad", False), RuntimeError,
                match="you can only change requires_grad flags of leaf variables")


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_retain_grad_non_leaf():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        h.retain_grad()
        m = h * 2
        (m * m).sum().backward()
        return h.grad, x.grad, h.retains_grad, m.grad is None
    r = both(fn)
    assert values(r[0]) == [24.0, 48.0] and values(r[1]) == [72.0, 144.0] and r[2] and r[3]


def test_grad_fn_names_and_next_functions():
    def names(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        w = T.tensor([3.0, 4.0], requires_grad=True)
        y = (x * w).exp().sum()
        out = []
        node = y.grad_fn
        out.append(type(node).__name__ if hasattr(node, "name") is False else node.name())
        mul = y.grad_fn.next_functions[0][0].next_functions[0][0]
        out.append(y.grad_fn.next_functions[0][0].name())
        out.append(mul.name())
        out.append([(f.name() if f is not None else None, i) for f, i in mul.next_functions])
        out.append(mul.next_functions[0][0].variable is x)
        return out
    r = names(torch_js)
    assert r[0] == "SumBackward0" and r[1] == "ExpBackward0" and r[2] == "MulBackward0"
    assert r[3] == [("torch::autograd::AccumulateGrad", 0), ("torch::autograd::AccumulateGrad", 0)]
    assert r[4] is True
    if torch is not None:
        assert r == names(torch)


GRAD_FN_NAMES = {
    "add": lambda T, x: x + 1, "sub": lambda T, x: x - x, "mul": lambda T, x: x * 2, "div": lambda T, x: x / 2,
    "neg": lambda T, x: -x, "pow": lambda T, x: x ** 2, "sum": lambda T, x: x.sum(), "mean": lambda T, x: x.mean(),
    "sum_dim": lambda T, x: x.sum(0), "view": lambda T, x: x.view(4), "reshape_copy": lambda T, x: x.t().reshape(4),
    "t": lambda T, x: x.t(), "permute": lambda T, x: x.permute(1, 0), "transpose": lambda T, x: x.transpose(0, 1),
    "expand": lambda T, x: x[:1].expand(3, 2), "select": lambda T, x: x[0], "slice": lambda T, x: x[:, 1:],
    "index": lambda T, x: x[T.tensor([1, 0])], "unsqueeze": lambda T, x: x.unsqueeze(0),
    "squeeze": lambda T, x: x[:1].squeeze(0), "clone": lambda T, x: x.clone(), "mm": lambda T, x: x @ x,
    "exp": lambda T, x: x.exp(), "relu": lambda T, x: x.relu(), "softmax": lambda T, x: x.softmax(1),
    "cat": lambda T, x: T.cat([x, x]), "stack": lambda T, x: T.stack([x, x]), "max_dim": lambda T, x: x.max(1)[0],
    "amax": lambda T, x: x.amax(1), "where": lambda T, x: T.where(x > 0, x, 0.0), "to_double": lambda T, x: x.double(),
    "abs": lambda T, x: x.abs(), "masked_fill": lambda T, x: x.masked_fill(x > 0, 0.0),
    "gather": lambda T, x: x.gather(1, T.tensor([[0], [1]])), "cumsum": lambda T, x: x.cumsum(0),
    "log_softmax": lambda T, x: x.log_softmax(0), "sigmoid": lambda T, x: x.sigmoid(), "tanh": lambda T, x: x.tanh(),
    "flip": lambda T, x: x.flip(0), "var": lambda T, x: x.var(), "norm": lambda T, x: x.norm(),
    "clamp": lambda T, x: x.clamp(0, 1), "matmul_vec": lambda T, x: x @ x[0], "bmm": lambda T, x: x[None].bmm(x[None]),
}


@needs_torch
@pytest.mark.parametrize("name", list(GRAD_FN_NAMES))
def test_grad_fn_name_matches_torch(name):
    def fn(T):
        x = T.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        y = GRAD_FN_NAMES[name](T, x)
        return y.grad_fn.name()
    assert fn(torch_js) == fn(torch)


def test_leaf_grad_accumulates_across_calls_and_graphs():
    x = torch_js.tensor([1.0, -1.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * x).sum().backward()
    assert values(x.grad) == [4.0, 0.0]


def test_shared_subexpression_accumulates():
    def fn(T):
        x = T.tensor([0.5, 1.5], requires_grad=True)
        h = x * x
        y = (h * h + h.sin() + h).sum()
        y.backward()
        return x.grad
    both(fn)


# ---------------------------------------------------------------------------------------------------------------
# hooks


def test_register_hook_modifies_grad():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        h = x.register_hook(lambda g: g * 10)
        y = x * 3
        y.register_hook(lambda g: seen.append(values(g)))
        y.sum().backward()
        h.remove()
        x.grad = None
        (x * 3).sum().backward()
        return x.grad, seen
    g, seen = both(fn)
    assert values(g) == [3.0, 3.0] and seen == [[1.0, 1.0]]


def test_hook_on_non_leaf_changes_downstream():
    x = torch_js.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g + 1)
    (h * 5).sum().backward()
    assert values(x.grad) == [12.0, 12.0]


def test_hook_returning_none_keeps_grad():
    x = torch_js.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: None)
    (x * 4).sum().backward()
    assert values(x.grad) == [4.0]


# ---------------------------------------------------------------------------------------------------------------
# in-place and autograd


def test_inplace_on_saved_tensor_raises():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y.exp()           # saves its output
        z.add_(1)
        z.sum().backward()
    e = raises_like(fn, RuntimeError, match="modified by an inplace operation")
    assert "is at version 1; expected version 0 instead" in str(e)


def test_inplace_on_saved_input_raises():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = y * y             # saves y
        y.mul_(2)
        z.sum().backward()
    raises_like(fn, RuntimeError, match="modified by an inplace operation")


def test_inplace_not_saved_is_fine():
    def fn(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x + 1             # add saves nothing
        y.mul_(3)             # mul by a scalar doesn't need y
        y.sum().backward()
        return x.grad, y.grad_fn.name()
    g, name = both(fn)
    assert values(g) == [3.0, 3.0] and name == "MulBackward0"


def test_inplace_on_leaf_requiring_grad_raises():
    e = raises_like(lambda T: T.ones(2, requires_grad=True).add_(1), RuntimeError,
                    match="a leaf Variable that requires grad is being used in an in-place operation.")
    raises_like(lambda T: T.ones(2, requires_grad=True).__setitem__(0, 2.0), RuntimeError,
                match="a leaf Variable that requires grad")
    raises_like(lambda T: T.ones(2, requires_grad=True)[0].fill_(2.0), RuntimeError,
                match="a view of a leaf Variable that requires grad is being used in an in-place operation.")
    assert e is not None


def test_inplace_on_leaf_under_no_grad_ok():
    x = torch_js.ones(2, requires_grad=True)
    with torch_js.no_grad():
        x.mul_(3)
        x[0] = 7.0
    assert values(x) == [7.0, 3.0] and x.is_leaf and x.grad_fn is None
    (x * x).sum().backward()
    assert values(x.grad) == [14.0, 6.0]


def test_copyslices_setitem_zero():
    def fn(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 1
        y[0] = 0
        y.sum().backward()
        return x.grad, y.grad_fn.name()
    g, name = both(fn)
    assert values(g) == [0.0, 1.0, 1.0] and name == "torch::autograd::CopySlices"


def test_copyslices_view_mul():
    def fn(T):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = x.clone()
        y[:, 1].mul_(2)
        (y * y).sum().backward()
        return x.grad, y
    g, y = both(fn)
    assert values(g) == [2.0, 16.0, 6.0, 32.0]


def test_copyslices_setitem_with_grad_value():
    def fn(T):
        x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = T.tensor([10.0, 20.0], requires_grad=True)
        y = x * 2
        y[1:3] = v * v
        (y * T.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return x.grad, v.grad
    gx, gv = both(fn)
    assert values(gx) == [2.0, 0.0, 0.0, 8.0] and values(gv) == [40.0, 120.0]


def test_inplace_through_view_updates_base_grad_fn():
    def fn(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()
        v = y[1:]
        v.mul_(x[1:])        # y's saved output was modified -> exp backward must fail
        return y
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        fn(torch_js).sum().backward()
    if torch is not None:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            fn(torch).sum().backward()


def test_inplace_on_view_then_use_view():
    def fn(T):
        x = T.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = x + 0
        v = y.view(2, 2)
        v[0].add_(x[2:] * 2)
        (y ** 2).sum().backward()
        return x.grad, y
    both(fn)


def test_index_put_accumulate_grad():
    def fn(T):
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        src = T.tensor([1.0, 1.0, 2.0], requires_grad=True)
        y = x.clone()
        y.index_put_((T.tensor([0, 0, 2]),), src * 3, accumulate=True)
        (y * y).sum().backward()
        return x.grad, src.grad
    both(fn)


def test_version_counter_visible():
    x = torch_js.ones(3)
    v = x._version
    x.add_(1)
    x[0] = 2
    assert x._version == v + 2
    y = x.view(3)
    y.mul_(2)
    assert x._version == v + 3


# ---------------------------------------------------------------------------------------------------------------
# custom autograd.Function


def _make_cube(T):
    class Cube(T.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None
    return Cube


def test_custom_function():
    def fn(T):
        Cube = _make_cube(T)
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = Cube.apply(x, 2.0)
        y.sum().backward()
        return y, x.grad, type(y.grad_fn).__name__.startswith("Cube")
    y, g, named = both(fn)
    assert values(y) == [2.0, 16.0] and values(g) == [6.0, 24.0] and named


def test_custom_function_needs_input_grad_and_multiple_outputs():
    def fn(T):
        seen = []

        class Split(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a * b, a + b

            @staticmethod
            def backward(ctx, g1, g2):
                seen.append(tuple(ctx.needs_input_grad))
                a, b = ctx.saved_tensors
                ga = g1 * b + g2 if ctx.needs_input_grad[0] else None
                gb = g1 * a + g2 if ctx.needs_input_grad[1] else None
                return ga, gb
        a = T.tensor([1.0, 2.0], requires_grad=True)
        b = T.tensor([3.0, 4.0])
        p, s = Split.apply(a, b)
        (p * 2 + s).sum().backward()
        return a.grad, seen, b.grad is None
    g, seen, bnone = both(fn)
    assert values(g) == [7.0, 9.0] and seen == [(True, False)] and bnone


def test_custom_function_mark_non_differentiable_and_once_differentiable():
    def fn(T):
        class ScaleAndSign(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                sign = x.sign()
                ctx.mark_non_differentiable(sign)
                ctx.save_for_backward(sign)
                return x * 2, sign

            @staticmethod
            @T.autograd.function.once_differentiable
            def backward(ctx, g, _gsign):
                (sign,) = ctx.saved_tensors
                return g * 2 + sign
        x = T.tensor([3.0, -1.0, 2.0], requires_grad=True)
        y, s = ScaleAndSign.apply(x)
        (y * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        return s.requires_grad, y.requires_grad, x.grad
    s_rg, y_rg, g = both(fn)
    assert s_rg is False and y_rg is True
    assert values(g) == [3.0, 3.0, 7.0]


def test_custom_function_edges_are_its_tensor_arguments():
    """next_functions has one edge per Tensor argument (a float argument has none, as in PyTorch), and a gradient
    returned for a non-Tensor argument is PyTorch's error."""
    def fn(T):
        class ClampScale(T.autograd.Function):
            @staticmethod
            def forward(ctx, x, lo, y):
                return x.clamp(lo, 1.0) * y

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, g * 3
        x, y = T.tensor([0.5, 2.0], requires_grad=True), T.tensor([1.0, 1.0], requires_grad=True)
        z = ClampScale.apply(x, -0.5, y)
        edges = [type(f).__name__ for f, _ in z.grad_fn.next_functions]
        z.sum().backward()
        return edges, x.grad, y.grad
    edges, gx, gy = both(fn)
    assert edges == ["AccumulateGrad", "AccumulateGrad"] and values(gx) == [2.0, 2.0] and values(gy) == [3.0, 3.0]

    class GradForFloat(torch_js.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, torch_js.ones(1)
    with pytest.raises(RuntimeError, match="function GradForFloatBackward returned a gradient different than None at "
                                           "position 2, but the corresponding forward input was not a Variable"):
        GradForFloat.apply(torch_js.ones(1, requires_grad=True), 2.0).sum().backward()


def test_custom_function_double_backward():
    def fn(T):
        Cube = _make_cube(T)
        x = T.tensor([1.5], requires_grad=True)
        (g,) = T.autograd.grad(Cube.apply(x, 1.0).sum(), x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return g.detach(), gg
    g, gg = both(fn)
    close(gg, [9.0])


# ---------------------------------------------------------------------------------------------------------------
# numerical gradient checks (float64)


def _numeric_grad(f, x, eps=1e-6):
    base = values(x)
    out = []
    for i in range(len(base)):
        p = list(base)
        m = list(base)
        p[i] += eps
        m[i] -= eps
        fp = f(torch_js.tensor(p, dtype=torch_js.float64).reshape(x.shape)).item()
        fm = f(torch_js.tensor(m, dtype=torch_js.float64).reshape(x.shape)).item()
        out.append((fp - fm) / (2 * eps))
    return out


GRADCHECK = {
    "softmax_weighted": lambda x: (x.softmax(-1) * torch_js.arange(1.0, 7.0, dtype=torch_js.float64).reshape(2, 3)).sum(),
    "logsumexp": lambda x: x.logsumexp(1).sum(),
    "layer_norm_like": lambda x: (((x - x.mean(1, keepdim=True)) / (x.var(1, keepdim=True) + 1e-5).sqrt()) ** 3).sum(),
    "matmul_tanh": lambda x: (x @ x.t()).tanh().sum(),
    "norm_div": lambda x: (x / x.norm(dim=1, keepdim=True)).pow(2).mul(torch_js.tensor([1.0, 2.0, 3.0],
                                                                                        dtype=torch_js.float64)).sum(),
    "where_abs": lambda x: torch_js.where(x > 0, x.sin(), x * x).abs().sum(),
    "max_prod": lambda x: x.amax(1).prod() + x.cumprod(1).sum(),
    "gather_index": lambda x: x.gather(1, torch_js.tensor([[2, 0], [1, 1]])).exp().sum() + x[:, 1:].pow(3).sum(),
    "atan2_hypot": lambda x: torch_js.atan2(x[0], x[1] + 2).sum() + torch_js.hypot(x[0], x[1]).sum(),
    "std_mean": lambda x: x.std(0).sum() * x.mean(),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_numerical_gradient_float64(name):
    f = GRADCHECK[name]
    x = torch_js.tensor([[0.3, -1.2, 0.8], [1.5, 0.2, -0.6]], dtype=torch_js.float64, requires_grad=True)
    (g,) = torch_js.autograd.grad(f(x), x)
    assert g.dtype == torch_js.float64
    num = _numeric_grad(lambda t: f(t), x.detach())
    for a, n in zip(values(g), num):
        assert abs(a - n) <= 1e-6 + 1e-5 * abs(n), (values(g), num)


def test_gradcheck_function():
    x = torch_js.tensor([0.4, -0.3, 1.2], dtype=torch_js.float64, requires_grad=True)
    assert torch_js.autograd.gradcheck(lambda t: (t.sin() * t).cumsum(0), (x,))


# ---------------------------------------------------------------------------------------------------------------
# graph size


def test_deep_graph_no_recursion_error():
    depth = 5000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, 1000))   # Pyodide's limit is low; the engine must be iterative
    try:
        x = torch_js.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(depth):
            y = y + 1
        y = y * x
        y.backward()
        assert values(x.grad) == [1.0 + depth + 1.0]
        z = x
        for _ in range(depth):
            z = z * 1.0
        (g,) = torch_js.autograd.grad(z.sum(), x)
        assert values(g) == [1.0]
        del y, z   # freeing a deep graph must not recurse either
    finally:
        sys.setrecursionlimit(limit)


def test_graph_freed_after_backward():
    import gc
    import weakref
    x = torch_js.ones(3, requires_grad=True)
    y = x.exp()
    ref = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y
    gc.collect()
    assert ref() is None


def test_data_does_not_bump_version_but_detach_does():
    def via_data(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        x.data.add_(1)         # .data: invisible to autograd's version check
        y.sum().backward()
        return x.grad
    assert values(both(via_data)) == [4.0, 6.0]

    def via_detach(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        x.detach().add_(1)     # detach() shares the version counter
        y.sum().backward()
    raises_like(via_detach, RuntimeError, match="modified by an inplace operation")
