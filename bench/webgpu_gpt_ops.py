"""GPT-2-small's forward taken apart at the torch level on webgpu: each op of one block (and the LM head) run alone
through torch_js, back to back, then the same op cycling over 12 layers' weights (each weight read once per pass, as
in the model, so it is not L2-resident), then the whole forward. Beside bench/webgpu_gpt_kernels.mjs (the bridge's
kernels alone, L2-hot) and bench/webgpu_host_profile.py --gpu-only (the kernels inside the forward), it says where
a kernel's in-model time comes from: the op path (kernel choice, views, copies), cold weights, or the sequence.

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_gpt_ops.py [--reps 50] [--json out.json]

Each figure: ms per op call, `reps` calls recorded back to back and one synchronize (outputs kept: a lazy engine
computes only what is held), best of 3; with the dispatches of one call and their kernels.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

D, HEADS, T, LAYERS, VOCAB = 768, 12, 128, 12, 50257


def timed(fn, reps):
    """Best-of-3 ms per call of fn(i) over reps calls and one synchronize; the kernels one call dispatches."""
    for i in range(3):
        fn(i)
    torch.webgpu.synchronize()
    with torch.webgpu.counter(kernels=True) as c:
        kept = fn(0)
    torch.webgpu.synchronize()
    del kept
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        kept = [fn(i) for i in range(reps)]
        torch.webgpu.synchronize()
        best = min(best, (time.perf_counter() - t0) * 1e3 / reps)
        del kept
    return {"ms": best, "dispatches": c["dispatches"], "kernels": sorted(set(c.kernels))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.manual_seed(0)
    dev = "webgpu"
    x = torch.randn(1, T, D, device=dev)
    h = torch.randn(1, T, 4 * D, device=dev)
    shapes = {"qkv": (3 * D, D), "proj": (D, D), "fc": (4 * D, D), "fc2": (D, 4 * D)}
    weights = {k: [(torch.randn(n, kk, device=dev) * 0.02, torch.zeros(n, device=dev)) for _ in range(LAYERS)]
               for k, (n, kk) in shapes.items()}
    wte = torch.randn(VOCAB, D, device=dev) * 0.02
    qkv = torch.randn(1, T, 3 * D, device=dev)
    ln_w, ln_b = torch.ones(D, device=dev), torch.zeros(D, device=dev)
    out = {}

    def heads(z):
        return z.view(1, T, HEADS, D // HEADS).transpose(1, 2)

    q, k, v = (heads(z) for z in qkv.split(D, dim=2))
    qc, kc, vc = (z.contiguous() for z in (q, k, v))
    cases = {
        "layer_norm": lambda i: F.layer_norm(x, (D,), ln_w, ln_b),
        "attention_strided_qkv": lambda i: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        "attention_contiguous": lambda i: F.scaled_dot_product_attention(qc, kc, vc, is_causal=True),
        "gelu_tanh": lambda i: F.gelu(h, approximate="tanh"),
        "lm_head": lambda i: F.linear(x, wte),
    }
    for name, (n, kk) in shapes.items():
        a = h if kk == 4 * D else x
        cases[f"{name}_hot"] = lambda i, a=a, name=name: F.linear(a, *weights[name][0])
        cases[f"{name}_cold"] = lambda i, a=a, name=name: F.linear(a, *weights[name][i % LAYERS])
    with torch.no_grad():
        for name, fn in cases.items():
            r = out[name] = timed(fn, args.reps)
            print(f"{name:24s} {r['ms']:8.4f} ms  {r['dispatches']} dispatches  {' '.join(r['kernels'])}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
