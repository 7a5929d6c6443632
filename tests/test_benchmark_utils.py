"""torch.utils.benchmark (Timer, Measurement, Compare, select_unit, trim_sigfig) against live torch: Measurements
built from fixed times give the same statistics, repr lines and Compare tables character for character; Timers
driven by a fake clock run the statement the same number of times and record the same times; the recipe's idioms
(setup importing from __main__, globals, label/sub_label/description) work, also under `python -m torch_js`; the
default clock waits for the WebGPU device; what a browser cannot do (C++ statements, Callgrind) raises saying so."""
import os
import random
import re
import subprocess
import sys
import textwrap

import pytest

import torch_js as tj
import torch_js.utils.benchmark as jbench
from optional_torch import needs_torch, torch

if torch is not None:
    import torch.utils.benchmark as tbench

PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(tj.__file__)))


def _times(seed, n, center, spread):
    rng = random.Random(seed)
    return [center * (1 + spread * rng.uniform(-1, 1)) for _ in range(n)]


# (number_per_run, raw_times, TaskSpec kwargs): one, two, three, many times; tight and wide spreads (warnings);
# multi-line stmt and setup; ns to s
MEASUREMENTS = [
    (100, _times(0, 40, 5.7e-4, 0.02), dict(stmt="x + y", setup="x = torch.ones(4)", label="add", sub_label="4x8",
                                            description="ones")),
    (1, [3.2e-3], dict(stmt="mul(x, x)", setup="pass", num_threads=4)),
    (10, [2.1e-7, 2.4e-7], dict(stmt="a @ b", setup="from __main__ import a, b", label="mm")),
    (1000, [4e-5, 5e-5, 7e-5], dict(stmt="f()", setup="", description="three")),
    (1, _times(1, 25, 1.3, 0.6), dict(stmt="for i in range(3):\n    f(i)", setup="import x\ny = 2",
                                       sub_label="loop", num_threads=2)),
    (1000, _times(2, 9, 8.8e-6, 0.15), dict(stmt="g(x)", setup="pass", label="g", description="d")),
]


def _measurement(lib, number, raw_times, spec):
    return lib.Measurement(number, list(raw_times), lib.TaskSpec(**spec))


def _repr_lines(m):
    first, *rest = repr(m).splitlines()
    return first, rest


@needs_torch
@pytest.mark.parametrize("case", range(len(MEASUREMENTS)))
def test_measurement_statistics_and_repr_match_pytorch(case):
    number, raw, spec = MEASUREMENTS[case]
    t, j = _measurement(tbench, number, raw, spec), _measurement(jbench, number, raw, spec)
    for name in ("median", "mean", "iqr"):
        assert getattr(j, name) == pytest.approx(getattr(t, name), rel=1e-12), name
    assert j.times == t.times and j.raw_times == raw and j.number_per_run == number
    assert (j.significant_figures, j.has_warnings, j.meets_confidence(0.2), j.title, j.as_row_name) == \
           (t.significant_figures, t.has_warnings, t.meets_confidence(0.2), t.title, t.as_row_name)
    assert (j.stmt, j.label, j.num_threads, j.env) == (t.stmt, t.label, t.num_threads, t.env)
    t_first, t_rest = _repr_lines(t)
    j_first, j_rest = _repr_lines(j)
    assert j_rest == t_rest
    assert j_first.startswith("<torch_js.utils.benchmark.utils.common.Measurement object at 0x")
    assert t_first.startswith("<torch.utils.benchmark.utils.common.Measurement object at 0x")


@needs_torch
def test_select_unit_and_trim_sigfig_match_pytorch():
    values = [1e-9, 9.99e-9, 1e-6, 999.4e-9, 1e-3, 0.00099999, 2.5e-4, 0.9999, 1.0, 12.5, 3.14159, 31.45, 0.0625]
    for v in values:
        assert jbench.select_unit(v) == tbench.select_unit(v), v
        for n in (1, 2, 3, 4):
            assert jbench.trim_sigfig(v, n) == tbench.trim_sigfig(v, n), (v, n)
    assert jbench.unit_to_english("us") == "microsecond"
    with pytest.raises(AssertionError, match="integer"):
        jbench.trim_sigfig(1.0, 1.5)


