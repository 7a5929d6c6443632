"""DataParallel (torch.nn.parallel.DataParallel) as PyTorch builds it where no accelerator device type is
available: the wrapped module, called directly. torch_js has no CUDA/XPU devices to scatter a batch over, so
programs that wrap their model keep working, with the `module.` prefix in their state_dict keys."""
from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
