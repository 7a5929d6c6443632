"""torch_js.optim against PyTorch: same parameters after N steps (float32 rounding), same lr schedules, same
state_dict layout. Expected values come from tests/fixtures/optim_data_torch.json (tools/gen_optim_data_fixtures.py)
and, where torch imports, from live torch."""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
import torch_js  # noqa: E402  (conftest.py puts the package on sys.path)
import _optim_data_cases as C  # noqa: E402

from optional_torch import HAVE_TORCH, needs_torch, torch  # noqa: E402,F401

FIX = json.load(open(os.path.join(HERE, "fixtures", "optim_data_torch.json")))


def _flat(params):
    return [v for group in params for v in group]


def _assert_close(got, exp, rtol=2e-6, atol=2e-7):
    for i, (a, b) in enumerate(zip(_flat(got), _flat(exp))):
        assert abs(a - b) <= atol + rtol * abs(b), f"element {i}: {a} vs {b}"


# (rtol, atol) for the float32 parameters. LBFGS is second order: last-bit differences between torch's reduction
# kernels (MKL dot/sum) and torch_js's move its converged point along the flat directions of this least-squares
# problem by ~1e-4 (its losses still agree to 1e-6), so its parameters get a looser bound here; its float64 runs
# (test_float64_trajectory_matches_torch) hold the algorithm itself to 1e-9.
_PARAM_TOL = {"LBFGS": (1e-3, 5e-4)}


@pytest.mark.parametrize("i", range(len(C.OPTIM_CASES)), ids=[f"{n}-{kw}" for n, kw in C.OPTIM_CASES])
def test_optimizer_trajectory_matches_torch(i):
    name, kw = C.OPTIM_CASES[i]
    exp = FIX["optim"][i]
    assert exp["name"] == name and exp["kw"] == repr(kw)
    params, _, losses = C.run_optim(torch_js, name, kw)
    _assert_close(params, exp["params"], *_PARAM_TOL.get(name, (2e-6, 2e-7)))
    for a, b in zip(losses, exp["losses"]):
        assert abs(a - b) <= 1e-5 * abs(b) + 1e-7


@pytest.mark.parametrize("i", range(len(C.OPTIM_F64_CASES)), ids=[f"{n}-{kw}" for n, kw in C.OPTIM_F64_CASES])
def test_float64_trajectory_matches_torch(i):
    name, kw = C.OPTIM_F64_CASES[i]
    exp = FIX["optim_f64"][i]
    assert exp["name"] == name and exp["kw"] == repr(kw)
    params, _, losses = C.run_optim(torch_js, name, kw, dtype=torch_js.float64)
    _assert_close(params, exp["params"], rtol=1e-9, atol=1e-10)
    for a, b in zip(losses, exp["losses"]):
        assert abs(a - b) <= 1e-12 * abs(b) + 1e-14


@pytest.mark.parametrize("i", range(len(C.LBFGS_OBJECTIVE_CASES)),
                         ids=[f"{o}-{kw}" for o, kw in C.LBFGS_OBJECTIVE_CASES])
