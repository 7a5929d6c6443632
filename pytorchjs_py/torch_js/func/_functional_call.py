"""torch.func.functional_call (a module called with other tensors in place of its parameters and buffers) and
stack_module_state (the states of an ensemble, stacked for vmap)."""
from collections.abc import Sequence

from ..nn.utils.stateless import _functional_call
from ..ops._registry import torch_ops


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the tensors of parameter_and_buffer_dicts (a dict, or a sequence of dicts with
    distinct keys) in place of the parameters and buffers of those names; the module is restored afterwards, and a
    tensor the module reassigned during the call is written back into the caller's dict."""
    if isinstance(parameter_and_buffer_dicts, dict):
        given = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        given = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _functional_call(module, given, args, kwargs, tie_weights=tie_weights, strict=strict)


def _stacked_leaf(tensors, name):
    if not (all(t.requires_grad for t in tensors) or not any(t.requires_grad for t in tensors)):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = torch_ops.stack(list(tensors))
    if tensors[0].requires_grad:
        result = result.detach().requires_grad_()
    return result


def stack_module_state(models):
    """(params, buffers): each a dict name -> the models' tensors of that name stacked on a new first dimension;
    stacked parameters are new leaves (requires_grad as the models'), unrelated to the models' own."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first_type = type(models[0])
    if not all(type(m) is first_type for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers
