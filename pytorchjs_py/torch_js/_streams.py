"""torch.Stream and torch.Event: the device-generic stream and event of PyTorch's CPU builds.

torch_js's CPU runs each op to completion before the next, so a CPU stream has nothing queued: query() is True,
synchronize() returns at once, and events, which the CPU backend does not support, refuse to be recorded with
PyTorch's error. A stream or event on a device the build lacks (cuda, mps, ...) is PyTorch's RuntimeError.
"""
from ._storage import device as _device

__all__ = ["Stream", "Event"]

_NO_EVENTS = "{} backend doesn't support events."


def _stream_device(dev):
    d = _device("cpu") if dev is None else _device(dev)
    if d.type not in ("cpu", "meta"):
        raise RuntimeError(f"PyTorch is not linked with support for {d.type} devices")
    return d


class Stream:
    """torch.Stream: the (only) stream of the CPU or meta device."""

    def __init__(self, device=None, *, priority=0):
        self.device = _stream_device(device)
        self.device_type = self.device.type
        self.device_index = -1 if self.device.index is None else self.device.index
        self.stream_id = 0
        self.priority = priority

    def query(self):
        return True

    def synchronize(self):
        pass

    def wait_event(self, event):
        pass

    def wait_stream(self, stream):
        raise RuntimeError(_NO_EVENTS.format(self.device_type))

    def record_event(self, event=None):
        raise RuntimeError(_NO_EVENTS.format(self.device_type))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __eq__(self, other):
        return (isinstance(other, Stream) and (self.device_type, self.device_index, self.stream_id)
                == (other.device_type, other.device_index, other.stream_id))

    def __hash__(self):
        return hash((self.device_type, self.device_index, self.stream_id))

    def __repr__(self):
        return (f"torch.Stream device_type={self.device_type}, device_index={self.device_index}, "
                f"stream_id={self.stream_id}")


class Event:
    """torch.Event: on the CPU it can be queried and waited on (nothing is pending) but not recorded."""

    def __init__(self, device=None, *, enable_timing=False, blocking=False, interprocess=False):
        self.device = _stream_device(device)
        self.event_id = 0
        self._flag = 1 if enable_timing else 0

    def query(self):
        return True

    def record(self, stream=None):
        raise RuntimeError(_NO_EVENTS.format(self.device.type))

    def synchronize(self):
        pass

    def wait(self, stream=None):
        pass

    def elapsed_time(self, end_event):
        if not (self._flag and getattr(end_event, "_flag", 0)):
            raise ValueError("Both events must be created with argument 'enable_timing=True'.")
        raise ValueError("Both events must be recorded before calculating elapsed time.")

    def __repr__(self):
        index = -1 if self.device.index is None else self.device.index
        return (f"torch.Event device_type={self.device.type}, device_index={index}, event_flag={self._flag}, "
                f"event_id={self.event_id}")