def test_lbfgs_on_other_objectives_matches_torch(i):
    """The line search's extrapolation and zoom (trial points pushed off the bracket's ends), the uncapped first
    step, the stopping rules: same iterates and the same closure-evaluation and iteration counts."""
    objective, kw = C.LBFGS_OBJECTIVE_CASES[i]
    exp = FIX["lbfgs_objectives"][i]
    assert exp["objective"] == objective and exp["kw"] == repr(kw)
    x, losses, func_evals, n_iter = C.run_lbfgs(torch_js, objective, kw)
    assert (func_evals, n_iter) == (exp["func_evals"], exp["n_iter"])
    _assert_close([x, losses], [exp["x"], exp["losses"]], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("i", range(len(C.SCHED_CASES)), ids=[s[0] for s in C.SCHED_CASES])
def test_scheduler_matches_torch(i):
    s = C.SCHED_CASES[i]
    exp = FIX["sched"][i]
    params, lrs, _ = C.run_optim(torch_js, "SGD", {"lr": 0.1, "momentum": 0.9}, sched=s)
    assert len(lrs) == len(exp["lrs"])
    for a, b in zip(lrs, exp["lrs"]):
        assert abs(a - b) <= 1e-12 + 1e-12 * abs(b), (lrs, exp["lrs"])
    _assert_close(params, exp["params"])


def test_optimizer_api():
    w = torch_js.nn.Parameter(torch_js.ones(2))
    b = torch_js.nn.Parameter(torch_js.zeros(1))
    opt = torch_js.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert list(opt.param_groups[0].keys()) == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                                                 "maximize", "foreach", "differentiable", "fused"]
    (w.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert sorted(sd["state"].keys()) == [0, 1] and sd["param_groups"][1]["params"] == [1]
    assert set(sd["state"][0].keys()) == {"momentum_buffer"}
    opt.zero_grad()
    assert w.grad is None
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [w]})
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        torch_js.optim.Adam([])
    closure_calls = []

    def closure():
        closure_calls.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() > 0 and closure_calls == [1]
    # state_dict round trip into a fresh optimizer
    opt2 = torch_js.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    assert opt2.state[w]["momentum_buffer"].tolist() == sd["state"][0]["momentum_buffer"].tolist()
    assert "Parameter Group 1" in repr(opt2)


def test_adam_state_and_hooks():
    w = torch_js.nn.Parameter(torch_js.ones(3))
    opt = torch_js.optim.Adam([w], lr=0.1, amsgrad=True)
    seen = []
    h = opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    (w * 2).sum().backward()
    opt.step()
    st = opt.state[w]
    assert st["step"].item() == 1.0 and st["step"].dtype is torch_js.float32 and st["step"].dim() == 0
    assert set(st) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert seen == ["post"]
    h.remove()
    opt.step()
    assert seen == ["post"]


@needs_torch
def test_state_dict_loads_into_torch_and_back():
    import io
    js_w = torch_js.nn.Parameter(torch_js.arange(4.0))
    opt = torch_js.optim.AdamW([js_w], lr=0.01)
    (js_w ** 2).sum().backward()
    opt.step()
    buf = io.BytesIO()
    torch_js.save(opt.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf, weights_only=True)
    tw = torch.nn.Parameter(torch.arange(4.0))
    topt = torch.optim.AdamW([tw], lr=0.01)
    topt.load_state_dict(sd)
    assert topt.state_dict()["param_groups"] == sd["param_groups"]
    tbuf = io.BytesIO()
    torch.save(topt.state_dict(), tbuf)
    tbuf.seek(0)
    opt.load_state_dict(torch_js.load(tbuf))
    assert opt.state[js_w]["exp_avg"].tolist() == sd["state"][0]["exp_avg"].tolist()


@needs_torch
@pytest.mark.parametrize("i", [0, 4, 9, 17, 29])
def test_live_torch_agrees_with_fixture(i):
    """The fixture is still PyTorch's (else regenerate it), to float32 rounding: the live PyTorch may run on another
    vector ISA than the host that wrote it (on an AVX-512 host its trajectories differ by an ulp or two; LBFGS's
    strong-Wolfe line search grows that to ~1.5e-3 over its evaluations)."""
    name, kw = C.OPTIM_CASES[i]
    params, _, _ = C.run_optim(torch, name, kw)
    _assert_close(params, FIX["optim"][i]["params"], rtol=1e-2 if name == "LBFGS" else 1e-6, atol=0)


@needs_torch
def test_step_hooks_and_repr_match_torch():
    """Step hooks get (optimizer, args, kwargs) with args starting at the optimizer, as in torch; a pre-hook may
    return replacement (args, kwargs)."""
    def run(lib):
        w = lib.ones(3, requires_grad=True)
        opt = lib.optim.Adam([{"params": [w]}, {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.5}], lr=0.1)
        log = []
        opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", len(a), a[0] is o, sorted(k))))
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), sorted(k))))
        (w * w).sum().backward()
        opt.step()
        opt.step(closure=None)
        opt.register_step_pre_hook(lambda o, a, k: ((a[0], lambda: 7.0), {}))
        return log, opt.step(), repr(opt)
    assert run(torch_js) == run(torch)


