"""Bugs found running the official PyTorch tutorials (pytorch/tutorials) unchanged under torch_js, each checked
against live torch: what the tutorial printed or computed differently."""
import warnings

import pytest

import torch_js as tj
import torch_js.nn.functional as JF
from optional_torch import needs_torch, torch


def _node_chain(t, depth):
    """The node names along next_functions[0] from t.grad_fn (the walk the 60-minute blitz prints)."""
    names, fn = [], t.grad_fn
    for _ in range(depth):
        if fn is None:
            break
        names.append(type(fn).__name__)
        fn = fn.next_functions[0][0] if fn.next_functions else None
    return names


# ---- mse_loss: one MseLossBackward0 node (blitz/neural_networks_tutorial walks loss.grad_fn.next_functions) --

@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target_kind", ["float_grad", "float", "int"])
def test_mse_loss_is_one_node_with_pytorchs_gradients(reduction, target_kind):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    w = torch.randn(5, 4, generator=g, dtype=torch.float64)
    target = torch.randn(3, 5, generator=g, dtype=torch.float64) * 2
    if target_kind == "int":
        target = target.round().long()
    outs, grads = [], []
    for lib in (torch, tj):
        tw = lib.tensor(w.tolist(), dtype=lib.float64, requires_grad=True)
        tx = lib.tensor(x.tolist(), dtype=lib.float64, requires_grad=True)
        tt = lib.tensor(target.tolist(), dtype=lib.int64 if target_kind == "int" else lib.float64,
                        requires_grad=target_kind == "float_grad")
        loss = lib.nn.functional.mse_loss(tx @ tw.t(), tt, reduction=reduction)
        outs.append((loss, _node_chain(loss, 3)))
        inputs = [tw, tx] + ([tt] if tt.requires_grad else [])
        first = lib.autograd.grad(loss.sum(), inputs, create_graph=True)
        second = lib.autograd.grad(sum(gr.pow(2).sum() for gr in first), inputs)
        grads.append([gr.flatten().tolist() for gr in first + second])
    (t_loss, t_chain), (j_loss, j_chain) = outs
    assert j_chain == t_chain       # MseLossBackward0 -> MmBackward0 -> ... as PyTorch, no composite's internals
    assert j_chain[0] == "MseLossBackward0"
    assert j_loss.flatten().tolist() == pytest.approx(t_loss.flatten().tolist(), rel=1e-12, abs=1e-12)
    for jg, tg in zip(grads[1], grads[0]):
        assert jg == pytest.approx(tg, rel=1e-10, abs=1e-12)


