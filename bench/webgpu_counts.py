"""GPU work per step on webgpu, counted by the bridge (torch_js.webgpu.counter), with wall times beside them:

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_counts.py [--json out.json] [--steps N] [--only NAME]
        [--lazy 0|1]     (default: the device's default, lazy execution on unless TORCH_JS_WEBGPU_LAZY=0)

Workloads (as a notebook writes them; data stays on the device):
  tiny_chain       `(t * 2 + 1).sum().item()` on 1024 floats
  mlp_step         MLP 784-512-512-10, batch 64: forward, cross-entropy, backward, Adam step, loss.item()
  gpt_forward      4-layer GPT (d_model 128, 4 heads, seq 64, batch 4, vocab 256) forward + loss.item()
  gpt_train_step   the same GPT: forward, loss, backward, AdamW step, loss.item()

Each workload runs 2 warm-up steps (pipelines compile there), then N counted steps; the JSON gives the counts of
the last step (dispatches, submits, readbacks, syncs, compiles, bytes) and the mean wall ms per step. On a
software adapter (SwiftShader) only the counts mean something; on a real GPU (bench/README.md) the times do too.
"""
import json
import math
import sys
import time

import torch_js as torch
from torch_js import nn
from torch_js.nn import functional as F

G = "webgpu"


# ---- models ----------------------------------------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, vocab=256, d=128, layers=4, heads=4, seq=64):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(seq, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, vocab, bias=False)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1], device=idx.device))
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.ln(x))


# ---- workloads: each returns a step function (run once per counted step) ---------------------------------------

def tiny_chain():
    t = torch.randn(1024).to(G)
    return lambda: (t * 2 + 1).sum().item()


def mlp_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).to(G)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(64, 784).to(G)
    y = torch.randint(0, 10, (64,)).to(G)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _gpt_data():
    torch.manual_seed(0)
    model = GPT().to(G)
    idx = torch.randint(0, 256, (4, 64)).to(G)
    tgt = torch.randint(0, 256, (4, 64)).to(G)
    return model, idx, tgt


def gpt_forward():
    model, idx, tgt = _gpt_data()

    def step():
        with torch.no_grad():
            logits = model(idx)
            return F.cross_entropy(logits.view(-1, 256), tgt.view(-1)).item()
    return step


def gpt_train_step():
    model, idx, tgt = _gpt_data()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(idx).view(-1, 256), tgt.view(-1))
        loss.backward()
        opt.step()
        return loss.item()
    return step


WORKLOADS = {"tiny_chain": tiny_chain, "mlp_step": mlp_step, "gpt_forward": gpt_forward,
             "gpt_train_step": gpt_train_step}


def measure(make, steps):
    step = make()
    for _ in range(2):
        step()
    times = []
    for _ in range(steps):
        with torch.webgpu.counter() as c:
            t0 = time.perf_counter()
            value = step()
            times.append(time.perf_counter() - t0)
    return {**c.counts, "ms_per_step": round(sum(times) / len(times) * 1e3, 3),
            "ms_min": round(min(times) * 1e3, 3), "value": value if math.isfinite(value) else str(value)}


def main():
    args = sys.argv[1:]
    steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 3
    out = args[args.index("--json") + 1] if "--json" in args else None
    only = args[args.index("--only") + 1].split(",") if "--only" in args else list(WORKLOADS)
    torch.webgpu._init_sync()
    if "--lazy" in args:
        torch.webgpu.set_lazy(args[args.index("--lazy") + 1] != "0")
    info = torch.webgpu.device_info()
    results = {"adapter": info, "lazy": torch.webgpu.lazy_enabled(), "steps": steps, "workloads": {}}
    print("webgpu adapter:", info.get("description") or info.get("vendor"), "| lazy:", results["lazy"])
    for name in only:
        row = results["workloads"][name] = measure(WORKLOADS[name], steps)
        print(f"{name:16s} dispatches {row['dispatches']:5d}  submits {row['submits']:3d}  readbacks "
              f"{row['readbacks']:2d}  compiles {row['compiles']:3d}  {row['ms_per_step']:9.2f} ms/step  "
              f"value {row['value']}", flush=True)
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=1)


main()
