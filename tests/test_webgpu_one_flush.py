"""A webgpu training step is one flush of the lazy record, and dead work never runs (js_bridge/webgpu/lazy.mjs,
lazy_opaque.mjs): softmax, take, put, index offsets, im2col / col2im and pooling are recorded as opaque nodes
(their own kernels, run at their place in the flush) instead of flushing the record before them; a recorded node
whose result Python released and nothing later reads is skipped (stats()["dead_skipped"]).

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`); skips elsewhere.
"""
import pytest

from webgpu_only import lazy_module  # noqa: F401  (skips this file without the webgpu bridge; the fixture)
import torch_js as torch
import torch_js.nn.functional as F

GPU = "webgpu"
pytestmark = pytest.mark.usefixtures("lazy_module")


def _mlp_step(dev):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                                torch.nn.Linear(16, 5)).to(dev)
    x, y = torch.randn(12, 24).to(dev), torch.randint(0, 5, (12,)).to(dev)
    opt = torch.optim.Adam(model.parameters(), 1e-2)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, step


def _cnn_step(dev):
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3)).to(dev)
    x, y = torch.randn(3, 2, 8, 8).to(dev), torch.randint(0, 3, (3,)).to(dev)
    opt = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return model, step


def _steps_and_flushes(make, lazy, n=4):
    """The parameters after 1 + n steps, lazy execution on or off, and the counters of the last n (one sync)."""
    was = torch.webgpu.set_lazy(lazy)
    try:
        model, step = make(GPU)
        step()
        torch.webgpu.synchronize()
        with torch.webgpu.counter() as c:
            for _ in range(n):
                loss = step()
            torch.webgpu.synchronize()
        return [p.detach().cpu() for p in model.parameters()] + [loss.detach().cpu()], c
    finally:
        torch.webgpu.set_lazy(was)


@pytest.mark.parametrize("make", [_mlp_step, _cnn_step], ids=["mlp", "cnn"])
def test_training_step_is_one_flush_and_matches_eager(make):
    got, c = _steps_and_flushes(make, True)
    # log_softmax, the loss's gather and its backward's scatter (and the conv's im2col / col2im, the pool and its
    # backward) are recorded with the rest of the step: at most one flush a step (before the op of a step that a
    # long record was once cut at: lazy_opaque.mjs SOFT_PENDING) and the sync's, where each of them flushed
    assert c["flushes"] <= 4 + 1, c
    # the flushes' host time, and of it the planning (what runs fused with what) before any kernel is encoded
    assert 0 < c["plan_us"] < c["flush_us"], c
    want, _ = _steps_and_flushes(make, False)
    for a, b in zip(want, got):
        assert a.shape == b.shape
        assert torch.equal(a, b), (a - b).abs().max().item()


def _dead_and_kept(a):
    for _ in range(40):
        a + a                      # nobody holds the result
    b = a * 2
    b.add_(1)                      # an in-place write into a buffer released below: dead too
    del b
    return (a * 3).exp()           # its input dies in registers but is read by a live node: runs


def test_dead_nodes_are_skipped_and_their_buffers_freed():
    a = torch.ones(64, device=GPU)
    _dead_and_kept(a)              # (the scalars 2, 1 and 3 are filled once, then cached)
    torch.webgpu.synchronize()
    live = torch.webgpu.memory_stats()["live"]
    with torch.webgpu.counter() as c:
        kept = _dead_and_kept(a)
        torch.webgpu.flush()
    assert c["dead_skipped"] == 42, c
    assert c["dispatches"] == 1 and c["fused_nodes"] == 2, c
    assert torch.webgpu.memory_stats()["live"] == live + 1
    assert torch.allclose(kept.cpu(), (torch.ones(64) * 3).exp(), rtol=1e-6, atol=0)
    # a record of nothing but dead nodes (the MAX_PENDING limit reached) runs nothing
    with torch.webgpu.counter() as c:
        for _ in range(1100):
            a + a
        torch.webgpu.flush()
    assert c["dispatches"] <= 1 and c["dead_skipped"] >= 1099, c
    assert torch.webgpu.memory_stats()["live"] == live + 1


def test_softmax_and_indexing_record_without_a_flush():
    x = torch.randn(6, 7)
    idx = torch.tensor([4, 0, 6, 2])
    g = x.to(GPU)
    gi = idx.to(GPU)
    torch.webgpu.synchronize()
    with torch.webgpu.counter() as c:
        s = torch.softmax(g * 2, dim=1)
        t = s[:, gi] + 1           # index offsets and their take
        u = torch.zeros(6, 7, device=GPU)
        u[:, gi] = t               # and a put
        r = (u * 3).log_softmax(dim=0).cumsum(dim=1)
        assert torch.webgpu.stats()["flushes"] == c._start["flushes"]   # nothing ran yet
    assert c["flushes"] == 1, c    # the counter's own, at its end
    s_c = torch.softmax(x * 2, dim=1)
    t_c = s_c[:, idx] + 1
    u_c = torch.zeros(6, 7)
    u_c[:, idx] = t_c
    want = (u_c * 3).log_softmax(dim=0).cumsum(dim=1)
    assert torch.allclose(r.cpu(), want, rtol=1e-5, atol=1e-6)


def test_index_out_of_range_still_raises():
    x = torch.ones(3, device=GPU)
    with pytest.raises(IndexError, match="out of bounds"):
        y = x[torch.tensor([1, 5], device=GPU)]
        (y * 2).cpu()
    # a bad index whose result nobody keeps is still checked (the check is an effect: never skipped as dead)
    with pytest.raises(IndexError, match="out of bounds"):
        x[torch.tensor([7], device=GPU)]
        torch.webgpu.synchronize()
    assert (x + 1).tolist() == [2.0, 2.0, 2.0]   # the error was consumed
