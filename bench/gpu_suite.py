"""Issue 16's workloads, written once against the torch API, run by PyTorch (CUDA eager, CPU one thread) and by
torch_js (webgpu in Pyodide-in-Node; wasm CPU) so the figures sit side by side from one source:

    python3 bench/gpu_suite.py --device cuda --json cuda.json                 # PyTorch on the GPU
    python3 bench/gpu_suite.py --device cpu --threads 1 --json cpu.json       # PyTorch, one CPU thread
    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/gpu_suite.py --device webgpu --json webgpu.json

`import torch` is PyTorch under python3 and torch_js under pyrun.mjs (which installs torch_js as torch).
--only a,b runs a subset; --quick shrinks step counts (a smoke test on SwiftShader, where times mean nothing).

Workloads (float32, data made on the device once, random weights from a fixed seed):
  tiny_op_us         host µs to issue `a + a` on 4 elements (recorded, not waited on); the queue is drained after
  tiny_op_item_us    `(a + a).sum().item()`: an op and a readback, µs each
  matmul_N           N x N @ N x N, N = 256 .. 4096: TFLOP/s with 10 back to back then one sync ("batch", the
                     second such round: outputs in allocated memory, as in a program's steady state), and with a
                     one-element readback after each ("sync")
  mlp_step_ms        MLP 784-512-512-10, batch 256: zero_grad, forward, cross-entropy, backward, Adam step
  mlp_step_graph_ms  the same step (Adam capturable=True) captured once as a graph and replayed (cuda, webgpu)
  mlp_step_compiled_ms  the same step under torch.compile(backend="cudagraphs") (cuda, webgpu)
  cnn_step_ms        2 conv + 2 pool + linear on 1x28x28, batch 64, Adam step
  gpt2_forward_ms    GPT-2-small shapes (12 layers, d 768, 12 heads, vocab 50257), batch 1, seq 128, no_grad,
                     logits read back
  gpt2_forward_compiled_ms  the same under torch.compile(backend="cudagraphs") (cuda, webgpu)
  gpt2_train_ms      the same model: forward, loss, backward, AdamW step, loss read back
  decode_tok_s       a 135M Llama-shaped model (SmolLM2-135M's shapes: 30 layers, d 576, 9 heads, 3 KV heads,
                     MLP 1536, vocab 49152) generating greedily with a KV cache: tokens per second after a 16-token
                     prompt, each token read back (the loop a chat demo runs)
  decode_graph_tok_s examples/smollm2's model with the same shapes (random weights, static KV cache) decoding
                     greedily by one replayed graph per token, each id read back after its replay (generate.py
                     --graph --readback-every 1; cuda and webgpu only)
  decode_graph_batched_tok_s  the same, 8 replays back to back then their 8 ids in one readback (--graph, its
                     default --readback-every 8: the GPU does not wait for the host between tokens); both report
                     under torch_js the GPU work of the whole generate call (prompt, warm-up steps, capture
                     included) per generated token (per_token_readbacks, per_token_submits, ...)
Every step-type workload reports the mean of its timed steps after warm-up, and under torch_js the GPU work of
one step (dispatches, submits, readbacks) from torch.webgpu.counter().
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

IS_TORCH_JS = hasattr(torch, "webgpu") and hasattr(torch.webgpu, "counter")


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()
    elif device == "webgpu":
        torch.webgpu.synchronize()


class Counter:
    """torch.webgpu.counter() under torch_js on webgpu; nothing elsewhere."""

    def __init__(self, device):
        self.active = IS_TORCH_JS and device == "webgpu"
        self.counts = {}

    def __enter__(self):
        if self.active:
            self._c = torch.webgpu.counter()
            self._c.__enter__()
        return self

    def __exit__(self, *exc):
        if self.active:
            self._c.__exit__(*exc)
            self.counts = {k: self._c[k] for k in ("dispatches", "submits", "readbacks")}
            # the step's host time in the bridge (lazy flushes, encoding) and its wait for readbacks, in µs
            self.counts.update({k: round(self._c[k]) for k in ("flush_us", "plan_us", "encode_us", "wait_us",
                                                                "bind_groups_created", "buffers_created", "plan_hits")})
        return False


def timed_steps(step, device, warmup, steps):
    """Mean ms per step over `steps` after `warmup`, the queue drained inside the timing; the GPU work of one step.
    The warm-up runs twice, drained after each: a lazy engine fuses the steps right after a sync, and the one before
    it, into kernels of their own (which values are still held differs there), compiled once, here, not in the
    timing."""
    for _ in range(2):
        for _ in range(warmup):
            step()
        sync(device)
    with Counter(device) as c:
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return {"ms": (time.perf_counter() - t0) * 1e3 / steps, **c.counts}


# ---- small ops ---------------------------------------------------------------------------------------------------

def tiny_op(device, n):
    """Host µs per recorded `a + a`, its code warm (V8's JIT, CPython's specializing interpreter), as in a long
    program: the best of 5 rounds of n / 5 after n / 2 calls of warm-up (20 calls, earlier, read 2-3x high)."""
    a = torch.ones(4, device=device)
    for _ in range(max(n // 2, 20)):
        a + a
    sync(device)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n // 5):
            a + a
        best = min(best, time.perf_counter() - t0)
        sync(device)
    return {"us": best * 1e6 / (n // 5)}


def tiny_op_item(device, n):
    """µs per `(a + a).sum().item()`; under torch_js on webgpu also where they go, per call: waiting for the readback
    (wait_us: submit to mapped), the lazy flush and the bridge's own host time, and a JSPI round trip alone
    (run_sync of a resolved promise: what stack switching costs this JS engine)."""
    a = torch.ones(4, device=device)
    for _ in range(5):
        (a + a).sum().item()
    counting = IS_TORCH_JS and device == "webgpu"
    c = torch.webgpu.counter() if counting else contextlib.nullcontext()
    with c:
        t0 = time.perf_counter()
        for _ in range(n):
            (a + a).sum().item()
        us = (time.perf_counter() - t0) * 1e6 / n
    if not counting:
        return {"us": us}
    from pyodide.ffi import run_sync  # type: ignore  (torch_js on webgpu runs in Pyodide)
    import js  # type: ignore
    t0 = time.perf_counter()
    for _ in range(n):
        run_sync(js.Promise.resolve(0))
    per = {k: round(c[k] / n, 1) for k in ("wait_us", "flush_us", "plan_us", "bridge_us", "encode_us")}
    return {"us": us, **per, "run_sync_us": (time.perf_counter() - t0) * 1e6 / n}


def matmul(device, n, reps):
    g = torch.Generator().manual_seed(n)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    flop = 2.0 * n ** 3
    for _ in range(3):
        (a @ b)[0, 0].item()
    for timed in (False, True):   # the first round fills the allocator's pool with `reps` outputs; the second is timed
        t0 = time.perf_counter()
        kept = [a @ b for _ in range(reps)]     # held: a lazy engine never computes a product nobody keeps
        kept[-1][0, 0].item()
        sync(device)
        batch = (time.perf_counter() - t0) / reps
        del kept
    t0 = time.perf_counter()
    for _ in range(reps):
        (a @ b)[0, 0].item()
    single = (time.perf_counter() - t0) / reps
    return {"batch_tflops": flop / batch / 1e12, "sync_tflops": flop / single / 1e12}


# ---- training steps ----------------------------------------------------------------------------------------------

def train_step_fn(model, opt, x, y):
    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def _mlp(device):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10)).to(device)
    x, y = torch.randn(256, 784).to(device), torch.randint(0, 10, (256,)).to(device)
    return model, x, y


def mlp_step(device, warmup, steps):
    model, x, y = _mlp(device)
    return timed_steps(train_step_fn(model, torch.optim.Adam(model.parameters(), 1e-3), x, y), device, warmup, steps)


def mlp_step_graph(device, warmup, steps):
    """mlp_step's model and data, its step captured once as a graph (torch.cuda.graph / torch.webgpu.graph) and
    replayed: ms per replay. Adam with capturable=True (its step count on the device, as a capture needs). Warm-up
    on a side stream and grads None before capture, as PyTorch's CUDA graph docs say."""
    model, x, y = _mlp(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3, capturable=True)

    def warm_up():
        for _ in range(max(warmup, 3)):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()

    if device == "cuda":
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            warm_up()
        torch.cuda.current_stream().wait_stream(side)
        g, capture = torch.cuda.CUDAGraph(), torch.cuda.graph
    else:
        warm_up()
        g, capture = torch.webgpu.Graph(), torch.webgpu.graph
    opt.zero_grad(set_to_none=True)
    with capture(g):
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return timed_steps(g.replay, device, warmup, steps)


