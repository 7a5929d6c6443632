"""torch.func against PyTorch: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call,
stack_module_state; values, which results carry autograd history, nesting, randomness and PyTorch's errors.

`both(fn)` runs fn with torch_js and, where torch is importable, with torch, and compares the results; the
torch-free tests check identities (a Jacobian is the stacked gradients, vmap is a loop) so Pyodide runs them too.
"""
import sys

import pytest

import torch_js
import torch_js.func as jf
from optional_torch import HAVE_TORCH, torch
from oracle import assert_same
from torch_js import _torch_alias


def _same(js, pt, tol):
    if isinstance(pt, dict):
        assert isinstance(js, dict) and list(js) == list(pt), (js, pt)
        for k in pt:
            _same(js[k], pt[k], tol)
    elif isinstance(pt, (tuple, list)):
        assert type(js).__name__ == type(pt).__name__ and len(js) == len(pt), (js, pt)
        for a, b in zip(js, pt):
            _same(a, b, tol)
    elif hasattr(pt, "requires_grad"):
        assert js.requires_grad == pt.requires_grad, f"requires_grad {js.requires_grad} vs torch {pt.requires_grad}"
        assert_same(js, pt, rtol=tol, atol=tol)
    else:
        assert js == pt, (js, pt)


def both(fn, tol=1e-9):
    """fn(module) for torch_js, compared with fn(torch) where torch is importable."""
    js = fn(torch_js)
    if HAVE_TORCH:
        _same(js, fn(torch), tol)
    return js


def error_of(fn, m):
    with pytest.raises(Exception) as info:
        fn(m)
    return type(info.value).__name__, str(info.value).replace("torch_js", "torch")


def same_error(fn):
    js = error_of(fn, torch_js)
    if HAVE_TORCH:
        assert js == error_of(fn, torch)
    return js


def x3(m, requires_grad=False):
    return m.tensor([0.5, -1.25, 2.0], dtype=m.float64, requires_grad=requires_grad)


def w23(m):
    return m.tensor([[1.0, 2.0, -0.5], [0.25, -1.0, 3.0]], dtype=m.float64)


# ---- grad / grad_and_value ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argnums", [0, 1, -1, (0, 1), (1, 0)])
def test_grad_argnums(argnums):
    both(lambda m: m.func.grad(lambda x, w: (w @ x.sin()).pow(2).sum(), argnums=argnums)(x3(m), w23(m)))


def test_grad_and_value_with_aux_and_pytree_argument():
    def f(params, x):
        y = (params["w"] @ x + params["b"]).tanh()
        return y.sum(), {"y": y, "pair": (y * 2, y.mean())}

    def run(m):
        params = {"w": w23(m), "b": m.tensor([0.1, -0.2], dtype=m.float64)}
        return m.func.grad_and_value(f, has_aux=True)(params, x3(m))
    both(run)
    both(lambda m: m.func.grad(f, has_aux=True)({"w": w23(m), "b": m.zeros(2, dtype=m.float64)}, x3(m)))


def test_grad_results_carry_history_only_from_outside():
    # an untracked input: the gradient is a plain tensor; a tracked input or closed-over parameter: it has history
    both(lambda m: m.func.grad(lambda x: (x ** 3).sum())(x3(m)))

    def tracked(m):
        x = x3(m, requires_grad=True)
        g = m.func.grad(lambda x: (x.sin() * x).sum())(x)
        return g, m.autograd.grad(g.sum(), x)[0]
    both(tracked)

    def closure(m):
        w = m.tensor([1.5, -0.5, 2.0], dtype=m.float64, requires_grad=True)
        g, value = m.func.grad_and_value(lambda x: (x * w).exp().sum())(x3(m))
        return g, value, m.autograd.grad(g.sum() + value, w)[0]
    both(closure)

    def under_no_grad(m):
        x = x3(m, requires_grad=True)
        with m.no_grad():
            return m.func.grad_and_value(lambda x: (x.sin() * x).sum())(x)
    both(under_no_grad)


def test_nested_grad():
    both(lambda m: m.func.grad(m.func.grad(m.func.grad(lambda x: x.sin() * x)))(m.tensor(0.7, dtype=m.float64)))

    def no_perturbation_confusion(m):
        # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x: the inner derivative must not see the outer x as its variable
        return m.func.grad(lambda x: x * m.func.grad(lambda y: x * y)(x))(m.tensor(1.5, dtype=m.float64))
    out = both(no_perturbation_confusion)
    assert out.item() == 3.0


