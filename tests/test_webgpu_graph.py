"""torch_js.webgpu.Graph / torch_js.webgpu.graph: capture once, replay with no Python (torch.cuda.CUDAGraph and
torch.cuda.graph semantics; js_bridge/webgpu/graph.mjs, torch_js/_webgpu_graph.py). Static inputs get new data
by copy_, static outputs are overwritten by each replay, capture itself runs nothing, and work that cannot be
captured (readbacks, uploads, random ops, synchronize) raises.

Runs only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`, SwiftShader); helpers from test_webgpu.py.
"""
import time

import pytest

import webgpu_only  # noqa: F401  (skips this file without the webgpu bridge)
from webgpu_kernel_keys import same_kernels
import torch_js as torch
import torch_js.nn.functional as F
from test_webgpu import GPU, assert_close, sample


@pytest.fixture(autouse=True, scope="module")
def _init():
    torch.webgpu._init_sync()
    yield


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)).to(GPU)


def _trainer():
    model = _mlp()
    return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def _step(model, opt, x, t):
    loss = F.mse_loss(model(x), t)
    loss.backward()
    opt.step()
    return loss


def _batches(n, first=10):
    return [(sample((6, 8), seed=first + i), sample((6, 4), seed=first + 100 + i)) for i in range(n)]


def _captured_training(model, opt, warmup):
    """Warm up eagerly, then capture one step (grads None before capture, as PyTorch's docs say)."""
    for x, t in warmup:
        opt.zero_grad(set_to_none=True)
        _step(model, opt, x.to(GPU), t.to(GPU))
    static_x, static_t = torch.zeros(6, 8, device=GPU), torch.zeros(6, 4, device=GPU)
    opt.zero_grad(set_to_none=True)
    g = torch.webgpu.Graph()
    with torch.webgpu.graph(g):
        static_loss = _step(model, opt, static_x, static_t)
    return g, static_x, static_t, static_loss


def test_inference_replay_runs_no_python():
    model = _mlp()
    static_in = torch.zeros(5, 8, device=GPU)
    calls = []

    def fn(x):
        calls.append(1)
        return torch.softmax(model(x) * 2.0 + 1.0, dim=-1)

    with torch.no_grad():
        fn(static_in)                                   # warm-up
        g = torch.webgpu.Graph()
        with torch.webgpu.graph(g):
            assert torch.webgpu.is_current_stream_capturing()
            static_out = fn(static_in)
        assert not torch.webgpu.is_current_stream_capturing()
        for seed in (2, 3, 4):
            x = sample((5, 8), seed=seed)
            static_in.copy_(x.to(GPU))
            g.replay()
            assert_close(fn(x.to(GPU)).cpu(), static_out, what=f"replay {seed}")
    assert len(calls) == 2 + 3                          # warm-up, capture, the eager references: not the replays
    assert "kernels" in repr(g)


def test_training_step_replay_matches_eager():
    model_g, opt_g = _trainer()
    model_e, opt_e = _trainer()
    data = _batches(6)
    for x, t in data[:2]:                               # the eager twin takes the same warm-up steps
        opt_e.zero_grad(set_to_none=True)
        _step(model_e, opt_e, x.to(GPU), t.to(GPU))
    g, static_x, static_t, static_loss = _captured_training(model_g, opt_g, data[:2])
    for p, q in zip(model_e.parameters(), model_g.parameters()):   # capture ran nothing: no update yet
        assert_close(p.detach().cpu(), q.detach(), what="after capture")
    for i, (x, t) in enumerate(data[2:]):
        static_x.copy_(x.to(GPU))
        static_t.copy_(t.to(GPU))
        g.replay()
        opt_e.zero_grad(set_to_none=True)
        loss = _step(model_e, opt_e, x.to(GPU), t.to(GPU))
        assert_close(loss.detach().cpu(), static_loss.detach(), what=f"loss, step {i}")
        for (name, p), q in zip(model_e.named_parameters(), model_g.parameters()):
            assert_close(p.detach().cpu(), q.detach(), what=f"{name}, step {i}")
            assert_close(p.grad.cpu(), q.grad, what=f"{name}.grad, step {i}")


