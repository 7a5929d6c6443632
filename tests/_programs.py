"""The program corpus: tests/programs/*.py, PyTorch programs written as tutorials write them, and what real PyTorch
prints for each, recorded in tests/fixtures/programs/<name>.out (tools/gen_program_fixtures.py).

Here: the programs' names, the comparison (exact, after masking object addresses), and an in-process runner that
runs many programs in one interpreter, each as `python PROGRAM.py` would run it (a fresh __main__, argv, its folder
first on sys.path), with whatever `import torch` gives there: real torch, or torch_js where the alias is installed
(`python -m torch_js`, js_bridge/pyrun.mjs). Used by tests/test_programs.py, tools/run_programs.py and
tools/gen_program_fixtures.py.
"""
import builtins
import contextlib
import difflib
import io
import os
import re
import sys
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAMS_DIR = os.path.join(HERE, "programs")
FIXTURES_DIR = os.path.join(HERE, "fixtures", "programs")

# `print(loss.grad_fn)`, `print(node.next_functions)`: the objects' addresses differ from run to run
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+\b")


def names():
    return sorted(f[:-3] for f in os.listdir(PROGRAMS_DIR) if f.endswith(".py") and not f.startswith("_"))


def program_path(name):
    return os.path.join(PROGRAMS_DIR, name + ".py")


def fixture_path(name):
    return os.path.join(FIXTURES_DIR, name + ".out")


def read_fixture(name):
    with open(fixture_path(name), encoding="utf-8") as f:
        return f.read()


def normalize(text):
    """A program's stdout as recorded: addresses masked, line ends as "\\n"."""
    return _ADDRESS.sub("0x?", text.replace("\r\n", "\n"))


def difference(name, expected, actual, context=3, max_lines=60):
    """None when the outputs agree (exactly, once normalised), else a unified diff saying where they part."""
    expected, actual = normalize(expected), normalize(actual)
    if expected == actual:
        return None
    lines = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), f"{name} (PyTorch)",
                                      f"{name} (this run)", n=context, lineterm=""))
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more diff lines)"]
    return "\n".join(lines) or f"{name}: outputs differ only in whitespace at the end"


def _reset_torch_state():
    """The process-wide settings a program may change (print options, default dtype, grad mode), back to a fresh
    interpreter's, so one program can't change what the next prints."""
    torch = sys.modules.get("torch")
    if torch is None:
        return
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)


def run_in_process(name):
    """Run tests/programs/<name>.py in this interpreter as `python <path>` would; return (stdout, error), error being
    the traceback text of an uncaught exception (or a non-zero sys.exit), else None."""
    path = program_path(name)
    with open(path, "rb") as f:
        source = f.read()
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    saved = sys.modules.get("__main__"), sys.argv, list(sys.path)
    sys.modules["__main__"] = main   # pickle and `if __name__ == "__main__"` see the program as python would
    sys.argv = [path]
    sys.path.insert(0, PROGRAMS_DIR)
    out = io.StringIO()
    error = None
    _reset_torch_state()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, path, "exec"), main.__dict__)
    except SystemExit as e:
        if e.code not in (None, 0):
            error = f"SystemExit({e.code!r})"
    except BaseException:   # noqa: B902  (the program's failure is the result)
        error = traceback.format_exc()
    finally:
        sys.modules["__main__"], sys.argv, sys.path[:] = saved
        _reset_torch_state()
    return out.getvalue(), error
