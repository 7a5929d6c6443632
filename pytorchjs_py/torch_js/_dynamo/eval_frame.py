"""What torch.compile returns in torch_js: the model itself, run eagerly, behind PyTorch's wrappers (and on webgpu,
in mode="reduce-overhead", replayed as a captured graph: graph_replay.py).

torch_js has no graph compiler (TorchDynamo/Inductor generate Triton or C++ kernels, which a browser cannot build
or run), so compiling is checking the arguments as PyTorch does and wrapping the model: an nn.Module becomes an
OptimizedModule (its state_dict keys gain PyTorch's "_orig_mod." prefix, its attributes are the original's), a
function a function calling the original. Both compute what the eager model computes, which is what a correct
compilation computes too.
"""
import functools

from ..nn.modules.module import Module
from .graph_replay import GraphReplay, wants_graphs

__all__ = ["OptimizedModule", "DisableContext", "compile_model", "disable", "innermost_fn"]

# the backends PyTorch registers (list_backends() shows those not tagged debug/experimental)
BACKENDS = ("cudagraphs", "inductor", "openxla", "tvm")
DEBUG_BACKENDS = ("eager", "aot_eager", "aot_eager_default_partitioner", "aot_eager_decomp_partition", "aot_ts",
                  "onnxrt")
MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


class InvalidBackend(RuntimeError):
    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for available backends.")


class OptimizedModule(Module):
    """torch.compile(module): runs the original module (`_orig_mod`); its attributes are the original's."""
    _opt_mod_attributes = {"_orig_mod", "dynamo_ctx", "_torchdynamo_orig_callable", "forward", "_forward",
                           "__dict__", "_super_module_initialized"}

    def __init__(self, mod, dynamo_ctx=None):
        object.__setattr__(self, "_orig_mod", mod)
        self._super_module_initialized = False
        super().__init__()
        self._super_module_initialized = True
        self._orig_mod = mod
        self.dynamo_ctx = dynamo_ctx
        self.forward = mod.__call__
        self.training = mod.training

    @property
    def training(self):
        return self._orig_mod.training

    @training.setter
    def training(self, value):
        if self.__dict__.get("_super_module_initialized"):
            self._orig_mod.training = value

    def __len__(self):
        try:
            return len(self._orig_mod)
        except TypeError:
            raise TypeError(f"{type(self._orig_mod).__name__} does not support len()") from None

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._orig_mod, name)

    def __setattr__(self, name, value):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__setattr__(name, value)
        return setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if hasattr(type(self), name) or name in OptimizedModule._opt_mod_attributes:
            return super().__delattr__(name)
        return delattr(self._orig_mod, name)

    def __reduce__(self):
        return (self.__class__, (self._orig_mod, self.dynamo_ctx))

    def __dir__(self):
        attrs = self._orig_mod.__dir__()
        return attrs + [a for a in super().__dir__() if a not in attrs]


def _check_backend(backend):
    if isinstance(backend, str) and backend not in BACKENDS + DEBUG_BACKENDS:
        raise InvalidBackend(backend)


def compile_model(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
                  disable=False, **kwargs):
    """torch.compile (see the module docstring)."""
    if model is None:
        def decorate(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile_model(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable, **kwargs)
        return decorate
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    backend = "inductor" if backend is None else backend
    if backend == "inductor" and mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    _check_backend(backend)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable:
        return model
    graphs = wants_graphs(backend, mode, options)
    if isinstance(model, Module):
        compiled = OptimizedModule(model)
        if graphs:
            compiled.forward = GraphReplay(model.__call__, module=model)
        return compiled
    run = model
    if graphs:
        owner = getattr(model, "__self__", None)
        run = GraphReplay(model, module=owner if isinstance(owner, Module) else None)

    @functools.wraps(model)
    def compiled(*args, **kw):
        return run(*args, **kw)
    compiled._torchdynamo_orig_callable = model
    return compiled


def innermost_fn(fn):
    """The function under torch.compile / disable wrappers."""
    while hasattr(fn, "_torchdynamo_orig_callable"):
        fn = fn._torchdynamo_orig_callable
    return fn


class DisableContext:
    """torch._dynamo.disable() / torch.compiler.disable() used without a function: a decorator, or a `with`
    block; either runs the code as it is (there is no compiled code to step out of)."""

    def __init__(self, recursive=True, reason=None):
        self.recursive = recursive
        self.reason = reason

    def __call__(self, fn):
        return disable(fn, recursive=self.recursive, reason=self.reason)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def disable(fn=None, recursive=True, *, reason=None, wrapping=True):
    """Leave `fn` out of compilation: here it is returned as it is (a module too)."""
    if fn is None:
        return DisableContext(recursive, reason)
    if not callable(fn):
        raise AssertionError(f"A callable function is expected, but {type(fn)} is provided.")
    return fn
