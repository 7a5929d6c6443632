#!/usr/bin/env python3
"""content/data/digits_mlp_pytorch.pt: a small MLP trained and saved by real PyTorch, for the site's
pytorch_checkpoint notebook (it loads the file with torch_js and checks its outputs against PyTorch's).

Committed (about 40 KB), as tests/fixtures/torch_saved.pt is, so that building the site needs no PyTorch; rerun
this in the dev venv (which has torch) when the notebook's model changes:

    .venv/bin/python tools/gen_site_checkpoint.py

The 8x8 digits come from the scikit-learn wheel that tools/build_site.py also reads (jupyterlite_config/build-data.txt).
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_site import CONFIG, DOWNLOADS, REPO, pip_download, read_digits  # noqa: E402

OUT = REPO / "content" / "data" / "digits_mlp_pytorch.pt"


def main():
    wheels = pip_download(CONFIG / "build-data.txt", DOWNLOADS / "data",
                          ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                           "--platform", "manylinux_2_28_x86_64"])
    pixels, labels = read_digits(wheels["scikit-learn"])
    torch.manual_seed(0)
    x = torch.tensor(pixels, dtype=torch.float32) / 16.0
    y = torch.tensor(labels)
    gen = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(y), generator=gen)
    train, test = perm[:1500], perm[1500:]
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(30):
        for idx in train[torch.randperm(len(train), generator=gen)].split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        logits = model(x[test])
    acc = (logits.argmax(1) == y[test]).float().mean().item()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "test_indices": test, "pytorch_version": str(torch.__version__),
                "test_accuracy": acc, "test_logits": logits}, str(OUT))
    print(f"PyTorch {torch.__version__}: test accuracy {acc:.4f}; wrote {OUT.relative_to(REPO)} "
          f"({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
