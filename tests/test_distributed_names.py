"""Names single-process training scripts import at the top (issue 15): torch.utils.data.distributed.DistributedSampler
(real, PyTorch's exact indices), the torch.distributed submodules (importable; what needs other processes raises
torch_js's "not available" error, configuration values and single-process helpers are real), torch.cuda as a CPU-only
PyTorch build has it, torch.accelerator, torch.utils.model_zoo.
"""
import importlib
import inspect
import os
import subprocess
import sys
import warnings

import pytest

import torch_js
import torch_js.distributed as jdist
from torch_js.utils.data.distributed import DistributedSampler

from optional_torch import HAVE_TORCH, needs_torch, torch


# ---- DistributedSampler --------------------------------------------------------------------------------------------

SAMPLER_CONFIGS = [  # (dataset length, num_replicas, shuffle, seed, drop_last)
    (10, 3, True, 0, False), (10, 3, True, 0, True), (10, 3, False, 0, False), (10, 3, False, 0, True),
    (7, 4, True, 5, False), (2, 5, True, 1, False), (1, 3, False, 0, False), (12, 4, True, 123, True),
    (0, 2, True, 0, True), (17, 1, True, 7, False), (3, 7, False, 0, False)]


@needs_torch
@pytest.mark.parametrize("n,replicas,shuffle,seed,drop_last", SAMPLER_CONFIGS)
def test_distributed_sampler_indices_equal_pytorch(n, replicas, shuffle, seed, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    dataset = list(range(n))
    for rank in range(replicas):
        mine = DistributedSampler(dataset, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)
        theirs = TorchSampler(dataset, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                              drop_last=drop_last)
        assert (len(mine), mine.total_size, mine.num_samples) == (len(theirs), theirs.total_size, theirs.num_samples)
        for epoch in (0, 1, 4):
            mine.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(mine) == list(theirs), (rank, epoch)


# recorded from PyTorch 2.13 for the runtimes without it (Pyodide): randperm under seed + epoch, padding, drop_last
RECORDED_SHARES = [
    (dict(n=10, num_replicas=3, seed=4, drop_last=False, epoch=2), [[0, 1, 9, 6], [7, 8, 2, 0], [5, 3, 4, 7]]),
    (dict(n=7, num_replicas=4, seed=0, drop_last=True, epoch=0), [[4], [0], [5], [3]]),
]


@pytest.mark.parametrize("config,shares", RECORDED_SHARES)
def test_distributed_sampler_recorded_shares(config, shares):
    config = dict(config)
    n, epoch = config.pop("n"), config.pop("epoch")
    got = []
    for rank in range(config["num_replicas"]):
        sampler = DistributedSampler(range(n), rank=rank, **config)
        sampler.set_epoch(epoch)
        got.append(list(sampler))
    assert got == shares


def test_distributed_sampler_partitions_and_reshuffles():
    dataset = list(range(9))
    samplers = [DistributedSampler(dataset, num_replicas=3, rank=r, seed=2) for r in range(3)]
    epoch0 = [list(s) for s in samplers]
    assert sorted(sum(epoch0, [])) == dataset               # the replicas' shares are a partition
    for s in samplers:
        s.set_epoch(1)
    assert [list(s) for s in samplers] != epoch0            # a new epoch, a new order
    assert [list(s) for s in samplers] == [list(s) for s in samplers]   # deterministic per epoch


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(num_replicas=2, rank=2), ValueError, r"Invalid rank 2, rank should be in the interval \[0, 1\]"),
    (dict(num_replicas=2, rank=-1), ValueError, "Invalid rank -1"),
    (dict(), RuntimeError, "Requires distributed package to be available"),
    (dict(num_replicas=2), RuntimeError, "Requires distributed package to be available"),
])
def test_distributed_sampler_errors(kwargs, exc, match):
    # without num_replicas/rank PyTorch asks the default process group; torch_js has none (is_available() False),
    # which is PyTorch's own path where the distributed package is unavailable
    with pytest.raises(exc, match=match):
        DistributedSampler(list(range(4)), **kwargs)