@needs_torch
def test_scheduler_closed_form_and_state_dict_keys_match_torch():
    """step(epoch) uses the closed form (where a class has one); state_dict() carries torch's attribute names."""
    cases = [("StepLR", {"step_size": 3, "gamma": 0.5}), ("MultiStepLR", {"milestones": [2, 5, 5]}),
             ("ConstantLR", {"factor": 0.5, "total_iters": 4}), ("LinearLR", {"start_factor": 0.2}),
             ("PolynomialLR", {"total_iters": 8, "power": 2.0}), ("CosineAnnealingLR", {"T_max": 5}),
             ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2}),
             ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "triangular2"}),
             ("OneCycleLR", {"max_lr": 0.1, "total_steps": 20, "three_phase": True})]
    import warnings

    def run(lib, name, kw):
        opt = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1, momentum=0.9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sch = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
            lrs = []
            for epoch in [1, 4, 9, 2, 13.5 if name == "CosineAnnealingWarmRestarts" else 13]:
                opt.step()
                sch.step(epoch)
                lrs.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        return lrs, sorted(sch.state_dict())
    for name, kw in cases:
        got, exp = run(torch_js, name, kw), run(torch, name, kw)
        assert got[1] == exp[1], name
        for a, b in zip(got[0], exp[0]):
            assert a == pytest.approx(b, rel=1e-12, abs=1e-15), (name, got[0], exp[0])


