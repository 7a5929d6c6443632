"""MiniLM's forward at one thread in Pyodide with the side module's one-kernel layer norm and attention (wasm_ext/norm.c,
attention.c) on and off, alternating in one process (this host's speed drifts by tens of percent over minutes: a
ratio taken pair by pair holds where separate runs do not). The composite arm still has the vectorized softmax.

    node js_bridge/pyrun.mjs bench/cpu_fused_ab.py
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch
import cpu_peers_workloads as W
from torch_js.backends.cpu import reduction, wasm_threads
torch.set_num_threads(1)
w = W.Workloads(torch)
w.call("minilm")
fused = (reduction._layer_norm, reduction._attention, wasm_threads.attention_takes)
off = lambda *a, **k: False
def arm(on):
    reduction._layer_norm, reduction._attention, wasm_threads.attention_takes = fused if on else (off, off, off)
    t0 = time.perf_counter(); w.call("minilm"); return (time.perf_counter() - t0) * 1e3
ratios, a, b = [], [], []
for i in range(12):
    x, y = arm(False), arm(True)
    a.append(x); b.append(y); ratios.append(y / x)
ratios.sort(); a.sort(); b.sort()
print(f"composite min {a[0]:.1f} med {a[6]:.1f} | fused min {b[0]:.1f} med {b[6]:.1f} | fused/composite median {ratios[6]:.3f} (min {ratios[0]:.3f} max {ratios[-1]:.3f})")