def test_grad_errors():
    same_error(lambda m: m.func.grad(lambda x: x.sin())(x3(m)))
    same_error(lambda m: m.func.grad(lambda x: 3.0)(x3(m)))
    same_error(lambda m: m.func.grad(lambda x: x.sum(), has_aux=True)(x3(m)))
    same_error(lambda m: m.func.grad(lambda x: (x.sum(), 3), has_aux=True)(x3(m)))
    same_error(lambda m: m.func.grad(lambda x, y: x.sum(), argnums=2)(x3(m), x3(m)))
    same_error(lambda m: m.func.grad(lambda x, y: x.sum(), argnums=(0, 0))(x3(m), x3(m)))
    same_error(lambda m: m.func.grad(lambda x, y: x.sum(), argnums=())(x3(m), x3(m)))
    same_error(lambda m: m.func.grad(lambda x, y: x.sum(), argnums=[0])(x3(m), x3(m)))
    same_error(lambda m: m.func.grad(lambda x, n: x.sum() * n, argnums=1)(x3(m), 2.0))


# ---- vjp / jvp ------------------------------------------------------------------------------------------------------
def test_vjp():
    def run(m):
        out, vjp_fn = m.func.vjp(lambda x, w: ((w @ x).exp(), x.cos()), x3(m), w23(m))
        cot = (m.tensor([1.0, -2.0], dtype=m.float64), m.tensor([0.5, 0.25, 1.0], dtype=m.float64))
        return out, vjp_fn(cot), vjp_fn(cot)   # the function can be called again
    both(run)

    def with_aux(m):
        out, vjp_fn, aux = m.func.vjp(lambda x: (x.sin(), x.exp()), x3(m), has_aux=True)
        return out, vjp_fn(m.ones(3, dtype=m.float64)), aux
    both(with_aux)
    same_error(lambda m: m.func.vjp(lambda x: (x, x.sin()), x3(m))[1](m.ones(3, dtype=m.float64)))
    same_error(lambda m: m.func.vjp(lambda x: x.long(), x3(m)))
    same_error(lambda m: m.func.vjp(lambda x: x, 3.0))


def test_vjp_of_tracked_input_is_differentiable():
    def run(m):
        x = x3(m, requires_grad=True)
        _, vjp_fn = m.func.vjp(lambda x: x.sin() * x, x)
        (g,) = vjp_fn(m.ones(3, dtype=m.float64))
        return g, m.autograd.grad(g.sum(), x)[0]
    both(run)


def test_jvp():
    def run(m):
        f = lambda x, w: ((w @ x.sin()).exp(), x * x)   # noqa: E731
        tangents = (m.tensor([1.0, 0.5, -1.0], dtype=m.float64), m.ones(2, 3, dtype=m.float64))
        return m.func.jvp(f, (x3(m), w23(m)), tangents)
    both(run)
    both(lambda m: m.func.jvp(lambda x: (x.exp(), {"a": x}), (x3(m),), (m.ones(3, dtype=m.float64),), has_aux=True))
    # an output that does not depend on the inputs has a zero tangent (strict=True refuses it)
    both(lambda m: m.func.jvp(lambda x: (x.sin(), m.ones(2, dtype=m.float64)), (x3(m),), (m.ones(3, dtype=m.float64),)))
    same_error(lambda m: m.func.jvp(lambda x: m.ones(2, dtype=m.float64), (x3(m),), (m.ones(3, dtype=m.float64),),
                                    strict=True))
    same_error(lambda m: m.func.jvp(m.sin, x3(m), x3(m)))
    same_error(lambda m: m.func.jvp(m.sin, (x3(m),), [x3(m)]))
    same_error(lambda m: m.func.jvp(m.sin, (x3(m),), (m.ones(2, dtype=m.float64),)))
    same_error(lambda m: m.func.jvp(lambda x: 3, (x3(m),), (x3(m),)))