# ---- the optimizers added for real programs: API surface against torch -------------------------------------------
NEW_OPTIMIZERS = [
    ("Adadelta", {"lr": 0.5, "weight_decay": 0.1, "foreach": False}),
    ("Adamax", {"betas": (0.8, 0.9), "maximize": True}),
    ("NAdam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("RAdam", {"decoupled_weight_decay": True, "weight_decay": 0.1, "capturable": False}),
    ("Rprop", {"etas": (0.4, 1.5), "step_sizes": (1e-4, 1.0)}),
    ("ASGD", {"t0": 1, "lambd": 0.1}),
    ("LBFGS", {"history_size": 3, "max_iter": 4}),
    ("LBFGS", {"line_search_fn": "strong_wolfe", "max_iter": 5}),
]


def _layout(value):
    """A state value's kind, dtype and shape (recursively for LBFGS's lists), spelled alike for torch and torch_js."""
    if isinstance(value, (list, tuple)):
        return [_layout(v) for v in value]
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        return ("tensor", str(value.dtype), tuple(value.shape))
    return type(value).__name__


def _assert_nested_close(got, exp, rel=1e-5, abs_=1e-6):
    if isinstance(exp, dict):
        assert list(got) == list(exp)
        for k in exp:
            _assert_nested_close(got[k], exp[k], rel, abs_)
    elif isinstance(exp, (list, tuple)):
        assert len(got) == len(exp)
        for a, b in zip(got, exp):
            _assert_nested_close(a, b, rel, abs_)
    elif exp is None or isinstance(exp, (bool, str)):
        assert got == exp
    else:
        assert got == pytest.approx(exp, rel=rel, abs=abs_)


def _values(value):
    """State as nested Python numbers (tensors by tolist())."""
    if isinstance(value, dict):
        return {k: _values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_values(v) for v in value]
    return value.tolist() if hasattr(value, "tolist") else value


def _stepped(lib, name, kw, params=None, steps=2):
    """A non-quadratic loss over two params, stepped with a closure; params default to fixed starting values."""
    w, b = params or (lib.nn.Parameter(lib.tensor([[1.0, -2.0], [0.5, 3.0]])),
                      lib.nn.Parameter(lib.tensor([0.25, -0.75])))
    opt = getattr(lib.optim, name)([w, b], **kw)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum() + (w.sum(0) * b).sum() + (b ** 4).sum()
        loss.backward()
        return loss
    for _ in range(steps):
        opt.step(closure)
    return opt, (w, b), closure


@needs_torch
@pytest.mark.parametrize("name,kw", NEW_OPTIMIZERS, ids=[n for n, _ in NEW_OPTIMIZERS])
def test_new_optimizer_groups_state_and_repr_match_torch(name, kw):
    js, (jw, jb), _ = _stepped(torch_js, name, kw)
    tt, (tw, tb), _ = _stepped(torch, name, kw)
    assert list(js.param_groups[0]) == list(tt.param_groups[0])
    assert js.defaults == tt.defaults
    assert repr(js) == repr(tt)
    jsd, tsd = js.state_dict(), tt.state_dict()
    assert jsd["param_groups"] == tsd["param_groups"]
    assert {k: {kk: _layout(v) for kk, v in st.items()} for k, st in jsd["state"].items()} == \
        {k: {kk: _layout(v) for kk, v in st.items()} for k, st in tsd["state"].items()}
    # integer state (LBFGS's func_evals and n_iter) must agree exactly, the rest to float32 rounding
    assert {k: {kk: v for kk, v in st.items() if type(v) is int} for k, st in jsd["state"].items()} == \
        {k: {kk: v for kk, v in st.items() if type(v) is int} for k, st in tsd["state"].items()}
    rel, abs_ = _PARAM_TOL.get(name, (1e-5, 1e-6))   # LBFGS's float32 state drifts like its parameters
    _assert_nested_close(_values(jsd["state"]), _values(tsd["state"]), rel, abs_)
    for a, b in zip((jw, jb), (tw, tb)):
        assert a.detach().reshape(-1).tolist() == pytest.approx(b.detach().reshape(-1).tolist(), rel=1e-5, abs=1e-6)


@needs_torch
@pytest.mark.parametrize("name,kw", NEW_OPTIMIZERS, ids=[n for n, _ in NEW_OPTIMIZERS])
def test_new_optimizer_checkpoint_resumes_in_torch(name, kw):
    """A torch_js state_dict saved with torch_js.save loads into torch's optimizer, whose next steps then match
    torch_js's own."""
    import io
    js, (jw, jb), _ = _stepped(torch_js, name, kw)
    buf = io.BytesIO()
    torch_js.save(js.state_dict(), buf)
    buf.seek(0)
    tw, tb = (torch.nn.Parameter(torch.tensor(p.detach().tolist())) for p in (jw, jb))
    tt, _, t_closure = _stepped(torch, name, kw, params=(tw, tb), steps=0)
    tt.load_state_dict(torch.load(buf, weights_only=True))
    _, _, j_closure = _stepped(torch_js, name, kw, params=(jw, jb), steps=0)
    for _ in range(2):
        js.step(j_closure)
        tt.step(t_closure)
    for a, b in zip((jw, jb), (tw, tb)):
        assert a.detach().reshape(-1).tolist() == pytest.approx(b.detach().reshape(-1).tolist(), rel=1e-5, abs=1e-6)


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the type and message are what is compared)
        return type(e).__name__, str(e)
    return None


