"""torch.memory_format: the memory layouts a dense tensor may ask for (torch.contiguous_format,
torch.preserve_format, torch.channels_last, torch.channels_last_3d). One instance per format, compared by identity,
pickled by name, and no new instances (as PyTorch's)."""

__all__ = ["memory_format", "contiguous_format", "preserve_format", "channels_last", "channels_last_3d",
           "legacy_contiguous_format"]


class memory_format:
    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'torch.memory_format' instances")

    def __repr__(self):
        return f"torch.{self._name}"

    def __reduce__(self):
        return self._name   # the module-level name below


def _format(name):
    f = object.__new__(memory_format)
    f._name = name
    return f


contiguous_format = _format("contiguous_format")
preserve_format = _format("preserve_format")
channels_last = _format("channels_last")
channels_last_3d = _format("channels_last_3d")
legacy_contiguous_format = contiguous_format   # PyTorch's alias: the same object
