"""SparseAdam, Adafactor and Muon against live torch: parameters after several steps of the same problem, state_dict
layout and values, repr, argument errors, and the gradient layouts each refuses. A torch-free part checks
properties of the updates by hand (it runs in Pyodide too)."""
import math

import pytest

import torch_js as tj
from optional_torch import needs_torch, torch


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in _flat(e)]
    return [x]


def _shapes_params(L, shapes, seed=0, dtype=None):
    g = torch.Generator().manual_seed(seed)
    dtype_t = torch.float64 if dtype == "float64" else torch.float32
    return [L.tensor(torch.randn(s, generator=g, dtype=dtype_t).tolist(), dtype=getattr(L, dtype or "float32"),
                     requires_grad=True) for s in shapes]


def _loss(L, params, step):
    """A smooth objective whose gradient changes with the step (so moments and factored variances evolve)."""
    total = 0
    for i, p in enumerate(params):
        w = L.arange(float(p.numel()), dtype=p.dtype).reshape(p.shape) / (p.numel() + 1) - 0.4 + 0.1 * step
        total = total + ((p - w) ** 2 * (1 + 0.3 * i)).sum() + (p.sin() * w).sum()
    return total


def _run(L, cls, kw, shapes, steps=6, dtype=None):
    params = _shapes_params(L, shapes, dtype=dtype)
    opt = getattr(L.optim, cls)(params, **kw)
    for s in range(steps):
        opt.zero_grad()
        _loss(L, params, s).backward()
        opt.step()
    return params, opt


def _assert_close(got, exp, rel, abs_):
    assert _flat(got) == pytest.approx(_flat(exp), rel=rel, abs=abs_)


def _state_values(opt):
    sd = opt.state_dict()
    out = {}
    for k, st in sd["state"].items():
        out[k] = {n: (v.tolist() if hasattr(v, "tolist") else v) for n, v in st.items()}
    return out, [{n: v for n, v in g.items() if n != "params"} | {"params": g["params"]} for g in sd["param_groups"]]


ADAFACTOR = [{}, {"lr": 0.05}, {"weight_decay": 0.1}, {"maximize": True}, {"d": 2.0, "beta2_decay": -0.5},
             {"eps": (1e-20, 1e-2)}, {"lr": 0.5}]


@needs_torch
@pytest.mark.parametrize("kw", ADAFACTOR, ids=[repr(k) for k in ADAFACTOR])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adafactor_trajectory_matches_torch(kw, dtype):
    shapes = [(4, 5), (6,), (2, 3, 4), (1, 7)]
    (tp, topt), (jp, jopt) = [_run(L, "Adafactor", kw, shapes, dtype=dtype) for L in (torch, tj)]
    rel, abs_ = (1e-5, 1e-6) if dtype == "float32" else (1e-11, 1e-12)
    _assert_close([p.tolist() for p in jp], [p.tolist() for p in tp], rel, abs_)
    (ts, tg), (js, jg) = _state_values(topt), _state_values(jopt)
    assert tg == jg and ts.keys() == js.keys()
    for k in ts:
        assert ts[k].keys() == js[k].keys()
        for n in ts[k]:
            _assert_close(js[k][n], ts[k][n], rel * 10, abs_)
    assert repr(jopt) == repr(topt)


MUON = [{}, {"nesterov": False}, {"adjust_lr_fn": "match_rms_adamw"}, {"lr": 0.02, "weight_decay": 0.0},
        {"momentum": 0.5, "ns_steps": 3}, {"adjust_lr_fn": "original", "eps": 1e-5}]


@needs_torch
@pytest.mark.parametrize("kw", MUON, ids=[repr(k) for k in MUON])
def test_muon_trajectory_matches_torch(kw):
    """The Newton-Schulz iteration runs in bfloat16, whose matmuls round per product: parameters agree to the few
    bfloat16 ulps the lr scales them by."""
    shapes = [(4, 6), (7, 3), (5, 5)]
    (tp, topt), (jp, jopt) = [_run(L, "Muon", dict(kw, lr=kw.get("lr", 0.01)), shapes, steps=4) for L in (torch, tj)]
    _assert_close([p.tolist() for p in jp], [p.tolist() for p in tp], 0, 2e-4)
    (ts, tg), (js, jg) = _state_values(topt), _state_values(jopt)
    assert tg == jg
    for k in ts:
        _assert_close(js[k]["momentum_buffer"], ts[k]["momentum_buffer"], 1e-5, 1e-6)
    assert repr(jopt) == repr(topt)


