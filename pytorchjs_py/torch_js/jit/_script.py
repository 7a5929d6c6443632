"""torch.jit.script & co. without a TorchScript compiler: what they return runs the Python code it was given.

PyTorch compiles a scripted function or module to TorchScript and returns a ScriptFunction / RecursiveScriptModule
that calls the compiled code. torch_js has no compiler and no interpreter, so script() returns objects of those
classes that call the original Python: a program that scripts a model and then calls it, trains it, reads its
parameters or state_dict, gets what the eager model gives. What only compiled code has (.code, .graph, save() into a
TorchScript archive) raises a RuntimeError that says so.

A scripted module is a new module object, as in PyTorch: it shares the original's parameters and buffers (the same
tensors) and has scripted copies of its submodules. Its class is made per original class, with RecursiveScriptModule
first in the MRO (repr, _get_name, the TorchScript-only members) and the original class behind it, so forward, the
other methods, properties and container protocols (Sequential's indexing, ModuleList's iteration) are the
original's. Methods marked @torch.jit.unused raise as PyTorch's compiled stubs do.
"""
import collections
import functools
import pickle
import sys
import warnings

from ..nn.modules.module import Module

NO_TORCHSCRIPT = ("torch_js runs the Python code of scripted and traced functions and modules: it has no "
                  "TorchScript compiler, so there is no TorchScript {what} to show")


def _no_compiled(what):
    return RuntimeError(NO_TORCHSCRIPT.format(what=what))


def archive_error(name, obj=None):
    """The error of saving or loading a TorchScript archive, which torch_js cannot write or read."""
    advice = ("save the weights with torch.save(model.state_dict(), f) and load them into the model with "
              "model.load_state_dict(torch.load(f))")
    if isinstance(obj, Module):
        advice = f"this is an nn.Module: {advice}"
    return RuntimeError(f"{name}: TorchScript archives are not supported in torch_js (it has no TorchScript "
                        f"compiler or interpreter); {advice}")


def warn_deprecated(name, use="switch to `torch.compile` or `torch.export`"):
    """PyTorch 2.13's DeprecationWarning for the TorchScript API (`name`: script, trace, ...)."""
    if use.startswith("switch") and sys.version_info >= (3, 14):
        message = f"`torch.jit.{name}` is not supported in Python 3.14+ and may break. Please {use}."
    else:
        message = f"`torch.jit.{name}` is deprecated. Please {use}."
    warnings.warn(message, DeprecationWarning)   # no stacklevel: attributed to torch_js, as PyTorch's to torch


class Error(Exception):
    """torch.jit.Error: an error raised by (what stands for) compiled TorchScript code."""


Error.__module__ = "torch_js.jit"


class _FunctionModifiers:
    """What @torch.jit.ignore / unused / export / _drop mark a function with (its _torchscript_modifier)."""
    UNUSED = "unused (ignored and replaced with raising of an exception)"
    IGNORE = "ignore (leave as a call to Python, cannot be torch.jit.save'd)"
    EXPORT = "export (compile this function even if nothing calls it)"
    DEFAULT = "default (compile if called from a exported function / forward)"
    COPY_TO_SCRIPT_WRAPPER = "if this method is not scripted, copy the python method onto the scripted model"
    _DROP = "_drop (function is fully ignored, declaration can be unscriptable)"


FunctionModifiers = _FunctionModifiers


def _compiled_only(what):
    def get(self):
        raise _no_compiled(what)
    return property(get)


class ScriptModule(Module):
    """torch.jit.ScriptModule: the class of scripted and traced modules (and the base of legacy
    `class M(torch.jit.ScriptModule)` models, which torch_js runs as the nn.Modules they are)."""
    code = _compiled_only("code")
    code_with_constants = _compiled_only("code")
    graph = _compiled_only("graph")
    inlined_graph = _compiled_only("graph")

    def save(self, f, **kwargs):
        raise archive_error("ScriptModule.save", self)

    def save_to_buffer(self, *args, **kwargs):
        raise archive_error("ScriptModule.save_to_buffer", self)

    def graph_for(self, *args, **kwargs):
        raise _no_compiled("graph")


class RecursiveScriptModule(ScriptModule):
    """What torch.jit.script(module) returns: `RecursiveScriptModule(original_name=...)`."""
    original_name = "Module"

    def _get_name(self):
        return "RecursiveScriptModule"

    def extra_repr(self):
        return f"original_name={self.original_name}"



class ScriptFunction:
    """torch.jit.ScriptFunction: what script() and trace() return for a function; calls the function."""

    def __init__(self, fn, name=None):
        self._fn = fn
        functools.update_wrapper(self, fn, updated=())
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.qualified_name = f"__torch__.{self.name}"

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    code = _compiled_only("code")
    code_with_constants = _compiled_only("code")
    graph = _compiled_only("graph")
    inlined_graph = _compiled_only("graph")
    schema = _compiled_only("schema")

    def graph_for(self, *args, **kwargs):
        raise _no_compiled("graph")

    def save(self, f, **kwargs):
        raise archive_error("ScriptFunction.save")

    def save_to_buffer(self, *args, **kwargs):
        raise archive_error("ScriptFunction.save_to_buffer")

    def __reduce__(self):
        raise pickle.PickleError("ScriptFunction cannot be pickled")

    def __repr__(self):
        return f"<torch.jit.ScriptFunction object at {id(self):#x}>"


