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


def run_optim(lib, name, kw, steps=STEPS, sched=None):
    """Linear least squares under manual_seed(0); returns (final params, lr sequence, losses)."""
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
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x.matmul(w) + b - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if sch is not None:
            if sched[0] == "ReduceLROnPlateau":
                sch.step(round(loss.item(), 1))
            else:
                sch.step()
            lrs.append(opt.param_groups[0]["lr"])
    return [w.detach().reshape(-1).tolist(), b.detach().tolist()], lrs, losses


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
