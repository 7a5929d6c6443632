"""A leaf's first gradient: taken as it is when nobody else can see it, copied otherwise (PyTorch's AccumulateGrad).

PyTorch makes a leaf's .grad the very tensor the backward pass produced when the engine holds its only reference, the
tensor is dense and laid out as the leaf is; otherwise .grad is a copy laid out as the leaf (clone_obey_contract).
torch_js reads Python's reference counts for "only reference", which Python 3.14 (Pyodide) counts differently from
3.11: these tests run in both. Expected values are inline; PyTorch's own answers are compared where importable.
"""
import warnings

import pytest

import torch_js

try:
    import torch
except ImportError:  # Pyodide
    torch = None


def both(fn, expected):
    assert fn(torch_js) == expected
    if torch is not None:
        assert fn(torch) == expected


def _scaled(T, keep=None):
    """A custom Function whose backward returns a fresh tensor (3 * grad), its address noted in `keep`."""
    class Scale(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            out = (g * 3).contiguous()
            keep["ptr"] = out.data_ptr()
            if "hold" in keep:
                keep["hold"].append(out)
            return out
    return Scale


def test_a_fresh_gradient_becomes_grad_without_a_copy():
    def fn(T):
        keep = {}
        x = T.ones(3, 4, requires_grad=True)
        _scaled(T, keep).apply(x).sum().backward()
        return x.grad.data_ptr() == keep["ptr"], x.grad.sum().item()
    both(fn, (True, 36.0))


def test_a_gradient_someone_else_holds_is_copied():
    def fn(T):
        keep = {"hold": []}
        x = T.ones(3, 4, requires_grad=True)
        _scaled(T, keep).apply(x).sum().backward()
        held = keep["hold"][0]
        held.add_(1)   # the Function's own reference: changing it must not change x.grad
        return x.grad.data_ptr() == keep["ptr"], x.grad.sum().item()
    both(fn, (False, 36.0))


def test_a_users_gradient_is_never_aliased():
    def fn(T):
        y = T.ones(3, requires_grad=True)
        gu = T.full((3,), 2.0)
        y.backward(gu)
        gu.add_(5)
        return y.grad.data_ptr() == gu.data_ptr(), y.grad.tolist()
    both(fn, (False, [2.0, 2.0, 2.0]))


def test_one_gradient_passed_to_two_leaves_is_copied_for_each():
    def fn(T):
        a = T.ones(3, requires_grad=True)
        b = T.ones(3, requires_grad=True)
        (a + b).backward(T.ones(3) * 5)   # AddBackward hands the same tensor to both leaves
        a.grad.add_(1)
        return a.grad.data_ptr() == b.grad.data_ptr(), b.grad.tolist()
    both(fn, (False, [5.0, 5.0, 5.0]))


def test_a_hook_that_keeps_the_gradient_gets_its_own():
    def fn(T):
        kept = []
        c = T.ones(2, 2, requires_grad=True)
        c.register_hook(lambda g: kept.append(g))
        (c * 4).sum().backward()
        kept[0].zero_()
        return c.grad.data_ptr() == kept[0].data_ptr(), c.grad.sum().item()
    both(fn, (False, 16.0))


def test_a_view_of_a_gradient_is_copied():
    def fn(T):
        class Window(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                big = T.ones(8) * 7
                ctx.big = big
                return big[2:5]
        x = T.zeros(3, requires_grad=True)
        Window.apply(x).sum().backward()
        return x.grad.tolist()
    assert fn(torch_js) == [7.0, 7.0, 7.0]


@pytest.mark.parametrize("stolen", [True, False])
def test_the_grad_of_a_transposed_leaf_keeps_its_layout(stolen):
    def fn(T):
        keep = {} if stolen else {"hold": []}
        w = T.ones(4, 3).t().requires_grad_()        # (3, 4) with strides (1, 3)
        _scaled(T, keep).apply(w).sum().backward()   # a contiguous (4, 1) gradient: copied into w's layout
        return tuple(w.grad.stride()), w.grad.data_ptr() == keep["ptr"]
    both(fn, ((1, 3), False))


def test_a_second_backward_adds_into_the_taken_gradient():
    def fn(T):
        keep = {}
        x = T.ones(2, 3, requires_grad=True)
        _scaled(T, keep).apply(x).sum().backward()
        first = x.grad.data_ptr() == keep["ptr"]
        _scaled(T, keep).apply(x).sum().backward()
        return first, x.grad.data_ptr() == keep["ptr"], x.grad.sum().item()
    both(fn, (True, False, 36.0))


def test_linear_layer_training_values():
    def fn(T):
        T.manual_seed(0)
        lin = T.nn.Linear(5, 4)
        x = T.arange(10.0).reshape(2, 5)
        for _ in range(2):
            lin(x).pow(2).sum().backward()
        return [round(v, 3) for v in lin.weight.grad.sum(1).tolist()] + [round(lin.bias.grad.sum().item(), 3)]
    js = fn(torch_js)
    if torch is not None:
        assert js == fn(torch)


def _reshaped(T, keep):
    """A Function whose backward returns a view (a reshape) of a fresh tensor; keep["base"] = [] holds its base."""
    class Reshaped(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            flat = (g * 3).reshape(-1).contiguous()
            keep["ptr"] = flat.data_ptr()
            if "base" in keep:
                keep["base"].append(flat)
            return flat.view(g.shape)
    return Reshaped


def test_a_whole_view_nobody_else_holds_is_taken():
    def fn(T):
        keep = {}
        x = T.ones(3, 4, requires_grad=True)
        _reshaped(T, keep).apply(x).sum().backward()
        return x.grad.data_ptr() == keep["ptr"], x.grad.sum().item()
    both(fn, (True, 36.0))


def test_a_view_whose_base_is_held_is_copied():
    keep = {"base": []}
    x = torch_js.ones(3, 4, requires_grad=True)
    _reshaped(torch_js, keep).apply(x).sum().backward()
    keep["base"][0].zero_()
    assert x.grad.data_ptr() != keep["ptr"] and x.grad.sum().item() == 36.0


def test_inference_tensors_stay_out_of_autograd():
    """An inference tensor used outside inference mode: PyTorch refuses requires_grad=True on it and refuses to save
    it for backward (x * w saves it; x + w does not)."""
    with torch_js.inference_mode():
        t = torch_js.ones(2)
        t.requires_grad_()   # allowed inside
    with torch_js.inference_mode():
        u = torch_js.ones(2)
    with pytest.raises(RuntimeError, match="^Setting requires_grad=True on inference tensor outside InferenceMode is "
                                           "not allowed.$"):
        u.requires_grad_()
    w = torch_js.ones(2, requires_grad=True)
    assert (u + w).requires_grad
    with pytest.raises(RuntimeError, match="^Inference tensors cannot be saved for backward. Please do not use "
                                           "Tensors created in inference mode"):
        u * w


def test_assigned_grad_and_unused_input_messages():
    x = torch_js.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        x.grad = torch_js.ones(3)
    assert str(info.value) == ("attempting to assign a gradient of size '[3]' to a tensor of size '[2, 2]'. Please "
                               "ensure that the gradient and the tensor are the same size")
    with pytest.raises(RuntimeError, match="^attempting to assign a gradient with dtype 'double' to a tensor with "
                                           "grad_dtype 'Float'. The gradient must match"):
        x.grad = torch_js.ones(2, 2, dtype=torch_js.float64)
    x.grad = torch_js.ones(2, 2)
    del x.grad
    assert x.grad is None
    with pytest.raises(RuntimeError, match="^The differentiated Tensor at index 1 appears to not have been used in "
                                           "the graph. Set allow_unused=True"):
        torch_js.autograd.grad(x.sum(), [x, torch_js.ones(2, requires_grad=True)])


def test_reading_a_non_leaf_grad_warns():
    """y = x * 2; y.grad is None, with PyTorch's warning (at the reading line); none after retain_grad()."""
    x = torch_js.ones(2, requires_grad=True)
    y, z = x * 2, x * 3
    z.retain_grad()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None and z.grad is None and x.grad is None
    assert [(w.filename, str(w.message)[:60]) for w in caught] == [
        (__file__, "The .grad attribute of a Tensor that is not a leaf Tensor is")]