@needs_torch
def test_new_optimizer_argument_errors_match_torch():
    bad = [("Adadelta", {"rho": 1.5}), ("Adadelta", {"lr": -1.0}), ("Adadelta", {"eps": -1.0}),
           ("Adamax", {"betas": (0.9, 1.0)}), ("Adamax", {"weight_decay": -1}), ("NAdam", {"momentum_decay": -1}),
           ("NAdam", {"betas": (-0.1, 0.9)}), ("RAdam", {"eps": -1}), ("Rprop", {"etas": (1.2, 0.5)}),
           ("Rprop", {"lr": -1}), ("ASGD", {"weight_decay": -1}), ("LBFGS", {"lr": -0.1})]
    for name, kw in bad:
        got = _error(lambda: getattr(torch_js.optim, name)([torch_js.zeros(2, requires_grad=True)], **kw))
        exp = _error(lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw))
        assert got == exp and exp is not None, (name, kw)

    fused = [(name, kw) for name in ("SGD", "Adam", "AdamW", "Adagrad")
             for kw in ({"fused": True, "foreach": True}, {"fused": True, "differentiable": True},
                        {"fused": False, "foreach": True}, {"fused": True})]
    for name, kw in fused:
        got = _error(lambda: getattr(torch_js.optim, name)([torch_js.zeros(2, requires_grad=True)], lr=0.1, **kw))
        exp = _error(lambda: getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], lr=0.1, **kw))
        assert got == exp, (name, kw)

    def two_groups(lib):
        return lib.optim.LBFGS([{"params": [lib.zeros(1, requires_grad=True)]},
                                {"params": [lib.zeros(1, requires_grad=True)]}])
    assert _error(lambda: two_groups(torch_js)) == _error(lambda: two_groups(torch))

    def unknown_line_search(lib):
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.LBFGS([w], line_search_fn="backtracking")

        def closure():
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss
        opt.step(closure)
    assert _error(lambda: unknown_line_search(torch_js)) == _error(lambda: unknown_line_search(torch))


def test_lbfgs_minimizes_a_quadratic_and_counts_evaluations():
    """Fixture-free: on a strictly convex quadratic L-BFGS reaches the minimizer; func_evals counts closure calls
    (including the line search's); a stationary start returns at once without touching the parameters."""
    a = torch_js.tensor([[3.0, 1.0], [1.0, 2.0]])
    rhs = torch_js.tensor([1.0, -1.0])
    for line_search in (None, "strong_wolfe"):
        x = torch_js.zeros(2, requires_grad=True)
        opt = torch_js.optim.LBFGS([x], lr=1 if line_search else 0.3, max_iter=50, line_search_fn=line_search)
        calls = []

        def closure():
            calls.append(1)
            opt.zero_grad()
            loss = 0.5 * (x * a.matmul(x)).sum() - (rhs * x).sum()
            loss.backward()
            return loss
        first = opt.step(closure)
        assert first.item() == 0.0   # step() returns the loss at the starting point
        solution = [0.6, -0.8]       # a x = rhs
        assert x.detach().tolist() == pytest.approx(solution, abs=1e-4)
        state = opt.state[x]
        assert state["func_evals"] == len(calls) and state["n_iter"] >= 2
        before = x.detach().clone()
        x.grad = None
        opt2 = torch_js.optim.LBFGS([x], tolerance_grad=1e3)   # every gradient counts as stationary
        assert opt2.step(closure).item() == pytest.approx(closure().item())
        assert x.detach().tolist() == before.tolist()


def test_asgd_average_is_the_mean_of_the_iterates():
    """Fixture-free: with t0=0, ASGD's state["ax"] is the plain mean of the iterates from the second step on (mu
    becomes 1/(step - t0) one step late), and eta follows lr / (1 + lambd * lr * step) ** alpha."""
    w = torch_js.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = torch_js.optim.ASGD([w], lr=0.1, lambd=0.01, alpha=0.5, t0=0)
    iterates = []
    for _ in range(6):
        opt.zero_grad()
        ((w - 3.0) ** 2 * torch_js.tensor([1.0, 2.0, 0.5])).sum().backward()
        opt.step()
        iterates.append(w.detach().clone())
    mean = sum(iterates[1:]) / 5
    state = opt.state[w]
    assert state["ax"].tolist() == pytest.approx(mean.tolist(), abs=1e-6)
    assert state["eta"].item() == pytest.approx(0.1 / (1 + 0.01 * 0.1 * 6) ** 0.5, rel=1e-6)
    assert state["mu"].item() == pytest.approx(1 / 6, rel=1e-6) and state["step"].item() == 6


