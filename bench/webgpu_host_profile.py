"""Where the host time of a webgpu step goes: cProfile over steps of bench/gpu_suite.py's workloads, the top functions
by own time per step, with the GPU work of one step beside them. Run in Pyodide (torch = torch_js):

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_host_profile.py [--only mlp,gpt2,gpt2_train,decode]
        [--gpu-only] [--json out.json]     (also decode_graph: one replayed token of examples/smollm2)

Calls into the JS bridge show as the own time of the Python function that makes them (e.g. backend.binary), and a
readback's wait as `run_sync`. One more step runs under torch.webgpu.counter(timing=True): the GPU time of each
kernel, slowest first (timestamp queries: SwiftShader has them too). --gpu-only skips cProfile: the kernels' GPU
time beside the step's wall time says whether the step is bound by the GPU or by the host. Run it with
DAWN_OPTS=disable-dawn-features=timestamp_quantization (as bench/run_on_gpu.sh does): Dawn otherwise rounds every
timestamp to 65.5 us, and single kernels read 0 or 65.5 us.
"""
import argparse
import cProfile
import json
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_suite as S  # noqa: E402
import torch  # noqa: E402


def mlp():
    model, x, y = S._mlp("webgpu")
    return S.train_step_fn(model, torch.optim.Adam(model.parameters(), 1e-3), x, y)


def gpt2():
    return S.gpt2_forward_step("webgpu")


def gpt2_train():
    return S.gpt2_train_step("webgpu")


def decode():
    """One token of gpu_suite's decode workload (135M Llama shapes, KV cache, 30 layers) after a 16-token prefill."""
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


def decode_graph():
    """One token of gpu_suite's decode_graph (examples/smollm2's Llama at 135M shapes, static KV cache): the captured
    greedy step replayed, and the token read back, as generate_graphed does per token."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "smollm2"))
    from model import Llama, LlamaConfig, greedy_step
    torch.manual_seed(0)
    model = Llama(LlamaConfig(49152, 576, 30, 9, 3, 1536, 100000.0, 1e-5, 2048)).to("webgpu").eval()
    for p in model.parameters():
        p.data.mul_(0.5)
    model.setup_cache(1024)
    with torch.no_grad():
        logits = model(torch.randint(0, 49152, (1, 16)).to("webgpu"), pos=0)
        ids, pos = logits.argmax(-1, keepdim=True), torch.tensor([16], device="webgpu")
        for _ in range(2):
            greedy_step(model, ids, pos)
        graph = torch.webgpu.Graph()
        with torch.webgpu.graph(graph):
            greedy_step(model, ids, pos)

    def step():
        graph.replay()
        int(ids.item())
    return step


WORKLOADS = {"mlp": mlp, "gpt2": gpt2, "gpt2_train": gpt2_train, "decode": decode, "decode_graph": decode_graph}


def gpu_table(step, rows=25):
    """One step under torch.webgpu.counter(timing=True): the GPU time of each kernel, printed slowest first."""
    with torch.webgpu.counter(timing=True) as g:
        step()
    print(g.table(rows), flush=True)
    return [{"kernel": torch.webgpu.kernel_name(k), "key": k, "calls": n, "gpu_ms": ms} for k, n, ms in g.kernel_times]


def profile(step, steps, gpu_only=False):
    for _ in range(3):
        step()
    torch.webgpu.synchronize()
    with torch.webgpu.counter() as c:
        step()
    torch.webgpu.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    host = time.perf_counter() - t0
    torch.webgpu.synchronize()
    wall = time.perf_counter() - t0
    if gpu_only:
        gpu = gpu_table(step)
        return {"gpu_kernels_ms": sum(r["gpu_ms"] for r in gpu), "gpu_kernels": gpu, "host_ms": host * 1e3 / steps,
                "wall_ms": wall * 1e3 / steps, **{k: c[k] for k in ("dispatches", "submits", "readbacks")}}
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    torch.webgpu.synchronize()
    st = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (cc, nc, tt, ct, _) in st.stats.items():
        short = file.split("torch_js/")[-1] if "torch_js/" in file else file
        rows.append({"fn": f"{short}:{line}({fn})", "calls": nc / steps, "own_ms": tt * 1e3 / steps,
                     "cum_ms": ct * 1e3 / steps})
    rows.sort(key=lambda r: -r["own_ms"])
    gpu = gpu_table(step)
    return {"gpu_kernels_ms": sum(r["gpu_ms"] for r in gpu), "gpu_kernels": gpu[:40], "host_ms": host * 1e3 / steps,
            "wall_ms": wall * 1e3 / steps,
            "profiled_ms": sum(r["own_ms"] for r in rows),
            **{k: c[k] for k in ("dispatches", "submits", "readbacks", "flushes")},
            **{k: c[k] / 1e3 for k in ("bridge_us", "flush_us", "encode_us", "wait_us")}, "top": rows[:30]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="mlp,gpt2")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--gpu-only", action="store_true", help="no cProfile: the GPU time per kernel and the step's times")
    args = ap.parse_args()
    out = {}
    for name in args.only.split(","):
        r = out[name] = profile(WORKLOADS[name](), args.steps, args.gpu_only)
        if args.gpu_only:
            print(f"== {name}: wall {r['wall_ms']:.2f} ms/step, GPU {r['gpu_kernels_ms']:.2f} ms in "
                  f"{r['dispatches']} dispatches", flush=True)
            continue
        print(f"== {name}: host {r['host_ms']:.2f} ms/step (no wait), wall {r['wall_ms']:.2f}, profiled "
              f"{r['profiled_ms']:.2f}; {r['dispatches']} dispatches, {r['submits']} submits, {r['readbacks']} readbacks; "
              f"bridge {r['bridge_us']:.2f} ms ({r['flushes']} flushes {r['flush_us']:.2f} ms, encoding {r['encode_us']:.2f} ms), GPU wait {r['wait_us']:.2f} ms")
        for row in r["top"][:20]:
            print(f"  {row['own_ms']:8.3f} ms  {row['calls']:7.1f}x  {row['fn']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