def test_replay_does_one_eager_step_of_work():
    """A replay dispatches the kernels of one eager step, with no readback, compile or Python: its host time is
    the bridge's alone (printed, not asserted)."""
    model, opt = _trainer()
    data = _batches(4, first=40)
    x, t = data[3][0].to(GPU), data[3][1].to(GPU)
    for xx, tt in data[:3]:
        opt.zero_grad(set_to_none=True)
        _step(model, opt, xx.to(GPU), tt.to(GPU))
    for _ in range(2):                                  # the second one's kernels are compiled: time it
        opt.zero_grad(set_to_none=True)
        torch.webgpu.synchronize()
        t0 = time.perf_counter()
        with torch.webgpu.counter(kernels=True) as eager:
            loss = _step(model, opt, x, t)              # held, as the captured step's static loss is
        eager_ms = (time.perf_counter() - t0) * 1e3
        del loss
    g, static_x, static_t, _ = _captured_training(model, opt, [])
    static_x.copy_(x)
    static_t.copy_(t)
    g.replay()
    torch.webgpu.synchronize()
    with torch.webgpu.counter(kernels=True) as rep:
        g.replay()
    assert same_kernels(rep.kernels, eager.kernels), (rep.kernels, eager.kernels)
    for key in ("readbacks", "syncs", "compiles", "bytes_uploaded", "bytes_read"):
        assert rep[key] == 0, key
    n = 20
    torch.webgpu.synchronize()
    t0 = time.perf_counter()
    with torch.webgpu.counter() as many:
        for _ in range(n):
            g.replay()
    replay_ms = (time.perf_counter() - t0) * 1e3 / n
    print(f"\nMLP training step: {eager['dispatches']} dispatches; host time eager {eager_ms:.2f} ms, replay "
          f"{replay_ms:.2f} ms ({eager_ms / replay_ms:.1f}x); one replay's counters {rep.counts}; {n} replays "
          f"{many.counts}")


def test_memory_flat_over_replays():
    model, opt = _trainer()
    g, static_x, static_t, static_loss = _captured_training(model, opt, _batches(1, first=60))
    static_x.copy_(sample((6, 8), seed=61).to(GPU))
    g.replay()
    torch.webgpu.flush()
    before = torch.webgpu.memory_stats()
    for _ in range(50):
        g.replay()
    torch.webgpu.synchronize()
    after = torch.webgpu.memory_stats()
    assert (after["live"], after["allocated"]) == (before["live"], before["allocated"])
    assert after["reserved"] <= before["reserved"] + 4096, (before, after)
    assert static_loss.item() == static_loss.item()     # a value (not NaN), read after capture


def test_outputs_kept_by_the_graph_until_reset():
    x = torch.ones(4, 3, device=GPU)
    torch.webgpu.flush()
    base = torch.webgpu.memory_stats()["live"]
    g = torch.webgpu.Graph()
    with torch.webgpu.graph(g):
        h = x * 2.0
        out = (h + 1.0).sum(dim=1)
        del h
    del out                                             # the graph keeps the output's buffer
    x.fill_(2.0)
    g.replay()                                          # writes into the kept buffer: no error, no growth
    live = torch.webgpu.memory_stats()["live"]
    g.replay()
    assert torch.webgpu.memory_stats()["live"] == live > base
    g.reset()
    torch.webgpu.flush()
    assert torch.webgpu.memory_stats()["live"] == base
    with pytest.raises(RuntimeError, match="without a preceding successful capture"):
        g.replay()
    with torch.webgpu.graph(g):                         # a reset graph captures again
        out = x.sum()
    x.fill_(3.0)
    g.replay()
    assert out.item() == 36.0


def test_scalar_tensor_filled_before_capture_is_an_input():
    """A one-element tensor filled before capture is read from memory at replay (the lazy engine may not bake its
    value into the captured kernels), so fill_ between replays takes effect, as in CUDA."""
    x = torch.ones(4, device=GPU)
    scale = torch.full((), 2.0, device=GPU)
    g = torch.webgpu.Graph()
    with torch.webgpu.graph(g):
        out = x * scale + 1.0
    g.replay()
    assert out.tolist() == [3.0] * 4
    scale.fill_(5.0)
    g.replay()
    assert out.tolist() == [6.0] * 4