@needs_torch
@pytest.mark.parametrize("shape", [(4, 6), (9, 3), (8, 8)])
def test_muon_newton_schulz_matches_torch(shape):
    from torch.optim._muon import _zeropower_via_newtonschulz as t_ns
    from torch_js.optim._muon import _zeropower_via_newtonschulz as j_ns
    g = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    t = t_ns(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    j = j_ns(tj.tensor(g.tolist()), (3.4445, -4.7750, 2.0315), 5, 1e-7)
    assert j.dtype == tj.bfloat16 and list(j.shape) == list(t.shape)
    _assert_close(j.float().tolist(), t.float().tolist(), 0, 2e-2)


def _embedding_run(L, kw, steps=5):
    L.manual_seed(0)
    e = L.nn.Embedding(6, 3, sparse=True)
    opt = L.optim.SparseAdam(e.parameters(), **kw)
    for s in range(steps):
        opt.zero_grad()
        x = L.tensor([[s % 6, 1, 2], [2, (s + 3) % 6, 0]])
        (e(x) * L.arange(18.).reshape(2, 3, 3) / 9 - 0.2 * s).pow(2).sum().backward()
        opt.step()
    return e.weight, opt


@needs_torch
@pytest.mark.parametrize("kw", [{}, {"lr": 0.1}, {"betas": (0.5, 0.9), "eps": 1e-4}, {"maximize": True}])
def test_sparse_adam_trajectory_matches_torch(kw):
    (tw, topt), (jw, jopt) = _embedding_run(torch, kw), _embedding_run(tj, kw)
    _assert_close(jw.tolist(), tw.tolist(), 1e-5, 1e-6)
    (ts, tg), (js, jg) = _state_values(topt), _state_values(jopt)
    assert tg == jg
    for n in ("exp_avg", "exp_avg_sq"):
        _assert_close(js[0][n], ts[0][n], 1e-5, 1e-7)
    assert js[0]["step"] == ts[0]["step"]
    assert repr(jopt) == repr(topt)


def _error(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001  (any exception: compared with torch's)
        return type(e).__name__, str(e)
    return None


@needs_torch
@pytest.mark.parametrize("call", [
    "L.optim.SparseAdam([p], lr=0)", "L.optim.SparseAdam([p], eps=0)", "L.optim.SparseAdam([p], betas=(1.0, 0.9))",
    "L.optim.SparseAdam([p], betas=(0.9, -0.1))", "L.optim.SparseAdam([L.ones(2).to_sparse().requires_grad_()])",
    "L.optim.Adafactor([p], lr=-1)", "L.optim.Adafactor([p], beta2_decay=0.5)", "L.optim.Adafactor([p], d=0.5)",
    "L.optim.Adafactor([p], eps=(-1, 1e-3))", "L.optim.Adafactor([p], eps=(None, -1))",
    "L.optim.Adafactor([p], weight_decay=-1)", "L.optim.Muon([p], lr=-1)", "L.optim.Muon([p], momentum=-1)",
    "L.optim.Muon([p], weight_decay=-1)", "L.optim.Muon([p], adjust_lr_fn='x')", "L.optim.Muon([L.ones(3)])",
])
def test_argument_errors_match_torch(call):
    def run(L):
        p = L.ones(2, 2, requires_grad=True)
        return _error(lambda: eval(call, {"L": L, "p": p}))
    assert run(tj) == run(torch)


@needs_torch
@pytest.mark.parametrize("cls,grad", [("SparseAdam", "dense"), ("Adafactor", "sparse"), ("Muon", "sparse")])
def test_refused_gradient_layouts_match_torch(cls, grad):
    def run(L):
        p = L.ones(3, 2, requires_grad=True)
        opt = getattr(L.optim, cls)([p])
        p.grad = L.ones(3, 2) if grad == "dense" else L.ones(3, 2).to_sparse()
        return _error(opt.step)
    assert run(tj) == run(torch)


@needs_torch
def test_state_dicts_load_into_torch_and_back():
    for cls, kw in (("Adafactor", {}), ("Muon", {}), ("SparseAdam", {})):
        if cls == "SparseAdam":
            jw, jopt = _embedding_run(tj, kw, steps=2)
            tw, topt = _embedding_run(torch, kw, steps=0)
        else:
            jp, jopt = _run(tj, cls, kw, [(3, 4)], steps=2)
            tp, topt = _run(torch, cls, kw, [(3, 4)], steps=0)
        sd = jopt.state_dict()
        converted = {"state": {k: {n: torch.tensor(v.tolist(), dtype=getattr(torch, str(v.dtype).split(".")[1]))
                                   if hasattr(v, "tolist") else v for n, v in st.items()}
                               for k, st in sd["state"].items()}, "param_groups": sd["param_groups"]}
        topt.load_state_dict(converted)
        assert _state_values(topt) == _state_values(jopt)


# ---- torch-free ------------------------------------------------------------------------------------------------

def test_adafactor_factored_state_shapes_and_first_step():
    p = tj.ones(3, 4, requires_grad=True)
    opt = tj.optim.Adafactor([p], lr=0.1)
    p.grad = tj.full((3, 4), 2.0)
    opt.step()
    st = opt.state[p]
    assert list(st["row_var"].shape) == [3, 1] and list(st["col_var"].shape) == [1, 4] and st["step"].item() == 1
    # first step: the variances are the squared grad means (4), the update is grad / sqrt(4) = 1, clipped to RMS 1;
    # alpha = max(1e-3, RMS(p) = 1) * min(lr, 1) = 0.1
    assert p.tolist() == [[pytest.approx(0.9)] * 4] * 3


def test_sparse_adam_moves_only_the_rows_with_entries():
    e = tj.nn.Embedding(5, 2, sparse=True)
    before = e.weight.detach().clone()
    opt = tj.optim.SparseAdam(e.parameters(), lr=0.1)
    e(tj.tensor([1, 3])).sum().backward()
    opt.step()
    moved = (e.weight.detach() != before).any(1).tolist()
    assert moved == [False, True, False, True, False]
    # first Adam step: -lr * sign(grad) (bias-corrected moments are g and g^2)
    assert (e.weight.detach() - before)[1].tolist() == [pytest.approx(-0.1, rel=1e-5)] * 2


def test_muon_update_is_roughly_orthogonal():
    from torch_js.optim._muon import _zeropower_via_newtonschulz
    g = tj.randn(4, 8, generator=tj.Generator().manual_seed(0))
    o = _zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7).float()
    s = tj.linalg.svdvals(o)
    assert all(0.5 < v < 1.5 for v in s.tolist())
    assert math.isclose(tj.optim.Muon([tj.ones(2, 2, requires_grad=True)], lr=0.1).param_groups[0]["lr"], 0.1)


SPARSE_GRAD_CASES = [("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
                     ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("Adagrad", {"lr": 0.1}),
                     ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "eps": 1e-3}), ("Adagrad", {"weight_decay": 0.1}),
                     ("Adam", {}), ("AdamW", {}), ("RMSprop", {}), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}),
                     ("RAdam", {}), ("ASGD", {}), ("Rprop", {})]


