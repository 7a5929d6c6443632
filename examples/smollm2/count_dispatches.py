"""Dispatches of one greedy decoding step of this Llama at SmolLM2-135M's shapes (random weights, static KV cache),
counted by the webgpu bridge (issue 16: on a GPU each dispatch costs a few µs even when tiny):

    TORCH_JS_WEBGPU=1 TORCH_JS_INSTALL=source node js_bridge/pyrun.mjs examples/smollm2/count_dispatches.py \
        [--layers 30] [--kernels]

Prints the dispatches of one step (the second: its kernels are compiled), and with --kernels its kernels in order.
"""
import sys

import torch

from model import Llama, LlamaConfig, greedy_step


def main():
    args = sys.argv[1:]
    layers = int(args[args.index("--layers") + 1]) if "--layers" in args else 30
    torch.webgpu._init_sync()
    torch.manual_seed(0)
    cfg = LlamaConfig(49152, 576, layers, 9, 3, 1536, 100000.0, 1e-5, 2048)
    model = Llama(cfg).to("webgpu").eval()
    model.setup_cache(64)
    with torch.no_grad():
        logits = model(torch.randint(0, cfg.vocab_size, (1, 16)).to("webgpu"), pos=0)
        ids, pos = logits.argmax(-1, keepdim=True), torch.tensor([16], device="webgpu")
        for _ in range(2):
            with torch.webgpu.counter(kernels=True) as c:
                greedy_step(model, ids, pos)
            ids.item()
    print(f"{layers} layers: {c['dispatches']} dispatches per decoding step")
    if "--kernels" in args:
        for name in c.kernels:
            print(" ", name)


main()
