"""Record what real PyTorch prints for each program of tests/programs/ into tests/fixtures/programs/<name>.out,
each program run as `python tests/programs/<name>.py` in its own interpreter (object addresses masked, see
tests/_programs.py). tests/test_programs.py and tools/run_programs.py (Pyodide) compare torch_js's output with these.

Run: .venv/bin/python tools/gen_program_fixtures.py [names...]     (default: every program)
     .venv/bin/python tools/gen_program_fixtures.py --check          (compare only; exit 1 on a difference)"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import _programs as P  # noqa: E402


def torch_output(name):
    """The program's stdout under real torch, in a fresh interpreter; raises if it fails."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    r = subprocess.run([sys.executable, P.program_path(name)], capture_output=True, text=True, env=env,
                       cwd=P.PROGRAMS_DIR, timeout=300)
    if r.returncode != 0:
        raise SystemExit(f"{name} failed under torch (exit {r.returncode}):\n{r.stderr}")
    return P.normalize(r.stdout)


def main(argv):
    check = "--check" in argv
    chosen = [a for a in argv if a != "--check"] or P.names()
    import torch   # here, not at the top: only for the version it reports (the programs run in their own)
    print(f"torch {torch.__version__}: {len(chosen)} programs")
    os.makedirs(P.FIXTURES_DIR, exist_ok=True)
    stale = []
    for name in chosen:
        out = torch_output(name)
        if check:
            problem = P.difference(name, P.read_fixture(name), out) if os.path.exists(P.fixture_path(name)) \
                else f"{name}: no fixture"
            if problem:
                stale.append(name)
                print(problem)
            continue
        with open(P.fixture_path(name), "w", encoding="utf-8", newline="\n") as f:
            f.write(out)
        print(f"wrote {os.path.relpath(P.fixture_path(name))} ({out.count(chr(10))} lines)")
    if check:
        print("fixtures are current" if not stale else f"stale fixtures: {' '.join(stale)}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
