"""Fit y = 3x + 2 by hand-written SGD with torch_js autograd: the smallest end-to-end training loop.

Runs the same in CPython and in Pyodide:
    python examples/linear_regression.py            (with pytorchjs_py on sys.path, after `make build`)
    node js_bridge/pyrun.mjs examples/linear_regression.py
Exits non-zero if the fit misses, so `make example` is a check.
"""
import os
import sys
import time

try:
    import torch_js as torch
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pytorchjs_py"))
    import torch_js as torch

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
torch.manual_seed(0)

x = torch.rand(256, 1) * 4 - 2                # inputs in [-2, 2)
y = 3 * x + 2 + 0.01 * torch.randn(256, 1)    # targets with a little noise

w = torch.zeros(1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.1

t0 = time.perf_counter()
for step in range(steps):
    pred = x * w + b
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
    if step % 50 == 0 or step == steps - 1:
        print(f"step {step:4d}  loss {loss.item():.6f}  w {w.item():.4f}  b {b.item():.4f}")
dt = time.perf_counter() - t0

print(f"fit: w = {w.item():.4f} (want 3), b = {b.item():.4f} (want 2); "
      f"{steps} steps in {dt * 1000:.0f} ms on {sys.platform}")
if abs(w.item() - 3) > 0.01 or abs(b.item() - 2) > 0.01:
    sys.exit(f"linear_regression: did not converge (w={w.item()}, b={b.item()})")
