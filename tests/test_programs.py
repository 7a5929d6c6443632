"""Real PyTorch programs run unchanged: every tests/programs/*.py (training loops, tutorial idioms, checkpoints,
printing) runs under `python -m torch_js`, `import torch` giving torch_js, and prints exactly what real PyTorch
prints for it: tests/fixtures/programs/<name>.out, recorded by tools/gen_program_fixtures.py (object addresses
masked, tests/_programs.py). Where torch imports, the fixtures are checked against it live too.

The programs run in one interpreter per library (`python -m torch_js tools/run_programs.py`, each program in a fresh
__main__ as `python PROGRAM.py` would run it): an interpreter per program would cost a second each. One program
also runs alone as `python -m torch_js PROGRAM.py`, the command a user types. CPython only (subprocesses); in
Pyodide `make test-pyodide` runs the programs through js_bridge/pyrun.mjs (tools/run_programs.py).
"""
import os
import subprocess
import sys

import pytest

import torch_js
import _programs as P
from optional_torch import HAVE_TORCH

ROOT = os.path.dirname(P.HERE)
RUNNER = os.path.join(ROOT, "tools", "run_programs.py")
pytestmark = pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide (make "
                                "test-pyodide runs the programs through js_bridge/pyrun.mjs)")
# torch's intra-op threads spin against each other on a busy machine (ten times slower); the programs' tensors are
# far below its parallel grain, so one thread computes the same values
_ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0",
            PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(os.path.abspath(torch_js.__file__))),
                                        os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))


def _run(args, timeout=300):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=_ENV, cwd=ROOT,
                          timeout=timeout)


@pytest.fixture(scope="module")
def torch_js_outputs(tmp_path_factory):
    """name -> (stdout, traceback or None) of every program under `python -m torch_js`, one interpreter."""
    out = tmp_path_factory.mktemp("programs_torch_js")
    r = _run(["-m", "torch_js", RUNNER, "--out", str(out)])
    assert "programs with torch_js " in r.stdout, r.stdout + r.stderr
    results = {}
    for name in P.names():
        err = out / (name + ".err")
        results[name] = ((out / (name + ".out")).read_text(encoding="utf-8"),
                         err.read_text(encoding="utf-8") if err.exists() else None)
    return results


def test_corpus_has_fixtures():
    assert len(P.names()) >= 12
    missing = [n for n in P.names() if not os.path.exists(P.fixture_path(n))]
    assert not missing, f"no fixture for {missing}: run tools/gen_program_fixtures.py"


@pytest.mark.parametrize("name", P.names())
def test_program_prints_what_pytorch_prints(name, torch_js_outputs):
    out, error = torch_js_outputs[name]
    assert error is None, f"{name} failed under torch_js:\n{error}"
    problem = P.difference(name, P.read_fixture(name), out)
    assert problem is None, "\n" + problem


def test_a_program_alone_as_the_user_runs_it():
    name = "linear_regression"
    r = _run(["-m", "torch_js", P.program_path(name)], timeout=120)
    assert r.returncode == 0, r.stderr
    assert P.difference(name, P.read_fixture(name), r.stdout) is None


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not importable")
def test_fixtures_are_what_torch_prints_now():
    """Every program under real torch (one interpreter, one torch import)."""
    r = _run([RUNNER])
    assert "programs with torch " in r.stdout, r.stdout + r.stderr
    assert r.returncode == 0, ("the fixtures are not what torch prints (rerun tools/gen_program_fixtures.py if "
                               f"a program changed):\n{r.stdout}\n{r.stderr}")


def test_difference_masks_addresses_and_shows_the_line():
    a = "epoch 0 loss 1.2345\n<MulBackward0 object at 0x7f00aa>\n"
    assert P.difference("p", a, a.replace("0x7f00aa", "0x55d1")) is None
    diff = P.difference("p", a, a.replace("1.2345", "1.2346"))
    assert "-epoch 0 loss 1.2345" in diff and "+epoch 0 loss 1.2346" in diff
    assert P.difference("p", a, a + "extra\n") is not None
