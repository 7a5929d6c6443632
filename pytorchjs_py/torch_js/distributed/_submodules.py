"""The submodules of torch.distributed that programs import at the top, declared in one table.

Training scripts written for several processes import FSDP, RPC, DTensor, distributed checkpointing, ... at the top
even when run as one process, so each of those modules exists (`import torch.distributed.fsdp` works) with the names
PyTorch's has. What needs other processes is a "refusing" name: a function that raises unavailable() when called,
or a class that raises it when instantiated (and can still be named in isinstance checks, annotations and
subclasses). What carries only configuration (enums such as ShardingStrategy, dataclasses such as MixedPrecision,
DTensor placements) or works in one process (elastic's @record, checkpoint_wrapper) is real.
"""
import dataclasses
import enum
import functools
import importlib.machinery
import sys
import types

from .._distributed_availability import refusing_function, unavailable
from ._checkpoint_wrapper import (ActivationWrapper, CheckpointImpl, CheckpointWrapper,
                                  apply_activation_checkpointing, checkpoint_wrapper)
from ..nn.modules.batchnorm import _BatchNorm


# ---- real values: configuration carried to the distributed APIs --------------------------------------------------

class ShardingStrategy(enum.Enum):
    FULL_SHARD = enum.auto()
    SHARD_GRAD_OP = enum.auto()
    NO_SHARD = enum.auto()
    HYBRID_SHARD = enum.auto()
    _HYBRID_SHARD_ZERO2 = enum.auto()


class BackwardPrefetch(enum.Enum):
    BACKWARD_PRE = enum.auto()
    BACKWARD_POST = enum.auto()


class StateDictType(enum.Enum):
    FULL_STATE_DICT = enum.auto()
    LOCAL_STATE_DICT = enum.auto()
    SHARDED_STATE_DICT = enum.auto()


class OptimStateKeyType(enum.Enum):
    PARAM_NAME = enum.auto()
    PARAM_ID = enum.auto()


def _config(name, fields, base=object, frozen=False):
    """A dataclass of (field, default) pairs, as PyTorch declares these configurations."""
    return dataclasses.make_dataclass(name, [(f, object, dataclasses.field(default=d)) for f, d in fields],
                                      bases=(base,), frozen=frozen)


MixedPrecision = _config("MixedPrecision", [
    ("param_dtype", None), ("reduce_dtype", None), ("buffer_dtype", None), ("keep_low_precision_grads", False),
    ("cast_forward_inputs", False), ("cast_root_forward_inputs", True), ("_module_classes_to_ignore", (_BatchNorm,))])
CPUOffload = _config("CPUOffload", [("offload_params", False)])
StateDictConfig = _config("StateDictConfig", [("offload_to_cpu", False)])
FullStateDictConfig = _config("FullStateDictConfig", [("offload_to_cpu", False), ("rank0_only", False)],
                              StateDictConfig)
ShardedStateDictConfig = _config("ShardedStateDictConfig", [("offload_to_cpu", False), ("_use_dtensor", False)],
                                 StateDictConfig)
LocalStateDictConfig = _config("LocalStateDictConfig", [("offload_to_cpu", False)], StateDictConfig)
OptimStateDictConfig = _config("OptimStateDictConfig", [("offload_to_cpu", True)])
FullOptimStateDictConfig = _config("FullOptimStateDictConfig", [("offload_to_cpu", True), ("rank0_only", False)],
                                   OptimStateDictConfig)
ShardedOptimStateDictConfig = _config("ShardedOptimStateDictConfig",
                                      [("offload_to_cpu", True), ("_use_dtensor", False)], OptimStateDictConfig)
LocalOptimStateDictConfig = _config("LocalOptimStateDictConfig", [("offload_to_cpu", False)], OptimStateDictConfig)
StateDictSettings = _config("StateDictSettings", [("state_dict_type", None), ("state_dict_config", None),
                                                  ("optim_state_dict_config", None)])
MixedPrecisionPolicy = _config("MixedPrecisionPolicy", [("param_dtype", None), ("reduce_dtype", None),
                                                        ("output_dtype", None), ("cast_forward_inputs", True)],
                               frozen=True)
