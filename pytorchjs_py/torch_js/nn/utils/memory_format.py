"""torch.nn.utils.convert_conv2d/3d_weight_memory_format: re-lay a model's convolution weights in a memory format,
written as PyTorch's (clone and resize_ in that format, into the same Parameter). torch_js accepts every memory
format but lays tensors out contiguously, so here the weights keep their values and layout; no result changes."""
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, memory_format, kinds):
    if isinstance(module, kinds):
        weight_data = module.weight.detach().clone(memory_format=memory_format)
        module.weight.data = weight_data.resize_(weight_data.size(), memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """The weights of every Conv2d/ConvTranspose2d in `module` (itself included) laid out as `memory_format`."""
    return _convert(module, memory_format, (Conv2d, ConvTranspose2d))


def convert_conv3d_weight_memory_format(module, memory_format):
    """The weights of every Conv3d/ConvTranspose3d in `module` (itself included) laid out as `memory_format`."""
    return _convert(module, memory_format, (Conv3d, ConvTranspose3d))
