"""torch.autocast: the autocast state per device type, as PyTorch keeps it.

Autocast only changes ops on tensors of its device type. On "cpu" it casts as PyTorch's CPU autocast does, with
bfloat16 or float16 (the op lists and the casts: ops/_autocast.py, applied by the op wrapper). On "webgpu" torch_js
has no autocast: a region there is disabled with a UserWarning (PyTorch's own way of declining one it cannot honour,
e.g. "cuda" on a build without CUDA), and ops keep their inputs' dtypes. For a device type no torch_js tensor can have
("mps"), the state is kept exactly as PyTorch keeps it, which changes no op.
"""
import functools
import warnings

from .. import _dtype as D
from .._storage import device as _device
from .._tensor import Tensor
from ..ops import _autocast

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available", "is_autocast_enabled",
           "get_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_enabled", "set_autocast_dtype",
           "set_autocast_cache_enabled", "clear_autocast_cache", "autocast_increment_nesting",
           "autocast_decrement_nesting", "LEGACY_FUNCTIONS"]

_SUPPORTED_DTYPES = (D.bfloat16, D.float16)
_CASTS_HERE = ("cpu",)                   # device types autocast casts torch_js tensors on
_TENSORS_LIVE_HERE = ("cpu", "webgpu")   # device types with torch_js tensors

# device type -> [enabled, lower-precision dtype]; PyTorch's defaults (bfloat16 on CPU, float16 elsewhere)
_STATE = {"cpu": [False, D.bfloat16], "cuda": [False, D.float16], "mps": [False, D.float16],
          "webgpu": [False, D.float16], "ipu": [False, D.float16], "xla": [False, D.bfloat16]}
_CACHE_ENABLED = [True]
_NESTING = [0]


def _device_type(device_type):
    """The device type autocast keys its state by; PyTorch's errors for a non-str or an unknown type."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    kind = _device(device_type).type   # an unknown name raises torch.device's RuntimeError
    if kind not in _STATE:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return kind


def is_autocast_available(device_type):
    try:
        _device_type(device_type)
    except RuntimeError:
        return False
    return True


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for device_type (no argument: "cuda", as PyTorch's legacy form)."""
    return bool(_STATE[_device_type("cuda" if device_type is None else device_type)][0])


def get_autocast_dtype(device_type):
    return _STATE[_device_type(device_type)][1]


def is_autocast_cache_enabled():
    return _CACHE_ENABLED[0]


def _declined(kind, dtype):
    """Why autocast on `kind` with `dtype` cannot be honoured here (PyTorch's warning, or torch_js's), or None."""
    name = kind.upper()
    if kind == "cuda":
        return "CUDA is not available or torch_xla is imported. Disabling autocast."
    if dtype not in _SUPPORTED_DTYPES:
        return (f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                f"{name} Autocast only supports dtypes of {', '.join(map(str, _SUPPORTED_DTYPES))} currently.")
    if kind in _TENSORS_LIVE_HERE and kind not in _CASTS_HERE:
        return (f"In {name} autocast, but torch_js has no autocast: ops keep their inputs' dtypes. Disabling "
                "autocast.")
    return None


def _publish():
    """Hand the op wrapper (ops/_autocast.py ON) the device types autocast now casts on, with their dtypes."""
    _autocast.ON = {kind: st[1] for kind, st in _STATE.items() if st[0] and kind in _CASTS_HERE}


def _bool_arg(fn, name, value, position):
    if type(value) is not bool:
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be bool, not {type(value).__name__}")


