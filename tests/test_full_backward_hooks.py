"""Module.register_full_backward_hook / register_full_backward_pre_hook (and the global and old-style variants):
what the hooks see and what their return values change, against PyTorch."""
import warnings

import pytest

import torch_js
from optional_torch import needs_torch, torch


def _lists(grads):
    return [None if g is None else g.tolist() for g in grads]


def _recorder(log, name, scale_inputs=None, scale_outputs=None):
    """A (hook, pre_hook) pair that log what they see under `name` and optionally scale what they return."""
    def hook(module, grad_input, grad_output):
        log.append((name, "hook", _lists(grad_input), _lists(grad_output)))
        if scale_inputs is not None:
            return tuple(None if g is None else g * scale_inputs for g in grad_input)
        return None

    def pre_hook(module, grad_output):
        log.append((name, "pre", _lists(grad_output)))
        if scale_outputs is not None:
            return tuple(None if g is None else g * scale_outputs for g in grad_output)
        return None
    return hook, pre_hook


def _two_input_module(T):
    class Gate(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = T.nn.Parameter(T.tensor([0.5, -2.0]))

        def forward(self, a, b):
            return a * b * self.w + a
    return Gate()


def _tuple_module(T):
    class Split(T.nn.Module):
        def forward(self, a, k):
            return a * k, a.sum(), k  # the third output ignores `a`: an int, not a tensor
    return Split()


def _run_linear(T):
    T.manual_seed(0)
    lin = T.nn.Linear(3, 2)
    log = []
    hook, pre = _recorder(log, "lin", scale_inputs=2.0, scale_outputs=-1.0)
    lin.register_full_backward_hook(hook)
    lin.register_full_backward_pre_hook(pre)
    x = T.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], requires_grad=True)
    (lin(x) * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return log, x.grad.tolist(), lin.weight.grad.tolist()


def _run_sequential(T):
    T.manual_seed(0)
    seq = T.nn.Sequential(T.nn.Linear(2, 3), T.nn.Tanh(), T.nn.Linear(3, 1))
    log = []
    for name, module in [("seq", seq), ("0", seq[0]), ("1", seq[1]), ("2", seq[2])]:
        hook, pre = _recorder(log, name, scale_inputs=0.5 if name == "1" else None)
        module.register_full_backward_hook(hook)
        module.register_full_backward_pre_hook(pre)
    x = T.tensor([[0.3, -0.7], [1.0, 2.0]], requires_grad=True)
    seq(x).pow(2).sum().backward()
    return log, x.grad.tolist(), seq[0].weight.grad.tolist()


def _run_two_inputs(T):
    gate = _two_input_module(T)
    log = []
    hook, pre = _recorder(log, "gate", scale_outputs=3.0)
    gate.register_full_backward_hook(hook)
    gate.register_full_backward_pre_hook(pre)
    a = T.tensor([1.0, -2.0], requires_grad=True)
    b = T.tensor([4.0, 0.5])  # does not require grad
    gate(a, b).sum().backward()
    return log, a.grad.tolist(), gate.w.grad.tolist()


def _run_tuple_output(T):
    split = _tuple_module(T)
    log = []
    hook, pre = _recorder(log, "split", scale_inputs=10.0)
    split.register_full_backward_hook(hook)
    split.register_full_backward_pre_hook(pre)
    a = T.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    scaled, total, k = split(a, 3)
    (scaled * T.tensor([[1.0, 0.0], [2.0, 1.0]])).sum().backward()  # `total` gets no gradient: None in grad_output
    return log, a.grad.tolist(), k


@needs_torch
@pytest.mark.parametrize("run", [_run_linear, _run_sequential, _run_two_inputs, _run_tuple_output])
def test_hooks_see_and_change_grads_like_torch(run):
    got, want = run(torch_js), run(torch)
    assert got[0] and len(got[0]) == len(want[0])  # the hooks fired, as often as torch's
    for g, w in zip(got[0], want[0]):
        assert g[:2] == w[:2]
        assert _approx_nested(g[2:], w[2:]), (g, w)
    for g, w in zip(got[1:], want[1:]):
        assert _approx_nested(g, w), (g, w)


def _approx_nested(a, b):
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_approx_nested(x, y) for x, y in zip(a, b))
    if a is None or b is None:
        return a is b
    return a == pytest.approx(b, rel=1e-5, abs=1e-6)