OffloadPolicy = _config("OffloadPolicy", [])
CPUOffloadPolicy = _config("CPUOffloadPolicy", [("pin_memory", True)], OffloadPolicy)
StateDictOptions = _config("StateDictOptions", [
    ("full_state_dict", False), ("cpu_offload", False), ("ignore_frozen_params", False),
    ("keep_submodule_prefixes", True), ("strict", True), ("broadcast_from_rank0", False),
    ("flatten_optimizer_state_dict", False), ("dsd_fqn_modifiers", "_fqn_modifiers")])


class Placement:
    """How a DTensor lies on a mesh dimension (Shard(dim), Replicate(), Partial(reduce_op))."""

    def is_shard(self, dim=None):
        return isinstance(self, Shard) and (dim is None or self.dim == dim)

    def is_replicate(self):
        return isinstance(self, Replicate)

    def is_partial(self, reduce_op=None):
        return isinstance(self, Partial) and (reduce_op is None or self.reduce_op == reduce_op)


@dataclasses.dataclass(frozen=True)
class Shard(Placement):
    dim: int


@dataclasses.dataclass(frozen=True)
class Replicate(Placement):
    pass


@dataclasses.dataclass(frozen=True)
class Partial(Placement):
    reduce_op: str = "sum"


class BackendType(enum.Enum):
    TENSORPIPE = "TENSORPIPE"


# ---- what works in one process --------------------------------------------------------------------------------------

class ChildFailedError(Exception):
    """Raised by the elastic launcher when a worker process fails; torch_js launches none."""