def _compare_cases(lib):
    """Tables of fixed Measurements: labels, sub_labels, descriptions (with a missing cell), thread groups, envs."""
    results = []
    for k, (threads, sub_label, description, center, spread) in enumerate([
            (1, "[1, 1]", "mul/sum", 4.1e-6, 0.01), (1, "[1, 1]", "bmm", 6.3e-6, 0.03),
            (1, "[64, 64]", "mul/sum", 2.2e-5, 0.3), (1, "[64, 64]", "bmm", 9.9e-6, 0.02),
            (4, "[1, 1]", "mul/sum", 4.4e-6, 0.01), (4, "[64, 64]", "bmm", 1.1e-4, 0.12),
            (1, "[1024, 1]", "mul/sum", 7.5e-4, 0.01)]):
        results.append(lib.Measurement(100, _times(k, 12, center * 100, spread), lib.TaskSpec(
            stmt="batched_dot(x, x)", setup="pass", label="Batched dot", sub_label=sub_label,
            description=description, num_threads=threads)))
    for k, env in enumerate(["eager", "eager", "scripted"]):
        results.append(lib.Measurement(10, _times(10 + k, 6, 3e-2, 0.05), lib.TaskSpec(
            stmt=f"f{k}()", setup="pass", label="envs", description="run", env=env)))
    # replicates of one TaskSpec merge into one cell
    results += [lib.Measurement(1, [2.0e-3, 2.1e-3], lib.TaskSpec(stmt="h()", setup="pass", label="merged",
                                                                  description="d")),
                lib.Measurement(2, [4.4e-3], lib.TaskSpec(stmt="h()", setup="pass", label="merged",
                                                          description="d"))]
    return results


@needs_torch
@pytest.mark.parametrize("options", [(), ("trim",), ("colorize",), ("rowwise",), ("highlight",),
                                     ("trim", "colorize", "highlight")])
def test_compare_tables_match_pytorch(options, capsys):
    tables = []
    for lib in (tbench, jbench):
        compare = lib.Compare(_compare_cases(lib))
        if "trim" in options:
            compare.trim_significant_figures()
        if "colorize" in options:
            compare.colorize()
        if "rowwise" in options:
            compare.colorize(rowwise=True)
        if "highlight" in options:
            compare.highlight_warnings()
        compare.print()
        tables.append((str(compare), capsys.readouterr().out))
    assert tables[1] == tables[0]
    assert "[-" in tables[1][0] and "Times are in microseconds (us)." in tables[1][0]


@needs_torch
def test_compare_rejects_what_is_not_a_measurement():
    for lib in (tbench, jbench):
        with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
            lib.Compare([1.0])


class _FakeClock:
    """Time advances 1 us per statement run and 10 ns per reading: a deterministic timer for both libraries."""

    def __init__(self, globals_):
        self.globals, self.reads = globals_, 0

    def __call__(self):
        self.reads += 1
        return self.globals["runs"][0] * 1e-6 + self.reads * 1e-8


def _fake_timer(lib, **kwargs):
    globals_ = {"runs": [0]}
    clock = _FakeClock(globals_)
    timer = lib.Timer(stmt="runs[0] += 1", setup="runs[0] = 0", timer=clock, globals=globals_, **kwargs)
    return timer, globals_, clock


@needs_torch
@pytest.mark.parametrize("method, kwargs", [("timeit", dict(number=500)), ("blocked_autorange", {}),
                                            ("blocked_autorange", dict(min_run_time=0.05)),
                                            ("adaptive_autorange", dict(threshold=0.05, max_run_time=1.0))])
