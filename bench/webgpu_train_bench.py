"""Training-step time, webgpu vs the wasm CPU backend, for an MLP and a small CNN (run in Pyodide with the bridge):

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_train_bench.py [--json out.json] [--steps N]

One step = forward, cross-entropy, backward, Adam update, as a notebook writes it; the data stays on the device.
Timed over N steps after 3 warm-up steps, with one readback (`loss.item()`) at the end, so the GPU's queue is
drained inside the timing. Both devices start from the same weights and data; final losses are printed so the
runs can be seen to agree.
"""
import json
import sys
import time

import torch_js as torch
from torch_js import nn


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)), (256, 784)


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(32 * 7 * 7, 10)), (64, 1, 28, 28)


def step_time(make, dev, steps):
    torch.manual_seed(0)
    model, shape = make()
    model = model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(shape).to(dev)
    y = torch.randint(0, 10, (shape[0],)).to(dev)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):
        step()
    step().item()
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    final = loss.item()
    return (time.perf_counter() - t0) / steps, final


def main():
    args = sys.argv[1:]
    steps = int(args[args.index("--steps") + 1]) if "--steps" in args else 20
    out = args[args.index("--json") + 1] if "--json" in args else None
    torch.webgpu._init_sync()
    info = torch.webgpu.device_info()
    print("webgpu adapter:", info)
    results = {"adapter": info, "steps": steps, "cases": {}}
    for name, make in [("mlp_784_512_512_10_b256", mlp), ("cnn_2conv_b64_28x28", cnn)]:
        row = {}
        for dev in ("cpu", "webgpu"):
            sec, final = step_time(make, dev, steps)
            row[dev] = {"ms_per_step": round(sec * 1e3, 3), "final_loss": round(final, 5)}
        row["speedup_webgpu_vs_wasm"] = round(row["cpu"]["ms_per_step"] / row["webgpu"]["ms_per_step"], 2)
        results["cases"][name] = row
        print(f"{name:28s} wasm {row['cpu']['ms_per_step']:9.2f} ms/step   webgpu {row['webgpu']['ms_per_step']:9.2f} "
              f"ms/step   x{row['speedup_webgpu_vs_wasm']}   losses {row['cpu']['final_loss']} / "
              f"{row['webgpu']['final_loss']}")
    if out:
        with open(out, "w") as f:
            json.dump(results, f, indent=1)


main()