def test_new_optimizers_step_with_a_closure_and_keep_torch_defaults():
    """Fixture-free: the documented torch defaults land in param_groups, step(closure) returns the closure's loss,
    and params without a gradient are left alone (and get no state)."""
    expected_defaults = {"Adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
                         "Adamax": {"lr": 2e-3, "betas": (0.9, 0.999)},
                         "NAdam": {"lr": 2e-3, "momentum_decay": 4e-3, "decoupled_weight_decay": False},
                         "RAdam": {"lr": 1e-3, "decoupled_weight_decay": False},
                         "Rprop": {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50)},
                         "ASGD": {"lr": 1e-2, "lambd": 1e-4, "alpha": 0.75, "t0": 1e6},
                         "LBFGS": {"lr": 1, "max_iter": 20, "max_eval": 25, "history_size": 100}}
    for name, defaults in expected_defaults.items():
        w = torch_js.ones(3, requires_grad=True)
        frozen = torch_js.ones(2, requires_grad=True)
        opt = getattr(torch_js.optim, name)([w, frozen])
        assert {k: opt.param_groups[0][k] for k in defaults} == defaults, name

        def closure():
            opt.zero_grad()
            loss = ((w - 2.0) ** 2).sum()
            loss.backward()
            return loss
        assert opt.step(closure).item() == 3.0, name
        assert w.detach().tolist() != [1.0, 1.0, 1.0], name
        assert frozen.detach().tolist() == [1.0, 1.0] and frozen not in opt.state, name


# ---- swa_utils -------------------------------------------------------------------------------------------------------
def _swa_session(lib, mode, strategy="cos", anneal_epochs=3):
    """Train a small Linear-BatchNorm-Linear net with SGD under SWALR, averaging it each epoch with an AveragedModel
    of the given kind, then recompute the BatchNorm statistics with update_bn."""
    swa = lib.optim.swa_utils
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    x, y = lib.randn(16, 3), lib.randn(16, 2)
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)]
    averaged = {"swa": lambda: swa.AveragedModel(model),
                "swa_buffers": lambda: swa.AveragedModel(model, use_buffers=True),
                "ema_multi": lambda: swa.AveragedModel(model, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9),
                                                       use_buffers=True),
                "ema": lambda: swa.AveragedModel(model, avg_fn=swa.get_ema_avg_fn(0.8)),
                "swa_multi": lambda: swa.AveragedModel(model, multi_avg_fn=swa.get_swa_multi_avg_fn())}[mode]()
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    sched = swa.SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(5):
        for xb, yb in batches:
            opt.zero_grad()
            lib.nn.functional.mse_loss(model(xb), yb).backward()
            opt.step()
        averaged.update_parameters(model)
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    before_bn = {k: v.tolist() for k, v in averaged.state_dict().items()}
    swa.update_bn(batches, averaged)
    after_bn = {k: v.tolist() for k, v in averaged.state_dict().items()}
    return lrs, before_bn, after_bn, averaged(x).tolist(), sorted(sched.state_dict()), averaged.training


@needs_torch
@pytest.mark.parametrize("mode,strategy,anneal_epochs", [("swa", "cos", 3), ("swa_buffers", "linear", 0),
                                                         ("ema_multi", "linear", 2), ("ema", "cos", 10),
                                                         ("swa_multi", "cos", 1)])
def test_swa_utils_match_torch(mode, strategy, anneal_epochs):
    got = _swa_session(torch_js, mode, strategy, anneal_epochs)
    exp = _swa_session(torch, mode, strategy, anneal_epochs)
    assert got[0] == pytest.approx(exp[0], rel=1e-12)   # SWALR lrs are Python floats
    _assert_nested_close(got[1:4], exp[1:4])
    assert got[4:] == exp[4:]