def _run_order_and_removal(T):
    """prepend=True, handle.remove() and the global hooks: the order in which hooks fire."""
    lin = T.nn.Linear(2, 2)
    order = []
    lin.register_full_backward_hook(lambda m, gi, go: order.append("first"))
    lin.register_full_backward_hook(lambda m, gi, go: order.append("prepended"), prepend=True)
    removed = lin.register_full_backward_hook(lambda m, gi, go: order.append("removed"))
    lin.register_full_backward_pre_hook(lambda m, go: order.append("pre"))
    lin.register_full_backward_pre_hook(lambda m, go: order.append("pre-prepended"), prepend=True)
    removed_pre = lin.register_full_backward_pre_hook(lambda m, go: order.append("pre-removed"))
    removed.remove()
    removed_pre.remove()
    mod = T.nn.modules.module
    global_handles = [mod.register_module_full_backward_hook(lambda m, gi, go: order.append("global")),
                      mod.register_module_full_backward_pre_hook(lambda m, go: order.append("global-pre"))]
    try:
        lin(T.ones(1, 2, requires_grad=True)).sum().backward()
    finally:
        for h in global_handles:
            h.remove()
    lin(T.ones(1, 2, requires_grad=True)).sum().backward()
    return order


@needs_torch
def test_hook_order_prepend_remove_and_global_like_torch():
    assert _run_order_and_removal(torch_js) == _run_order_and_removal(torch)


def _run_no_input_grad(T):
    lin = T.nn.Linear(2, 1)
    log = []
    lin.register_full_backward_hook(lambda m, gi, go: log.append((_lists(gi), _lists(go))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lin(T.tensor([[1.0, 2.0]])).sum().backward()
    return log, [str(w.message)[:40] for w in caught], lin.bias.grad.tolist()


@needs_torch
def test_no_input_requires_grad_fires_with_none_grad_input_like_torch():
    assert _run_no_input_grad(torch_js) == _run_no_input_grad(torch)


def test_hook_replaces_grad_input_without_torch():
    lin = torch_js.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    x = torch_js.ones(4, 3, requires_grad=True)
    lin(x).sum().backward()
    col_sums = lin.weight.detach().sum(0)
    assert _approx_nested(x.grad.tolist(), [(col_sums * 2).tolist()] * 4)
    assert _approx_nested(lin.weight.grad.tolist(), [[4.0] * 3] * 2)  # the parameters' grads are left alone


def test_pre_hook_replaces_grad_output_without_torch():
    lin = torch_js.nn.Linear(2, 2)
    seen = []
    lin.register_full_backward_pre_hook(lambda m, go: (torch_js.zeros_like(go[0]),))
    lin.register_full_backward_hook(lambda m, gi, go: seen.append(go[0].tolist()))
    x = torch_js.ones(1, 2, requires_grad=True)
    lin(x).sum().backward()
    assert seen == [[[0.0, 0.0]]]
    assert x.grad.tolist() == [[0.0, 0.0]] and lin.bias.grad.tolist() == [0.0, 0.0]


def test_wrong_number_of_grads_raises_without_torch():
    lin = torch_js.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        lin(torch_js.ones(1, 2, requires_grad=True)).sum().backward()
    lin = torch_js.nn.Linear(2, 2)
    lin.register_full_backward_pre_hook(lambda m, go: ())
    with pytest.raises(RuntimeError, match="invalid number of grad_output"):
        lin(torch_js.ones(1, 2, requires_grad=True)).sum().backward()


def test_old_and_full_backward_hooks_do_not_mix_without_torch():
    lin = torch_js.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        lin.register_backward_hook(lambda m, gi, go: None)
    old = torch_js.nn.Tanh()
    calls = []
    old.register_backward_hook(lambda m, gi, go: calls.append((m, len(gi), len(go))))
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        old.register_full_backward_hook(lambda m, gi, go: None)
    old(torch_js.ones(3, requires_grad=True)).sum().backward()
    assert calls == [(old, 1, 1)]  # tanh's one node: one input, one output


def test_hooked_module_output_names_and_warning_location():
    """A hooked module's output shows PyTorch's node name (grad_fn=<BackwardHookFunctionBackward>), and the warning
    for hooks firing with no input requiring grad names the line that called backward()."""
    lin = torch_js.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    out = lin(torch_js.ones(1, 3))
    assert type(out.grad_fn).__name__ == "BackwardHookFunctionBackward"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out.sum().backward()
    assert [(w.filename, str(w.message)[:40]) for w in caught] == [(__file__, "Full backward hook is firing when gradie")]
