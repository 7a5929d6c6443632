"""examples/smollm2's graph decoding (generate(..., graph=True)) on a tiny random Llama (2 layers, d 64, vocab 128,
grouped-query attention), so no GGUF file is needed: the position as a device tensor gives the int position's
logits (torch_js and PyTorch on the same model code); on webgpu, the captured and replayed decoding step gives the
eager greedy tokens, and a replay is one eager step's dispatches with no readback and no Python; replays run
readback_every at a time, their ids read back together from a token history on the device (one readback per batch),
give the eager tokens for any batch size, stop ids inside a batch and lengths that are no multiple of it included,
and never write past the cache. On CPython (torch_js and PyTorch, cpu): the history the steps write.

The webgpu tests run only in Pyodide with the WebGPU bridge loaded (`make test-webgpu`, SwiftShader).
"""
import time

import pytest

import torch_js

from example_modules import load_example
from webgpu_kernel_keys import same_kernels
from optional_torch import needs_torch, torch

try:
    import js  # noqa: F401  (Pyodide)
    WEBGPU = torch_js.webgpu.is_available()
except ImportError:
    WEBGPU = False
needs_webgpu = pytest.mark.skipif(not WEBGPU, reason="webgpu bridge not loaded (run `make test-webgpu`)")

PROMPT = [5, 17, 99, 3, 42, 64]
NEW = 8


def _tiny(model_mod, torch_module, device="cpu"):
    """The same random tiny Llama whichever torch runs it (weights drawn by torch_js, copied as lists)."""
    torch_js.manual_seed(0)
    cfg = model_mod.LlamaConfig(vocab_size=128, dim=64, n_layers=2, n_heads=4, n_kv_heads=2, ffn_dim=96,
                                rope_theta=10000.0, norm_eps=1e-5, context_length=64)
    reference = load_example("smollm2/model", "smollm2_model_tiny_weights", torch_js).Llama(cfg)
    for p in reference.parameters():            # larger than nn.Linear's init, so that the logits spread
        p.data.mul_(4.0)
    weights = {k: v.tolist() for k, v in reference.state_dict().items()}
    model = model_mod.Llama(cfg)
    model.load_state_dict({k: torch_module.tensor(v) for k, v in weights.items()})
    return model.eval().to(device)


def _eager_with_logits(model_mod, model):
    logits = []
    ids = model_mod.generate(model, PROMPT, NEW, on_logits=lambda x: logits.append(x.cpu().tolist()[0]))
    return ids, logits


def _max_diff(a, b):
    """The largest difference of two lists of logit rows, relative to the largest logit."""
    scale = max(abs(x) for row in a for x in row)
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)) / scale


def _tensor_position_steps(model_mod, torch_module, model):
    """Greedy decoding by model.step with the position and the token as device tensors (greedy_step), no graph;
    also the device-side token history the steps write (id i at position len(PROMPT) + i)."""
    device = model.token_embd.weight.device
    with torch_module.no_grad():
        model.setup_cache(len(PROMPT) + NEW)
        logits = model(torch_module.tensor([PROMPT], device=device))
        ids, pos = logits.argmax(-1, keepdim=True), torch_module.tensor([len(PROMPT)], device=device)
        history = torch_module.zeros(len(PROMPT) + NEW, dtype=torch_module.int64, device=device)
        out, rows = [], []
        for i in range(NEW):
            rows.append(logits.cpu().tolist()[0])
            out.append(int(ids.item()))
            if i < NEW - 1:                       # the last id needs no step after it: the cache holds no more
                logits = model_mod.greedy_step(model, ids, pos, history)
    return out, rows, history.tolist()