@needs_torch
def test_mse_loss_float32_gradient_bits_and_broadcast():
    # ATen's mse_loss_backward: norm * (input - target) * grad in float, norm = 2 / numel for the mean
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=g)
    y = torch.randn(7, 5, generator=g)
    for reduction in ("mean", "sum"):
        tx = x.clone().requires_grad_()
        jx = tj.tensor(x.tolist(), requires_grad=True)
        torch.nn.functional.mse_loss(tx, y, reduction=reduction).backward()
        JF.mse_loss(jx, tj.tensor(y.tolist()), reduction=reduction).backward()
        assert jx.grad.tolist() == tx.grad.tolist()
    # a target of another shape broadcasts (with PyTorch's warning); the node's inputs are the expanded tensors
    tx = x.clone().requires_grad_()
    jx = tj.tensor(x.tolist(), requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        j_loss = JF.mse_loss(jx, tj.tensor(y[0].tolist()))
        t_loss = torch.nn.functional.mse_loss(tx, y[0])
    assert any("different to the input size" in str(w.message) for w in caught)
    assert j_loss.item() == pytest.approx(t_loss.item(), rel=1e-6)
    j_loss.backward()
    t_loss.backward()
    assert jx.grad.flatten().tolist() == pytest.approx(tx.grad.flatten().tolist(), rel=1e-6)
    # two integer inputs have no kernel, as PyTorch
    with pytest.raises(RuntimeError, match="mse"):
        JF.mse_loss(tj.tensor([1, 2]), tj.tensor([1, 3]))


def test_mse_loss_torch_free():
    x = tj.tensor([1.0, 2.0, 4.0], requires_grad=True)
    t = tj.tensor([0.0, 2.0, 1.0], requires_grad=True)
    loss = JF.mse_loss(x, t)
    assert loss.item() == pytest.approx(10.0 / 3)
    assert type(loss.grad_fn).__name__ == "MseLossBackward0"
    assert loss.grad_fn.next_functions[0][0] is not None and loss.grad_fn.next_functions[0][0].name() == \
        "torch::autograd::AccumulateGrad"
    loss.backward()
    assert x.grad.tolist() == pytest.approx([2 / 3, 0.0, 2.0])
    assert t.grad.tolist() == pytest.approx([-2 / 3, 0.0, -2.0])


# ---- torch.utils.swap_tensors and torch.__future__'s module conversion flags (recipes/swap_tensors.py) -------

def _swap_scenario(lib):
    """What the recipe observes: swapped contents, an optimizer's reference after module conversions, identities,
    and load_state_dict's swap path (module_load's value swapped into the same Parameter object)."""
    out = []
    t1, t2 = lib.arange(2), lib.arange(3)
    t1.requires_grad_(False)
    lib.utils.swap_tensors(t1, t2)
    out.append((t1.tolist(), t2.tolist()))
    a = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    b = lib.tensor([5.0, 6.0, 7.0], dtype=lib.float64)
    lib.utils.swap_tensors(a, b)
    out.append((type(a).__name__, a.tolist(), str(a.dtype), a.requires_grad, type(b).__name__, b.tolist(),
                b.requires_grad))
    for swap, overwrite in [(False, False), (True, False), (False, True)]:
        lib.__future__.set_swap_module_params_on_conversion(swap)
        lib.__future__.set_overwrite_module_params_on_conversion(overwrite)
        try:
            lib.manual_seed(0)
            m = lib.nn.Linear(2, 3)
            m(lib.ones(1, 2)).sum().backward()
            opt = lib.optim.SGD(m.parameters(), lr=0.5)
            w, g = m.weight, m.weight.grad
            m.double()
            opt_w = opt.param_groups[0]["params"][0]
            out.append((swap, overwrite, m.weight is w, m.weight.grad is g, str(m.weight.dtype), str(opt_w.dtype),
                        str(m.weight.grad.dtype), type(m.weight).__name__))
            opt.step()   # the update reaches the module only through a shared object
            out.append([round(v, 6) for v in m.weight.flatten().tolist()])
            sd = {k: v.clone() * 2 for k, v in m.state_dict().items()}
            w = m.weight
            m.load_state_dict(sd)
            out.append((m.weight is w, [round(v, 6) for v in m.weight.flatten().tolist()], m.weight.requires_grad,
                        type(m.weight).__name__))
            m.load_state_dict({k: v.float() for k, v in sd.items()}, assign=True)
            out.append((m.weight is w, str(m.weight.dtype), m.weight.requires_grad, type(m.weight).__name__))
        finally:
            lib.__future__.set_swap_module_params_on_conversion(False)
            lib.__future__.set_overwrite_module_params_on_conversion(False)
    return out


@needs_torch
def test_swap_tensors_and_module_conversion_flags_match_torch():
    assert _swap_scenario(tj) == _swap_scenario(torch)


def test_swap_tensors_errors_and_weakrefs():
    import weakref
    a, b = tj.ones(2), tj.zeros(3)
    keep = weakref.ref(a)
    with pytest.raises(RuntimeError, match="Cannot swap t1 because it has weakref"):
        tj.utils.swap_tensors(a, b)
    del keep
    tj.utils.swap_tensors(a, b)
    assert a.tolist() == [0.0, 0.0, 0.0] and b.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError):
        tj.utils.swap_tensors(a, [1.0])


# ---- deprecated number-first overloads (char_rnn_classification: p.data.add_(-learning_rate, p.grad.data)) ----

_NUMBER_FIRST_CALLS = [
    ("add", lambda a, b: a.add(0.5, b)), ("add_", lambda a, b: a.clone().add_(-0.25, b)),
    ("sub", lambda a, b: a.sub(2, b)), ("sub_", lambda a, b: a.clone().sub_(0.5, b)),
    ("addcmul", lambda a, b: a.addcmul(0.5, b, a)), ("addcmul_", lambda a, b: a.clone().addcmul_(-2, b, b)),
    ("addcdiv", lambda a, b: a.addcdiv(0.5, b, a)), ("addcdiv_", lambda a, b: a.clone().addcdiv_(3, a, b)),
]


