"""Where the GPU time of bench/gpu_suite.py's workloads goes, kernel by kernel (torch_js on webgpu only):

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_gpu_profile.py [--only gpt2_forward,...] [--json out.json]

Each workload runs a few warm-up steps, then one step under torch.webgpu.counter(timing=True): every dispatch in a
compute pass of its own with timestamp queries (the adapter needs 'timestamp-query'; a real GPU has it, SwiftShader
does not). The table lists kernels slowest first with their share of the step's GPU time; the GPU total beside the
step's wall time says whether the step is bound by the GPU or by the host. Per-pass timestamps add a little to each
dispatch, so the total is an upper bound of what the kernels take in one pass.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_suite as S  # noqa: E402  (the workloads' models, one source)
import torch  # noqa: E402


def gpt2_forward():
    return S.gpt2_forward_step("webgpu")


def gpt2_train():
    return S.gpt2_train_step("webgpu")


def mlp_step():
    model, x, y = S._mlp("webgpu")
    return S.train_step_fn(model, torch.optim.Adam(model.parameters(), 1e-3), x, y)


def decode_step():
    """One token of bench/gpu_suite.py's decode workload (KV cache, 30 layers), after a 16-token prefill."""
    torch.manual_seed(0)
    model = S.Llama().to("webgpu").eval()
    for p in model.parameters():
        p.data.mul_(0.5)
    idx = torch.randint(0, 49152, (1, 16)).to("webgpu")
    with torch.no_grad():
        logits, caches = model(idx, 0, [None] * len(model.layers))
    tok = logits.argmax(-1)

    def step():
        with torch.no_grad():
            out, _ = model(tok, 16, caches)
            int(out.argmax(-1).item())
    return step


WORKLOADS = {"gpt2_forward": gpt2_forward, "gpt2_train": gpt2_train, "mlp_step": mlp_step, "decode_step": decode_step}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--json")
    ap.add_argument("--rows", type=int, default=25)
    args = ap.parse_args()
    only = [w for w in args.only.split(",") if w] or list(WORKLOADS)
    results = {}
    for name in only:
        step = WORKLOADS[name]()
        for _ in range(3):
            step()
        torch.webgpu.synchronize()
        t0 = time.perf_counter()
        step()
        torch.webgpu.synchronize()
        wall_ms = (time.perf_counter() - t0) * 1e3
        with torch.webgpu.counter(timing=True) as c:
            step()
        gpu_ms = sum(ms for _, _, ms in c.kernel_times)
        print(f"== {name}: wall {wall_ms:.2f} ms untimed, GPU {gpu_ms:.2f} ms in {c['dispatches']} dispatches")
        print(c.table(args.rows), flush=True)
        results[name] = {"wall_ms": wall_ms, "gpu_ms": gpu_ms, "counts": c.counts,
                         "kernels": [{"kernel": k, "calls": n, "gpu_ms": ms} for k, n, ms in c.kernel_times]}
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