def mlp_step_compiled(device, warmup, steps):
    """mlp_step as a user would speed it up: the whole step under torch.compile(backend="cudagraphs") (PyTorch:
    dynamo + CUDA graphs, no Triton; torch_js: the step captured once and replayed), Adam(capturable=True)."""
    model, x, y = _mlp(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3, capturable=True)
    return timed_steps(torch.compile(train_step_fn(model, opt, x, y), backend="cudagraphs"), device,
                       max(warmup, 3), steps)


def cnn_step(device, warmup, steps):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(32 * 7 * 7, 10)).to(device)
    x, y = torch.randn(64, 1, 28, 28).to(device), torch.randint(0, 10, (64,)).to(device)
    return timed_steps(train_step_fn(model, torch.optim.Adam(model.parameters(), 1e-3), x, y), device, warmup, steps)


# ---- GPT-2-small shapes ------------------------------------------------------------------------------------------

class GPT2Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).contiguous().view(b, t, d))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab=50257, ctx=1024, d=768, layers=12, heads=12):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
        self.h = nn.ModuleList(GPT2Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx):
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


def gpt2_forward_step(device, seq=128):
    """One GPT-2-small forward (no_grad) with a logit read back, as a step function (the profilers use it too)."""
    torch.manual_seed(0)
    model = GPT2().to(device).eval()
    idx = torch.randint(0, 50257, (1, seq)).to(device)

    def step():
        with torch.no_grad():
            model(idx)[0, -1, 0].item()
    return step