@pytest.mark.parametrize("which", ["torch_js", pytest.param("pytorch", marks=needs_torch)])
def test_tensor_position_step_equals_int_position(which):
    torch_module = torch_js if which == "torch_js" else torch
    model_mod = load_example("smollm2/model", f"smollm2_model_{which}", torch_module)
    model = _tiny(model_mod, torch_module)
    ids, logits = _eager_with_logits(model_mod, model)
    step_ids, step_logits, history = _tensor_position_steps(model_mod, torch_module, model)
    assert step_ids == ids and len(set(ids)) > 1
    assert _max_diff(step_logits, logits) < 2e-5
    assert history == [0] * (len(PROMPT) + 1) + ids[1:]
    if which == "pytorch":                        # the same model code under torch_js gives PyTorch's tokens
        js_mod = load_example("smollm2/model", "smollm2_model_js", torch_js)
        js_ids, js_logits = _eager_with_logits(js_mod, _tiny(js_mod, torch_js))
        assert js_ids == ids and _max_diff(js_logits, logits) < 2e-5


def test_graph_needs_a_gpu_and_greedy():
    model_mod = load_example("smollm2/model", "smollm2_model_torch_js", torch_js)
    model = _tiny(model_mod, torch_js)
    with pytest.raises(ValueError, match="graph decoding needs a GPU device"):
        model_mod.generate(model, PROMPT, 3, graph=True)


@needs_webgpu
def test_graph_decoding_equals_eager_on_webgpu():
    torch_js.webgpu._init_sync()
    model_mod = load_example("smollm2/model", "smollm2_model_torch_js", torch_js)
    model = _tiny(model_mod, torch_js, "webgpu")
    ids, logits = _eager_with_logits(model_mod, model)
    graph_logits = []      # on_logits forces readback_every 1: a batch would leave it only its last step's logits
    graph_ids = model_mod.generate(model, PROMPT, NEW, graph=True,
                                   on_logits=lambda x: graph_logits.append(x.cpu().tolist()[0]))
    assert graph_ids == ids and len(set(ids)) > 1
    assert _max_diff(graph_logits, logits) < 2e-5
    with pytest.raises(ValueError, match="graph decoding is greedy"):
        model_mod.generate(model, PROMPT, 3, temperature=0.8, graph=True)


def _counting_graphs(model_mod, monkeypatch):
    """The replays generate_graphed runs, counted (its graph class, wrapped)."""
    graph_class, capture = model_mod.graph_api(torch_js.device("webgpu"))
    replays = []

    class CountingGraph(graph_class):
        def replay(self):
            replays.append(1)
            return super().replay()
    monkeypatch.setattr(model_mod, "graph_api", lambda device: (CountingGraph, capture))
    return replays


