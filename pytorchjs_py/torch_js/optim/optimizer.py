"""torch_js.optim.Optimizer: parameter groups, per-parameter state, step and state-dict hooks.

state_dict()/load_state_dict() use PyTorch's exact layout ({"state": {index: {...}}, "param_groups": [...]}, params
numbered in group order), so a checkpoint saved by torch loads here and the other way round."""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain

from .. import _dtype as D
from .._tensor import Tensor
from .._functions import typename
from .._grad_mode import GRAD_ENABLED, enable_grad
from ..backends.webgpu import runtime as _webgpu_rt
from ..ops.creation import tensor, zeros
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _Required:
    def __repr__(self):
        return "<required parameter>"


# A default that every param group must override (e.g. an optimizer with no sensible default lr).
required = _Required()

# Hooks run around every optimizer's step(): global pre-hooks before the instance's, global post-hooks after.
_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()

_HOOK_TABLES = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                "_optimizer_load_state_dict_post_hooks")


def _add_hook(table, hook, prepend=False):
    handle = RemovableHandle(table)
    table[handle.id] = hook
    if prepend:
        table.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook):
    return _add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    return _add_hook(_global_post_hooks, hook)


def _with_step_hooks(step):
    """Wrap a class's step() so the pre/post hooks run around it. Hooks see (optimizer, args, kwargs) with args
    including the optimizer itself, as in torch; a pre-hook may return replacement (args, kwargs)."""
    @functools.wraps(step)
    def hooked_step(*args, **kwargs):
        self = args[0]
        for hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in chain(self._optimizer_step_post_hooks.values(), _global_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    hooked_step.hooked = True
    return hooked_step


def _get_value(x):
    return x.item() if isinstance(x, Tensor) else x


def _to_scalar(x):
    # a 1-element tensor hyperparameter (e.g. lr=tensor([0.1])) acts as a 0-d one
    return x.squeeze() if isinstance(x, Tensor) and x.dim() != 0 else x


def _new_step(param=None, capturable=False):
    # state["step"] is a 0-d CPU tensor (float64 under a float64 default dtype) so torch can load it unchanged; on
    # the CPU whatever the default device, as torch keeps it -- except for capturable=True, where it lives on the
    # param's device (float32), so that a captured graph counts the steps there
    if capturable:
        return zeros((), dtype=D.float32, device=param.device)
    return tensor(0.0, dtype=D.float64 if D.get_default_dtype() is D.float64 else D.float32, device="cpu")


def _same_value(a, b):
    """Whether a hyperparameter is unchanged: the same object, or an equal plain value (tensors by identity)."""
    return a is b or not isinstance(a, Tensor) and not isinstance(b, Tensor) and a == b


# where capturable=True can put the step count: the devices whose work a graph captures
CAPTURABLE_DEVICES = ["webgpu"]


def _check_capturable_devices(params, steps):
    """PyTorch's assertion for capturable=True: params and their step counts on a graph-capturing device."""
    for p, s in zip(params, steps):
        if not (p.device.type == s.device.type and p.device.type in CAPTURABLE_DEVICES):
            raise AssertionError(f"If capturable=True, params and state_steps must be on supported devices: "
                                 f"{CAPTURABLE_DEVICES}.")


def _check_fused(defaults):
    """PyTorch's checks of fused=True at construction. torch_js runs the single-tensor update whatever fused and
    foreach say (the same numbers): on webgpu its lazy execution runs the parameters' updates side by side in a
    few kernels anyway (js_bridge/webgpu/lazy.mjs)."""
    if defaults.get("fused"):
        if defaults.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if defaults.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _addcmul_(t, t1, t2, value):
    """t += value * t1 * t2 in torch's kernel order: (value * t1) * t2, then the add. (Tensor.addcmul_ computes
    value * (t1 * t2), which can differ in the last float32 bit when value is not +-1. torch's CPU kernel on an FMA
    machine also fuses the last multiply with the add, which this can't.) The products are out of place: under
    differentiable=True autograd keeps them for backward."""
    return t.add_(t1.mul(value).mul(t2))


def _addcdiv_(t, t1, t2, value):
    """t += value * t1 / t2 in torch's order: (value * t1) / t2, then the add (out of place, as _addcmul_)."""
    return t.add_(t1.mul(value).div(t2))


class Optimizer:
    """Base class: holds param_groups (each a dict of params + hyperparameters) and per-parameter state."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        for name in _HOOK_TABLES:
            setattr(self, name, OrderedDict())
        self._hook_step()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            "got " + params._type_string())
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def _hook_step(self):
        # Like torch, wrap step() of the class actually instantiated, once; a subclass that inherits an already
        # wrapped step() is left alone.
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = _with_step_hooks(cls.step)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_TABLES:
            self.__dict__.setdefault(name, OrderedDict())
        self._hook_step()
        self.defaults.setdefault("differentiable", False)
        # Checkpoints from older versions may lack newer group options, or hold a plain-number step.
        for group in self.param_groups:
            for key, value in self._group_fallbacks.items():
                group.setdefault(key, value)
            if self._tensor_step:
                for p in group["params"]:
                    st = self.state.get(p)
                    if st and not isinstance(st["step"], Tensor):
                        st["step"] = _new_step().fill_(float(st["step"]))

    _group_fallbacks = {}   # group options added over time, with the value an old checkpoint implies
    _tensor_step = False    # whether state["step"] is a tensor (Adam, RMSprop, Adagrad)

    def __repr__(self):
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            out += "".join(f"    {k}: {group[k]}\n" for k in sorted(group) if k != "params")
        return out + ")"

    # ---- hooks ---------------------------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state dict ----------------------------------------------------------------------------------------------
    def state_dict(self):
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        # Params are numbered in order of first appearance across groups; state is keyed by that number.
        index = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, sd)
            sd = sd if result is None else result
        return sd

    @staticmethod
    def _cast_state_value(param, value, param_id, saved_groups, key=None):
        """A loaded state tensor follows its param's dtype (when floating) and device -- except "step", which keeps
        its own dtype unless the group is fused/capturable (then float32 on the param's device)."""
        group = next((g for g in saved_groups if param_id in g["params"]), {})
        if key == "step":
            if group.get("fused", False) or group.get("capturable", False):
                return value.to(dtype=D.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict):
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            state_dict = state_dict if result is None else result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])  # deep: these dicts become our param_groups
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, param_id, key=None):
            if isinstance(value, Tensor):
                return self._cast_state_value(param, value, param_id, state_dict["param_groups"], key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(cast(param, v, param_id) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v, k)
            else:  # state no param maps to is kept as-is, as torch does
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group:
                saved.setdefault("param_names", group["param_names"])
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    # ---- stepping ------------------------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    # cut the grad out of any graph before zeroing it in place
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    def _step_groups(self, closure):
        """step() of the built-in optimizers: evaluate the closure with autograd on, then update each group with
        autograd off (on for differentiable=True, so the update itself can be differentiated)."""
        self._graph_capture_health_check()
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        prev = GRAD_ENABLED[0]
        GRAD_ENABLED[0] = bool(self.defaults.get("differentiable", False))
        try:
            for group in self.param_groups:
                self._update_group(group)
        finally:
            GRAD_ENABLED[0] = prev
        return loss

    _capturable = False   # whether the update has PyTorch's capturable=True form (step count and bias terms on the
                          # device, no host values that depend on the step), which a graph capture can replay

    def _graph_capture_health_check(self):
        """While a webgpu graph is being captured (torch.webgpu.graph, torch.compile(mode="reduce-overhead")),
        refuse an update whose host-side values a replay would freeze, as PyTorch refuses for CUDA graphs."""
        if _webgpu_rt.capturing is None or not any("capturable" in group for group in self.param_groups):
            return     # (SGD-like updates have no host-side values to freeze, and no capturable option)
        if not all(group["capturable"] for group in self.param_groups):
            raise RuntimeError(f"Attempting graph capture of step() for an instance of {type(self).__name__} but "
                               f"param_groups' capturable is False.")
        if not self._capturable:
            raise RuntimeError(f"torch_js: {type(self).__name__}(capturable=True) is not implemented (its update "
                               f"reads the step count on the host), so its step() cannot be captured; Adam and "
                               f"AdamW can be")
        if _webgpu_rt.capture_guards is not None:   # the hyperparameters the capture freezes (lr, betas, ...)
            frozen = [(g, {k: v for k, v in g.items() if k != "params"}) for g in self.param_groups]
            _webgpu_rt.capture_guards.append(lambda: all(
                all(_same_value(g.get(k), v) for k, v in values.items()) for g, values in frozen))

    _sparse_grads = False        # whether the update takes a sparse (COO) gradient (Adagrad; SGD, SparseAdam on their own)
    _sparse_grad_error = None    # PyTorch's message refusing one (default: "<name> does not support sparse gradients")

    def _with_grads(self, group, init_state):
        """(param, grad, state) for each param of `group` that has a gradient (negated under maximize=True);
        init_state(param, state) fills the state the first time a param is stepped."""
        if not self._sparse_grads:
            for p in group["params"]:
                if p.grad is not None and p.grad.is_sparse:
                    raise RuntimeError(self._sparse_grad_error or
                                       f"{type(self).__name__} does not support sparse gradients")
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                init_state(p, state)
            yield p, (-p.grad if group["maximize"] else p.grad), state

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        # params may come as (name, tensor) pairs, e.g. from named_parameters(); the names are kept alongside
        items = list(params)
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in items]
        names = [p[0] for p in items if isinstance(p, tuple)]
        if names:
            if len(names) != len(items):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each would be stepped "
                          "more than once per step() (torch plans to make this an error)", stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. cannot add param group "
                                 f"{which} to the optimizer")
        new_ids = set(ids)
        if any(id(p) in new_ids for g in self.param_groups for p in g["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)