def test_distributed_sampler_in_dataloader():
    x = torch_js.arange(10.0)
    ds = torch_js.utils.data.TensorDataset(x)
    sampler = torch_js.utils.data.DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in torch_js.utils.data.DataLoader(ds, batch_size=2, sampler=sampler)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]]


# ---- torch.distributed and its submodules --------------------------------------------------------------------------

# the imports found at the top of pytorch/examples' distributed scripts (and common elsewhere)
TOP_IMPORTS = [
    ("torch.utils.data.distributed", ["DistributedSampler"]),
    ("torch.distributed", ["init_process_group", "destroy_process_group", "ReduceOp",
                           "get_default_backend_for_device"]),
    ("torch.distributed.rpc", ["RRef", "rpc_sync", "rpc_async", "remote", "init_rpc", "TensorPipeRpcBackendOptions"]),
    ("torch.distributed.autograd", ["context", "backward", "get_gradients"]),
    ("torch.distributed.optim", ["DistributedOptimizer", "ZeroRedundancyOptimizer"]),
    ("torch.distributed.nn", ["RemoteModule", "all_gather"]),
    ("torch.distributed.fsdp", ["FullyShardedDataParallel", "CPUOffload", "MixedPrecision", "BackwardPrefetch",
                                "ShardingStrategy", "FullStateDictConfig", "StateDictType", "LocalStateDictConfig",
                                "FSDPModule", "fully_shard", "MixedPrecisionPolicy"]),
    ("torch.distributed.fsdp.fully_sharded_data_parallel", ["FullyShardedDataParallel", "StateDictType",
                                                            "CPUOffload", "BackwardPrefetch", "MixedPrecision"]),
    ("torch.distributed.fsdp.wrap", ["transformer_auto_wrap_policy", "size_based_auto_wrap_policy", "enable_wrap",
                                     "wrap"]),
    ("torch.distributed.tensor", ["distribute_tensor", "DTensor", "Shard", "Replicate"]),
    ("torch.distributed.tensor.parallel", ["parallelize_module", "ColwiseParallel", "RowwiseParallel",
                                           "PrepareModuleInput", "SequenceParallel"]),
    ("torch.distributed._tensor", ["Shard", "Replicate"]),
    ("torch.distributed._tensor.device_mesh", ["init_device_mesh"]),
    ("torch.distributed.device_mesh", ["init_device_mesh", "DeviceMesh"]),
    ("torch.distributed.checkpoint", ["FileSystemReader", "FileSystemWriter", "save_state_dict", "load_state_dict",
                                      "save", "load"]),
    ("torch.distributed.checkpoint.state_dict", ["_init_optim_state", "get_model_state_dict", "StateDictOptions",
                                                 "get_optimizer_state_dict", "set_model_state_dict",
                                                 "set_optimizer_state_dict"]),
    ("torch.distributed.checkpoint.default_planner", ["DefaultSavePlanner", "DefaultLoadPlanner"]),
    ("torch.distributed.algorithms._checkpoint.checkpoint_wrapper", ["checkpoint_wrapper", "CheckpointImpl",
                                                                     "apply_activation_checkpointing"]),
    ("torch.distributed.elastic.multiprocessing.errors", ["record"]),
    ("torch.distributed.launcher.api", ["LaunchConfig", "elastic_launch"]),
    ("torch.distributed.run", ["main"]),
    ("torch.cuda.nccl", ["is_available", "version", "all_reduce"]),
    ("torch.utils.model_zoo", ["load_url"]),
]


def _js_module(torch_name):
    return importlib.import_module("torch_js" + torch_name[len("torch"):])


@pytest.mark.parametrize("module,names", TOP_IMPORTS, ids=[m for m, _ in TOP_IMPORTS])
def test_top_imports_resolve(module, names):
    mod = _js_module(module)
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"
    if HAVE_TORCH:   # each name is one PyTorch has there too
        real = importlib.import_module(module)
        assert [n for n in names if not hasattr(real, n)] == []