def test_timer_runs_and_records_as_pytorchs(method, kwargs):
    outcomes = []
    for lib in (tbench, jbench):
        timer, globals_, clock = _fake_timer(lib, label="fake", num_threads=1)
        callbacks = []
        if method != "timeit":
            kwargs = dict(kwargs, callback=lambda number, t: callbacks.append((number, t)))
        m = getattr(timer, method)(**kwargs)
        outcomes.append((m.number_per_run, m.raw_times, globals_["runs"][0], clock.reads, callbacks,
                         repr(m).splitlines()[1:]))
    assert outcomes[1] == outcomes[0]
    assert "torch" not in _fake_timer(jbench)[1]   # the caller's globals are copied, not filled in


def batched_dot_mul_sum(a, b):
    """The recipe's function: batched dot product by multiply and sum."""
    return a.mul(b).sum(-1)


def test_recipe_idioms(monkeypatch):
    monkeypatch.setattr(sys.modules["__main__"], "batched_dot_mul_sum", batched_dot_mul_sum, raising=False)
    x = tj.randn(100, 64)
    results = []
    for description, stmt in [("mul/sum", "batched_dot_mul_sum(x, x)"), ("bmm", "batched_dot_bmm(x, x)")]:
        t = jbench.Timer(stmt=stmt, setup="from __main__ import batched_dot_mul_sum",
                         globals={"x": x, "batched_dot_bmm": lambda a, b: torch_bmm(a, b)},
                         label="Batched dot", sub_label="[100, 64]", description=description)
        results.append(t.blocked_autorange(min_run_time=0.05))
    m = results[0]
    assert m.median > 0 and m.number_per_run >= 1 and len(m.times) >= 1
    lines = repr(m).splitlines()
    assert lines[1:3] == ["Batched dot: [100, 64]", "mul/sum"]
    assert lines[3] == "setup: from __main__ import batched_dot_mul_sum"
    one = jbench.Timer(stmt="batched_dot_mul_sum(x, x)", setup="from __main__ import batched_dot_mul_sum",
                       globals={"x": x}).timeit(20)
    assert one.number_per_run == 20 and len(one.raw_times) == 1
    assert re.fullmatch(r"  \d+\.\d\d (ns|us|ms|s)", repr(one).splitlines()[3])
    assert repr(one).splitlines()[4] == "  1 measurement, 20 runs , 1 thread"
    table = str(jbench.Compare(results)).splitlines()
    assert table[0].startswith("[---") and " Batched dot " in table[0]
    assert [cell.strip() for cell in table[1].split("|")] == ["", "mul/sum", "bmm"]
    assert table[2].startswith("1 threads: ---") and table[3].startswith("      [100, 64]")
    assert re.fullmatch(r"Times are in (nano|micro|milli)?seconds \((ns|us|ms|s)\)\.", table[-1])
    # `torch` is there for the statement without being passed; a failing statement raises its own error
    assert jbench.Timer("torch.ones(2).sum()").timeit(3).number_per_run == 3
    with pytest.raises(NameError):
        jbench.Timer("undefined_name + 1").timeit(2)


def torch_bmm(a, b):
    return tj.bmm(a.unsqueeze(-2), b.unsqueeze(-1)).flatten(-3)


def test_default_clock_synchronizes_the_accelerator(monkeypatch):
    """The clock waits for the webgpu device once it is in use, on any adapter (a software one is no accelerator
    for torch.accelerator, but a timed statement may still run on it)."""
    from torch_js import webgpu
    syncs = []
    monkeypatch.setattr(webgpu, "is_initialized", lambda: True)
    monkeypatch.setattr(webgpu, "synchronize", lambda: syncs.append(1))
    jbench.Timer("pass").timeit(10)
    # each timeit reads the clock twice: warmup and measurement
    assert len(syncs) == 4
    monkeypatch.setattr(webgpu, "is_initialized", lambda: False)
    jbench.timer()
    assert len(syncs) == 4