def gpt2_forward(device, warmup, steps, seq=128):
    return timed_steps(gpt2_forward_step(device, seq), device, warmup, steps)


def gpt2_forward_compiled(device, warmup, steps, seq=128):
    """gpt2_forward with the model under torch.compile(backend="cudagraphs"): its forward replayed."""
    torch.manual_seed(0)
    model = torch.compile(GPT2().to(device).eval(), backend="cudagraphs")
    idx = torch.randint(0, 50257, (1, seq)).to(device)

    def step():
        with torch.no_grad():
            model(idx)[0, -1, 0].item()
    return timed_steps(step, device, max(warmup, 3), steps)


def gpt2_train_step(device, seq=128):
    """One GPT-2-small training step (forward, loss, backward, AdamW), the loss read back, as a step function."""
    torch.manual_seed(0)
    model = GPT2().to(device)
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    idx = torch.randint(0, 50257, (1, seq + 1)).to(device)
    x, y = idx[:, :-1], idx[:, 1:]

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x).view(-1, 50257), y.reshape(-1))
        loss.backward()
        opt.step()
        loss.item()
    return step


def gpt2_train(device, warmup, steps, seq=128):
    return timed_steps(gpt2_train_step(device, seq), device, warmup, steps)


# ---- 135M Llama-shaped decoding with a KV cache -----------------------------------------------------------------

def rope(x, pos, base=10000.0):
    """Rotary embedding of x (b, h, t, hd) at absolute positions pos (t,): the half-split form Llama uses."""
    hd = x.shape[-1]
    inv = 1.0 / base ** (torch.arange(0, hd, 2, device=x.device).float() / hd)
    ang = pos.float()[:, None] * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class LlamaBlock(nn.Module):
    def __init__(self, d, heads, kv_heads, hidden):
        super().__init__()
        self.heads, self.kv_heads, self.hd = heads, kv_heads, d // heads
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.v = nn.Linear(d, kv_heads * self.hd, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.gate, self.up = nn.Linear(d, hidden, bias=False), nn.Linear(d, hidden, bias=False)
        self.down = nn.Linear(hidden, d, bias=False)
        self.n1, self.n2 = nn.RMSNorm(d, eps=1e-5), nn.RMSNorm(d, eps=1e-5)

    def forward(self, x, pos, cache):
        b, t, d = x.shape
        h = self.n1(x)
        q = self.q(h).view(b, t, self.heads, self.hd).transpose(1, 2)
        k = self.k(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        v = self.v(h).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
        q, k = rope(q, pos), rope(k, pos)
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        rep = self.heads // self.kv_heads
        y = F.scaled_dot_product_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1),
                                           is_causal=cache is None)
        x = x + self.o(y.transpose(1, 2).reshape(b, t, d))
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h)), (k, v)


class Llama(nn.Module):
    def __init__(self, vocab=49152, d=576, layers=30, heads=9, kv_heads=3, hidden=1536):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.layers = nn.ModuleList(LlamaBlock(d, heads, kv_heads, hidden) for _ in range(layers))
        self.norm = nn.RMSNorm(d, eps=1e-5)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, idx, start, caches):
        pos = torch.arange(start, start + idx.shape[1], device=idx.device)
        x = self.embed(idx)
        new = []
        for layer, cache in zip(self.layers, caches):
            x, c = layer(x, pos, cache)
            new.append(c)
        return self.head(self.norm(x[:, -1:])), new