ScriptFunction.__module__ = "torch_js.jit"


def _unused_stub(name):
    def unused(self, *args, **kwargs):
        raise Error(f"The following operation failed in the TorchScript interpreter.\nRuntimeError: This Python "
                    f"function is annotated to be ignored and cannot be run (method '{name}' is marked "
                    "@torch.jit.unused)")
    unused.__name__ = unused.__qualname__ = name
    return unused


_CLASSES = {}      # (original class, base) -> the class made for them
_ORIGINALS = {}    # a class made here -> its original class


def _scripted_class(original, base):
    """base (RecursiveScriptModule, TracedModule, ...) with `original` behind it, made once per pair."""
    original = _ORIGINALS.get(original, original)
    key = (original, base)
    cls = _CLASSES.get(key)
    if cls is None:
        body = {"__module__": base.__module__, "__qualname__": base.__qualname__, "original_name": original.__name__}
        for klass in reversed(original.__mro__):
            for name, member in vars(klass).items():
                fn = member.fget if isinstance(member, property) else member
                if getattr(fn, "_torchscript_modifier", None) == FunctionModifiers.UNUSED:
                    body[name] = _unused_stub(name)
        cls = _CLASSES[key] = type(base.__name__, (base, original), body)
        _ORIGINALS[cls] = original
    return cls


_HOOK_DICTS = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
               "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
               "_load_state_dict_post_hooks")


# In PyTorch's Python (not compiled) code, torch.jit.Attribute(value, type) is this namedtuple; scripting a module
# stores the value itself (torch_js's scripted modules do too).
Attribute = collections.namedtuple("Attribute", ["value", "type"])


def _attribute_value(v):
    return v.value if isinstance(v, Attribute) else v


def convert_module(module, top, sub, memo=None, copy_scripted=False):
    """A new module of class `top` (its submodules of class `sub`) over `module`'s parameters and buffers.
    Submodules that already are ScriptModules stay as they are unless copy_scripted; one submodule reached twice
    converts once."""
    memo = {} if memo is None else memo
    if id(module) in memo:
        return memo[id(module)]
    new = object.__new__(_scripted_class(type(module), top))
    memo[id(module)] = new
    state = {k: _attribute_value(v) for k, v in module.__dict__.items()}
    for name in ("_parameters", "_buffers", *_HOOK_DICTS):
        if name in state:
            state[name] = type(state[name])(state[name])
    if "_non_persistent_buffers_set" in state:
        state["_non_persistent_buffers_set"] = set(state["_non_persistent_buffers_set"])
    state["_modules"] = {
        name: (m if m is None or (isinstance(m, ScriptModule) and not copy_scripted)
               else convert_module(m, sub, sub, memo, copy_scripted))
        for name, m in module.__dict__.get("_modules", {}).items()}
    new.__dict__.update(state)
    return new


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """torch.jit.script: a ScriptModule / ScriptFunction that runs `obj`'s Python code (see the module docstring).
    A class is returned as it is (its instances already behave as TorchScript's would)."""
    warn_deprecated("script")
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return convert_module(obj, RecursiveScriptModule, RecursiveScriptModule)
    if isinstance(obj, type):
        if obj.__module__ == "builtins":
            raise TypeError(f"{obj} is a built-in class")
        return obj
    if not callable(obj):
        if type(obj).__module__ == "builtins":   # PyTorch compiles the object's class, and refuses a builtin one
            raise TypeError(f"{type(obj)} is a built-in class")
        raise RuntimeError(f"torch.jit.script: cannot script an object of type {type(obj).__name__}: it takes a "
                           "function, an nn.Module or a class")
    return ScriptFunction(obj)


def script_method(fn):
    """The legacy `@torch.jit.script_method` of ScriptModule subclasses: the method runs as written."""
    warn_deprecated("script_method")
    return fn


def freeze_module(mod, preserved_attrs, name):
    """torch.jit.freeze: a copy whose parameters and buffers are constants, as PyTorch's frozen modules are: plain
    tensors (detached, sharing memory) read by forward, gone from parameters(), buffers() and state_dict()."""
    warn_deprecated({"Freezing": "freeze"}.get(name, name), "use `torch.compile` instead")
    if not isinstance(mod, ScriptModule):
        raise RuntimeError(f"{name} expects a ScriptModule as input. Please use torch.jit.script or torch.jit.trace "
                           "to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call .eval() on "
                           "your module before freezing.")
    keep = set(preserved_attrs or ())
    frozen = convert_module(mod, RecursiveScriptModule, RecursiveScriptModule, copy_scripted=True)
    for m in frozen.modules():
        for table in ("_parameters", "_buffers"):
            entries = m.__dict__[table]
            for key in [k for k in entries if k not in keep]:
                t = entries.pop(key)
                m.__dict__[key] = t.detach() if t is not None else None
    return frozen
