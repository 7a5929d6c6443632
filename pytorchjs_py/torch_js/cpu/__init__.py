"""torch_js.cpu (torch.cpu): the CPU as a device module, for device-generic code (torch.cuda's functions for the CPU).

There is one CPU device and it is always there; it runs each op to completion, so synchronize() has nothing to
wait for and its Stream/Event do nothing, as PyTorch's CPU ones do.
"""
from contextlib import AbstractContextManager
from types import MappingProxyType

from . import amp  # noqa: F401  (torch.cpu.amp)

__all__ = ["is_available", "is_initialized", "synchronize", "current_device", "current_stream", "stream",
           "set_device", "device_count", "Stream", "StreamContext", "Event", "get_capabilities"]


def is_available():
    return True


def is_initialized():
    return True


def synchronize(device=None):
    """Nothing to wait for: every CPU op has finished when it returns."""


def current_device():
    return "cpu"


def set_device(device):
    """There is one CPU device: accepted and ignored, as PyTorch does."""


def device_count():
    return 1


def get_capabilities():
    """The CPU's instruction-set features PyTorch reports; in a browser (or torch_js's portable kernels) only the
    architecture is known."""
    import platform
    return MappingProxyType({"architecture": platform.machine() or "wasm32"})


class Stream:
    """torch.cpu.Stream: does nothing (N.B. exists for device-agnostic code, as PyTorch's)."""

    def __init__(self, priority=-1):
        pass

    def wait_stream(self, stream):
        pass

    def record_event(self):
        pass

    def wait_event(self, event):
        pass


class Event:
    def query(self):
        return True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass


_default_cpu_stream = Stream()
_current_stream = _default_cpu_stream


def current_stream(device=None):
    return _current_stream


class StreamContext(AbstractContextManager):
    """Makes `stream` torch.cpu's current stream inside the block."""

    def __init__(self, stream):
        self.stream = stream
        self.prev_stream = _default_cpu_stream

    def __enter__(self):
        global _current_stream
        if self.stream is None:
            return
        self.prev_stream = _current_stream
        _current_stream = self.stream

    def __exit__(self, type, value, traceback):
        global _current_stream
        if self.stream is None:
            return
        _current_stream = self.prev_stream


def stream(stream):
    return StreamContext(stream)