# ---- jacrev / jacfwd / hessian --------------------------------------------------------------------------------------
@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians(transform):
    def f(x, w):
        y = w @ x.sin()
        return y.exp(), (x * y.sum()).reshape(3, 1)

    both(lambda m: getattr(m.func, transform)(f)(x3(m), w23(m)))
    both(lambda m: getattr(m.func, transform)(f, argnums=(1, 0))(x3(m), w23(m)))
    both(lambda m: getattr(m.func, transform)(lambda p: (p["a"] * p["b"]).sum(0))(
        {"a": w23(m), "b": w23(m).cos()}))
    both(lambda m: getattr(m.func, transform)(lambda x: (x.sin(), x.cos()), has_aux=True)(x3(m)))


def test_hessian_and_compositions():
    f = lambda x, w: ((w @ x).tanh() ** 2).sum()   # noqa: E731
    both(lambda m: m.func.hessian(f)(x3(m), w23(m)))
    both(lambda m: m.func.hessian(f, argnums=(0, 1))(x3(m), w23(m)))
    both(lambda m: m.func.jacrev(m.func.jacrev(lambda x: x.sin() * x.sum()))(x3(m)))
    both(lambda m: m.func.vmap(m.func.jacrev(m.sin))(w23(m)))


def test_jacobian_errors():
    same_error(lambda m: m.func.jacrev(lambda x: x.long())(x3(m)))
    same_error(lambda m: m.func.jacrev(m.sin, chunk_size=0))
    same_error(lambda m: m.func.jacfwd(lambda x: x + m.rand(3, dtype=m.float64))(x3(m)))
    same_error(lambda m: m.func.jacfwd(m.sin, randomness="sometimes")(x3(m)))


def test_jacobian_is_the_stacked_gradients():
    f = lambda x: (x.sin() * x.roll(1)).cumsum(0)   # noqa: E731
    x = x3(torch_js)
    jac = jf.jacrev(f)(x)
    rows = [jf.grad(lambda x, i=i: f(x)[i])(x) for i in range(3)]
    assert torch_js.equal(jac, torch_js.stack(rows))
    torch_js.testing.assert_close(jf.jacfwd(f)(x), jac)
    h = jf.hessian(lambda x: (x.sin() * x).sum())(x)
    torch_js.testing.assert_close(h, torch_js.diag(2 * x.cos() - x * x.sin()))


# ---- vmap -----------------------------------------------------------------------------------------------------------
def test_vmap_dims():
    a = lambda m: m.arange(24, dtype=m.float64).reshape(2, 3, 4)   # noqa: E731
    both(lambda m: m.vmap(m.dot)(a(m)[0], a(m)[1]))
    both(lambda m: m.func.vmap(lambda x, y: x * y, in_dims=(1, None))(a(m), m.ones(2, 4, dtype=m.float64)))
    both(lambda m: m.func.vmap(lambda x: (x.sum(0), x.t()), in_dims=-1, out_dims=(0, 2))(a(m)))
    both(lambda m: m.func.vmap(lambda x, scale=1.0: x * scale, out_dims=1)(a(m), scale=3.0))
    both(lambda m: m.func.vmap(lambda d: d["x"] + d["y"][0], in_dims=({"x": 0, "y": (1,)},))(
        {"x": a(m)[0], "y": (a(m)[1].t(),)}))
    both(lambda m: m.func.vmap(m.func.vmap(lambda x: x.sum()), in_dims=1)(a(m)))
    both(lambda m: m.func.vmap(lambda x: (x * 2, 7), out_dims=(0, None))(a(m)))
    both(lambda m: m.func.vmap(lambda x: x.sum(0))(m.ones(0, 3)))


def test_vmap_structured_outputs_and_pytree():
    both(lambda m: m.func.vmap(lambda x: x.max(0))(m.arange(12.0).reshape(2, 3, 2)))

    def spec(m):
        tree = (m.Size([2, 3]), [1, {"b": None, "a": (2.0,)}], m.tensor([1.0, 2.0]).max(0))
        leaves, spec = m.utils._pytree.tree_flatten(tree)
        rebuilt = m.utils._pytree.tree_unflatten(leaves, spec)
        return (repr(spec), m.utils._pytree.treespec_pprint(m.utils._pytree.tree_structure(tree[1:])), len(leaves),
                type(rebuilt[2]).__name__, rebuilt[1] == tree[1])
    both(spec)