@needs_torch
@pytest.mark.parametrize("name,kw", SPARSE_GRAD_CASES, ids=[f"{n}-{k}" for n, k in SPARSE_GRAD_CASES])
def test_sparse_gradients_step_or_are_refused_as_in_torch(name, kw):
    """nn.Embedding(sparse=True)'s COO gradients: SGD and Adagrad step on them as PyTorch's do, the others refuse
    them with PyTorch's error."""
    def run(L):
        L.manual_seed(0)
        e = L.nn.Embedding(5, 2, sparse=True)
        opt = getattr(L.optim, name)(e.parameters(), **kw)

        def steps():
            for s in range(3):
                opt.zero_grad()
                (e(L.tensor([s % 5, 1, 3])) * (s + 1)).sum().backward()
                opt.step()
            return e.weight.tolist()
        err = _error(steps)
        return err if err is not None else e.weight.tolist()
    got, want = run(tj), run(torch)
    if isinstance(want, tuple):
        assert got == want
    else:
        _assert_close(got, want, 1e-6, 1e-6)


@needs_torch
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_capturable_on_the_cpu_is_refused_as_in_torch(name):
    """capturable=True keeps the step count on a graph-capturing device; CPU params are refused at step()."""
    def attempt(lib):
        p = lib.nn.Parameter(lib.ones(3))
        opt = getattr(lib.optim, name)([p], lr=0.1, capturable=True)
        p.grad = lib.ones(3)
        with pytest.raises(AssertionError) as info:
            opt.step()
        return str(info.value)
    ours, theirs = attempt(tj), attempt(torch)
    assert ours.split(":")[0] == theirs.split(":")[0]
    assert "webgpu" in ours