def test_capture_begin_twice_and_end_without_begin():
    g = torch.webgpu.Graph()
    with pytest.raises(RuntimeError, match="without a matching capture_begin"):
        g.capture_end()
    x = torch.ones(2, device=GPU)
    with torch.webgpu.graph(g):
        y = x + 1.0
    with pytest.raises(RuntimeError, match="already owns a captured graph"):
        g.capture_begin()
    g.replay()
    assert y.tolist() == [2.0, 2.0]


_UNCAPTURABLE = {
    "item": lambda y: y.sum().item(),
    "cpu": lambda y: y.cpu(),
    "tolist": lambda y: y.tolist(),
    "tensor upload": lambda y: torch.tensor([1.0, 2.0], device=GPU),
    ".to from the CPU": lambda y: torch.ones(3).to(GPU),
    "rand": lambda y: torch.rand(3, device=GPU),
    "dropout": lambda y: F.dropout(y, 0.5, training=True),
    "synchronize": lambda y: torch.webgpu.synchronize(),
}


@pytest.mark.parametrize("what", list(_UNCAPTURABLE))
def test_uncapturable_work_raises_and_abandons_capture(what):
    x = torch.ones(3, device=GPU)
    g = torch.webgpu.Graph()
    with pytest.raises(RuntimeError, match="not permitted while a graph is being captured"):
        with torch.webgpu.graph(g):
            _UNCAPTURABLE[what](x * 2.0)
    assert not torch.webgpu.is_current_stream_capturing()
    with pytest.raises(RuntimeError, match="without a preceding successful capture"):
        g.replay()
    assert (x * 3.0).tolist() == [3.0, 3.0, 3.0]        # the device works as before


def test_repr_during_capture_says_why_no_value():
    x = torch.ones(3, device=GPU)
    g = torch.webgpu.Graph()
    with torch.webgpu.graph(g):
        text = repr(x * 2.0)                            # repr never raises: it says why the value is missing
    assert "not permitted while a graph is being captured" in text


def test_make_graphed_callables_forward_and_backward():
    """A graphed Module and a graphed function: outputs, input grads and parameter grads equal an eager twin's."""
    module_g, module_e = _mlp(), _mlp()

    def scaled_tanh(a, b):
        return torch.tanh(a * b) * 3.0

    x0 = sample((6, 8), seed=70).to(GPU).requires_grad_()
    a0, b0 = sample((4, 5), seed=71).to(GPU).requires_grad_(), sample((4, 5), seed=72).to(GPU)
    graphed_module, graphed_fn = torch.webgpu.make_graphed_callables((module_g, scaled_tanh), ((x0,), (a0, b0)))
    assert graphed_module is module_g
    for step in range(2):
        x = sample((6, 8), seed=73 + step).to(GPU)
        xg, xe = x.clone().requires_grad_(), x.clone().requires_grad_()
        out_g, out_e = graphed_module(xg), module_e(xe)
        assert_close(out_e.detach().cpu(), out_g.detach(), what=f"module out {step}")
        (out_g * out_g).sum().backward()
        (out_e * out_e).sum().backward()
        assert_close(xe.grad.cpu(), xg.grad, what=f"input grad {step}")
        for (name, p), q in zip(module_e.named_parameters(), module_g.parameters()):
            assert_close(p.grad.cpu(), q.grad, what=f"{name}.grad {step}")
        a = sample((4, 5), seed=80 + step).to(GPU)
        ag, ae = a.clone().requires_grad_(), a.clone().requires_grad_()
        yg, ye = graphed_fn(ag, b0), scaled_tanh(ae, b0)
        assert_close(ye.detach().cpu(), yg.detach(), what=f"fn out {step}")
        yg.sum().backward()
        ye.sum().backward()
        assert_close(ae.grad.cpu(), ag.grad, what=f"fn input grad {step}")


# ---- capturable optimizers and torch.compile(mode="reduce-overhead") (_dynamo/graph_replay.py) ---------------------

def _adam_run(capturable, steps, amsgrad=False, weight_decay=0.0, decoupled=False):
    model = _mlp()
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls(model.parameters(), lr=0.02, amsgrad=amsgrad, weight_decay=weight_decay, capturable=capturable)
    for x, t in _batches(steps, first=200):
        opt.zero_grad()
        _step(model, opt, x.to(GPU), t.to(GPU))
    return model, opt