@pytest.mark.parametrize("make, error, match", [
    (lambda: jbench.Timer("pass").collect_callgrind(), OSError, "valgrind"),
    (lambda: jbench.Timer("pass").collect_callgrind(repeats=0), ValueError, "repeats"),
    (lambda: jbench.Timer("pass", language="cpp"), NotImplementedError, "C\\+\\+"),
    (lambda: jbench.Timer("pass", language="rust"), ValueError, "Invalid language"),
    (lambda: jbench.Timer("pass", global_setup="int x;"), ValueError, "global_setup is C\\+\\+ only"),
    (lambda: jbench.Timer(lambda: None), ValueError, "only a `str` stmt"),
    (lambda: jbench.Timer("pass").repeat(), NotImplementedError, "blocked_autorange"),
    (lambda: jbench.Timer("pass").autorange(), NotImplementedError, "blocked_autorange"),
])
def test_what_cannot_run_raises(make, error, match):
    with pytest.raises(error, match=match):
        make()


RECIPE_SCRIPT = """
    import torch
    import torch.utils.benchmark as benchmark

    def batched_dot_mul_sum(a, b):
        return a.mul(b).sum(-1)

    x = torch.randn(1000, 64)
    t0 = benchmark.Timer(stmt='batched_dot_mul_sum(x, x)', setup='from __main__ import batched_dot_mul_sum',
                         globals={'x': x})
    m = t0.timeit(100)
    print(repr(m).splitlines()[1:2], m.number_per_run, len(m.times))
    results = []
    for num_threads in [1, 4]:
        for label, stmt in [('mul/sum', 'batched_dot_mul_sum(x, x)')]:
            results.append(benchmark.Timer(stmt=stmt, setup='from __main__ import batched_dot_mul_sum',
                                           globals={'x': x}, num_threads=num_threads, label='Batched dot',
                                           sub_label='[1000, 64]', description=label).blocked_autorange(
                                               min_run_time=0.05))
    table = str(benchmark.Compare(results)).splitlines()
    print(len(table), table[2].startswith('1 threads: ---'), table[4].startswith('4 threads: ---'))
"""


@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")
@needs_torch
def test_recipe_script_under_python_m_torch_js_prints_as_pytorchs(tmp_path):
    (tmp_path / "recipe.py").write_text(textwrap.dedent(RECIPE_SCRIPT))
    env = dict(os.environ, PYTHONPATH=PKG_DIR, PYTHONDONTWRITEBYTECODE="1")
    outputs = [subprocess.run([sys.executable, *args, "recipe.py"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300) for args in ([], ["-m", "torch_js"])]
    assert outputs[1].returncode == 0, outputs[1].stderr
    assert outputs[1].stdout == outputs[0].stdout


def test_measurement_and_compare_print_as_recorded_from_pytorch():
    """Torch-free (Pyodide too): PyTorch 2.13's output for these times, recorded."""
    ms = [jbench.Measurement(10, [2.0e-5, 2.1e-5, 2.2e-5, 2.6e-5], jbench.TaskSpec(
        "f(x)", "pass", label="L", sub_label="s", description=d, num_threads=n)) for d in ("a", "b") for n in (1, 2)]
    assert repr(ms[0]).splitlines()[1:] == [
        "L: s", "a", "  Median: 2.15 us", "  IQR:    0.22 us (2.08 to 2.30)",
        "  4 measurements, 10 runs per measurement, 1 thread",
        "  WARNING: Interquartile range is 10.5% of the median measurement.",
        "           This could indicate system fluctuation."]
    compare = jbench.Compare(ms)
    compare.highlight_warnings()
    assert str(compare) == (
        "[----------------- L -----------------]\n"
        "         |       a       |       b     \n"
        "1 threads: ----------------------------\n"
        "      s  |  2.1 (! 10%)  |  2.1 (! 10%)\n"
        "2 threads: ----------------------------\n"
        "      s  |  2.1 (! 10%)  |  2.1 (! 10%)\n\n"
        "Times are in microseconds (us).\n"
        "(! XX%) Measurement has high variance, where XX is the IQR / median * 100.\n")
