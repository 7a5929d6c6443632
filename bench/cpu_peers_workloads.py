"""The workloads of bench/cpu_peers.mjs, written once against PyTorch's API: torch_js runs them in Pyodide (the
bench imports this file there, `lib` = torch_js) and PyTorch runs them natively (this file as a script, `lib` =
torch). Weights and inputs are made by hashed() from integer arithmetic, so every library computes with the same
bits without a weights file; ONNX Runtime Web gets the encoder's graph from bench/cpu_peers_export.py and its
weights from torch_js (the bench hands them over as the graph's external data).

    python3 bench/cpu_peers_workloads.py --threads 1,2,4 [--sizes 256,512] [--rounds 5] [--minilm-out FILE]
        (PyTorch native; prints one JSON object on its last line; FILE gets the encoder's output, float32 bytes)

Cases: matmul_N (float32 N×N @ N×N), minilm (a MiniLM-shaped encoder forward: 6 post-norm layers, d_model 384,
12 heads, feed-forward 1536, GELU, batch 8 × 32 tokens, eval, no grad), mlp_train (784→1024→1024→10 MLP, batch
256, cross-entropy, SGD with momentum: zero_grad, forward, backward, step) and cnn_train (two 3×3 conv + ReLU +
2×2 max-pool blocks, 3→32→64 channels on 32×32 images, then Linear to 10 classes, batch 64, the same step).
"""
import argparse
import array
import json
import os
import platform
import sys
import time

MINILM = dict(layers=6, d_model=384, heads=12, ff=1536, batch=8, tokens=32)
MLP_SIZES, MLP_BATCH = (784, 1024, 1024, 10), 256
CNN_BATCH, CNN_IMAGE, CLASSES = 64, (3, 32, 32), 10
MATMUL_SIZES = (256, 512, 1024, 2048)
TRAIN_CASES = ("mlp_train", "cnn_train")


def encoder(lib):
    layer = lib.nn.TransformerEncoderLayer(MINILM["d_model"], MINILM["heads"], MINILM["ff"], dropout=0.0,
                                           activation="gelu", batch_first=True)
    return lib.nn.TransformerEncoder(layer, MINILM["layers"], enable_nested_tensor=False).eval()


def mlp(lib):
    nn, (a, b, c, d) = lib.nn, MLP_SIZES
    return nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(), nn.Linear(c, d))


def cnn(lib):
    nn = lib.nn
    side = CNN_IMAGE[1] // 4
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * side * side, CLASSES))


TRAIN_MODELS = {"mlp_train": mlp, "cnn_train": cnn}


def train_step(lib, model, opt, x, y):
    opt.zero_grad()
    loss = lib.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def hashed(lib, shape, seed, low, high):
    """A float32 tensor of `shape` filled from an integer hash of (index, seed), evenly over [low, high): exact
    integer arithmetic, so torch_js and PyTorch make the same bits without sharing a random generator or a file."""
    n = 1
    for s in shape:
        n *= s
    h = (lib.arange(n, dtype=lib.int64) * 2654435761 + seed * 40503 + 12345) % 4294967296
    h = ((h ^ (h >> 16)) * 73244475) % 4294967296
    h = h ^ (h >> 13)
    u = h.to(lib.float64) / 4294967296.0
    return (u * (high - low) + low).to(lib.float32).reshape(shape)


def fill_hashed(lib, model, seed):
    """Every parameter from hashed(): matrices and kernels within ±1/sqrt(fan_in) (PyTorch's default bound),
    biases within ±0.02, LayerNorm scales within 1 ± 0.1."""
    with lib.no_grad():
        for i, (name, p) in enumerate(sorted(model.named_parameters())):
            if p.dim() >= 2:
                bound = (p[0].numel()) ** -0.5
                p.copy_(hashed(lib, tuple(p.shape), seed + i, -bound, bound))
            elif name.endswith("bias"):
                p.copy_(hashed(lib, tuple(p.shape), seed + i, -0.02, 0.02))
            else:
                p.copy_(hashed(lib, tuple(p.shape), seed + i, 0.9, 1.1))
    return model


