"""Flush plans kept by signature (js_bridge/webgpu/lazy_plans.mjs): a flush with the structure of an earlier one
takes its fusion plan (stats()["plan_hits"]), with its own buffers and its own scalar values, and computes what a
freshly planned flush computes, bit for bit.

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`); skips elsewhere.
"""
import pytest

from webgpu_only import lazy_module  # noqa: F401  (skips this file without the webgpu bridge; the fixture)
import torch_js as torch
import torch_js.nn.functional as F

GPU = "webgpu"
pytestmark = pytest.mark.usefixtures("lazy_module")


def _run(fn, plans):
    """fn() with flush plans kept or not; its result and the plan hits while it ran."""
    was = torch.webgpu.set_plan_cache(plans)
    try:
        torch.webgpu.reset_stats()
        out = fn()
        return out, torch.webgpu.stats()["plan_hits"]
    finally:
        torch.webgpu.set_plan_cache(was)


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert torch.equal(x, y), (x - y).abs().max()


def _train(lr=0.0123, betas=(0.83, 0.977)):
    """Six Adam steps of a small MLP: the losses and the parameters."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).to(GPU)
    x, y = torch.randn(6, 12).to(GPU), torch.randint(0, 4, (6,)).to(GPU)
    opt = torch.optim.Adam(model.parameters(), lr, betas=betas)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu() for p in model.parameters()]


def test_adam_steps_take_the_plan_with_new_scalars():
    """Adam's step size and bias correction change every step (known scalars in the record): the plan is taken
    anyway, and the parameters are those of planning every step."""
    train = _train
    (losses, params), hits = _run(train, True)
    (losses0, params0), hits0 = _run(train, False)
    assert hits >= 4 and hits0 == 0
    assert losses == losses0
    _same(params, params0)
    assert losses[-1] < losses[0]


def test_a_rerun_takes_the_plans_of_the_first_run():
    """Running the same training again in one process (a notebook cell run twice): its scalars (Adam's step sizes)
    now come from the scalar cache, filled in the first run, where the first run filled them afresh. A fresh
    scalar is written by the queue, not recorded, so both runs record the same flushes: every flush of the second
    run takes a plan, and the results are the first run's."""
    def train():   # (hyperparameters no other test uses: the first run's scalar values are new)
        return _train(0.0071, (0.81, 0.966))

    (losses, params), _ = _run(train, True)
    (losses2, params2), hits = _run(train, True)
    assert hits == torch.webgpu.stats()["flushes"] > 0
    assert losses2 == losses
    _same(params2, params)


def test_scalars_and_cut_pieces_take_their_new_values():
    """A loop whose scalars change each time, with a virtual cat (rotate_half's pieces, cut in the plan): each
    iteration's values against the CPU's."""
    torch.manual_seed(1)
    xc = torch.randn(3, 8)
    x = xc.to(GPU)

    def rot(t):
        return torch.cat([-t[..., 4:], t[..., :4]], -1)

    def loop(dev, t):
        outs = []
        for i in range(5):   # (values never seen before: a repeated one comes from the scalar cache, no fill)
            s, c, w, b = 1.1 + 0.37 * i, 0.9 - 0.11 * i, 2.3 + 1.7 * i, 0.45 + 0.29 * i
            y = rot(t * s) * c + t * w - b
            outs.append(y.cpu() if dev == GPU else y)
        return outs

    want = loop("cpu", xc)
    got, hits = _run(lambda: loop(GPU, x), True)
    assert hits >= 3
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w)


def test_a_released_intermediate_is_another_plan():
    """Whether Python still holds an intermediate decides whether it is stored: the same ops with it held and
    released are two signatures, each right."""
    a = torch.arange(6.0).to(GPU)

    def body(keep):
        t = a * 2
        u = (t + 1).sum()
        if keep:
            return u.item(), t.cpu()
        del t
        return u.item(), None

    def loop():
        return [body(keep) for keep in (True, False, True, False, True)]

    out, hits = _run(loop, True)
    for v, t in out:
        assert v == 36.0
    for v, t in out[::2]:
        assert torch.equal(t, torch.arange(6.0) * 2)
    assert hits >= 2


def test_graph_capture_after_planned_steps():
    """A step planned (and its plan taken) before a graph captures it: the replay computes the step."""
    torch.manual_seed(2)
    lin = torch.nn.Linear(5, 3).to(GPU)
    static_x = torch.randn(4, 5).to(GPU)
    with torch.no_grad():
        for _ in range(3):
            torch.relu(lin(static_x) * 2 + 1).sum().item()
        g = torch.webgpu.Graph()
        with torch.webgpu.graph(g):
            static_y = torch.relu(lin(static_x) * 2 + 1)
        for _ in range(2):
            new = torch.randn(4, 5)
            static_x.copy_(new.to(GPU))
            g.replay()
            want = torch.relu(F.linear(new, lin.weight.cpu(), lin.bias.cpu()) * 2 + 1)
            torch.testing.assert_close(static_y.cpu(), want)
        g.reset()