def test_vmap_errors():
    a = lambda m: m.arange(6.0).reshape(2, 3)   # noqa: E731
    same_error(lambda m: m.func.vmap(lambda x, y: x + y)(a(m), m.ones(3, 3)))
    same_error(lambda m: m.func.vmap(lambda x: x, in_dims=2)(a(m)))
    same_error(lambda m: m.func.vmap(lambda x: x, in_dims=(0, 1))(a(m)))
    same_error(lambda m: m.func.vmap(lambda x: x, in_dims=[0])(a(m)))
    same_error(lambda m: m.func.vmap(lambda x, n: x * n)(a(m), 2.0))
    same_error(lambda m: m.func.vmap(lambda x: x, in_dims=None)(a(m)))
    same_error(lambda m: m.func.vmap(lambda: 1)())
    same_error(lambda m: m.func.vmap(lambda x: 3)(a(m)))
    same_error(lambda m: m.func.vmap(lambda x: x, out_dims=None)(a(m)))
    same_error(lambda m: m.func.vmap(lambda x: (x, x), out_dims=(0, 0, 0))(a(m)))
    same_error(lambda m: m.func.vmap(lambda x: x, out_dims="0")(a(m)))
    same_error(lambda m: m.func.vmap(lambda x: x, chunk_size=0))
    same_error(lambda m: m.func.vmap(lambda x: x, randomness="sometimes"))


def test_vmap_randomness():
    def run(m, randomness):
        m.manual_seed(3)
        out = m.func.vmap(lambda x: x + m.rand(3), randomness=randomness)(m.zeros(4, 3))
        return out, m.rand(2)   # where the generator was left
    same_error(lambda m: run(m, "error"))
    both(lambda m: run(m, "same"))
    # each element draws in turn: PyTorch's numbers where its batched draw goes element by element (rand)
    js, after = both(lambda m: run(m, "different"))
    assert all(not torch_js.equal(js[0], js[i]) for i in range(1, 4))


def test_vmap_is_a_loop_with_gradients():
    x = torch_js.arange(12.0).reshape(3, 4).requires_grad_()
    w = torch_js.linspace(-1, 1, 4, requires_grad=True)
    f = lambda row: (row * w).sin().sum()   # noqa: E731
    out = jf.vmap(f)(x)
    assert torch_js.equal(out, torch_js.stack([f(r) for r in x]))
    gx, gw = torch_js.autograd.grad(out.sum(), (x, w))
    torch_js.testing.assert_close(gx, (x * w).cos() * w)
    torch_js.testing.assert_close(gw, ((x * w).cos() * x).sum(0))


def test_per_sample_gradients_and_ensembles():
    """PyTorch's tutorial recipes: per-sample gradients (vmap of grad of functional_call) and model ensembling."""
    def per_sample(m):
        m.manual_seed(0)
        model = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2))
        params = {k: v.detach() for k, v in model.named_parameters()}
        x, y = m.randn(5, 3), m.randn(5, 2)

        def loss(p, xb, yb):
            out = m.func.functional_call(model, p, (xb.unsqueeze(0),))
            return m.nn.functional.mse_loss(out, yb.unsqueeze(0))
        return m.func.vmap(m.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    both(per_sample, tol=1e-5)

    def ensemble(m):
        m.manual_seed(1)
        models = [m.nn.Linear(3, 2) for _ in range(4)]
        params, buffers = m.func.stack_module_state(models)
        base = models[0]
        out = m.func.vmap(lambda p, b, x: m.func.functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))(
            params, buffers, m.ones(5, 3))
        return out, params["weight"].is_leaf, params["weight"].requires_grad
    both(ensemble, tol=1e-6)


