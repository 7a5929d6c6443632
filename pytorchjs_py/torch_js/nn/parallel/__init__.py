"""torch.nn.parallel as PyTorch's CPU builds have it: DataParallel calls the wrapped module directly (no device to
scatter over), data_parallel finds no accelerator device type, and DistributedDataParallel needs torch.distributed,
which torch_js does not have (see torch_js.distributed)."""
from ..._distributed_availability import unavailable
from ..modules.data_parallel import DataParallel
from ..modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DistributedDataParallel(Module):
    def __init__(self, module, *args, **kwargs):
        raise unavailable("torch.nn.parallel.DistributedDataParallel")


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """PyTorch's functional DataParallel: on a build without an accelerator it cannot tell a device type."""
    raise RuntimeError("device type could not be determined")
