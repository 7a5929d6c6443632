"""torch.distributed in torch_js: not available. Distributed training runs several processes that exchange
tensors over NCCL, Gloo or MPI; a browser tab (and torch_js's single-process runtime) has none of them.
is_available() and is_initialized() say so, as guards in real programs expect; the process-group API raises a
RuntimeError that says why.

The submodules programs import at the top (fsdp, rpc, tensor.parallel, checkpoint, elastic, ...) are importable:
their names are declared in one table (_submodules.py); the classes and functions that would need other processes
raise the same RuntimeError when used, while the pure configuration values (enums, dataclasses, placements) and
what works in one process (elastic's @record, activation checkpoint_wrapper) are real."""
import enum

from .._storage import device as _device
from .._distributed_availability import (is_available, is_gloo_available, is_initialized,  # noqa: F401
                                         is_mpi_available, is_nccl_available, is_torchelastic_launched,
                                         refusing_function, unavailable)

__all__ = ["is_available", "is_initialized", "is_nccl_available", "is_gloo_available", "is_mpi_available",
           "is_torchelastic_launched", "unavailable"]


# the process-group API real programs call; each raises unavailable()
_API = ("init_process_group", "destroy_process_group", "new_group", "get_rank", "get_world_size", "get_backend",
        "barrier", "all_reduce", "all_gather", "all_gather_object", "all_gather_into_tensor", "all_to_all",
        "broadcast", "broadcast_object_list", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
        "gather", "gather_object", "send", "recv", "isend", "irecv", "monitored_barrier", "get_process_group_ranks",
        "get_global_rank", "get_group_rank")
for _name in _API:
    globals()[_name] = refusing_function(f"torch.distributed.{_name}")
__all__ += list(_API)


class ReduceOp:
    """The reductions collectives take (`op=dist.ReduceOp.SUM`): the values exist, so such calls reach the
    process-group API and its error rather than failing on the argument."""

    class RedOpType(enum.Enum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7
        PREMUL_SUM = 8


for _op in ReduceOp.RedOpType:
    setattr(ReduceOp, _op.name, _op)


class Backend(str):
    """A backend name (lower case), and the default backend for each device type, as PyTorch's table has them."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    default_device_backend_map = {"cpu": GLOO, "cuda": NCCL, "xpu": XCCL, "mps": GLOO, "hpu": "fake"}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        return super().__new__(cls, value if value != Backend.UNDEFINED else name.lower())


def get_default_backend_for_device(device):
    """The backend PyTorch would pick for device's type ("gloo" for cpu, "nccl" for cuda, ...)."""
    device_type = device.type if isinstance(device, _device) else _device(device).type
    backend = Backend.default_device_backend_map.get(device_type)
    if backend is None:
        raise ValueError(f"Default backend not registered for device : {device}")
    return backend


class GroupMember:
    """The default group: None until init_process_group, which torch_js never runs."""
    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember

__all__ += ["ReduceOp", "Backend", "get_default_backend_for_device", "GroupMember", "group"]

from . import _submodules  # noqa: E402  (registers torch.distributed.fsdp, .rpc, ... as submodules of this package)
