"""Why GPT-2's kernels run slower inside the forward than alone (issue 16): bench/gpu_suite.py's GPT-2-small forward
replayed (torch.compile(backend="cudagraphs")) back to back with no readback between, so the GPU, not the host,
paces it, in variants that each remove one suspect:

  model         the forward as gpu_suite runs it (12 blocks, tied LM head)
  shared        every block is block 0: one set of block weights read 12 times (L2-resident, one set of buffers)
  no_lm_head    the forward up to ln_f (the 128 x 50257 x 768 product left out)
  one_block     one block only (x 12 = what the blocks would cost if each ran as fast as a lone one)

    TORCH_JS_WEBGPU=1 node js_bridge/pyrun.mjs bench/webgpu_gpt_inmodel.py [--reps 10] [--json out.json] [--quick]

Each figure: ms per forward, `reps` replays recorded back to back then one synchronize, best of 3; beside it the GPU
time of one replay's kernels summed (torch.webgpu.counter(timing=True); Dawn's timestamp rounding off where
DAWN_OPTS=disable-dawn-features=timestamp_quantization is set) and the dispatches; then the same replay with one
logit read back after each forward (gpu_suite's step), and where one such step's time goes.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_suite as S  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


class UpToLnF(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.m = model

    def forward(self, idx):
        m = self.m
        x = m.wte(idx) + m.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in m.h:
            x = block(x)
        return m.ln_f(x)


def variants(quick):
    dims = dict(vocab=1000, d=64, heads=4, layers=3) if quick else {}
    torch.manual_seed(0)
    base = S.GPT2(**dims).to("webgpu").eval()
    # the tokens gpu_suite's step feeds (drawn right after the model from seed 0), against this bench's own
    suite_idx = torch.randint(0, dims.get("vocab", 50257), (1, 16 if quick else 128)).to("webgpu")
    shared = S.GPT2(**dims).to("webgpu").eval()
    for i in range(1, len(shared.h)):
        shared.h[i] = shared.h[0]
    one = S.GPT2(**{**dims, "layers": 1}).to("webgpu").eval()
    return suite_idx, {"model": base, "shared": shared, "no_lm_head": UpToLnF(base), "one_block": one}


def measure(model, idx, reps):
    fn = torch.compile(model, backend="cudagraphs")
    with torch.no_grad():
        for _ in range(3):
            fn(idx)
        torch.webgpu.synchronize()
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            kept = [fn(idx) for _ in range(reps)]
            torch.webgpu.synchronize()
            best = min(best, (time.perf_counter() - t0) * 1e3 / reps)
            del kept
        try:
            c = torch.webgpu.counter(timing=True)
            c.__enter__()
        except RuntimeError:   # no timestamp queries on this adapter: counts only
            c = torch.webgpu.counter()
            c.__enter__()
        fn(idx)
        torch.webgpu.synchronize()
        c.__exit__(None, None, None)
    gpu_ms = sum(ms for _, _, ms in c.kernel_times) if c.kernel_times else None
    with torch.no_grad():   # the same replay with one logit read back after each, as gpu_suite's step does
        for _ in range(3):
            fn(idx)[0, -1, 0].item()
        t0 = time.perf_counter()
        for _ in range(reps):
            fn(idx)[0, -1, 0].item()
        item_ms = (time.perf_counter() - t0) * 1e3 / reps
        with torch.webgpu.counter() as ci:
            t0 = time.perf_counter()
            out = fn(idx)
            t1 = time.perf_counter()
            out[0, -1, 0].item()
            t2 = time.perf_counter()
    step = {"call_ms": round((t1 - t0) * 1e3, 3), "item_ms": round((t2 - t1) * 1e3, 3),
            **{k: round(ci[k]) for k in ("flush_us", "encode_us", "wait_us", "submits")}}
    return {"ms": round(best, 3), "gpu_kernels_ms": gpu_ms and round(gpu_ms, 3), "dispatches": c["dispatches"],
            "with_item_ms": round(item_ms, 3), "one_step_with_item": step}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seq = 16 if args.quick else 128
    idx = torch.randint(0, 1000 if args.quick else 50257, (1, seq)).to("webgpu")
    out = {}
    if not args.quick:   # gpu_suite's own steps, in its order: does the eager forward leave the compiled one slower?
        for name, fn in (("suite_compiled_first", S.gpt2_forward_compiled), ("suite_eager", S.gpt2_forward),
                         ("suite_compiled_after_eager", S.gpt2_forward_compiled)):
            out[name] = fn("webgpu", 3, 10)
            print(f"{time.strftime('%H:%M:%S')} {name:12s} {json.dumps(out[name])}", flush=True)
    suite_idx, models = variants(args.quick)
    for name, model in models.items():
        out[name] = measure(model, idx, args.reps)
        print(f"{time.strftime('%H:%M:%S')} {name:12s} {json.dumps(out[name])}", flush=True)
        if name == "model":   # the same model on gpu_suite's tokens; are the logits finite either way?
            out["model_suite_tokens"] = measure(model, suite_idx, args.reps)
            print(f"{'model_suite_tokens':12s} {json.dumps(out['model_suite_tokens'])}", flush=True)
            with torch.no_grad():
                for label, ids in (("own", idx), ("suite", suite_idx)):
                    y = model(ids)
                    out[f"logits_{label}"] = {"finite": bool(torch.isfinite(y).all()),
                                              "max_abs": float(y.abs().max()), "ids": ids[0, :6].tolist()}
                    print(label, out[f"logits_{label}"], flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