def test_swa_utils_self_consistent():
    """Fixture-free: the SWA average is the mean of the snapshots, EMA follows its recursion, update_bn recomputes
    the BatchNorm statistics as plain averages over the batches, SWALR anneals linearly to swa_lr."""
    swa = torch_js.optim.swa_utils
    torch_js.manual_seed(0)
    model = torch_js.nn.Sequential(torch_js.nn.Linear(3, 4), torch_js.nn.BatchNorm1d(4, momentum=0.3))
    swa_model = swa.AveragedModel(model)
    ema_model = swa.AveragedModel(model, multi_avg_fn=swa.get_ema_multi_avg_fn(0.75))
    snapshots, ema = [], None
    for _ in range(4):
        with torch_js.no_grad():
            for p in model.parameters():
                p.add_(torch_js.randn(p.shape))
        snapshots.append([p.detach().clone() for p in model.parameters()])
        swa_model.update_parameters(model)
        ema_model.update_parameters(model)
        ema = [s.clone() for s in snapshots[-1]] if ema is None else \
            [0.75 * e + 0.25 * s for e, s in zip(ema, snapshots[-1])]
    assert swa_model.n_averaged.item() == 4 and swa_model.n_averaged.dtype is torch_js.int64
    for i, p in enumerate(swa_model.module.parameters()):
        mean = sum(s[i] for s in snapshots) / 4
        assert p.detach().reshape(-1).tolist() == pytest.approx(mean.reshape(-1).tolist(), abs=1e-5)
    for p, e in zip(ema_model.module.parameters(), ema):
        assert p.detach().reshape(-1).tolist() == pytest.approx(e.reshape(-1).tolist(), abs=1e-5)

    batches = [torch_js.randn(5, 3) for _ in range(3)]
    swa_model.eval()
    swa.update_bn(batches, swa_model)
    bn = swa_model.module[1]
    assert not swa_model.training and bn.momentum == 0.3 and bn.num_batches_tracked.item() == 3
    with torch_js.no_grad():
        feats = [swa_model.module[0](b) for b in batches]
    mean = sum(f.mean(0) for f in feats) / 3
    var = sum(f.var(0) for f in feats) / 3
    assert bn.running_mean.tolist() == pytest.approx(mean.tolist(), abs=1e-5)
    assert bn.running_var.tolist() == pytest.approx(var.tolist(), abs=1e-5)

    opt = torch_js.optim.SGD(model.parameters(), lr=0.1)
    sched = swa.SWALR(opt, swa_lr=0.02, anneal_epochs=4, anneal_strategy="linear")
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == pytest.approx([0.1, 0.08, 0.06, 0.04, 0.02, 0.02, 0.02], rel=1e-12)
    assert opt.param_groups[0]["swa_lr"] == 0.02

    with pytest.raises(ValueError, match="Invalid decay value"):
        swa.get_ema_avg_fn(1.5)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa.AveragedModel(model, avg_fn=swa.get_swa_avg_fn(), multi_avg_fn=swa.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        swa.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)


def test_old_checkpoints_with_plain_number_scalars_load():
    """Fixture-free: checkpoints from older torch versions hold step (and NAdam's mu_product, ASGD's eta and mu)
    as plain numbers; loading turns them into 0-d tensors of the scalar dtype, and stepping goes on."""
    for name, plain in (("NAdam", ("step", "mu_product")), ("ASGD", ("step", "eta", "mu")),
                        ("Rprop", ("step",)), ("Adadelta", ("step",))):
        w = torch_js.tensor([1.0, -2.0], requires_grad=True)
        opt = getattr(torch_js.optim, name)([w])
        (w * w).sum().backward()
        opt.step()
        sd = opt.state_dict()
        expected = {key: sd["state"][0][key].item() for key in plain}
        for key in plain:
            sd["state"][0][key] = expected[key]
        fresh = getattr(torch_js.optim, name)([w])
        fresh.load_state_dict(sd)
        for key in plain:
            value = fresh.state[w][key]
            assert isinstance(value, torch_js.Tensor) and value.dim() == 0 and value.dtype is torch_js.float32
            assert value.item() == expected[key], (name, key)
        fresh.step()
        assert fresh.state[w]["step"].item() == 2.0, name
