"""Module backward hooks: register_full_backward_hook / register_full_backward_pre_hook / register_backward_hook.

A full backward hook needs the gradients w.r.t. the module's inputs and outputs as a whole, whatever graph forward
builds in between. As in PyTorch, the tensor inputs and outputs of forward go through one identity autograd Function
each: the output-side node sees every grad_output at once (pre-hooks run there and may replace them), the input-side
node sees every grad_input at once (hooks run there and may replace them)."""
from collections import OrderedDict

from ..._grad_mode import GRAD_ENABLED
from ..._tensor import Tensor
from ...autograd.function import Function
from ...ops._registry import torch_ops
from ...ops._util import PACKAGE_DIRS, warn_at_caller
from ...utils.hooks import RemovableHandle

_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()
_global_is_full_backward_hook = [None]  # a list so the flag can be set from here and read by module.py

_MIXED_HOOKS_MSG = ("Cannot use both regular backward hooks and full backward hooks on a single Module. "
                    "Please use only one of them.")


def _set_global_full_flag(full):
    if _global_is_full_backward_hook[0] is (not full):
        raise RuntimeError("Cannot use both regular backward hooks and full backward hooks as a global Module hook. "
                           "Please use only one of them.")
    _global_is_full_backward_hook[0] = full


def register_module_backward_hook(hook):
    _set_global_full_flag(False)
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook):
    _set_global_full_flag(True)
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


def register_module_full_backward_pre_hook(hook):
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def add_backward_hook(module, hook, prepend, full):
    """Module.register_full_backward_hook (full=True) / register_backward_hook (full=False)."""
    if module._is_full_backward_hook is (not full):
        raise RuntimeError(_MIXED_HOOKS_MSG)
    object.__setattr__(module, "_is_full_backward_hook", full)
    handle = RemovableHandle(module._backward_hooks)
    module._backward_hooks[handle.id] = hook
    if prepend:
        module._backward_hooks.move_to_end(handle.id, last=False)
    return handle


def add_backward_pre_hook(module, hook, prepend):
    handle = RemovableHandle(module._backward_pre_hooks)
    module._backward_pre_hooks[handle.id] = hook
    if prepend:
        module._backward_pre_hooks.move_to_end(handle.id, last=False)
    return handle


def has_backward_hooks(module):
    return bool(module._backward_hooks or module._backward_pre_hooks or _global_backward_hooks
                or _global_backward_pre_hooks)


def backward_hooks_of(module):
    """(full hooks, non-full hooks, pre-hooks) that apply to one call of `module`: global ones first."""
    full, non_full = [], []
    for flag, hooks in ((_global_is_full_backward_hook[0], _global_backward_hooks),
                        (module._is_full_backward_hook, module._backward_hooks)):
        if flag is True:
            full.extend(hooks.values())
        elif flag is False:
            non_full.extend(hooks.values())
    return full, non_full, [*_global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]


class BackwardHookFunction(Function):
    """Identity on tensors; its backward hands the incoming grads to `on_backward(grads)`, which may replace them.
    Missing grads become zeros (as a Function's materialized grads do), after the hooks on the output side, whose
    pre-hooks see None for them, and before them on the input side, whose hooks see the grads backward returns."""

    @staticmethod
    def forward(ctx, on_backward, zeros_first, *tensors):
        ctx.set_materialize_grads(False)   # the hooks see None where PyTorch's node hooks do: zeros come below
        ctx.on_backward = on_backward
        ctx.zeros_first = zeros_first
        ctx.metas = [(t.shape, t.dtype, t.device) for t in tensors]
        # fresh views (not the inputs themselves) so the non-differentiable mark sticks to what is returned
        outs = tuple(t.view_as(t) for t in tensors)
        ctx.mark_non_differentiable(*[o for o, t in zip(outs, tensors) if not t.requires_grad])
        return outs

    @staticmethod
    def backward(ctx, *grads):
        # an input that does not require grad gets zeros too (its non-differentiable output receives none)
        if ctx.zeros_first:
            grads = _zeros_for_missing(grads, ctx.metas)
        grads = ctx.on_backward(grads)
        if not ctx.zeros_first:
            grads = _zeros_for_missing(grads, ctx.metas)
        return (None, None, *grads)


def _zeros_for_missing(grads, metas):
    return tuple(torch_ops.zeros(shape, dtype=dtype, device=device) if g is None else g
                 for g, (shape, dtype, device) in zip(grads, metas))


def _pack_with_none(indices, values, size):
    packed = [None] * size
    for i, v in zip(indices, values):
        packed[i] = v
    return tuple(packed)


class BackwardHook:
    """The state of one module call with full backward hooks: links the output-side node to the input-side one."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_tensors_index = self.output_tensors_index = None

    @staticmethod
    def _wrap_tensors(args, on_backward, zeros_first):
        """(args with their tensors replaced by identity outputs, tensor indices), or (args, None) when no
        gradient will flow."""
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (GRAD_ENABLED[0] and any(args[i].requires_grad for i in index)):
            return args, None
        wrapped = BackwardHookFunction.apply(on_backward, zeros_first, *(args[i] for i in index))
        out = list(args)
        for i, t in zip(index, wrapped):
            out[i] = t
        return tuple(out), index

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        args, self.input_tensors_index = self._wrap_tensors(args, self._input_grads, True)
        return args

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        outs = result if is_tuple else (result,)
        self.n_outputs = len(outs)
        outs, self.output_tensors_index = self._wrap_tensors(outs, self._output_grads, False)
        return outs if is_tuple else outs[0]

    def _output_grads(self, grads):
        self.grad_outputs = _pack_with_none(self.output_tensors_index, grads, self.n_outputs)
        for pre_hook in self.user_pre_hooks:
            new = pre_hook(self.module, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(self.grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(new)}, "
                                   f"but expected {len(self.grad_outputs)}")
            self.grad_outputs = tuple(new)
        grad_outputs = self.grad_outputs
        if self.input_tensors_index is None:
            # no input needs a gradient, so no input-side node will run: call the hooks now, with no grad_input
            # at the user's backward() call (the hook runs inside the engine), as PyTorch's
            warn_at_caller("Full backward hook is firing when gradients are computed with respect to module outputs "
                           "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                           "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                           inside=PACKAGE_DIRS)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_tensors_index)

    def _input_grads(self, grads):
        if self.grad_outputs is None:
            return grads  # the outputs' gradients were not computed (autograd.grad w.r.t. inner tensors only)
        res = _pack_with_none(self.input_tensors_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, but "
                                   f"expected {len(res)}")
            res = tuple(out)
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_tensors_index)


def setup_non_full_hooks(module, result, hooks):
    """register_backward_hook's old behaviour: the hooks go on the grad_fn of the first output tensor and see that
    one node's gradients."""
    var = result
    while not isinstance(var, Tensor):
        if isinstance(var, dict):
            var = next(v for v in var.values() if isinstance(v, Tensor))
        else:
            var = var[0]
    grad_fn = var.grad_fn
    if grad_fn is not None:
        for hook in hooks:
            grad_fn.register_hook(lambda grad_inputs, grad_outputs, hook=hook: hook(module, grad_inputs,
                                                                                     grad_outputs))
