"""torch.autograd.anomaly_mode: detect_anomaly / set_detect_anomaly and the torch.set_anomaly_enabled state.

In anomaly mode each autograd node keeps the Python stack of the forward call that made it, and a backward that
fails warns with that stack ("Error detected in MulBackward0. Traceback of forward call ..."); with check_nan, a
node returning a gradient that holds NaN raises PyTorch's RuntimeError (autograd/engine.py).
"""
import warnings

from .._grad_mode import ANOMALY_MODE

__all__ = ["detect_anomaly", "set_detect_anomaly", "set_anomaly_enabled", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


def set_anomaly_enabled(enabled, check_nan=True):
    for name, value, position in (("enabled", enabled, 1), ("check_nan", check_nan, 2)):
        if type(value) is not bool:
            raise TypeError(f"set_anomaly_enabled(): argument '{name}' (position {position}) must be bool, not "
                            f"{type(value).__name__}")
    ANOMALY_MODE[0], ANOMALY_MODE[1] = enabled, check_nan


def is_anomaly_enabled():
    return ANOMALY_MODE[0]


def is_anomaly_check_nan_enabled():
    return ANOMALY_MODE[1]


class detect_anomaly:
    """Context manager that turns anomaly detection on (warning that it slows the program down)."""

    def __init__(self, check_nan=True):
        self.prev = ANOMALY_MODE[0]
        self.check_nan = check_nan
        self.prev_check_nan = ANOMALY_MODE[1]
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Sets anomaly detection on or off, as a function call or for a `with` block."""

    def __init__(self, mode, check_nan=True):
        self.prev = ANOMALY_MODE[0]
        self.prev_check_nan = ANOMALY_MODE[1]
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *args):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