@needs_torch
@pytest.mark.parametrize("name,call", _NUMBER_FIRST_CALLS, ids=[n for n, _ in _NUMBER_FIRST_CALLS])
def test_number_first_overloads_match_torch(name, call, monkeypatch):
    from torch_js.ops import deprecated_overloads
    monkeypatch.setattr(deprecated_overloads, "_WARNED", [False])
    results = []
    for lib in (torch, tj):
        a = lib.tensor([1.0, -2.0, 3.5])
        b = lib.tensor([0.5, 4.0, -1.0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = call(a, b)
        results.append((r.tolist(), [str(w.message).split(" (Triggered")[0] for w in caught][:1]))
    (t_vals, t_msgs), (j_vals, j_msgs) = results
    assert j_vals == t_vals
    if t_msgs:   # PyTorch warns once per process for all deprecated overloads: compare when it did here
        assert j_msgs == t_msgs
    assert j_msgs and j_msgs[0].startswith(f"This overload of {name} is deprecated:\n\t{name}(Number ")


def test_number_first_overloads_warn_once_and_refuse_other_shapes(monkeypatch):
    from torch_js.ops import deprecated_overloads
    monkeypatch.setattr(deprecated_overloads, "_WARNED", [False])
    a, b = tj.ones(2), tj.full((2,), 2.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert a.add(3, b).tolist() == [7.0, 7.0]
        assert a.clone().addcmul_(2, b, b).tolist() == [9.0, 9.0]
    assert len(caught) == 1
    with pytest.raises(TypeError, match="add_"):
        a.add_(0.5, b, b)
    with pytest.raises(TypeError, match="add"):
        tj.add(a, 0.5, b, alpha=2)


@needs_torch
@pytest.mark.parametrize("dtype,alpha", [("float32", True), ("bool", True), ("int64", 2.5), ("int64", 1.0),
                                         ("float32", 1j), ("complex64", 1j), ("int64", 2)])
@pytest.mark.parametrize("form", ["add", "add_", "sub_", "torch.sub"])
def test_alpha_checks_match_torch(dtype, alpha, form):
    outcomes = []
    for lib in (torch, tj):
        x = lib.ones(2, dtype=getattr(lib, dtype))
        fn = {"add": lambda: x.add(x, alpha=alpha), "add_": lambda: x.clone().add_(x, alpha=alpha),
              "sub_": lambda: x.clone().sub_(x, alpha=alpha), "torch.sub": lambda: lib.sub(x, x, alpha=alpha)}[form]
        try:
            outcomes.append(("ok", fn().tolist()))
        except (RuntimeError, TypeError) as e:
            outcomes.append((type(e).__name__, str(e).split("\n")[0]))
    assert outcomes[1] == outcomes[0]


# ---- batch norm: ATen's CPU kernel bit for bit (introyt/modelsyt_tutorial prints a BatchNorm1d output) ----------

@pytest.fixture
def torch_one_thread():
    """PyTorch's batch statistics of (N, C) inputs depend on its thread count (per-thread partial sums); torch_js
    computes what its one-thread run does."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@needs_torch
@pytest.mark.parametrize("shape,affine", [((1, 4, 4), True), ((8, 6), True), ((4, 3, 5, 7), True),
                                          ((4, 3, 5, 7), False), ((16, 5, 33), True), ((5, 3), False)])
def test_batch_norm_float32_forward_bits_match_torch(shape, affine, torch_one_thread):
    g = torch.Generator().manual_seed(7)
    x = torch.randn(shape, generator=g) * 3 + 1
    weight = (torch.rand(shape[1], generator=g) + 0.5).tolist()
    bias = torch.randn(shape[1], generator=g).tolist()
    mods = []
    for lib in (torch, tj):
        cls = lib.nn.BatchNorm2d if len(shape) == 4 else lib.nn.BatchNorm1d
        bn = cls(shape[1], affine=affine)
        if affine:
            with lib.no_grad():
                bn.weight.copy_(lib.tensor(weight))
                bn.bias.copy_(lib.tensor(bias))
        xs = lib.tensor(x.tolist(), requires_grad=True)
        outs = [bn(xs), bn(xs.detach() * 0.5)]
        bn.eval()
        outs.append(bn(xs.detach()))
        outs += [bn.running_mean, bn.running_var]
        outs[0].backward(lib.ones(shape))
        mods.append((outs, xs.grad, type(outs[0].grad_fn).__name__))
    (t_outs, t_grad, t_node), (j_outs, j_grad, j_node) = mods
    for t, j in zip(t_outs, j_outs):
        assert j.detach().flatten().tolist() == t.detach().flatten().tolist()   # exact: same float32 bits
    assert j_node == t_node == "NativeBatchNormBackward0"
    assert j_grad.flatten().tolist() == pytest.approx(t_grad.flatten().tolist(), abs=1e-5)


@needs_torch
def test_batch_norm_float64_and_double_backward_match_torch():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 3, 5, generator=g, dtype=torch.float64)
    w = torch.rand(3, generator=g, dtype=torch.float64) + 0.5
    res = []
    for lib in (torch, tj):
        xs = lib.tensor(x.tolist(), dtype=lib.float64, requires_grad=True)
        ws = lib.tensor(w.tolist(), dtype=lib.float64, requires_grad=True)
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        y = lib.nn.functional.batch_norm(xs, rm, rv, ws, None, training=True, momentum=0.3)
        gx, gw = lib.autograd.grad((y * y.detach().sin()).sum(), (xs, ws), create_graph=True)
        gg = lib.autograd.grad(gx.pow(2).sum() + gw.sum(), (xs, ws))
        res.append([t.flatten().tolist() for t in (y, rm, rv, gx, gw, *gg)])
    for j, t in zip(res[1], res[0]):
        assert j == pytest.approx(t, rel=1e-9, abs=1e-10)


# ---- LSTM output nodes: PyTorch's CPU build runs float32 LSTM layers through oneDNN (nlp/sequence_models) ------

@needs_torch
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True},
                                {"proj_size": 2}])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batched", [True, False])
def test_lstm_node_names_match_torch(kw, dtype, batched):
    names = []
    for lib in (torch, tj):
        lib.manual_seed(0)
        m = lib.nn.LSTM(3, 4, dtype=getattr(lib, dtype), **kw)
        x = lib.randn((5, 2, 3) if batched else (5, 3), dtype=getattr(lib, dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, (h, c) = m(x)
        names.append([type(t.grad_fn).__name__ for t in (out, h, c)])
    assert names[1] == names[0]


def test_lstm_node_name_follows_mkldnn_flag():
    m = tj.nn.LSTM(3, 4)
    x = tj.randn(5, 2, 3)
    assert type(m(x)[0].grad_fn).__name__ == "MkldnnRnnLayerBackward0"
    prev = tj.backends.mkldnn.enabled
    tj.backends.mkldnn.enabled = False
    try:
        assert type(m(x)[0].grad_fn).__name__ == "StackBackward0"   # PyTorch's native path
    finally:
        tj.backends.mkldnn.enabled = prev


# ---- arange's floating values: PyTorch's CPU kernel fills SIMD vectors (d2l's relu/sigmoid plots) -----------------

def test_float_arange_values_are_pytorchs_vector_kernels():
    """d2l's x = torch.arange(-8.0, 8.0, 0.1) then relu(x).backward(): PyTorch's x[80] is 4.4e-16 (its AVX2 kernel
    starts each 8-value vector at start + step*j, then adds k*step), so relu's gradient there is 1 and at x[79] 0."""
    x = tj.arange(-8.0, 8.0, 0.1)
    assert x[78:83].tolist() == [-0.20000001788139343, -0.10000000894069672, 4.440892098500626e-16,
                                 0.10000000149011612, 0.20000000298023224]
    assert x[-1].item() == 7.899999618530273
    xg = tj.arange(-8.0, 8.0, 0.1, requires_grad=True)
    tj.relu(xg).backward(tj.ones_like(xg))
    assert xg.grad[78:83].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]
    # float64 (4-value vectors; fewer than 8 values: start + step*i, one fused multiply-add each), half types
    assert tj.arange(-1, 1, 0.3, dtype=tj.float64).tolist() == [-1.0, -0.7, -0.4, -0.10000000000000003,
                                                                0.19999999999999996, 0.49999999999999994,
                                                                0.7999999999999999]
    assert tj.arange(-8.0, 8.0, 0.1, dtype=tj.float16)[78:83].tolist() == [
        -0.1995849609375, -0.099609375, 1.1920928955078125e-07, 0.0999755859375, 0.199951171875]
    assert tj.arange(-8.0, 8.0, 0.1, dtype=tj.bfloat16)[78:83].tolist() == [
        -0.201171875, -0.1015625, 1.1920928955078125e-07, 0.10009765625, 0.2001953125]
    with pytest.raises(NotImplementedError, match="\"arange_cpu\" not implemented for 'Bool'"):
        tj.arange(0, 3, dtype=tj.bool)
