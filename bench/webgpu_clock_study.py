"""How much of a webgpu step's time is the GPU's clock (issue 16): the driver keeps a Vulkan context that submits in
bursts at low clocks (bench/results/SUMMARY.md, 2026-12-07: a median 345 MHz on an H100 while torch_js's steps run,
1980 under CUDA). The same replayed decoding (gpu_suite's decode_graph_tok_s: examples/smollm2's 135M Llama, one
replayed graph per token, each token read back) timed twice in one process: as it comes, then right after a burst
of back-to-back work that brings the clock up (GPT-2-shaped products replayed for --warm-s seconds), so the gap
between the two is what the clock costs it. Run beside nvidia-smi's clock log to see the clocks themselves.

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_clock_study.py [--tokens 48] [--warm-s 1.5] [--json f]
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "smollm2"))
import torch  # noqa: E402
from model import Llama, LlamaConfig, generate  # noqa: E402


def tok_s(model, ids, tokens):
    """Replayed decoding with each token read back as it comes (readback_every=1: the clock study's subject is the
    GPU between per-token waits; gpu_suite's decode_graph_batched_tok_s reads 8 at a time)."""
    stamps = []
    generate(model, ids, tokens, graph=True, readback_every=1, on_token=lambda _: stamps.append(time.perf_counter()))
    steady = stamps[8:]   # after the eager warm-up steps and the capture
    return (len(steady) - 1) / (steady[-1] - steady[0])


def warm(seconds):
    """Back-to-back products with no readback until `seconds` pass: the GPU busy, so its clock goes up."""
    a = torch.randn(2048, 2048, device="webgpu")
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        kept = [a @ a for _ in range(20)]
        torch.webgpu.synchronize()
        n += len(kept)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--warm-s", type=float, default=1.5)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = LlamaConfig(49152, 576, 30, 9, 3, 1536, 100000.0, 1e-5, 2048)
    model = Llama(cfg).to("webgpu").eval()
    for p in model.parameters():
        p.data.mul_(0.5)
    ids = torch.randint(0, cfg.vocab_size, (16,)).tolist()
    generate(model, ids, 6, graph=True, readback_every=1)   # compiles the kernels
    out = {"as_it_comes_tok_s": tok_s(model, ids, args.tokens)}
    print(time.strftime("%H:%M:%S"), "as it comes", out, flush=True)
    out["warm_products"] = warm(args.warm_s)
    out["after_warm_tok_s"] = tok_s(model, ids, args.tokens)
    print(time.strftime("%H:%M:%S"), "after a warm burst", out, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
