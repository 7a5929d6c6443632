"""`python -m torch_js SCRIPT.py [args...]`: run a PyTorch script unchanged, with `import torch` giving torch_js.

The script runs as `python SCRIPT.py args...` would run it: sys.argv == [SCRIPT.py, args...], sys.path[0] is its
folder, __name__ == "__main__", an uncaught exception prints Python's traceback (from the script's frame on) and
exits 1, sys.exit(n) exits n. `-m MODULE [args...]` and `-c CODE [args...]` work as python's. Only this process
sees the alias: PyTorch installed beside torch_js is untouched elsewhere.
"""
import builtins
import importlib.machinery
import os
import runpy
import sys
import types

from . import _torch_alias

USAGE = "usage: python -m torch_js SCRIPT.py [args...] | -m MODULE [args...] | -c CODE [args...]"


_THIS_FILE = os.path.abspath(__file__)


def _is_launcher_frame(frame):
    return frame.f_code.co_filename == _THIS_FILE or frame.f_globals.get("__name__") == "runpy"


def _user_frames(tb):
    """The traceback without its leading frames of this launcher and runpy: it starts where python's would."""
    while tb is not None and _is_launcher_frame(tb.tb_frame):
        tb = tb.tb_next
    return tb


def _run_script_file(path):
    """Run a .py file as `python path` does: a fresh __main__ module (pickle finds the script's classes there),
    __file__ and the code's file name absolute, sys.argv[0] left as given."""
    with open(path, "rb") as f:
        source = f.read()   # bytes: compile() honours a PEP 263 coding line, as python does
    filename = os.path.abspath(path)
    main_module = types.ModuleType("__main__")
    main_module.__file__ = filename
    main_module.__loader__ = importlib.machinery.SourceFileLoader("__main__", filename)
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    exec(compile(source, filename, "exec"), main_module.__dict__)


def _run(target):
    """Run target(); return None, or the exit status after printing an uncaught exception the way python does."""
    try:
        target()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B902  (KeyboardInterrupt too, as python prints it)
        tb = _user_frames(e.__traceback__)
        e.__traceback__ = tb   # the hook prints the exception's own traceback, whatever tb it is passed
        sys.excepthook(type(e), e, tb)
        return 130 if isinstance(e, KeyboardInterrupt) else 1
    return None


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    _torch_alias.install()
    if argv[0] == "-m" and len(argv) > 1:
        sys.argv = [argv[1], *argv[2:]]   # runpy puts the module's file in argv[0], as python -m does
        sys.path[0] = os.getcwd()
        return _run(lambda: runpy.run_module(argv[1], run_name="__main__", alter_sys=True))
    if argv[0] == "-c" and len(argv) > 1:
        sys.argv = ["-c", *argv[2:]]
        sys.path[0] = ""
        main_module = types.ModuleType("__main__")   # the code's globals, where pickle looks for its classes
        main_module.__builtins__ = builtins
        sys.modules["__main__"] = main_module
        return _run(lambda: exec(compile(argv[1], "<string>", "exec"), main_module.__dict__))
    if argv[0].startswith("-"):
        print(f"torch_js: unknown option {argv[0]}\n{USAGE}", file=sys.stderr)
        return 2
    script = argv[0]
    if not os.path.exists(script):
        print(f"{sys.executable}: can't open file {os.path.abspath(script)!r}: [Errno 2] No such file or directory",
              file=sys.stderr)
        return 2
    sys.argv = list(argv)
    if os.path.isfile(script):
        sys.path[0] = os.path.dirname(os.path.realpath(script))   # python puts a script's folder first
        return _run(lambda: _run_script_file(script))
    sys.path[0] = script   # a folder or zip with __main__.py, as python runs one
    return _run(lambda: runpy.run_path(script, run_name="__main__"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