def decode(device, tokens, prompt=16):
    torch.manual_seed(0)
    model = Llama().to(device).eval()
    for p in model.parameters():
        p.data.mul_(0.5)    # keep random activations in range over 30 layers
    idx = torch.randint(0, 49152, (1, prompt)).to(device)
    with torch.no_grad():
        def generate(n):
            logits, caches = model(idx, 0, [None] * len(model.layers))
            tok = logits.argmax(-1)
            out = [int(tok.item())]
            for i in range(n - 1):
                logits, caches = model(tok, prompt + i, caches)
                tok = logits.argmax(-1)
                out.append(int(tok.item()))
            return out
        generate(4)
        t0 = time.perf_counter()
        generate(1)
        prefill = time.perf_counter() - t0
        logits, caches = model(idx, 0, [None] * len(model.layers))
        tok = logits.argmax(-1)
        with Counter(device) as c:     # one decoding step's GPU work
            logits, caches = model(tok, prompt, caches)
            int(logits.argmax(-1).item())
        t0 = time.perf_counter()
        out = generate(tokens)
        total = time.perf_counter() - t0
    per_token = (total - prefill) / (tokens - 1)
    return {"tok_s": 1.0 / per_token, "prefill_ms": prefill * 1e3, "first_tokens": out[:8],
            **{f"token_{k}": v for k, v in c.counts.items()}}


def decode_graph(device, tokens, readback_every, prompt=16):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "smollm2"))
    from model import Llama as SmolLlama, LlamaConfig, generate
    torch.manual_seed(0)
    cfg = LlamaConfig(49152, 576, 30, 9, 3, 1536, 100000.0, 1e-5, 2048)
    model = SmolLlama(cfg).to(device).eval()
    for p in model.parameters():
        p.data.mul_(0.5)
    ids = torch.randint(0, cfg.vocab_size, (prompt,)).tolist()
    k, warmup = readback_every, 2
    generate(model, ids, 6, graph=True, warmup=warmup, readback_every=k)          # compiles the kernels
    stamps = []
    with Counter(device) as c:
        out = generate(model, ids, tokens, graph=True, warmup=warmup, readback_every=k,
                       on_token=lambda _: stamps.append(time.perf_counter()))
    # id i > warmup comes from replay i - warmup; replays come k at a time, their ids read together: the clock runs
    # from the readback of the first batch (after the eager warm-up steps and the capture) to that of the last full
    # one, over the ids of the batches in between
    batches = (tokens - 1 - warmup) // k
    first, last = warmup + k, warmup + batches * k
    return {"tok_s": (last - first) / (stamps[last] - stamps[first]), "readback_every": k, "first_tokens": out[:8],
            **{f"per_token_{n}": v / len(out) for n, v in c.counts.items()}}


# ---- driver ------------------------------------------------------------------------------------------------------

def workloads(device, quick):
    s = (lambda full, small: small) if quick else (lambda full, small: full)
    yield "tiny_op_us", lambda: tiny_op(device, s(5000, 200))
    yield "tiny_op_item_us", lambda: tiny_op_item(device, s(500, 20))
    for n in (256, 512, 1024, 2048, 4096):
        if quick and n > 512:
            continue
        yield f"matmul_{n}", lambda n=n: matmul(device, n, s(10 if n >= 2048 else 30, 3))
    yield "mlp_step_ms", lambda: mlp_step(device, s(5, 2), s(20, 2))
    if device in ("cuda", "webgpu"):   # graph capture: torch.cuda.graph / torch.webgpu.graph
        yield "mlp_step_graph_ms", lambda: mlp_step_graph(device, s(5, 2), s(20, 2))
        yield "mlp_step_compiled_ms", lambda: mlp_step_compiled(device, s(5, 2), s(20, 2))
    yield "cnn_step_ms", lambda: cnn_step(device, s(5, 2), s(20, 2))
    if not quick:
        yield "gpt2_forward_ms", lambda: gpt2_forward(device, 3, 10)
        if device in ("cuda", "webgpu"):
            yield "gpt2_forward_compiled_ms", lambda: gpt2_forward_compiled(device, 3, 10)
        yield "gpt2_train_ms", lambda: gpt2_train(device, 2, 5)
        yield "decode_tok_s", lambda: decode(device, 48)
        if device in ("cuda", "webgpu"):
            yield "decode_graph_tok_s", lambda: decode_graph(device, 64, 1)
            yield "decode_graph_batched_tok_s", lambda: decode_graph(device, 64, 8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json")
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    only = {w for w in args.only.split(",") if w}
    engine = ("torch_js " if IS_TORCH_JS else "PyTorch ") + torch.__version__
    results = {"engine": engine, "device": args.device, "threads": args.threads or None, "results": {}}
    if args.device == "cuda":
        results["gpu"] = torch.cuda.get_device_name()
    print(f"# {engine} on {args.device}", flush=True)
    for name, run in workloads(args.device, args.quick):
        if only and name not in only:
            continue
        try:
            r = run()
        except Exception as e:  # noqa: BLE001  (a workload that fails is reported, the rest still run)
            r = {"error": f"{type(e).__name__}: {e}"[:300]}
        results["results"][name] = r
        print(name, json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}), flush=True)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
