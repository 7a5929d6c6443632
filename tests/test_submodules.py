"""torch.jit, torch.profiler, torch.random, torch.multiprocessing, torch.cpu/mps/xpu/mtia, torch.Stream/Event,
torch._dynamo, torch.compiler, torch.overrides, torch.return_types, torch.storage, torch.export/library/futures.

Against live torch where the behaviour is comparable: a table of calls whose outcome (value, or exception type and
message) must be PyTorch's; scripted/traced/compiled models computing what the eager model computes with PyTorch's
structure (repr, state_dict keys, errors); the profiler's per-op call counts, memory and schedule against PyTorch's,
plus torch-free checks of its timing tree and Chrome trace; storages reading and writing a tensor's memory as
PyTorch's do. Last, `python -m torch_js` on a script that imports torch.jit and torch.profiler prints what PyTorch
prints.
"""
import contextlib
import io
import json
import os
import pickle
import runpy
import subprocess
import sys
import textwrap
import warnings

import pytest

import torch_js as tj
from torch_js import _torch_alias
from torch_js.ops import _api
from optional_torch import needs_torch, torch

HERE = os.path.dirname(os.path.abspath(__file__))
needs_subprocess = pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")


def outcome(fn):
    """("ok", repr of the value) or ("raises", exception type name, message with torch_js's name as torch's)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = fn()
    except Exception as e:   # noqa: BLE001
        return ("raises", type(e).__name__, str(e).replace("torch_js", "torch"))
    return ("ok", repr(value).replace("torch_js", "torch"))


# ---- 1. torch.jit ---------------------------------------------------------------------------------------------------

def _models(T):
    class Block(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = T.nn.Linear(3, 4)
            self.seq = T.nn.Sequential(T.nn.ReLU(), T.nn.Linear(4, 2))
            self.scale = 2.0

        def forward(self, x):
            return self.seq(self.lin(x)) * self.scale

    class UsesUnused(T.nn.Module):
        def __init__(self, use):
            super().__init__()
            self.use = use

        @T.jit.unused
        def slow(self, x):
            return x + 10

        def forward(self, x):
            if self.use:
                return self.slow(x)
            return x + 1
    return Block, UsesUnused


def _same_weights(t_mod, j_mod):
    with torch.no_grad():
        for (name, tp), (jname, jp) in zip(t_mod.state_dict().items(), j_mod.state_dict().items()):
            assert name == jname
            tp.copy_(torch.tensor(jp.tolist(), dtype=tp.dtype))


@needs_torch
def test_script_module_runs_as_the_module_with_pytorchs_structure():
    TB, _ = _models(torch)
    JB, _ = _models(tj)
    t_mod, j_mod = TB(), JB()
    _same_weights(t_mod, j_mod)
    ts, js = torch.jit.script(t_mod), tj.jit.script(j_mod)
    assert isinstance(js, tj.jit.ScriptModule) and type(js).__name__ == "RecursiveScriptModule"
    assert repr(js) == repr(ts) and js.original_name == ts.original_name == "Block"
    assert list(js.state_dict()) == list(ts.state_dict())
    assert js.lin.weight is j_mod.lin.weight               # parameters are shared, as PyTorch's scripting shares them
    assert js.seq[1].original_name == "Linear" and len(js.seq) == 2 and js.scale == 2.0
    x = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    assert torch.allclose(torch.tensor(js(tj.tensor(x)).tolist()), ts(torch.tensor(x)), atol=1e-6)
    # training through the scripted module moves the original's weights
    before = j_mod.lin.weight.detach().clone()
    opt = tj.optim.SGD(js.parameters(), lr=0.1)
    js(tj.tensor(x)).sum().backward()
    opt.step()
    assert not tj.equal(before, j_mod.lin.weight)
    assert tj.jit.script(js) is js
    with pytest.raises(RuntimeError, match="no TorchScript code"):
        js.code
    with pytest.raises(RuntimeError, match="state_dict"):
        tj.jit.save(js, io.BytesIO())
    with pytest.raises(RuntimeError, match="not supported"):
        tj.jit.load(io.BytesIO(b""))


@needs_torch
def test_unused_methods_raise_and_ignored_ones_run():
    _, TU = _models(torch)
    _, JU = _models(tj)
    assert tj.jit.script(JU(False))(tj.ones(2)).tolist() == torch.jit.script(TU(False))(torch.ones(2)).tolist()
    with pytest.raises(torch.jit.Error):
        torch.jit.script(TU(True))(torch.ones(2))
    with pytest.raises(tj.jit.Error, match="annotated to be ignored"):
        tj.jit.script(JU(True))(tj.ones(2))


def _double(x, y):
    return x * 2 + y


@needs_torch
def test_script_and_trace_functions():
    for T in (torch, tj):
        sf = T.jit.script(_double)
        assert isinstance(sf, T.jit.ScriptFunction) and sf.name == "_double"
        assert sf(T.ones(2), T.ones(2)).tolist() == [3.0, 3.0]
        tf = T.jit.trace(_double, (T.ones(2), T.ones(2)))
        assert tf(T.full((2,), 2.0), T.ones(2)).tolist() == [5.0, 5.0]
    seen = []

    def probe(x):
        seen.append(tj.jit.is_tracing())
        return x
    tj.jit.trace(probe, tj.ones(1))
    assert seen == [True] and not tj.jit.is_tracing() and not tj.jit.is_scripting()


TRACE_CASES = {
    "int input": lambda T: T.jit.trace(lambda x, n: x, (T.ones(1), 3)),
    "None input": lambda T: T.jit.trace(lambda x, n: x, (T.ones(1), None)),
    "str in dict": lambda T: T.jit.trace(lambda x: x, ({"a": 1},)),
    "mixed list": lambda T: T.jit.trace(lambda x: x[0], ([T.ones(1), 2],)),
    "no output": lambda T: T.jit.trace(lambda x: None, T.ones(1)),
    "int output": lambda T: T.jit.trace(lambda x: (x, 1), T.ones(1)),
    "dict output strict": lambda T: T.jit.trace(lambda x: {"a": x}, T.ones(1)),
    "dict output lenient": lambda T: type(T.jit.trace(lambda x: {"a": x}, T.ones(1), strict=False)).__name__,
    "nested input": lambda T: T.jit.trace(lambda d: d["a"][0] + 1, ({"a": [T.ones(1)]},))(
        {"a": [T.ones(1)]}).tolist(),
    "module repr": lambda T: repr(T.jit.trace(T.nn.Linear(2, 2), T.ones(2))),
    "module type": lambda T: type(T.jit.trace(T.nn.Linear(2, 2), T.ones(2))).__name__,
    "trace_module non-module": lambda T: T.jit.trace_module(lambda x: x, {"forward": T.ones(1)}),
    "trace_module non-dict": lambda T: T.jit.trace_module(T.nn.ReLU(), T.ones(1)),
    "example run raises": lambda T: T.jit.trace(lambda x: x.view(5), T.ones(2)),
    "script int": lambda T: T.jit.script(3),
    "freeze non-script": lambda T: T.jit.freeze(T.nn.Linear(2, 2)),
    "freeze training": lambda T: T.jit.freeze(T.jit.script(T.nn.Linear(2, 2))),
    "frozen parameters": lambda T: (list(T.jit.freeze(T.jit.script(T.nn.Linear(2, 2).eval())).parameters()),
                                    list(T.jit.freeze(T.jit.script(T.nn.Linear(2, 2).eval())).state_dict())),
    "optimize_for_inference non-script": lambda T: T.jit.optimize_for_inference(T.nn.Linear(2, 2)),
    "optimize_for_inference type": lambda T: type(T.jit.optimize_for_inference(
        T.jit.script(T.nn.Linear(2, 2)))).__name__,
    "ignore bad": lambda T: T.jit.ignore(3),
    "isinstance generics": lambda T: (T.jit.isinstance([1, 2], list[int]), T.jit.isinstance([1, "a"], list[int]),
                                      T.jit.isinstance({"a": (1, 2.0)}, dict[str, tuple[int, float]]),
                                      T.jit.isinstance(None, T.jit.Final[int] if False else type(None))),
    "isinstance bare list": lambda T: T.jit.isinstance([1], list),
    "annotate": lambda T: T.jit.annotate(int, 3),
    "fork/wait": lambda T: T.jit.wait(T.jit.fork(lambda a, b: a + b, T.ones(1), b=T.ones(1))).tolist(),
    "fork raises": lambda T: T.jit.fork(lambda: 1 // 0),
    "Attribute": lambda T: T.jit.Attribute(3, int),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(TRACE_CASES))
def test_jit_outcomes_match_pytorch(name):
    assert outcome(lambda: TRACE_CASES[name](tj)) == outcome(lambda: TRACE_CASES[name](torch))


FUTURE_CASES = {
    "set twice": lambda T: (lambda f: (f.set_result(1), f.set_result(2)))(T.futures.Future()),
    "value": lambda T: (lambda f: (f.set_result(5), f.done(), f.wait(), f.value()))(T.futures.Future()),
    "exception": lambda T: (lambda f: (f.set_exception(ValueError("bad")), f.wait()))(T.futures.Future()),
    "set_exception non-exception": lambda T: T.futures.Future().set_exception(3),
    "then": lambda T: (lambda f: (f.then(lambda g: g.value() * 2), f.set_result(4))[0].wait())(T.futures.Future()),
    "collect_all": lambda T: (lambda a, b: (T.futures.collect_all([a, b]), a.set_result(1), b.set_result(2))[0].wait()
                              and T.futures.wait_all([a, b]))(T.futures.Future(), T.futures.Future()),
    "same class": lambda T: T.jit.Future is T.futures.Future,
}


@needs_torch
@pytest.mark.parametrize("name", sorted(FUTURE_CASES))
def test_futures_match_pytorch(name):
    assert outcome(lambda: FUTURE_CASES[name](tj)) == outcome(lambda: FUTURE_CASES[name](torch))


def test_unset_future_raises_instead_of_hanging():
    with pytest.raises(RuntimeError, match="nothing can complete it"):
        tj.futures.Future().wait()


# ---- 2. torch.profiler ----------------------------------------------------------------------------------------------

def _workload(T):
    """Ops whose names PyTorch's profiler and torch_js's share, under a record_function range."""
    T.manual_seed(0)
    lin = T.nn.Linear(4, 3)
    x = T.randn(5, 4)
    with T.profiler.record_function("block"):
        for _ in range(3):
            y = T.add(x, 1.0)
        z = x * 2
        w = z @ z.t()
        out = lin(x)
        out2 = lin(y)
    return w, out, out2


def _counts(events, names):
    return {n: sum(1 for e in events if e.name == n) for n in names}


NAMES = ("block", "aten::add", "aten::mul", "aten::matmul", "aten::linear")


@needs_torch
def test_profiler_counts_ops_as_pytorch_does():
    counts = {}
    for T in (torch, tj):
        with T.profiler.profile(activities=[T.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
            _workload(T)
        counts[T] = _counts(prof.events(), NAMES)
        averages = {e.key: e for e in prof.key_averages()}
        assert {n: averages[n].count for n in NAMES} == counts[T]
        shapes = {str(e.input_shapes) for e in prof.key_averages(group_by_input_shape=True) if e.key == "aten::linear"}
        assert shapes == {"[[5, 4], [3, 4], [3]]"}
    assert counts[tj] == counts[torch] == {"block": 1, "aten::add": 3, "aten::mul": 1, "aten::matmul": 1,
                                           "aten::linear": 2}


def test_profiler_times_form_a_tree_and_the_table_is_pytorchs():
    with tj.profiler.profile() as prof:
        _workload(tj)
    events = prof.events()
    block = next(e for e in events if e.name == "block")
    assert block.cpu_parent is None and block.cpu_children
    for e in events:
        assert e.cpu_time_total > 0 and e.self_cpu_time_total >= 0
        assert e.time_range.start <= e.time_range.end
        for c in e.cpu_children:
            assert c.cpu_parent is e
            assert e.time_range.start <= c.time_range.start <= c.time_range.end <= e.time_range.end
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - sum(c.cpu_time_total for c in e.cpu_children))
    averages = prof.key_averages()
    total = averages.self_cpu_time_total     # every moment inside some event counted once
    assert total == pytest.approx(sum(e.cpu_time_total for e in events if e.cpu_parent is None), rel=1e-6)
    table = averages.table(sort_by="self_cpu_time_total", row_limit=3)
    lines = table.splitlines()
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%", "CPU", "total",
                                "CPU", "time", "avg", "#", "of", "Calls"]
    assert lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    rows = lines[3:-2]
    assert len(rows) == 3 and lines[-1].startswith("Self CPU time total: ")
    shown = [r.split()[0] for r in rows]
    expected = sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)[:3]
    assert shown == [e.key for e in expected]
    assert "CPU Mem" not in table
    assert _api.PROFILER is None


def test_profiler_records_nothing_outside_and_ends_events_on_errors():
    tj.add(tj.ones(1), 1)
    with tj.profiler.profile() as prof:
        with pytest.raises(RuntimeError):
            tj.ones(2).view(5)
        with tj.profiler.record_function("after"):
            tj.ones(1) + 1
    names = [e.name for e in prof.events()]
    assert names[0] == "aten::ones" and "aten::view" in names and names[-2:] == ["after", "aten::add"] or \
        names[-3:] == ["after", "aten::ones", "aten::add"]
    assert all(e.time_range.end >= e.time_range.start for e in prof.events())
    assert _api.PROFILER is None and tj.Tensor.__add__.__name__ != "operator"
    with tj.profiler.record_function("no profiler"):   # a range without a profiler records nothing, fails nothing
        pass


@needs_torch
def test_profile_memory_counts_allocations_as_pytorch_does():
    usage = {}
    for T in (torch, tj):
        with T.profiler.profile(profile_memory=True) as prof:
            with T.profiler.record_function("alloc"):
                keep = T.zeros(1000)           # 4000 bytes kept
                T.ones(250) * 2                # 1000 + 1000 bytes made and freed inside the range
        averages = {e.key: e for e in prof.key_averages()}
        usage[T] = (averages["aten::zeros"].cpu_memory_usage, averages["aten::mul"].cpu_memory_usage,
                    averages["alloc"].cpu_memory_usage)
        assert "CPU Mem" in prof.key_averages().table() and keep.numel() == 1000
    assert usage[tj] == usage[torch]


@needs_torch
def test_schedule_and_steps_match_pytorch():
    ready = {}
    for T in (torch, tj):
        calls = []
        sched = T.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
        assert [sched(i).name for i in range(10)] == ["NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE"] * 2 + ["NONE"] * 2
        with T.profiler.profile(schedule=sched, on_trace_ready=lambda p: calls.append(
                [e.name for e in p.events() if e.name in ("ProfilerStep*", "aten::mul")])) as p:
            for i in range(9):
                T.ones(2) * i
                p.step()
        ready[T] = (calls, p.step_num)
    assert ready[tj] == ready[torch]
    assert outcome(lambda: tj.profiler.schedule(wait=0, warmup=0, active=0)) == \
        outcome(lambda: torch.profiler.schedule(wait=0, warmup=0, active=0))
    assert outcome(lambda: tj.profiler.profile().key_averages()) == \
        outcome(lambda: torch.profiler.profile().key_averages())


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    with tj.profiler.profile(record_shapes=True, profile_memory=True,
                             on_trace_ready=tj.profiler.tensorboard_trace_handler(str(tmp_path / "tb"), "w")) as prof:
        _workload(tj)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    for f in (path, *sorted((tmp_path / "tb").iterdir())):
        doc = json.loads(f.read_text())
        spans = [e for e in doc["traceEvents"] if e["ph"] == "X"]
        assert {"block", "aten::linear", "aten::add"} <= {e["name"] for e in spans}
        assert all(e["dur"] >= 0 and isinstance(e["ts"], float) for e in spans)
        assert any(e["name"] == "[memory]" for e in doc["traceEvents"])
        block = next(e for e in spans if e["name"] == "block")
        inside = [e for e in spans if e["name"] == "aten::linear"]
        assert block["cat"] == "user_annotation" and inside[0]["cat"] == "cpu_op"
        assert all(block["ts"] <= e["ts"] <= e["ts"] + e["dur"] <= block["ts"] + block["dur"] for e in inside)
    assert [f.name.split(".")[0] for f in (tmp_path / "tb").iterdir()] == ["w"]


def test_autograd_profiler_and_record_function_decorator():
    @tj.autograd.profiler.record_function("decorated")
    def f(x):
        return x.sum()
    x = tj.ones(3)
    with tj.autograd.profiler.profile(with_stack=True) as prof:
        assert prof.key_averages() == []       # nothing until the block ends, as PyTorch's
        f(x)
    names = [e.name for e in prof.function_events]
    assert names == ["decorated", "aten::sum"]
    assert prof.self_cpu_time_total > 0 and prof.total_average().key == "Total"
    assert any("test_submodules.py" in s for s in prof.function_events[1].stack)
    assert "Source Location" in prof.table()


# ---- 3. torch.random, torch.multiprocessing, DataLoader workers ---------------------------------------------------

@needs_torch
def test_random_module_and_fork_rng_match_pytorch():
    draws = {}
    for T in (torch, tj):
        T.random.manual_seed(7)
        state = T.random.get_rng_state()
        with T.random.fork_rng():
            inside = T.randn(3).tolist()
        after = T.randn(3).tolist()
        with T.random.fork_rng(enabled=False):
            T.randn(1)
        unforked = T.randn(1).tolist()
        T.random.set_rng_state(state)
        again = T.randn(3).tolist()
        draws[T] = (inside, after, again, unforked, T.random.initial_seed(), state.tolist())
    assert draws[tj] == draws[torch]
    assert tj.random.default_generator is tj.default_generator
    assert outcome(lambda: tj.random.fork_rng(devices=[0], device_type="cuda").__enter__()) == \
        outcome(lambda: torch.random.fork_rng(devices=[0], device_type="cuda").__enter__())


MP_CASES = {
    "sharing strategies": lambda mp: sorted(mp.get_all_sharing_strategies()),
    "sharing strategy": lambda mp: mp.get_sharing_strategy(),
    "bad sharing strategy": lambda mp: mp.set_sharing_strategy("x"),
    "start methods": lambda mp: mp.get_all_start_methods(),
    "bad start method": lambda mp: mp.set_start_method("bogus", force=True),
    "cpu_count": lambda mp: mp.cpu_count() == os.cpu_count(),
    "context bad": lambda mp: mp.get_context("bogus"),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(MP_CASES))
def test_multiprocessing_queries_match_pytorch(name):
    import torch.multiprocessing as tmp
    assert outcome(lambda: MP_CASES[name](tj.multiprocessing)) == outcome(lambda: MP_CASES[name](tmp))


@pytest.mark.parametrize("start", [lambda mp: mp.Process(target=print).start(), lambda mp: mp.Pool(2),
                                   lambda mp: mp.spawn(print, nprocs=2), lambda mp: mp.Queue(),
                                   lambda mp: mp.get_context("spawn").Process(target=print)])
def test_multiprocessing_refuses_processes(start):
    with pytest.raises(RuntimeError, match="multiprocessing is not available"):
        start(tj.multiprocessing)


def test_dataloader_workers_load_in_process():
    data = tj.utils.data.TensorDataset(tj.arange(10.0))
    one = [b[0].tolist() for b in tj.utils.data.DataLoader(data, batch_size=3)]
    many = [b[0].tolist() for b in tj.utils.data.DataLoader(data, batch_size=3, num_workers=4)]
    assert one == many == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0], [9.0]]


# ---- 4. device modules, torch.Stream / torch.Event -----------------------------------------------------------------

DEVICE_CASES = {
    "cpu.is_available": lambda T: T.cpu.is_available(), "cpu.device_count": lambda T: T.cpu.device_count(),
    "cpu.current_device": lambda T: T.cpu.current_device(), "cpu.synchronize": lambda T: T.cpu.synchronize(),
    "cpu.is_initialized": lambda T: T.cpu.is_initialized(),
    "cpu.stream": lambda T: (lambda s: (T.cpu.stream(s).__enter__(), T.cpu.current_stream() is s))(T.cpu.Stream()),
    "cpu.Event": lambda T: (T.cpu.Event().query(), T.cpu.Event().record(), T.cpu.Event().wait()),
    "cpu.amp.autocast": lambda T: type(T.cpu.amp.autocast()).__name__,
    "mps.is_available": lambda T: T.mps.is_available(), "mps.device_count": lambda T: T.mps.device_count(),
    "mps.manual_seed": lambda T: T.mps.manual_seed(3), "mps.synchronize": lambda T: T.mps.synchronize(),
    "mps.seed": lambda T: T.mps.seed(), "mps.empty_cache": lambda T: T.mps.empty_cache(),
    "mps.get_rng_state": lambda T: T.mps.get_rng_state(), "mps.Event": lambda T: T.mps.Event(),
    "mps.current_allocated_memory": lambda T: T.mps.current_allocated_memory(),
    "xpu.is_available": lambda T: T.xpu.is_available(), "xpu.device_count": lambda T: T.xpu.device_count(),
    "xpu.synchronize": lambda T: T.xpu.synchronize(), "xpu.current_device": lambda T: T.xpu.current_device(),
    "xpu.manual_seed": lambda T: T.xpu.manual_seed(1), "xpu.memory_allocated": lambda T: T.xpu.memory_allocated(),
    "xpu.get_device_name": lambda T: T.xpu.get_device_name(), "xpu.Stream": lambda T: T.xpu.Stream(),
    "xpu.Event": lambda T: T.xpu.Event(), "xpu.is_bf16_supported": lambda T: T.xpu.is_bf16_supported(),
    "mtia.is_available": lambda T: T.mtia.is_available(), "mtia.device_count": lambda T: T.mtia.device_count(),
    "mtia.synchronize": lambda T: T.mtia.synchronize(), "mtia.init": lambda T: T.mtia.init(),
    "mtia.manual_seed": lambda T: T.mtia.manual_seed(1),
    "Stream": lambda T: (repr(T.Stream()), T.Stream().query(), T.Stream() == T.Stream(),
                         T.Stream().device_index, T.Stream().stream_id),
    "Stream cuda": lambda T: T.Stream("cuda"), "Event cuda": lambda T: T.Event("cuda"),
    "Stream.record_event": lambda T: T.Stream().record_event(),
    "Event": lambda T: (repr(T.Event(enable_timing=True)), T.Event().query(), T.Event().synchronize()),
    "Event.record": lambda T: T.Event().record(),
    "Event.elapsed_time": lambda T: T.Event().elapsed_time(T.Event()),
    "cuda.Stream": lambda T: T.cuda.Stream(), "cuda.Event": lambda T: T.cuda.Event(),
    "cuda.StreamContext": lambda T: T.cuda.stream(None).__enter__(),
    "cuda.CUDAGraph": lambda T: T.cuda.CUDAGraph(),
    "get_device_module": lambda T: T.get_device_module("mps").__name__,
}


@needs_torch
@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_device_modules_match_pytorch_without_those_devices(name):
    assert outcome(lambda: DEVICE_CASES[name](tj)) == outcome(lambda: DEVICE_CASES[name](torch))


# ---- 5. torch.compile, torch._dynamo, torch.compiler ----------------------------------------------------------------

COMPILE_CASES = {
    "bad backend": lambda T: T.compile(lambda x: x, backend="bogus"),
    "bad mode": lambda T: T.compile(lambda x: x, mode="bogus"),
    "mode and options": lambda T: T.compile(lambda x: x, mode="default", options={}),
    "not callable": lambda T: T.compile(3),
    "decorator": lambda T: T.compile(mode="reduce-overhead")(lambda x: x + 1)(T.ones(1)).tolist(),
    "module": lambda T: (type(T.compile(T.nn.Linear(2, 2))).__name__, repr(T.compile(T.nn.Linear(2, 2))),
                         list(T.compile(T.nn.Linear(2, 2)).state_dict())),
    "module attributes": lambda T: (lambda m: (m.in_features, m.training, m.eval().training, m._orig_mod.training))(
        T.compile(T.nn.Linear(2, 3))),
    "config": lambda T: (T._dynamo.config.suppress_errors, T._dynamo.config.cache_size_limit,
                         T._dynamo.config.recompile_limit, T._dynamo.config.automatic_dynamic_shapes),
    "config unknown": lambda T: T._dynamo.config.bogus,
    "config set unknown": lambda T: setattr(T._dynamo.config, "bogus", 1),
    "config patch": lambda T: (lambda: T._dynamo.config.suppress_errors) if False else
    [T._dynamo.config.patch(suppress_errors=True).__enter__(), T._dynamo.config.suppress_errors,
     setattr(T._dynamo.config, "suppress_errors", False)][1],
    "is_compiling": lambda T: (T._dynamo.is_compiling(), T.compiler.is_compiling(),
                               T.compiler.is_dynamo_compiling(), T.compiler.is_exporting()),
    "markers": lambda T: (T._dynamo.mark_dynamic(T.ones(2), 0), T._dynamo.mark_static(T.ones(2), 0),
                          T._dynamo.allow_in_graph(len) is len, T.compiler.allow_in_graph(len) is len,
                          T._dynamo.reset(), T.compiler.reset(), T.compiler.cudagraph_mark_step_begin()),
    "disable": lambda T: (T._dynamo.disable(lambda x: x + 1)(1), type(T._dynamo.disable()).__name__),
    "list_backends": lambda T: T._dynamo.list_backends(),
    "compiler list_backends": lambda T: T.compiler.list_backends(),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(COMPILE_CASES))
def test_compile_and_dynamo_match_pytorch(name):
    assert outcome(lambda: COMPILE_CASES[name](tj)) == outcome(lambda: COMPILE_CASES[name](torch))


@needs_torch
def test_compiled_module_computes_and_trains_as_the_eager_one():
    tj.manual_seed(0)
    model = tj.nn.Sequential(tj.nn.Linear(3, 4), tj.nn.Tanh(), tj.nn.Linear(4, 1))
    compiled = tj.compile(model)
    x = tj.randn(5, 3)
    assert tj.equal(compiled(x), model(x))
    compiled(x).sum().backward()
    assert model[0].weight.grad is not None
    state = compiled.state_dict()
    assert list(state) == ["_orig_mod." + k for k in model.state_dict()]
    assert compiled._orig_mod is model and len(compiled) == 3


# ---- 6. torch.overrides, torch.types, torch.return_types -----------------------------------------------------------

def _duck(T):
    class Duck:
        handled = []

        def __init__(self, v):
            self.v = v

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.handled.append(func.__name__)
            return "duck:" + func.__name__

    class Refuses:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    def describe(a, b=None):
        if T.overrides.has_torch_function((a, b) if b is not None else (a,)):
            return T.overrides.handle_torch_function(describe, (a, b) if b is not None else (a,), a, b)
        return "plain"
    return Duck, Refuses, describe


OVERRIDE_CASES = {
    "plain tensor": lambda T: (T.overrides.has_torch_function((T.ones(1),)),
                               T.overrides.has_torch_function_unary(T.ones(1)), _duck(T)[2](T.ones(1))),
    "duck": lambda T: (_duck(T)[2](_duck(T)[0](1)), T.overrides.has_torch_function_unary(_duck(T)[0](1))),
    "refuses": lambda T: _duck(T)[2](_duck(T)[1]()),
    "tensor like": lambda T: (T.overrides.is_tensor_like(T.ones(1)), T.overrides.is_tensor_like(1),
                              T.overrides.is_tensor_like(_duck(T)[0](1))),
    "types": lambda T: (T.types.Number, T.types._int, T.types._Number, T.types._bool),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(OVERRIDE_CASES))
def test_overrides_match_pytorch(name):
    ours, theirs = outcome(lambda: OVERRIDE_CASES[name](tj)), outcome(lambda: OVERRIDE_CASES[name](torch))
    if name == "refuses":   # the types list names the test's local class, printed with each library's module path
        ours, theirs = ours[:2], theirs[:2]
    if name == "types":
        ours, theirs = ours[0], theirs[0]
    assert ours == theirs


def test_overridable_functions_and_modes():
    table = tj.overrides.get_overridable_functions()
    assert tj.add in table[tj] and tj.Tensor.add in table[tj.Tensor]
    assert tj.nn.functional.relu in table[tj.nn.functional]
    assert tj.overrides.resolve_name(tj.add) == "torch.add"
    with pytest.raises(RuntimeError, match="modes"):
        with tj.overrides.TorchFunctionMode():
            pass


RETURN_TYPE_CALLS = {
    "max": lambda T, x, A: T.max(x, 0), "min": lambda T, x, A: T.min(x, 0), "sort": lambda T, x, A: T.sort(x),
    "topk": lambda T, x, A: T.topk(x, 2), "kthvalue": lambda T, x, A: T.kthvalue(x, 2),
    "mode": lambda T, x, A: T.mode(x), "median": lambda T, x, A: T.median(x, 0),
    "cummax": lambda T, x, A: T.cummax(x, 0), "svd": lambda T, x, A: T.svd(A), "qr": lambda T, x, A: T.qr(A),
    "slogdet": lambda T, x, A: T.slogdet(A), "linalg_eigh": lambda T, x, A: T.linalg.eigh(A),
    "linalg_lu_factor": lambda T, x, A: T.linalg.lu_factor(A),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(RETURN_TYPE_CALLS))
def test_return_types_are_the_classes_ops_return(name):
    x = [3.0, -1.0, 2.0, 5.0]
    A = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]]
    ours = RETURN_TYPE_CALLS[name](tj, tj.tensor(x, dtype=tj.float64), tj.tensor(A, dtype=tj.float64))
    theirs = RETURN_TYPE_CALLS[name](torch, torch.tensor(x, dtype=torch.float64), torch.tensor(A, dtype=torch.float64))
    assert type(ours) is getattr(tj.return_types, name) and type(theirs) is getattr(torch.return_types, name)
    fields = [f for f in dir(type(theirs)) if not f.startswith("_") and f not in
              ("count", "index", "n_fields", "n_sequence_fields", "n_unnamed_fields")]
    for f in fields:   # the same named fields, in the same positions
        position = next(i for i, v in enumerate(theirs) if v is getattr(theirs, f))
        assert getattr(ours, f) is ours[position]
    assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]


@needs_torch
def test_every_pytorch_return_type_name_exists():
    names = {n for n in dir(torch.return_types) if not n.startswith("_") and not n.endswith("_out")
             and isinstance(getattr(torch.return_types, n), type) and n not in ("SequenceKey",)}
    assert names <= set(dir(tj.return_types))


# ---- 7. storages ----------------------------------------------------------------------------------------------------

STORAGE_CASES = {
    "untyped": lambda T: (lambda t: (t.untyped_storage().nbytes(), t.untyped_storage().size(),
                                     len(t.untyped_storage()), t.untyped_storage().element_size(),
                                     t.untyped_storage().tolist()[:8], t.untyped_storage()[5],
                                     t.untyped_storage().type(), str(t.untyped_storage().device)))(
        T.arange(4, dtype=T.float32)),
    "untyped shares": lambda T: (lambda t: (t[2:].untyped_storage().data_ptr() == t.untyped_storage().data_ptr(),
                                            t.view(2, 2).untyped_storage().nbytes()))(T.arange(4.0)),
    "typed": lambda T: (lambda s: (s.size(), len(s), s.tolist(), s[-1], s.dtype, s.element_size(), s.nbytes(),
                                   s.type(), s.pickle_storage_type(), str(s)))(T.arange(3, dtype=T.int64).storage()),
    "typed write": lambda T: (lambda t: (t.storage().__setitem__(0, 9.5), t.tolist()))(T.zeros(2)),
    "untyped write": lambda T: (lambda t: (t.untyped_storage().__setitem__(0, 1), t.tolist()))(
        T.zeros(2, dtype=T.uint8)),
    "typed index error": lambda T: T.arange(4.0).storage()[10],
    "untyped index error": lambda T: T.arange(4.0).untyped_storage()[100],
    "typed slice": lambda T: T.arange(4.0).storage()[1:3],
    "copy mismatch": lambda T: T.UntypedStorage(3).copy_(T.UntypedStorage(4)),
    "legacy classes": lambda T: (T.FloatStorage([1, 2]).tolist(), T.FloatStorage(3).size(), T.FloatStorage.dtype,
                                 T.BoolStorage([1, 0]).tolist(), T.IntStorage([1, 2]).double().tolist(),
                                 T.IntStorage([1, 2]).double().dtype),
    "isinstance": lambda T: (isinstance(T.ones(1).storage(), T.FloatStorage),
                             isinstance(T.ones(1).storage(), T.LongStorage),
                             isinstance(T.ones(1).storage(), T.TypedStorage),
                             isinstance(T.ones(1).untyped_storage(), T.UntypedStorage),
                             T.is_storage(T.ones(1).untyped_storage()), T.is_storage(T.ones(1))),
    "untyped from list": lambda T: str(T.UntypedStorage([1, 2, 300])),
    "empty str": lambda T: (str(T.FloatStorage()), str(T.UntypedStorage(0))),
    "meta": lambda T: str(T.empty(2, device="meta").untyped_storage()),
    "meta values": lambda T: T.empty(2, device="meta").untyped_storage().tolist(),
    "fill and clone": lambda T: (lambda s: (s.fill_(3).tolist(), s.clone().tolist()))(T.FloatStorage(2)),
    "from_buffer": lambda T: T.FloatStorage.from_buffer(b"\x00\x00\x80\x3f\x00\x00\x00\x40", "little").tolist(),
    "wrap_storage": lambda T: T.TypedStorage(wrap_storage=T.arange(2.0).untyped_storage(), dtype=T.float32).tolist(),
    "pickle": lambda T: pickle.loads(pickle.dumps(T.arange(3.0).storage())).tolist(),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(STORAGE_CASES))
def test_storages_match_pytorch(name):
    assert outcome(lambda: STORAGE_CASES[name](tj)) == outcome(lambda: STORAGE_CASES[name](torch))


def test_storage_resize_and_deprecation_warning():
    t = tj.arange(4, dtype=tj.uint8)
    s = t.untyped_storage()
    s.resize_(6)
    assert s.nbytes() == 6 and s.tolist()[:4] == [0, 1, 2, 3] and t.tolist() == [0, 1, 2, 3]
    s[1] = 7
    assert t.tolist() == [0, 7, 2, 3]          # the tensor reads the resized memory
    import torch_js.storage as S
    S._typed_storage_warned[0] = False
    with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
        t.storage()


# ---- 8. torch.export / package / library / _C ----------------------------------------------------------------------

def test_export_and_package_say_they_are_unavailable():
    with pytest.raises(RuntimeError, match="not available in the browser"):
        tj.export.export(tj.nn.Linear(2, 2), (tj.ones(2),), dynamic_shapes={"x": {0: tj.export.Dim("batch", max=8)}})
    with pytest.raises(RuntimeError, match="not available"):
        tj.package.PackageExporter("x.pt")
    with pytest.raises(AttributeError, match="C\\+\\+ extension"):
        tj._C._some_internal
    assert tj._C._jit_set_profiling_executor(False) is True and tj._C._jit_set_profiling_executor(True) is False


@needs_torch
def test_custom_op_with_autograd_matches_pytorch():
    grads = {}
    for T, ns in ((torch, "tjtest_torch"), (tj, "tjtest_js")):
        @T.library.custom_op(f"{ns}::scaled_sin", mutates_args=())
        def scaled_sin(x: T.Tensor, scale: float) -> T.Tensor:
            return (x.sin() * scale).detach() if T is tj else x.sin() * scale

        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.scale = inputs[1]

        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.cos() * ctx.scale, None

        scaled_sin.register_autograd(backward, setup_context=setup_context)
        x = T.tensor([0.1, 0.7, -1.2], dtype=T.float64, requires_grad=True)
        y = scaled_sin(x, 3.0)
        y.sum().backward()
        grads[T] = (y.tolist(), x.grad.tolist())
    assert grads[tj][0] == pytest.approx(grads[torch][0]) and grads[tj][1] == pytest.approx(grads[torch][1])


# ---- 9. `import torch.X` and `python -m torch_js` -------------------------------------------------------------------

NEW_MODULES = ["torch.jit", "torch.profiler", "torch.autograd.profiler", "torch.autograd.profiler_util",
               "torch.random", "torch.multiprocessing", "torch.cpu", "torch.cpu.amp", "torch.mps", "torch.xpu",
               "torch.mtia", "torch._dynamo", "torch._dynamo.config", "torch.compiler", "torch.overrides",
               "torch.types", "torch.return_types", "torch.storage", "torch.export", "torch.package",
               "torch.library", "torch.futures", "torch._C"]


@contextlib.contextmanager
def _torch_is_torch_js():
    saved = {n: m for n, m in sys.modules.items() if n == "torch" or n.startswith("torch.")}
    for n in saved:
        del sys.modules[n]
    try:
        tj.install_as_torch()
        yield
    finally:
        _torch_alias.uninstall()
        for n in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[n]
        sys.modules.update(saved)


@pytest.mark.parametrize("name", NEW_MODULES)
def test_submodules_import_as_torch(name):
    import importlib
    with _torch_is_torch_js():
        module = importlib.import_module(name)
        assert module is importlib.import_module("torch_js" + name[len("torch"):])


SCRIPT = """
    import torch
    import torch.jit
    import torch.nn as nn
    from torch.profiler import profile, record_function, ProfilerActivity

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    scripted = torch.jit.script(model)
    traced = torch.jit.trace(model, torch.randn(3, 4))
    x = torch.randn(5, 4)
    print(scripted, traced, sep="\\n")
    print(torch.allclose(scripted(x), model(x)), torch.allclose(traced(x), model(x)), torch.jit.is_scripting())
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("inference"):
            for _ in range(4):
                scripted(x)
    counts = {e.key: e.count for e in prof.key_averages()}
    print(counts["inference"], counts["aten::linear"], counts["aten::relu"] > 0)
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=3).splitlines()[1].split()[:3])
"""


def _python(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(tj.__file__))),
               PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout, r.stderr


@needs_subprocess
@needs_torch
def test_cli_runs_a_jit_and_profiler_script_as_pytorch_does(tmp_path):
    path = tmp_path / "prof.py"
    path.write_text(textwrap.dedent(SCRIPT))
    code, out, err = _python(["-m", "torch_js", "prof.py"], tmp_path)
    assert (code, err) == (0, "")
    pytorch_out = io.StringIO()
    rng = torch.get_rng_state()
    try:
        with contextlib.redirect_stdout(pytorch_out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runpy.run_path(str(path), run_name="__main__")
    finally:
        torch.set_rng_state(rng)
    assert out == pytorch_out.getvalue()


@pytest.mark.skipif(sys.platform == "emscripten", reason="starts a fresh interpreter")
def test_autograd_submodules_after_import_alone():
    # torch.autograd.profiler / graph / profiler_util are attributes right after `import torch`, as in PyTorch (a
    # program calling torch.autograd.profiler.profile() met AttributeError unless something had imported it)
    code = ("import torch_js as t; print(all(hasattr(t.autograd, n) for n in "
            "('profiler', 'graph', 'profiler_util', 'functional', 'anomaly_mode')))")
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(tj.__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=pkg))
    assert out.stdout.strip() == "True", out.stderr
