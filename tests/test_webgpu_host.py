"""The webgpu device's host-side shortcuts (issue 16) against the op-by-op paths they stand for: the same values bit for
bit, the same version counts, and the shortcut taken only where it is exact.

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`); skips elsewhere (see tests/test_webgpu.py).
"""
import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
import torch_js as torch
import torch_js.nn.functional as F
from torch_js.optim import _adam_direct

GPU = "webgpu"


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


ADAMS = {
    "adam": (lambda ps: torch.optim.Adam(ps, lr=1e-3), True),
    "adam_beta1_low_eps0": (lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.3, 0.9), eps=0), True),
    "adam_l2": (lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=0.1), True),
    "adamw": (lambda ps: torch.optim.AdamW(ps, lr=1e-2), True),
    "adam_maximize": (lambda ps: torch.optim.Adam(ps, lr=1e-2, maximize=True), True),
    "adam_amsgrad": (lambda ps: torch.optim.Adam(ps, lr=1e-2, amsgrad=True), False),
}


def _train(make_opt, direct, monkeypatch):
    """Four steps of a small MLP: weights, moments and versions; how many updates took the direct path."""
    taken = []
    eligible = _adam_direct.eligible
    monkeypatch.setattr(_adam_direct, "eligible",
                        (lambda *a: taken.append(eligible(*a)) or taken[-1]) if direct else (lambda *a: False))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5)).to(GPU)
    x, y = torch.randn(8, 20).to(GPU), torch.randint(0, 5, (8,)).to(GPU)
    opt = make_opt(model.parameters())
    for _ in range(4):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    ps = list(model.parameters())
    states = [opt.state[p] for p in ps]
    values = [t.detach().cpu() for p, s in zip(ps, states) for t in (p, s["exp_avg"], s["exp_avg_sq"])]
    versions = [(p._version, s["exp_avg"]._version, s["exp_avg_sq"]._version) for p, s in zip(ps, states)]
    monkeypatch.setattr(_adam_direct, "eligible", eligible)
    return values, versions, sum(taken)


@pytest.mark.parametrize("name", sorted(ADAMS))
def test_adam_direct_update_is_the_op_by_op_update(name, monkeypatch):
    make_opt, takes_direct = ADAMS[name]
    ref, ref_versions, _ = _train(make_opt, False, monkeypatch)
    got, versions, taken = _train(make_opt, True, monkeypatch)
    assert taken == (16 if takes_direct else 0), taken
    assert versions == ref_versions
    for a, b in zip(ref, got):
        assert torch.equal(a, b), name


def test_adam_direct_update_needs_dense_float32_on_distinct_storages():
    p = torch.zeros(4, 3, device=GPU)
    g, m, v = (torch.zeros(4, 3, device=GPU) for _ in range(3))
    assert _adam_direct.eligible(p, g, m, v)
    assert not _adam_direct.eligible(p, g.t().contiguous().t(), m, v)     # strided grad
    assert not _adam_direct.eligible(p, g, m, m)                          # one storage twice
    assert not _adam_direct.eligible(p, g.half(), m, v)
    assert not _adam_direct.eligible(p.cpu(), g.cpu(), m.cpu(), v.cpu())
    assert not _adam_direct.eligible(*(torch.zeros(0, 3, device=GPU) for _ in range(4)))