@pytest.mark.parametrize("variant", [{}, {"amsgrad": True}, {"weight_decay": 0.1}, {"weight_decay": 0.1, "decoupled": True}],
                         ids=["adam", "amsgrad", "l2", "adamw"])
def test_adam_capturable_keeps_the_step_on_the_device(variant):
    """capturable=True: the step count is a float32 tensor on the params' device, and the update (bias corrections
    on the device, in PyTorch's capturable order) gives what the host-side form gives, to float32 rounding."""
    host, _ = _adam_run(False, 4, **variant)
    dev, opt = _adam_run(True, 4, **variant)
    step = opt.state[next(dev.parameters())]["step"]
    assert step.device.type == "webgpu" and step.dtype == torch.float32 and step.item() == 4.0
    for (name, p), q in zip(host.named_parameters(), dev.parameters()):
        assert_close(p.detach().cpu(), q.detach(), what=name, atol=2e-6, rtol=2e-6)


def test_capture_refuses_a_host_side_optimizer_step():
    model, opt = _trainer()
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    x, t = (a.to(GPU) for a in _batches(1)[0])
    _step(model, adam, x, t)
    g = torch.webgpu.Graph()
    with pytest.raises(RuntimeError, match="capture of step\\(\\) for an instance of Adam but param_groups' "
                                           "capturable is False"):
        with torch.webgpu.graph(g):
            _step(model, adam, x, t)
    rms = torch.optim.RMSprop(model.parameters(), capturable=True)
    with pytest.raises(RuntimeError, match="RMSprop\\(capturable=True\\) is not implemented"):
        with torch.webgpu.graph(torch.webgpu.Graph()):
            _step(model, rms, x, t)


def _counting(model):
    calls = [0]
    model.register_forward_pre_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


def test_compile_reduce_overhead_replays_inference():
    """After one eager call and one captured one, a call is a replay: no module code runs, and the outputs equal
    the eager module's and stay valid after later calls."""
    model = _mlp()
    calls = _counting(model)
    compiled = torch.compile(model, mode="reduce-overhead")
    with torch.no_grad():
        xs = [sample((6, 8), seed=300 + i).to(GPU) for i in range(5)]
        outs = [compiled(x) for x in xs]
        assert calls[0] == 2
        with torch.webgpu.counter() as c:
            compiled(xs[0])
        assert c["readbacks"] == 0 and c["compiles"] == 0
        for x, y in zip(xs, outs):
            assert_close(model(x).cpu(), y, what="compiled output")
    y = compiled(xs[0])            # grad mode on: a new signature, eager first
    assert y.requires_grad and calls[0] == 8


@pytest.mark.parametrize("where", ["module", "step"])
def test_compile_reduce_overhead_trains_as_eager(where):
    """A compiled module with backward outside (both graphs replayed), or a whole compiled training step, with
    Adam(capturable=True): losses and weights equal eager training's; a learning-rate change re-captures."""
    def run(compiled):
        model = _mlp()
        calls = _counting(model)
        opt = torch.optim.Adam(model.parameters(), lr=0.02, capturable=True)
        net = torch.compile(model, mode="reduce-overhead") if compiled and where == "module" else model

        def step(x, t):
            opt.zero_grad()
            loss = F.mse_loss(net(x), t)
            loss.backward()
            opt.step()
            return loss
        if compiled and where == "step":
            step = torch.compile(step, mode="reduce-overhead")
        losses = []
        for i, (x, t) in enumerate(_batches(6, first=400)):
            if i == 4:
                opt.param_groups[0]["lr"] = 0.005
            losses.append(step(x.to(GPU), t.to(GPU)).item())
        return losses, model, calls[0]
    eager_losses, eager_model, _ = run(False)
    losses, model, calls = run(True)
    # eager, capture, replays (and a step re-captured at the lr change its graph froze)
    assert calls == (3 if where == "step" else 2)
    assert losses == pytest.approx(eager_losses, rel=1e-5, abs=1e-6)
    for (name, p), q in zip(eager_model.named_parameters(), model.parameters()):
        assert_close(p.detach().cpu(), q.detach(), what=name)


