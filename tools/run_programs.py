"""Run tests/programs/*.py in this one interpreter and compare each one's output with real PyTorch's, recorded in
tests/fixtures/programs/<name>.out. Prints a line per program (and a diff for each mismatch); exits 1 if any
program failed or printed something else.

Whatever `import torch` gives here runs the programs:
    node js_bridge/pyrun.mjs tools/run_programs.py        torch_js in Pyodide (`make test-pyodide` runs this)
    python -m torch_js tools/run_programs.py              torch_js in CPython
    python tools/run_programs.py                          real torch: the fixtures are still what it prints
Arguments: program names to run (default: all of them); --out DIR also writes each program's stdout to
DIR/<name>.out and its traceback, if it failed, to DIR/<name>.err (tests/test_programs.py reads them)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import _programs as P  # noqa: E402


def main(argv):
    import torch   # here, not at the top: the library under test (whichever it is) loads before the first clock
    out_dir = None
    if "--out" in argv:
        i = argv.index("--out")
        out_dir = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
        os.makedirs(out_dir, exist_ok=True)
    chosen = argv or P.names()
    unknown = [n for n in chosen if n not in P.names()]
    if unknown:
        print(f"run_programs: no such program: {', '.join(unknown)}", file=sys.stderr)
        return 2
    print(f"run_programs: {len(chosen)} programs with {torch.__name__} {torch.__version__} on {sys.platform}")
    failed = []
    t_all = time.perf_counter()
    for name in chosen:
        t0 = time.perf_counter()
        out, error = P.run_in_process(name)
        dt = time.perf_counter() - t0
        if out_dir is not None:
            with open(os.path.join(out_dir, name + ".out"), "w", encoding="utf-8") as f:
                f.write(out)
            if error is not None:
                with open(os.path.join(out_dir, name + ".err"), "w", encoding="utf-8") as f:
                    f.write(error)
        problem = error or P.difference(name, P.read_fixture(name), out)
        print(f"{'ok  ' if problem is None else 'FAIL'} {name} ({dt:.2f} s)")
        if problem is not None:
            failed.append(name)
            print(problem)
        sys.stdout.flush()
    print(f"run_programs: {len(chosen) - len(failed)} of {len(chosen)} agree with PyTorch "
          f"({time.perf_counter() - t_all:.1f} s)" + (f"; failed: {' '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