def set_autocast_enabled(device_type, enabled=None):
    """torch.set_autocast_enabled(device_type, enabled), or the legacy (enabled) for "cuda". Where autocast cannot
    run (see the module docstring) it stays off, with the warning torch.autocast gives."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
        _bool_arg("set_autocast_enabled", "enabled", enabled, 1)
    else:
        _bool_arg("set_autocast_enabled", "enabled", enabled, 2)
    _set_enabled(_device_type(device_type), enabled)


def _set_enabled(kind, enabled):
    if enabled:
        reason = _declined(kind, _STATE[kind][1])
        if reason is not None:
            warnings.warn(reason, stacklevel=3)
            enabled = False
    _STATE[kind][0] = enabled
    _publish()


def set_autocast_dtype(device_type, dtype):
    if not isinstance(dtype, D.dtype):
        raise TypeError(f"set_autocast_dtype(): argument 'dtype' (position 2) must be torch.dtype, not "
                        f"{type(dtype).__name__}")
    _STATE[_device_type(device_type)][1] = dtype
    _publish()


def set_autocast_cache_enabled(enabled):
    if type(enabled) is not bool:
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")
    _CACHE_ENABLED[0] = enabled


def clear_autocast_cache():
    pass   # nothing is cached: autocast never casts here


def autocast_increment_nesting():
    _NESTING[0] += 1
    return _NESTING[0]


def autocast_decrement_nesting():
    _NESTING[0] -= 1
    return _NESTING[0]


def _legacy(name, kind, what):
    """torch.get_autocast_cpu_dtype & co.: the per-device forms PyTorch keeps, with its DeprecationWarning."""
    args = {"get_dtype": "()", "is_enabled": "()", "set_dtype": "(dtype)", "set_enabled": "(enabled)"}[what]
    new = {"get_dtype": f"get_autocast_dtype('{kind}')", "is_enabled": f"is_autocast_enabled('{kind}')",
           "set_dtype": f"set_autocast_dtype('{kind}', dtype)",
           "set_enabled": f"set_autocast_enabled('{kind}', enabled)"}[what]

    def fn(*value):
        warnings.warn(f"torch.{name}{args} is deprecated. Please use torch.{new} instead.", DeprecationWarning,
                      stacklevel=2)
        if len(value) != (args != "()"):
            raise TypeError(f"{name}() takes {int(args != '()')} positional arguments but {len(value)} were given")
        state = _STATE[kind]
        if what == "get_dtype":
            return state[1]
        if what == "is_enabled":
            return state[0]
        if what == "set_dtype":
            if not isinstance(value[0], D.dtype):
                raise TypeError(f"{name}(): argument 'dtype' (position 1) must be torch.dtype, not "
                                f"{type(value[0]).__name__}")
            state[1] = value[0]
            _publish()
        else:
            _bool_arg(name, "enabled", value[0], 1)
            _set_enabled(kind, value[0])
    fn.__name__ = fn.__qualname__ = name
    return fn


# name -> function: the deprecated per-device autocast state functions torch exports
LEGACY_FUNCTIONS = {name: _legacy(name, kind, what) for name, kind, what in [
    ("get_autocast_cpu_dtype", "cpu", "get_dtype"), ("get_autocast_gpu_dtype", "cuda", "get_dtype"),
    ("get_autocast_ipu_dtype", "ipu", "get_dtype"), ("get_autocast_xla_dtype", "xla", "get_dtype"),
    ("set_autocast_cpu_dtype", "cpu", "set_dtype"), ("set_autocast_gpu_dtype", "cuda", "set_dtype"),
    ("set_autocast_ipu_dtype", "ipu", "set_dtype"), ("set_autocast_xla_dtype", "xla", "set_dtype"),
    ("is_autocast_cpu_enabled", "cpu", "is_enabled"), ("is_autocast_ipu_enabled", "ipu", "is_enabled"),
    ("is_autocast_xla_enabled", "xla", "is_enabled"), ("set_autocast_cpu_enabled", "cpu", "set_enabled"),
    ("set_autocast_ipu_enabled", "ipu", "set_enabled"), ("set_autocast_xla_enabled", "xla", "set_enabled")]}


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): context manager and decorator."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        kind = _device_type(device_type)
        self.device = device_type
        self.fast_dtype = _STATE[kind][1] if dtype is None else dtype
        self._kind = kind
        self._cache_enabled = _CACHE_ENABLED[0] if cache_enabled is None else cache_enabled
        if enabled:
            reason = _declined(kind, self.fast_dtype)
            if reason is not None:
                warnings.warn(reason, stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        state = _STATE[self._kind]
        self.prev, self.prev_fastdtype = state[0], state[1]
        self.prev_cache_enabled = _CACHE_ENABLED[0]
        state[0], state[1] = self._enabled, self.fast_dtype
        _CACHE_ENABLED[0] = self._cache_enabled
        _publish()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        state = _STATE[self._kind]
        state[0], state[1] = self.prev, self.prev_fastdtype
        _CACHE_ENABLED[0] = self.prev_cache_enabled
        _publish()
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                            "Did you mean to use autocast as a context manager? For example:\n"
                            "    with torch.autocast(device_type=...):\n"
                            "        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorate_autocast


def _cast(value, kind, dtype):
    """value with its floating tensors of device type `kind` (float64 excepted) cast to dtype, through containers."""
    if isinstance(value, Tensor):
        eligible = value.is_floating_point() and value.device.type == kind and value.dtype is not D.float64
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, dict):
        return {_cast(k, kind, dtype): _cast(v, kind, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return type(value)(_cast(v, kind, dtype) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for an autograd.Function's forward: records whether autocast was on (for custom_bwd) and, with
    cast_inputs, runs forward on inputs cast to that dtype with autocast off, where autocast is on."""
    kind = _device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, kind, cast_inputs), **_cast(kwargs, kind, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for an autograd.Function's backward: runs it under the autocast state its forward saw."""
    _device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
