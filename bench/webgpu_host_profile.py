"""Where the host time of a webgpu step goes: cProfile over steps of bench/gpu_suite.py's workloads, the top functions
by own time per step, with the GPU work of one step beside them. Run in Pyodide (torch = torch_js):

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_host_profile.py [--only mlp,gpt2] [--json out.json]

Calls into the JS bridge show as the own time of the Python function that makes them (e.g. backend.binary), and a
readback's wait as `run_sync`. One more step runs under torch.webgpu.counter(timing=True): the GPU time of each
kernel, slowest first.
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
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)).to("webgpu")
    x, y = torch.randn(256, 784).to("webgpu"), torch.randint(0, 10, (256,)).to("webgpu")
    return S.train_step_fn(model, torch.optim.Adam(model.parameters(), 1e-3), x, y)


def gpt2():
    return S.gpt2_forward_step("webgpu")


WORKLOADS = {"mlp": mlp, "gpt2": gpt2}


def profile(step, steps):
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
    with torch.webgpu.counter(timing=True) as g:   # GPU time per kernel over one step
        step()
    gpu = [{"kernel": torch.webgpu.kernel_name(k), "key": k, "calls": n, "gpu_ms": ms} for k, n, ms in g.kernel_times]
    print(g.table(25))
    return {"gpu_kernels_ms": sum(r["gpu_ms"] for r in gpu), "gpu_kernels": gpu[:40],"host_ms": host * 1e3 / steps, "wall_ms": wall * 1e3 / steps,
            "profiled_ms": sum(r["own_ms"] for r in rows),
            **{k: c[k] for k in ("dispatches", "submits", "readbacks", "flushes")},
            **{k: c[k] / 1e3 for k in ("bridge_us", "flush_us", "encode_us", "wait_us")}, "top": rows[:30]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="mlp,gpt2")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    out = {}
    for name in args.only.split(","):
        r = out[name] = profile(WORKLOADS[name](), args.steps)
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