class Workloads:
    """The models and inputs, the same in every library (hashed weights); call(case) runs one call of a case."""

    def __init__(self, lib):
        self.lib = lib
        self.encoder = fill_hashed(lib, encoder(lib), 1000)
        self.minilm_x = hashed(lib, (MINILM["batch"], MINILM["tokens"], MINILM["d_model"]), 1, -1.0, 1.0)
        self.train = {}
        for k, (case, build) in enumerate(TRAIN_MODELS.items()):
            model = fill_hashed(lib, build(lib), 2000 + 1000 * k)
            shape = (MLP_BATCH, MLP_SIZES[0]) if case == "mlp_train" else (CNN_BATCH, *CNN_IMAGE)
            x = hashed(lib, shape, 2 + k, -1.0, 1.0)
            y = (hashed(lib, (shape[0],), 4 + k, 0.0, CLASSES).floor().to(lib.int64)).clamp(0, CLASSES - 1)
            opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            self.train[case] = (model, opt, x, y)
        self.matmul = {}
        self.last = {}         # each case's latest result: what the checks compare
        self.first_loss = {}   # each training case's first loss (from the initial weights)

    def matmul_inputs(self, n):
        """The N×N operands, made once."""
        if n not in self.matmul:
            self.matmul[n] = tuple(hashed(self.lib, (n, n), 10 * n + i, -1.0, 1.0) for i in (0, 1))
        return self.matmul[n]

    def call(self, case):
        lib = self.lib
        if case.startswith("matmul_"):
            a, b = self.matmul_inputs(int(case.split("_")[1]))
            out = a @ b
        elif case == "minilm":
            with lib.no_grad():
                out = self.encoder(self.minilm_x)
        elif case in self.train:
            out = train_step(lib, *self.train[case])
        else:
            raise ValueError(f"cpu_peers: unknown case {case!r}")
        self.last[case] = out.detach()
        if case in self.train:
            self.first_loss.setdefault(case, float(out.detach()))
        return out

    def time_ms(self, case, calls):
        """Milliseconds per call over `calls` calls back to back."""
        t0 = time.perf_counter()
        for _ in range(calls):
            self.call(case)
        return (time.perf_counter() - t0) * 1e3 / calls


def calls_for(case):
    """Calls per timed repetition: enough that a repetition is not a single sub-millisecond call."""
    if case.startswith("matmul_"):
        n = int(case.split("_")[1])
        return max(1, (512 // n) ** 3 * 4) if n <= 512 else 1
    return 1


def main():
    """PyTorch native at each thread count: {"torch": version, "results": {case: {threads: ms}}, "first_loss": ...}."""
    import torch
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1,2")
    p.add_argument("--sizes", default=",".join(map(str, MATMUL_SIZES)))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--minilm-out", default=None)
    args = p.parse_args()
    work = Workloads(torch)
    cases = [f"matmul_{n}" for n in args.sizes.split(",")] + ["minilm", *TRAIN_CASES]
    results = {case: {} for case in cases}
    for case in cases:
        work.call(case)       # warm-up, and the first result the checks use
    if args.minilm_out:
        with open(args.minilm_out, "wb") as f:   # no numpy needed
            array.array("f", work.last["minilm"].flatten().tolist()).tofile(f)
    for t in map(int, args.threads.split(",")):
        torch.set_num_threads(t)
        for case in cases:
            work.call(case)
            results[case][t] = round(min(work.time_ms(case, calls_for(case)) for _ in range(args.rounds)), 3)
        print(f"torch native, {t} thread(s): {json.dumps({c: results[c][t] for c in cases})}", file=sys.stderr,
              flush=True)
    print(json.dumps({"torch": torch.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
                      "results": results, "first_loss": work.first_loss}))


if __name__ == "__main__":
    main()
