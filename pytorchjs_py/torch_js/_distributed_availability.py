"""torch.distributed's availability (none in torch_js) and the error its API raises. Outside the distributed package,
which builds on nn (checkpoint_wrapper, FSDP's MixedPrecision), so that nn.parallel and utils.data.distributed can
ask it without importing that package."""

__all__ = ["is_available", "is_initialized", "is_nccl_available", "is_gloo_available", "is_mpi_available",
           "is_torchelastic_launched", "unavailable", "refusing_function"]


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


def refusing_function(torch_name, module_name="torch_js.distributed"):
    """A function named as torch_name's last part that raises unavailable(torch_name) however it is called."""
    def refuse(*args, **kwargs):
        raise unavailable(torch_name)
    refuse.__name__ = refuse.__qualname__ = torch_name.rsplit(".", 1)[-1]
    refuse.__module__ = module_name
    return refuse
