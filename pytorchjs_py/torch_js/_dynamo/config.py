"""torch._dynamo.config: TorchDynamo's settings, with PyTorch's names and defaults.

torch_js has no graph compiler (torch.compile runs the model eagerly), so nothing reads these; they are kept so
programs that set and read them (`torch._dynamo.config.suppress_errors = True`, `config.patch(...)`) run. As in
PyTorch, a name that is not a setting raises AttributeError, on reading and on writing.
"""
import contextlib
import copy
import os
import sys
import types

_DEFAULTS = {
    "suppress_errors": False, "cache_size_limit": 8, "accumulated_cache_size_limit": 256, "verbose": False,
    "capture_scalar_outputs": False, "capture_dynamic_output_shape_ops": False, "automatic_dynamic_shapes": True,
    "assume_static_by_default": True, "optimize_ddp": True, "specialize_int": False, "specialize_float": False,
    "dynamic_shapes": True, "guard_nn_modules": True, "inline_inbuilt_nn_modules": True,
    "error_on_recompile": False, "force_parameter_static_shapes": True, "allow_unspec_int_on_nn_module": False,
    "replay_record_enabled": False, "rewrite_assert_with_torch_assert": True, "raise_on_ctx_manager_usage": True,
    "allow_rnn": False, "skip_nnmodule_hook_guards": True, "compiled_autograd": False,
    "debug_dir_root": os.path.join(os.getcwd(), "torch_compile_debug"), "capture_func_transforms": True,
    "log_compilation_metrics": True, "use_lazy_graph_module": True, "trace_numpy": True, "disable": False,
    "skip_fsdp_guards": True, "fail_on_recompile_limit_hit": False,
    "prefer_deferred_runtime_asserts_over_guards": False, "do_not_emit_runtime_asserts": False,
}
# settings that are other settings' new names
_ALIASES = {"recompile_limit": "cache_size_limit", "accumulated_recompile_limit": "accumulated_cache_size_limit"}


class _ConfigModule(types.ModuleType):
    """The module's class: reading or writing a name that is no setting is PyTorch's AttributeError."""

    def __getattr__(self, name):
        values = self.__dict__["_values"]
        key = _ALIASES.get(name, name)
        if key in values:
            return values[key]
        raise AttributeError(f"{self.__name__.replace('torch_js', 'torch')}.{name} does not exist")

    def __setattr__(self, name, value):
        key = _ALIASES.get(name, name)
        values = self.__dict__.get("_values")
        if values is not None and key in values:
            values[key] = value
        elif name in self.__dict__ or name.startswith("__"):
            super().__setattr__(name, value)
        else:
            raise AttributeError(f"{self.__name__.replace('torch_js', 'torch')}.{name} does not exist")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.__dict__["_values"]) | set(_ALIASES))


_values = dict(_DEFAULTS)


def get_config_copy():
    return copy.deepcopy(_values)


def save_config():
    return dict(_values)


def load_config(saved):
    _values.update(saved)


class _Patch(contextlib.ContextDecorator):
    """Settings changed while entered (a `with` block or a decorated function's call), restored on exit."""

    def __init__(self, changes):
        self.changes = changes
        self.saved = []

    def __enter__(self):
        module = sys.modules[__name__]
        self.saved.append({name: getattr(module, name) for name in self.changes})
        for name, value in self.changes.items():
            setattr(module, name, value)
        return self

    def __exit__(self, *exc):
        module = sys.modules[__name__]
        for name, value in self.saved.pop().items():
            setattr(module, name, value)
        return False


def patch(arg1=None, arg2=None, **changes):
    """patch(name=value, ...), patch("name", value) or patch({"name": value}): a context manager / decorator."""
    if isinstance(arg1, str):
        changes = {arg1: arg2}
    elif isinstance(arg1, dict):
        changes = dict(arg1)
    module = sys.modules[__name__]
    for name in changes:
        getattr(module, name)   # an unknown name raises now, as PyTorch's patch does
    return _Patch(changes)


sys.modules[__name__].__class__ = _ConfigModule