@needs_webgpu
@pytest.mark.parametrize("k, new", [(1, 20), (3, 20), (8, 20), (8, 4), (8, 3), (25, 20)])
def test_batched_readbacks_keep_the_eager_tokens(monkeypatch, k, new):
    """readback_every K: K replays back to back, then their K ids in one readback; the tokens are the eager ones
    whatever K, the last batch is cut to the steps max_new_tokens needs (new - 1 in all), the cache's last position
    is never written (the last step writes position len(PROMPT) + new - 2)."""
    torch_js.webgpu._init_sync()
    model_mod = load_example("smollm2/model", "smollm2_model_torch_js", torch_js)
    model = _tiny(model_mod, torch_js, "webgpu")
    eager = model_mod.generate(model, PROMPT, new)
    replays = _counting_graphs(model_mod, monkeypatch)
    warmup = 2
    with torch_js.webgpu.counter() as c:
        ids = model_mod.generate(model, PROMPT, new, graph=True, warmup=warmup, readback_every=k)
    assert ids == eager and len(set(ids)) > 1
    n_replays = max(0, new - 1 - warmup)
    assert len(replays) == n_replays
    # the first id, one per eager step, then one per batch of k replays
    assert c["readbacks"] == 1 + min(warmup, new - 1) + -(-n_replays // k)
    for block in model.blk:
        assert not block.cache_k[:, :, -1].abs().sum().item() and block.cache_k[:, :, -2].abs().sum().item()


@needs_webgpu
@pytest.mark.parametrize("k", [3, 8])
def test_stop_inside_a_batch(monkeypatch, k):
    """A stop id that first comes inside a batch (not as its first id): the eager output up to it, the ids decoded
    after it in that batch dropped, and no replay after that batch."""
    torch_js.webgpu._init_sync()
    model_mod = load_example("smollm2/model", "smollm2_model_torch_js", torch_js)
    model = _tiny(model_mod, torch_js, "webgpu")
    new, warmup = 20, 2
    eager = model_mod.generate(model, PROMPT, new)
    # id i >= warmup + 1 comes from replay i - warmup; a batch's first id has (i - warmup - 1) % k == 0
    at = next(i for i in range(warmup + 2, new) if eager[i] not in eager[:i] and (i - warmup - 1) % k)
    stop = {eager[at]}
    assert model_mod.generate(model, PROMPT, new, stop_ids=stop) == eager[:at]
    replays = _counting_graphs(model_mod, monkeypatch)
    emitted = []
    ids = model_mod.generate(model, PROMPT, new, stop_ids=stop, on_token=emitted.append, graph=True, warmup=warmup,
                             readback_every=k)
    assert ids == emitted == eager[:at]
    assert len(replays) == min(-(-(at - warmup) // k) * k, new - 1 - warmup)


@needs_webgpu
def test_replay_is_one_eager_step_without_python():
    """A replayed decoding step dispatches the kernels of one eager step, reads nothing back and runs no model
    code; a token then costs that replay and one readback (its id). Host times printed, not asserted."""
    torch_js.webgpu._init_sync()
    model_mod = load_example("smollm2/model", "smollm2_model_torch_js", torch_js)
    model = _tiny(model_mod, torch_js, "webgpu")
    layer_calls = []
    for block in model.blk:
        block.register_forward_pre_hook(lambda module, args: layer_calls.append(1))
    with torch_js.no_grad():
        model.setup_cache(len(PROMPT) + 3 + 2 * 20)
        logits = model(torch_js.tensor([PROMPT], device="webgpu"))
        ids, pos = logits.argmax(-1, keepdim=True), torch_js.tensor([len(PROMPT)], device="webgpu")
        for _ in range(2):                        # the second one's kernels are compiled: count and time it
            torch_js.webgpu.synchronize()
            t0 = time.perf_counter()
            with torch_js.webgpu.counter(kernels=True) as eager:
                logits = model_mod.greedy_step(model, ids, pos)
            eager_ms = (time.perf_counter() - t0) * 1e3
            ids.item()
        del logits
        g = torch_js.webgpu.Graph()
        with torch_js.webgpu.graph(g):
            model_mod.greedy_step(model, ids, pos)
        g.replay()
        torch_js.webgpu.synchronize()
        layer_calls.clear()
        with torch_js.webgpu.counter(kernels=True) as rep:
            g.replay()
        assert same_kernels(rep.kernels, eager.kernels) and rep["dispatches"] > 0
        for key in ("readbacks", "syncs", "compiles", "bytes_uploaded", "bytes_read"):
            assert rep[key] == 0, key
        with torch_js.webgpu.counter() as token:
            g.replay()
            ids.item()
        assert token["readbacks"] == 1 and token["bytes_uploaded"] == 0
        assert layer_calls == []
        n = 20
        torch_js.webgpu.synchronize()
        t0 = time.perf_counter()
        for _ in range(n):
            g.replay()
        replay_ms = (time.perf_counter() - t0) * 1e3 / n
        torch_js.webgpu.synchronize()
    print(f"\ntiny Llama decoding step: {eager['dispatches']} dispatches; host time eager {eager_ms:.2f} ms, replay "
          f"{replay_ms:.2f} ms ({eager_ms / replay_ms:.1f}x)")