# ---- functional_call / stack_module_state ---------------------------------------------------------------------------
def _tied(m):
    class Tied(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = m.nn.Linear(2, 2, bias=False)
            self.out = m.nn.Linear(2, 2, bias=False)
            self.out.weight = self.lin.weight
            self.register_buffer("count", m.zeros(()))

        def forward(self, x):
            self.count = self.count + 1
            return self.out(self.lin(x))
    m.manual_seed(0)
    return Tied()


def test_functional_call():
    def run(m, tie_weights):
        mod = _tied(m)
        given = {"lin.weight": m.eye(2) * 2, "count": m.tensor(5.0)}
        out = m.func.functional_call(mod, given, m.ones(1, 2), tie_weights=tie_weights)
        # the module is restored; the buffer it reassigned is written back into the caller's dict
        return out, given["count"], mod.count, mod.lin.weight is mod.out.weight
    both(lambda m: run(m, True), tol=1e-6)
    both(lambda m: run(m, False), tol=1e-6)
    both(lambda m: m.func.functional_call(_tied(m), ({"lin.weight": m.eye(2)}, {"out.weight": m.eye(2)}),
                                          m.ones(1, 2), tie_weights=False), tol=1e-6)

    def same_value_for_tied_names(m):
        e = m.eye(2) * 3
        return m.func.functional_call(_tied(m), ({"lin.weight": e}, {"out.weight": e}), m.ones(1, 2))
    both(same_value_for_tied_names, tol=1e-6)
    both(lambda m: m.func.functional_call(m.nn.Linear(2, 1), {"weight": m.ones(1, 2), "bias": m.zeros(1)},
                                          args=m.ones(3, 2)))


def test_functional_call_errors():
    same_error(lambda m: m.func.functional_call(_tied(m), ({"lin.weight": m.eye(2)}, {"out.weight": m.eye(2)}),
                                                m.ones(1, 2)))
    same_error(lambda m: m.func.functional_call(_tied(m), {"lin.weight": m.eye(2), "out.weight": m.ones(2, 2)},
                                                m.ones(1, 2)))
    same_error(lambda m: m.func.functional_call(_tied(m), {"lin.weight": m.eye(2), "nope": m.eye(2)}, m.ones(1, 2),
                                                strict=True))
    same_error(lambda m: m.func.functional_call(_tied(m), ({"count": m.ones(())}, {"count": m.ones(())}),
                                                m.ones(1, 2)))
    same_error(lambda m: m.func.functional_call(_tied(m), 3, m.ones(1, 2)))
    same_error(lambda m: m.func.functional_call(_tied(m), [{"count": m.ones(())}, 3], m.ones(1, 2)))

    def restored_after_error(m):
        mod = _tied(m)
        w = mod.lin.weight
        with pytest.raises(RuntimeError):
            m.func.functional_call(mod, {"lin.weight": m.eye(3)}, m.ones(1, 2))
        return mod.lin.weight is w
    assert both(restored_after_error)


def test_stack_module_state_errors():
    same_error(lambda m: m.func.stack_module_state([]))
    same_error(lambda m: m.func.stack_module_state([m.nn.Linear(2, 2), m.nn.Linear(2, 2).eval()]))
    same_error(lambda m: m.func.stack_module_state([m.nn.Linear(2, 2), m.nn.Tanh()]))

    def mixed(m):
        a, b = m.nn.Linear(2, 2), m.nn.Linear(2, 2)
        b.bias.requires_grad_(False)
        return m.func.stack_module_state([a, b])
    same_error(mixed)


def test_import_torch_names_resolve():
    # torch_js's modules under torch's names (PyTorch's own, where the oracle loaded it, set aside meanwhile)
    saved = {n: mod for n, mod in sys.modules.items() if n == "torch" or n.startswith("torch.")}
    for n in saved:
        del sys.modules[n]
    try:
        torch_js.install_as_torch()
        import torch as alias
        import torch.autograd.functional as af
        import torch.func as func
        import torch.testing as testing
        import torch.utils.checkpoint as ckpt
        from torch.autograd import Variable
        assert alias is torch_js and func is jf and alias.vmap is jf.vmap and af is torch_js.autograd.functional
        assert testing is torch_js.testing and ckpt is torch_js.utils.checkpoint
        assert isinstance(alias.ones(1), Variable)
    finally:
        _torch_alias.uninstall()
        for n in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[n]
        sys.modules.update(saved)


def test_functionalize_is_func():
    f = lambda x: x.add_(1) * 2   # noqa: E731
    x = torch_js.ones(2)
    assert torch_js.equal(jf.functionalize(f)(x), torch_js.full((2,), 4.0))
    assert torch_js.equal(x, torch_js.full((2,), 2.0))
    with pytest.raises(RuntimeError, match="received invalid argument for remove=both"):
        jf.functionalize(f, remove="both")