def record(fn, error_handler=None):
    """torch.distributed.elastic's @record: in PyTorch it writes an uncaught exception to the launcher's error file.
    Run without the elastic launcher (always, here) that leaves the function itself: it runs as written, its
    exceptions propagate, and a SystemExit(0) returns None, as PyTorch's wrapper does."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SystemExit as e:
            if e.code == 0:
                return None
            raise
    return wrapper


def _is_unavailable():
    return False


# ---- the table: submodule -> names. Capitalised names refuse instantiation, others refuse calls; real objects by name

_REAL = {name: obj for name, obj in globals().items() if not name.startswith("_")
         and isinstance(obj, (type, types.FunctionType))}
_REAL["is_available"] = _is_unavailable

_FSDP1 = ("FullyShardedDataParallel ShardingStrategy BackwardPrefetch StateDictType OptimStateKeyType MixedPrecision "
          "CPUOffload StateDictConfig FullStateDictConfig ShardedStateDictConfig LocalStateDictConfig "
          "OptimStateDictConfig FullOptimStateDictConfig ShardedOptimStateDictConfig LocalOptimStateDictConfig "
          "StateDictSettings")
_FSDP2 = ("FSDPModule UnshardHandle DataParallelMeshDims fully_shard register_fsdp_forward_method share_comm_ctx "
          "MixedPrecisionPolicy OffloadPolicy CPUOffloadPolicy")
_DTENSOR = ("DTensor distribute_tensor distribute_module Shard Replicate Partial Placement ones empty full rand randn "
            "zeros")
_DEVICE_MESH = "DeviceMesh init_device_mesh"
_PLANNERS = "DefaultSavePlanner DefaultLoadPlanner"
_COLLECTIVES = "all_gather all_reduce all_to_all all_to_all_single broadcast gather reduce reduce_scatter scatter"

SUBMODULES = {
    "rpc": "is_available init_rpc shutdown rpc_sync rpc_async remote get_worker_info RRef WorkerInfo "
           "TensorPipeRpcBackendOptions BackendType",
    "autograd": "is_available context backward get_gradients DistAutogradContext",
    "optim": "DistributedOptimizer ZeroRedundancyOptimizer PostLocalSGDOptimizer as_functional_optim",
    "nn": "RemoteModule " + _COLLECTIVES,
    "nn.functional": _COLLECTIVES,
    "device_mesh": _DEVICE_MESH,
    "fsdp": _FSDP1 + " " + _FSDP2,
    "fsdp.fully_sharded_data_parallel": _FSDP1,
    "fsdp.wrap": "always_wrap_policy lambda_auto_wrap_policy transformer_auto_wrap_policy size_based_auto_wrap_policy "
                 "enable_wrap wrap ModuleWrapPolicy CustomPolicy",
    "fsdp.sharded_grad_scaler": "ShardedGradScaler",
    "tensor": _DTENSOR,
    "tensor.parallel": "ColwiseParallel RowwiseParallel SequenceParallel PrepareModuleInput PrepareModuleOutput "
                       "PrepareModuleInputOutput ParallelStyle parallelize_module loss_parallel",
    "tensor.placement_types": "Shard Replicate Partial Placement",
    "_tensor": _DTENSOR,
    "_tensor.device_mesh": _DEVICE_MESH,
    "checkpoint": "save load async_save save_state_dict load_state_dict load_sharded_optimizer_state_dict "
                  "FileSystemReader FileSystemWriter StorageReader StorageWriter LoadPlanner SavePlanner LoadPlan "
                  "SavePlan ReadItem WriteItem Metadata CheckpointException " + _PLANNERS,
    "checkpoint.state_dict": "get_model_state_dict get_optimizer_state_dict get_state_dict set_model_state_dict "
                             "set_optimizer_state_dict set_state_dict _init_optim_state StateDictOptions",
    "checkpoint.default_planner": _PLANNERS,
    "algorithms": "",
    "algorithms._checkpoint": "",
    "algorithms._checkpoint.checkpoint_wrapper": "CheckpointImpl ActivationWrapper CheckpointWrapper "
                                                 "checkpoint_wrapper apply_activation_checkpointing",
    "algorithms.join": "Join Joinable JoinHook",
    "elastic": "",
    "elastic.multiprocessing": "",
    "elastic.multiprocessing.errors": "record ChildFailedError",
    "launcher": "LaunchConfig elastic_launch launch_agent",
    "launcher.api": "LaunchConfig elastic_launch launch_agent",
    "run": "main run get_args_parser parse_args",
    "launch": "main",
}


class _RefusingMeta(type):
    """Class-level attributes a program reaches for (FSDP.state_dict_type(...), FSDP.clip_grad_norm_) exist and
    refuse when called."""

    def __getattr__(cls, name):
        if name.startswith("_"):
            raise AttributeError(f"type object '{cls.__name__}' has no attribute '{name}'")
        return refusing_function(f"{cls._torch_name}.{name}", cls.__module__)


def _refusing_class(torch_name, module_name=__name__):
    def __init__(self, *args, **kwargs):
        raise unavailable(torch_name)
    name = torch_name.rsplit(".", 1)[1]
    return _RefusingMeta(name, (), {"__init__": __init__, "_torch_name": torch_name, "__module__": module_name,
                                    "__doc__": f"{torch_name}: needs torch.distributed (unavailable in torch_js)."})


def _install():
    package = sys.modules[__package__]
    made = {}   # one object per (refusing) name, shared by the modules that re-export it
    for path, names in SUBMODULES.items():
        full_name = f"{__package__}.{path}"
        module = types.ModuleType(full_name, f"torch.distributed.{path} (torch_js: see torch_js.distributed).")
        module.__spec__ = importlib.machinery.ModuleSpec(full_name, None, is_package=True)
        module.__path__ = []   # a package: its own submodules are in this table too
        module.__all__ = names.split()
        for name in module.__all__:
            if name not in made:
                torch_name = f"torch.distributed.{path}.{name}"
                if name in _REAL:
                    made[name] = _REAL[name]
                elif name[0].isupper():
                    made[name] = _refusing_class(torch_name, full_name)
                else:
                    made[name] = refusing_function(torch_name, full_name)
            setattr(module, name, made[name])
        sys.modules[full_name] = module
        parent_path, _, leaf = path.rpartition(".")
        parent = sys.modules[f"{__package__}.{parent_path}"] if parent_path else package
        setattr(parent, leaf, module)


_install()