@needs_torch
@pytest.mark.parametrize("module", [m for m, _ in TOP_IMPORTS if m.startswith("torch.distributed.")])
def test_table_names_exist_in_pytorch(module):
    """Every name torch_js declares in a distributed submodule is one PyTorch's module has."""
    js = _js_module(module)
    real = importlib.import_module(module)
    assert [n for n in getattr(js, "__all__", []) if not hasattr(real, n)] == []


def test_import_as_torch_in_a_script(tmp_path):
    if sys.platform == "emscripten":
        pytest.skip("no subprocesses in Pyodide")
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\n"
        "import torch.distributed as dist\n"
        "from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, ShardingStrategy, MixedPrecision\n"
        "from torch.distributed.elastic.multiprocessing.errors import record\n"
        "from torch.utils.data.distributed import DistributedSampler\n"
        "import torch.cuda.nccl as nccl\n"
        "bf16 = MixedPrecision(param_dtype=torch.bfloat16, reduce_dtype=torch.bfloat16)\n"
        "@record\n"
        "def main():\n"
        "    if dist.is_available() and dist.is_initialized():\n"
        "        raise SystemExit('unexpected')\n"
        "    s = DistributedSampler(range(5), num_replicas=2, rank=0, shuffle=False)\n"
        "    print(list(s), ShardingStrategy.FULL_SHARD.name, bf16.param_dtype, nccl.is_available([]))\n"
        "main()\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(torch_js.__file__)))
    out = subprocess.run([sys.executable, "-m", "torch_js", str(script)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 2, 4] FULL_SHARD torch.bfloat16 False"


REFUSED = [  # (module, expression using the name) -> torch_js's "not available" RuntimeError
    ("torch.distributed.fsdp", "m.FullyShardedDataParallel(torch_js.nn.Linear(2, 2))"),
    ("torch.distributed.fsdp", "m.FullyShardedDataParallel.state_dict_type(None, None, None)"),
    ("torch.distributed.fsdp", "m.fully_shard(torch_js.nn.Linear(2, 2))"),
    ("torch.distributed.rpc", "m.init_rpc('worker', rank=0, world_size=1)"),
    ("torch.distributed.rpc", "m.RRef(1)"),
    ("torch.distributed.optim", "m.ZeroRedundancyOptimizer([], torch_js.optim.SGD)"),
    ("torch.distributed.device_mesh", "m.init_device_mesh('cpu', (2,))"),
    ("torch.distributed.tensor.parallel", "m.ColwiseParallel()"),
    ("torch.distributed.checkpoint", "m.save({}, checkpoint_id='x')"),
    ("torch.distributed.autograd", "m.context()"),
    ("torch.distributed", "m.all_reduce(torch_js.ones(1), op=m.ReduceOp.SUM)"),
]


@pytest.mark.parametrize("module,expr", REFUSED)
def test_distributed_names_refuse_clearly(module, expr):
    m = _js_module(module)
    with pytest.raises(RuntimeError, match=r"torch\.distributed\..*not available in torch_js.*browser"):
        eval(expr, {"m": m, "torch_js": torch_js})


def test_refusing_classes_are_classes():
    from torch_js.distributed.fsdp import FullyShardedDataParallel as FSDP
    from torch_js.distributed.fsdp.fully_sharded_data_parallel import FullyShardedDataParallel
    assert FSDP is FullyShardedDataParallel and inspect.isclass(FSDP)
    assert not isinstance(torch_js.nn.Linear(1, 1), FSDP)

    class Sub(FSDP):
        pass
    with pytest.raises(RuntimeError, match="FullyShardedDataParallel"):
        Sub()
    assert not hasattr(FSDP, "_private")       # only public class attributes refuse on call


def test_is_available_guards():
    assert jdist.is_available() is False and jdist.is_initialized() is False
    from torch_js.distributed import rpc, autograd
    assert rpc.is_available() is False and autograd.is_available() is False
    assert jdist.group.WORLD is None and jdist.GroupMember.WORLD is None


@needs_torch
def test_config_values_as_pytorch():
    import dataclasses
    import torch.distributed as tdist
    from torch.distributed import fsdp as tfsdp
    from torch.distributed.checkpoint import state_dict as tsd
    from torch.distributed.algorithms._checkpoint import checkpoint_wrapper as tcw
    from torch_js.distributed import fsdp as jfsdp
    from torch_js.distributed.checkpoint import state_dict as jsd
    from torch_js.distributed.algorithms._checkpoint import checkpoint_wrapper as jcw
    for name in ("ShardingStrategy", "BackwardPrefetch", "StateDictType", "OptimStateKeyType"):
        assert [(e.name, e.value) for e in getattr(jfsdp, name)] == [(e.name, e.value) for e in getattr(tfsdp, name)]
    assert [(e.name, e.value) for e in jcw.CheckpointImpl] == [(e.name, e.value) for e in tcw.CheckpointImpl]
    assert ([(e.name, e.value) for e in jdist.ReduceOp.RedOpType]
            == [(n, v.value) for n, v in tdist.ReduceOp.RedOpType.__members__.items()])
    for mod_js, mod_t, name in [(jfsdp, tfsdp, n) for n in (
            "MixedPrecision", "CPUOffload", "StateDictConfig", "FullStateDictConfig", "ShardedStateDictConfig",
            "LocalStateDictConfig", "OptimStateDictConfig", "FullOptimStateDictConfig", "ShardedOptimStateDictConfig",
            "LocalOptimStateDictConfig", "MixedPrecisionPolicy", "CPUOffloadPolicy")] + [
            (jsd, tsd, "StateDictOptions")]:
        js_fields = [(f.name, f.default) for f in dataclasses.fields(getattr(mod_js, name))]
        t_fields = [(f.name, f.default) for f in dataclasses.fields(getattr(mod_t, name))]
        assert [n for n, _ in js_fields] == [n for n, _ in t_fields], name
        assert [d for n, d in js_fields if n != "_module_classes_to_ignore"] == \
            [d for n, d in t_fields if n != "_module_classes_to_ignore"], name
    assert issubclass(jfsdp.FullStateDictConfig, jfsdp.StateDictConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        jfsdp.MixedPrecisionPolicy().param_dtype = None
    for device in ("cpu", "cuda", "mps", torch_js.device("cpu")):
        assert jdist.get_default_backend_for_device(device) == tdist.get_default_backend_for_device(str(device))
    for bad in ("meta",):
        with pytest.raises(ValueError, match="Default backend not registered for device : meta"):
            jdist.get_default_backend_for_device(bad)
        with pytest.raises(ValueError):
            tdist.get_default_backend_for_device(bad)


def test_placements():
    from torch_js.distributed.tensor import Shard, Replicate, Partial
    from torch_js.distributed._tensor import Shard as Shard2
    assert Shard is Shard2 and Shard(0) == Shard(0) and Shard(0) != Shard(1)
    assert Shard(1).is_shard() and Shard(1).is_shard(dim=1) and not Shard(1).is_shard(dim=0)
    assert Replicate().is_replicate() and not Replicate().is_shard() and Partial().reduce_op == "sum"


def test_elastic_record_passes_through():
    from torch_js.distributed.elastic.multiprocessing.errors import record

    @record
    def main(a, b=1):
        """doc"""
        return a + b
    assert main(1, b=2) == 3 and main.__name__ == "main" and main.__doc__ == "doc"

    @record
    def fails():
        raise KeyError("k")
    with pytest.raises(KeyError):
        fails()

    @record
    def exits(code):
        raise SystemExit(code)
    assert exits(0) is None                 # as PyTorch's wrapper: a clean exit returns
    with pytest.raises(SystemExit):
        exits(2)


class _Block(torch_js.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch_js.nn.Linear(3, 3)

    def forward(self, x, scale=1.0):
        return torch_js.tanh(self.lin(x)) * scale


@pytest.mark.parametrize("impl", ["NO_REENTRANT", "REENTRANT"])
def test_checkpoint_wrapper_matches_unwrapped(impl):
    from torch_js.distributed.algorithms._checkpoint.checkpoint_wrapper import (
        CheckpointImpl, CheckpointWrapper, apply_activation_checkpointing, checkpoint_wrapper)
    torch_js.manual_seed(0)
    model = torch_js.nn.Sequential(_Block(), torch_js.nn.ReLU(), _Block())
    plain_keys = list(model.state_dict())
    # the reentrant checkpoint tracks gradients only through inputs that require them (as PyTorch's)
    x = torch_js.randn(4, 3, dtype=torch_js.float64, requires_grad=True)
    model = model.double()
    ref = model(x).sum()
    ref.backward()       # .backward(), not autograd.grad: the reentrant checkpoint supports only the former
    ref_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()

    apply_activation_checkpointing(
        model, checkpoint_wrapper_fn=lambda m: checkpoint_wrapper(m, checkpoint_impl=CheckpointImpl[impl]),
        check_fn=lambda m: isinstance(m, _Block))
    assert isinstance(model[0], CheckpointWrapper) and isinstance(model[2], CheckpointWrapper)
    assert not isinstance(model[1], CheckpointWrapper)
    assert list(model.state_dict()) == plain_keys       # the wrapper level is invisible to checkpoints
    # as in PyTorch: the wrapper's own named_parameters drop its level, the parent's walk does not
    assert [n for n, _ in model[0].named_parameters()] == ["lin.weight", "lin.bias"]
    assert [n for n, _ in model.named_parameters()][0] == "0._checkpoint_wrapped_module.lin.weight"
    assert model[0].lin is model[0]._checkpoint_wrapped_module.lin   # attributes reach the wrapped module
    out = model(x).sum()
    assert torch_js.allclose(out, ref)
    out.backward()
    for p, r in zip(model.parameters(), ref_grads):
        assert torch_js.allclose(p.grad, r)
    y = model[0](x, scale=2.0)           # keyword arguments reach the wrapped module (packed for REENTRANT)
    assert torch_js.allclose(y, model[0]._checkpoint_wrapped_module(x) * 2.0)
    model.load_state_dict({k: v.clone() for k, v in model.state_dict().items()})


# ---- torch.cuda and torch.accelerator as PyTorch's CPU-only build answers ------------------------------------------

def _without_warnings(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _enter(cm):
    with cm:
        return "entered"


CUDA_CASES = {  # name -> (lambda T: ...): the value, or the exception type, must equal PyTorch's
    "set_device(0)": lambda T: T.cuda.set_device(0),
    "set_device(-1)": lambda T: T.cuda.set_device(-1),
    "set_device('cuda:1')": lambda T: T.cuda.set_device("cuda:1"),
    "set_device(device('cuda', 0))": lambda T: T.cuda.set_device(T.device("cuda", 0)),
    "set_device('cuda')": lambda T: T.cuda.set_device("cuda"),
    "set_device('cpu')": lambda T: T.cuda.set_device("cpu"),
    "set_device(None)": lambda T: T.cuda.set_device(None),
    "device(0)": lambda T: _enter(T.cuda.device(0)),
    "device(-1)": lambda T: _enter(T.cuda.device(-1)),
    "device('cpu')": lambda T: T.cuda.device("cpu"),
    "device_of(cpu tensor)": lambda T: _enter(T.cuda.device_of(T.zeros(1))),
    "stream(None)": lambda T: _enter(T.cuda.stream(None)),
    "nccl.is_available": lambda T: [T.cuda.nccl.is_available([]), T.cuda.nccl.is_available([T.zeros(1)])],
    "nccl.SUM": lambda T: T.cuda.nccl.SUM,
    "nccl.version": lambda T: T.cuda.nccl.version(),
    "nccl.all_reduce": lambda T: T.cuda.nccl.all_reduce([T.zeros(1)]),
    "nccl.all_reduce(not a list)": lambda T: T.cuda.nccl.all_reduce(5),
    "nvtx.range_push": lambda T: T.cuda.nvtx.range_push("a"),
    "nvtx.range": lambda T: _enter(T.cuda.nvtx.range("a")),
    "profiler.start": lambda T: T.cuda.profiler.start(),
    "profiler.profile": lambda T: _enter(T.cuda.profiler.profile()),
    "tunable.is_enabled": lambda T: T.cuda.tunable.is_enabled(),
    "gds.gds_register_buffer": lambda T: T.cuda.gds.gds_register_buffer(T.zeros(1)),
    "sparse.FloatTensor()": lambda T: T.cuda.sparse.FloatTensor(),
    "FloatStorage(2)": lambda T: _without_warnings(T.cuda.FloatStorage, 2),   # TypedStorage's warning comes once
    "Event()": lambda T: T.cuda.Event(),
    "MemPool()": lambda T: T.cuda.MemPool(),
    "graph(None)": lambda T: T.cuda.graph(None),
    "make_graphed_callables": lambda T: T.cuda.make_graphed_callables(lambda x: x, (T.zeros(1),)),
    "graph_pool_handle": lambda T: T.cuda.graph_pool_handle(),
    "is_current_stream_capturing": lambda T: T.cuda.is_current_stream_capturing(),
    "memory counters": lambda T: [T.cuda.memory_allocated(0), T.cuda.max_memory_reserved(), dict(T.cuda.memory_stats()),
                                  T.cuda.memory_stats_as_nested_dict(), dict(T.cuda.host_memory_stats()),
                                  T.cuda.host_memory_stats_as_nested_dict(), T.cuda.memory.memory_allocated()],
    "memory_cached": lambda T: [T.cuda.memory_cached(), T.cuda.max_memory_cached()],
    "memory_summary": lambda T: T.cuda.memory_summary(),
    "list_gpu_processes": lambda T: T.cuda.list_gpu_processes(),
    "reset_peak_memory_stats": lambda T: T.cuda.reset_peak_memory_stats(),
    "reset_max_memory_allocated": lambda T: T.cuda.reset_max_memory_allocated(),
    "memory_snapshot": lambda T: T.cuda.memory_snapshot(),
    "caching_allocator_enable": lambda T: T.cuda.caching_allocator_enable(False),
    "caching_allocator_disabled": lambda T: _enter(T.cuda.caching_allocator_disabled()),
    "caching_allocator_alloc": lambda T: T.cuda.caching_allocator_alloc(8),
    "use_mem_pool": lambda T: _enter(T.cuda.use_mem_pool(None)),
    "set_per_process_memory_fraction": lambda T: T.cuda.set_per_process_memory_fraction(0.5),
    "get_sync_debug_mode": lambda T: T.cuda.get_sync_debug_mode(),
    "can_device_access_peer": lambda T: T.cuda.can_device_access_peer(0, 1),
    "cudart": lambda T: T.cuda.cudart(),
    "current_blas_handle": lambda T: T.cuda.current_blas_handle(),
    "utilization": lambda T: T.cuda.utilization(),
    "temperature": lambda T: T.cuda.temperature(0),
    "CudaError(0)": lambda T: T.cuda.CudaError(0),
    "constants": lambda T: [T.cuda.default_generators, T.cuda.has_half, T.cuda.has_magma, T.cuda.cudaStatus.SUCCESS,
                            T.cuda.cudaStatus.ERROR_NOT_READY],
    "random": lambda T: [T.cuda.random.manual_seed(0), T.cuda.random.get_rng_state_all()],
    "random.initial_seed": lambda T: T.cuda.random.initial_seed(),
    "streams.Stream()": lambda T: T.cuda.streams.Stream(),
}

ACCELERATOR_CASES = {
    "device_index(None)": lambda T: _enter(T.accelerator.device_index(None)),
    "device_index(0)": lambda T: _enter(T.accelerator.device_index(0)),
    "current_device_index": lambda T: T.accelerator.current_device_index(),
    "set_device_index(0)": lambda T: T.accelerator.set_device_index(0),
    "synchronize": lambda T: T.accelerator.synchronize(),
    "memory_stats": lambda T: T.accelerator.memory_stats(),
    "max_memory_allocated": lambda T: T.accelerator.max_memory_allocated(),
    "reset_peak_memory_stats": lambda T: T.accelerator.reset_peak_memory_stats(),
    "get_memory_info": lambda T: T.accelerator.get_memory_info(),
    "empty_host_cache": lambda T: T.accelerator.empty_host_cache(),
    "get_device_capability": lambda T: T.accelerator.get_device_capability(),
    "current_stream": lambda T: T.accelerator.current_stream(),
    "Graph()": lambda T: T.accelerator.Graph(),
    "counts": lambda T: [T.accelerator.device_count(), T.accelerator.is_available(),
                         T.accelerator.current_accelerator()],
}


def _outcome(fn, T):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = ("value", fn(T))
        except Exception as e:   # noqa: BLE001  (the exception type is the outcome)
            value = ("raises", type(e).__name__)
    return value, sorted({w.category.__name__ for w in caught})


@needs_torch
@pytest.mark.parametrize("case", list(CUDA_CASES) + [f"accelerator.{k}" for k in ACCELERATOR_CASES])
def test_cuda_and_accelerator_outcomes_equal_cpu_pytorch(case):
    if "webgpu" in torch_js.device._BACKENDS and torch_js.accelerator.is_available() and case.startswith("acc"):
        pytest.skip("this runtime has a WebGPU accelerator; PyTorch's CPU build has none")
    fn = ACCELERATOR_CASES[case[len("accelerator."):]] if case.startswith("accelerator.") else CUDA_CASES[case]
    assert _outcome(fn, torch_js) == _outcome(fn, torch)


@needs_torch
def test_cuda_and_accelerator_have_pytorchs_names():
    import types as pytypes
    assert [n for n in torch.cuda.__all__ if not hasattr(torch_js.cuda, n)] == []
    assert [n for n in torch.accelerator.__all__ if not hasattr(torch_js.accelerator, n)] == []
    for sub in ("nccl", "nvtx", "memory", "random", "graphs", "profiler", "tunable", "gds", "green_contexts", "sparse",
                "streams", "jiterator"):
        real = getattr(torch.cuda, sub)
        names = real.__all__ if hasattr(real, "__all__") else [
            n for n in dir(real) if not n.startswith("_") and not isinstance(getattr(real, n), pytypes.ModuleType)
            and n not in ("annotations",)]
        assert [n for n in names if not hasattr(getattr(torch_js.cuda, sub), n)] == [], sub
        assert importlib.import_module(f"torch_js.cuda.{sub}") is getattr(torch_js.cuda, sub)


def test_accelerator_device_index_is_a_no_op_for_none():
    with torch_js.accelerator.device_index(None):
        x = torch_js.ones(2)
    assert x.tolist() == [1.0, 1.0]


# ---- torch.utils.model_zoo ----------------------------------------------------------------------------------------

def test_model_zoo_load_url_is_hubs_offline_loader(tmp_path):
    from torch_js.utils import model_zoo
    assert model_zoo.load_url is torch_js.hub.load_state_dict_from_url
    sd = {"w": torch_js.arange(3.0)}
    torch_js.save(sd, tmp_path / "resnet-abc.pth")
    loaded = model_zoo.load_url("https://download.pytorch.org/models/resnet-abc.pth", model_dir=str(tmp_path))
    assert loaded["w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="no network access"):
        model_zoo.load_url("https://download.pytorch.org/models/missing.pth", model_dir=str(tmp_path))
