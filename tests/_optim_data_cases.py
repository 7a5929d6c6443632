"""Scenarios shared by tests/test_optim.py, tests/test_data.py and tools/gen_optim_data_fixtures.py; each runs
unchanged with `lib` = torch or torch_js."""

OPTIM_CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.02}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.02}),
    ("NAdam", {"lr": 0.02, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.03, "betas": (0.8, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("RAdam", {"lr": 0.02}),
    ("RAdam", {"lr": 0.05, "betas": (0.5, 0.6), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.5, 0.6), "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.7), "step_sizes": (1e-3, 0.08), "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
    ("LBFGS", {"lr": 0.5, "max_iter": 2}),
    ("LBFGS", {"max_iter": 3, "history_size": 2, "line_search_fn": "strong_wolfe"}),
    ("LBFGS", {"max_iter": 4, "max_eval": 6, "line_search_fn": "strong_wolfe"}),
]

# optimizers whose step() needs a closure that re-evaluates the loss (run_optim steps every other one without)
CLOSURE_OPTIMIZERS = {"LBFGS"}

# Run under float64 default dtype, where torch_js and torch agree to ~1e-15: there the tests can hold each
# algorithm's logic (branches, state updates, line search) to a tight tolerance, which float32 can't for LBFGS
# (see tests/test_optim.py).
OPTIM_F64_CASES = [
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.03, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.5, 0.6), "weight_decay": 0.1}),
    ("Rprop", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "lambd": 0.01, "t0": 5}),
    ("LBFGS", {"lr": 0.5, "max_iter": 2}),
    ("LBFGS", {"max_iter": 3, "history_size": 2, "line_search_fn": "strong_wolfe"}),
    ("LBFGS", {"max_iter": 4, "max_eval": 6, "line_search_fn": "strong_wolfe"}),
]

# LBFGS on non-quadratic objectives (float64, as above; run_lbfgs). With the strong-Wolfe line search a small lr
# makes it extrapolate, a large one makes it zoom, some trial points landing near the bracket's ends; "shallow" has
# gradients small enough that the first step is lr / |g|_1 uncapped; the fixed-step cases stop on a stalled loss
# and skip the last iteration's evaluation.
LBFGS_OBJECTIVE_CASES = [
    ("rosenbrock", {"lr": 0.05, "max_iter": 10, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"lr": 10, "max_iter": 10, "line_search_fn": "strong_wolfe"}),
    ("wavy", {"lr": 100, "max_iter": 10, "line_search_fn": "strong_wolfe"}),
    ("quartic", {"lr": 100, "max_iter": 10, "max_eval": 12, "history_size": 2, "line_search_fn": "strong_wolfe"}),
    ("shallow", {"max_iter": 6, "line_search_fn": "strong_wolfe"}),
    ("quartic", {"lr": 0.1, "max_iter": 5}),
    ("wavy", {"lr": 0.5, "max_iter": 30, "tolerance_change": 1e-4}),
]

SCHED_CASES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5], "gamma": 0.1}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 16}),
    ("LambdaLR", {"lr_lambda": "0.95 ** e"}),
    ("LinearLR", {"start_factor": 0.2, "total_iters": 5}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2}),
    ("ReduceLROnPlateau", {"factor": 0.5, "patience": 1}),
]

STEPS = 15


def run_optim(lib, name, kw, steps=STEPS, sched=None, dtype=None):
    """Linear least squares under manual_seed(0) (with `dtype`, e.g. lib.float64, as the default dtype while it
    runs); returns (final params, lr sequence, losses)."""
    if dtype is not None:
        saved = lib.get_default_dtype()
        lib.set_default_dtype(dtype)
        try:
            return run_optim(lib, name, kw, steps, sched)
        finally:
            lib.set_default_dtype(saved)
    lib.manual_seed(0)
    w = lib.randn(5, 3).requires_grad_()
    b = lib.randn(3).requires_grad_()
    x = lib.randn(8, 5)
    y = lib.randn(8, 3)
    opt = getattr(lib.optim, name)([w, b], **kw)
    sch = None
    if sched is not None:
        skw = dict(sched[1])
        if "lr_lambda" in skw:
            expr = skw["lr_lambda"]
            skw["lr_lambda"] = lambda e: eval(expr, {"e": e})
        sch = getattr(lib.optim.lr_scheduler, sched[0])(opt, **skw)
    lrs, losses = [], []

    def closure():
        opt.zero_grad()
        loss = ((x.matmul(w) + b - y) ** 2).mean()
        loss.backward()
        return loss
    for _ in range(steps):
        if name in CLOSURE_OPTIMIZERS:
            loss = opt.step(closure)
        else:
            loss = closure()
            opt.step()
        losses.append(loss.item())
        if sch is not None:
            if sched[0] == "ReduceLROnPlateau":
                sch.step(round(loss.item(), 1))
            else:
                sch.step()
            lrs.append(opt.param_groups[0]["lr"])
    return [w.detach().reshape(-1).tolist(), b.detach().tolist()], lrs, losses


_OBJECTIVES = {
    "rosenbrock": lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(),
    "wavy": lambda x: (2 * x.sin() + (0.5 * x).cos() + 0.02 * x * x).sum() + 0.1 * ((x[1:] - x[:-1]) ** 2).sum(),
    "quartic": lambda x: ((x - 1) ** 4).sum() + 0.01 * (x * x).sum(),
    "shallow": lambda x: 1e-3 * (((x - 1) ** 4).sum() + 0.01 * (x * x).sum()),
}


def run_lbfgs(lib, objective, kw, steps=3):
    """LBFGS(**kw) on an objective of 4 float64 variables; returns (final x, losses step() returned, func_evals,
    n_iter)."""
    x = lib.tensor([-1.5, 2.0, -0.5, 1.0], dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], **kw)

    def closure():
        opt.zero_grad()
        loss = _OBJECTIVES[objective](x)
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(steps)]
    state = opt.state[x]
    return x.detach().tolist(), losses, state["func_evals"], state["n_iter"]


def loader_orders(lib, epochs=2, **kw):
    """Batches (first column) of a shuffled DataLoader over arange(23), then one randn draw (to check the
    generator advanced like torch's)."""
    generator = None
    if kw.pop("seeded_generator", False):
        generator = lib.Generator().manual_seed(3)
    lib.manual_seed(0)
    ds = lib.utils.data.TensorDataset(lib.arange(23), lib.arange(23) * 2.0)
    dl = lib.utils.data.DataLoader(ds, batch_size=5, generator=generator, **kw)
    out = [[b[0].tolist() for b in dl] for _ in range(epochs)]
    return out, lib.randn(3).tolist()


LOADER_CASES = [
    {"shuffle": True},
    {"shuffle": True, "drop_last": True},
    {"shuffle": False},
    {"shuffle": True, "seeded_generator": True},
]
