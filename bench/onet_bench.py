"""MTCNN's ONet (facenet-pytorch's architecture) forward: torch_js's native kernels against PyTorch, one process.

    PYTHONPATH=pytorchjs_py .venv/bin/python bench/onet_bench.py [--threads 1] [--batch 32] [--reps 10] [--out FILE]

ONet: 48×48 RGB crops; conv 3→32 (3×3), PReLU, max-pool 3/2 (ceil); conv 32→64 (3×3), PReLU, max-pool 3/2; conv
64→64 (3×3), PReLU, max-pool 2/2; conv 64→128 (2×2), PReLU; permute + flatten; linear 1152→256, PReLU; three heads
(2 with softmax, 4, 10). Random weights, the same in both libraries (the timing does not depend on their values;
facenet-pytorch's onet.pt has these shapes). Eval mode, no grad. Each figure: best wall ms of --reps calls after a
warm-up, and torch_js_cpu, the process CPU time per call (the fairer one on a shared machine).
"""
import argparse
import json
import os

import torch_js
from cpu_threads_bench import best_ms, cpu_ms   # (bench/ is the script's folder: one timing source)

try:
    import torch
except ImportError:   # torch_js alone
    torch = None


def onet_class(lib):
    nn = lib.nn

    class ONet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
            self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
            self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
            self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
            self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
            self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
            self.dense6_1, self.softmax6_1 = nn.Linear(256, 2), nn.Softmax(dim=1)
            self.dense6_2, self.dense6_3 = nn.Linear(256, 4), nn.Linear(256, 10)

        def forward(self, x):
            x = self.pool1(self.prelu1(self.conv1(x)))
            x = self.pool2(self.prelu2(self.conv2(x)))
            x = self.pool3(self.prelu3(self.conv3(x)))
            x = self.prelu4(self.conv4(x))
            x = x.permute(0, 3, 2, 1).contiguous()
            x = self.prelu5(self.dense5(x.view(x.shape[0], -1)))
            return self.dense6_2(x), self.dense6_3(x), self.softmax6_1(self.dense6_1(x))

    return ONet


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", default="1")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    torch_js.manual_seed(0)
    ours = onet_class(torch_js)().eval()
    x = torch_js.randn(args.batch, 3, 48, 48)
    if torch is not None:
        theirs = onet_class(torch)().eval()
        theirs.load_state_dict({k: torch.tensor(v.tolist()) for k, v in ours.state_dict().items()})
        tx = torch.tensor(x.tolist())
        with torch.no_grad(), torch_js.no_grad():
            got, want = ours(x), theirs(tx)
            err = max(float((torch.tensor(g.tolist()) - w).abs().max()) for g, w in zip(got, want))
        print(f"max |torch_js - torch| over the outputs: {err:.2e}")
    result = {"batch": args.batch, "load_average": list(os.getloadavg()), "onet": {}}
    for t in [int(s) for s in args.threads.split(",")]:
        torch_js.set_num_threads(t)
        row = {}
        with torch_js.no_grad():
            row["torch_js"] = best_ms(lambda: ours(x), args.reps)
            row["torch_js_cpu"] = cpu_ms(lambda: ours(x), args.reps)
        if torch is not None:
            torch.set_num_threads(t)
            with torch.no_grad():
                row["torch"] = best_ms(lambda: theirs(tx), args.reps)
                row["torch_cpu"] = cpu_ms(lambda: theirs(tx), args.reps)
        result["onet"][t] = row
        print(f"onet batch {args.batch}: {t} thread(s) {row}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
