"""torch.distributed in torch_js: not available. Distributed training runs several processes that exchange
tensors over NCCL, Gloo or MPI; a browser tab (and torch_js's single-process runtime) has none of them.
is_available() and is_initialized() say so, as guards in real programs expect; the process-group API raises a
RuntimeError that says why."""

__all__ = ["is_available", "is_initialized", "is_nccl_available", "is_gloo_available", "is_mpi_available",
           "is_torchelastic_launched", "unavailable"]


def unavailable(name):
    return RuntimeError(f"{name}: torch.distributed is not available in torch_js: distributed "
                        "training needs several processes communicating over NCCL, Gloo or MPI, which cannot run in "
                        "a browser. Train in a single process (nn.DataParallel runs the model directly).")


def is_available():
    return False


def is_initialized():
    return False


def is_nccl_available():
    return False


def is_gloo_available():
    return False


def is_mpi_available():
    return False


def is_torchelastic_launched():
    return False


def _refusing(name):
    def refuse(*args, **kwargs):
        raise unavailable(f"torch.distributed.{name}")
    refuse.__name__ = refuse.__qualname__ = name
    return refuse


# the process-group API real programs call; each raises unavailable()
_API = ("init_process_group", "destroy_process_group", "new_group", "get_rank", "get_world_size", "get_backend",
        "barrier", "all_reduce", "all_gather", "all_gather_object", "all_gather_into_tensor", "all_to_all",
        "broadcast", "broadcast_object_list", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
        "gather", "gather_object", "send", "recv", "isend", "irecv", "monitored_barrier", "get_process_group_ranks",
        "get_global_rank", "get_group_rank")
for _name in _API:
    globals()[_name] = _refusing(_name)
__all__ += list(_API)
