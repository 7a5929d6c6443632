"""Record the OpInfo conformance cases (inputs + PyTorch's outputs and gradients) for runs without torch.

    make fixtures                                      # the usual way: only when an input changed (below)
    .venv/bin/python tools/gen_fixtures.py            # writes build/fixtures/opinfo_cases.json.gz (oracle.FIXTURE)
    .venv/bin/python tools/gen_fixtures.py --key F    # writes oracle.fixture_key() to F, only if it changed

Pyodide has no torch, so tests/test_opinfo.py and tests/test_opinfo_webgpu.py read this file there; under CPython
with torch test_opinfo.py builds the same cases live (same ids). The file is not in git: every test target makes
it first. The Makefile remakes it when this script, tests/oracle*.py or the key (torch's version, the registry's
OpInfo-named ops) change; the key file's mtime moves only when its text does, so other runs skip it.
Deterministic: every (op, dtype) seeds torch/random/numpy from its name, and the gzip header carries no
timestamp, so rerunning with the same torch gives the same bytes. About 10 s on 2 cores.
"""
import argparse
import collections
import os
import sys

# Some op_db sample generators iterate over sets of strings (e.g. meshgrid's indexing modes), whose order follows
# Python's per-process hash seed: fix it so the fixture is byte-for-byte reproducible.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "tests"), os.path.join(ROOT, "pytorchjs_py")]

import oracle  # noqa: E402


def write_key(path):
    """Rewrite path only when the key changed, so make sees it newer than the fixture only then."""
    key = oracle.fixture_key()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == key:
                return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(key)
    print(f"{path}: fixture key changed (torch version or registered OpInfo ops)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=oracle.FIXTURE)
    ap.add_argument("--key", metavar="FILE", help="write the fixture's key to FILE if it differs, and stop")
    args = ap.parse_args()
    if args.key:
        write_key(args.key)
        return
    import torch
    stats = {}
    cases = oracle.build_cases(stats)
    ids = [c["id"] for c in cases]
    dup = [k for k, v in collections.Counter(ids).items() if v > 1]
    if dup:
        sys.exit(f"duplicate case ids: {dup[:5]}")
    live = len(cases)
    cases = oracle.fixture_subset(cases)
    # written beside and renamed: an interrupted run leaves no truncated file newer than its inputs
    tmp = args.out + ".tmp"
    n = oracle.write_fixture(cases, tmp)
    os.replace(tmp, args.out)
    by_dtype = collections.Counter(c["dtype"] for c in cases)
    print(f"torch {torch.__version__}: {len(cases)} cases, {len({c['op'] for c in cases})} ops, "
          f"{sum(1 for c in cases if c.get('grad'))} with gradients, "
          f"{sum(1 for c in cases if 'error' in c['expect'])} expecting errors; {dict(by_dtype)}")
    print(f"(the fixture's subset of the {live} live cases: oracle.FIXTURE_MAX_SAMPLES / FIXTURE_MAX_NUMEL)")
    size = os.path.getsize(args.out)
    print(f"wrote {args.out}: {size / 1e6:.2f} MB ({n / 1e6:.1f} MB of JSON)")
    if size > 5e6:
        print("WARNING: fixture over 5 MB; lower oracle.FIXTURE_MAX_SAMPLES / FIXTURE_MAX_NUMEL")
    if stats.get("too_large"):
        print(f"skipped {stats['too_large']} samples over {oracle.MAX_NUMEL} input elements")
    for key in ("unconvertible", "unconvertible_out"):
        for op, reasons in sorted(stats.get(key, {}).items()):
            print(f"{key}: {op}: {len(reasons)} samples ({sorted(set(reasons))[:3]})")
    for line in stats.get("sample_errors", []):
        print("sample_inputs failed:", line)


if __name__ == "__main__":
    main()