def test_compile_reduce_overhead_falls_back_to_eager_and_says_why():
    model = _mlp()
    adam = torch.optim.Adam(model.parameters(), lr=0.01)          # capturable=False: its step reads the host

    @torch.compile(mode="reduce-overhead")
    def step(x, t):
        adam.zero_grad()
        loss = F.mse_loss(model(x), t)
        loss.backward()
        adam.step()
        return loss

    @torch.compile(mode="reduce-overhead")
    def reads_back(x):
        return x * x.sum().item()

    x, t = (a.to(GPU) for a in _batches(1)[0])
    with pytest.warns(UserWarning, match="runs eagerly.*capturable is False"):
        for _ in range(3):
            step(x, t)
    with pytest.warns(UserWarning, match="runs eagerly.*not permitted while a graph is being captured"):
        for _ in range(3):
            y = reads_back(x)
    assert_close((x * x.sum()).cpu(), y, what="eager fallback")


def test_compile_reduce_overhead_waits_for_a_pending_backward():
    """Two forward calls before their backward: the second runs eagerly (a replay would overwrite the
    activations the first one's backward reads), and the gradients equal the eager module's."""
    model_c, model_e = _mlp(), _mlp()
    compiled = torch.compile(model_c, mode="reduce-overhead")
    xs = [sample((6, 8), seed=500 + i).to(GPU) for i in range(4)]
    for x in xs[:2]:
        compiled(x).sum().backward()                 # eager, then captured
        model_e(x).sum().backward()
    a, b = compiled(xs[2]), compiled(xs[3])
    (a.square().sum() + b.sum()).backward()
    (model_e(xs[2]).square().sum() + model_e(xs[3]).sum()).backward()
    for (name, p), q in zip(model_e.named_parameters(), model_c.parameters()):
        assert_close(p.grad.cpu(), q.grad, what=f"{name}.grad")


def test_compile_captures_positions_made_on_the_device():
    """torch.arange(T, device=...) inside forward (GPT-style position ids) runs as kernels, not an upload, so the
    forward is captured and replayed."""
    class Positional(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = torch.nn.Embedding(11, 6), torch.nn.Embedding(8, 6)

        def forward(self, idx):
            return self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))

    torch.manual_seed(0)
    model = Positional().to(GPU)
    calls = _counting(model)
    compiled = torch.compile(model, mode="reduce-overhead")
    with torch.no_grad():
        for i in range(4):
            idx = torch.tensor([[i, 3, 5, 7, 10]]).to(GPU)
            assert_close(model(idx).cpu(), compiled(idx), what=f"call {i}")
    assert calls[0] == 4 + 2


def test_compile_step_with_a_tensor_lr_schedule_and_grad_clipping():
    """A nanoGPT-style step: AdamW with a device tensor lr (capturable) that a cosine schedule fills in place each
    step, grad-norm clipping: captured once (no re-capture as the lr moves), losses equal eager training's."""
    def run(compiled):
        model = _mlp()
        calls = _counting(model)
        opt = torch.optim.AdamW(model.parameters(), lr=torch.tensor(0.02, device=GPU), capturable=True)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=6)

        def step(x, t):
            opt.zero_grad()
            loss = F.mse_loss(model(x), t)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            return loss
        if compiled:
            step = torch.compile(step, mode="reduce-overhead")
        losses = []
        for x, t in _batches(5, first=600):
            losses.append(step(x.to(GPU), t.to(GPU)).item())
            sched.step()
        return losses, calls[0]
    eager, _ = run(False)
    compiled, calls = run(True)
    assert calls == 2
    assert compiled == pytest.approx(eager, rel=1e-5, abs=1e-6)


def test_scalars_made_during_capture_do_not_leak_into_eager_ops():
    """An op with a new Python scalar inside a capture makes a scalar operand that only a replay fills: eager code
    after the capture (before any replay) must not be handed that unfilled operand (int64: never baked in)."""
    x = torch.arange(4, device=GPU)
    g = torch.webgpu.Graph()
    with torch.webgpu.graph(g):
        y = x + 12345
    assert (torch.zeros(4, dtype=torch.int64, device=GPU) + 12345).tolist() == [12345] * 4
    g.replay()
    assert y.tolist() == [12345, 12346, 12347, 12348]
