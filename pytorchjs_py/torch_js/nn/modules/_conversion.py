"""How Module puts a new value into one of its parameters: converting it (`_apply`: .to(), .float(), ...) and
loading it from a checkpoint (`load_state_dict`). PyTorch's three ways, chosen by torch.__future__'s flags:
change the data in place (the Parameter and its .grad keep their identity), swap the new tensor into the old
object (swap_tensors: every reference sees it), or put a new object in its place (overwrite / assign)."""
from ..._grad_mode import no_grad
from ...utils._swap import swap_tensors
from ... import __future__ as _future
from ..parameter import Parameter


def _like(param, value):
    """value as a Parameter when param is one (keeping param's requires_grad), else as it is."""
    if not isinstance(param, Parameter):
        return value
    if isinstance(value, Parameter):
        return value.requires_grad_(param.requires_grad)
    return Parameter(value, requires_grad=param.requires_grad)


def convert_parameter(module, key, param, fn, use_swap, overwrite):
    """Module._apply for one parameter and its gradient."""
    with no_grad():
        param_applied = fn(param)
    param_grad = param.grad
    if use_swap:
        try:
            if param_grad is not None:
                param.grad = None
            swap_tensors(param, Parameter(param_applied, requires_grad=param.requires_grad))
        except Exception as e:
            if param_grad is not None:
                param.grad = param_grad
            raise RuntimeError(f"_apply(): Couldn't swap {module._get_name()}.{key}") from e
        out_param = param
    elif not overwrite:
        param.data = param_applied   # PyTorch's default (set_data): the Parameter keeps its identity
        out_param = param
    else:
        out_param = Parameter(param_applied, param.requires_grad)
        module._parameters[key] = out_param
    if param_grad is None:
        return
    with no_grad():
        grad_applied = fn(param_grad)
    if use_swap:
        grad_applied.requires_grad_(param_grad.requires_grad)
        try:
            swap_tensors(param_grad, grad_applied)
        except Exception as e:
            raise RuntimeError(f"_apply(): Couldn't swap {module._get_name()}.{key}.grad") from e
        out_param.grad = param_grad
    elif not overwrite:
        out_param.grad.data = grad_applied   # set_data: the gradient object keeps its identity too
    else:
        out_param.grad = grad_applied.requires_grad_(param_grad.requires_grad)


def load_value(module, name, param, input_param, assign):
    """Module._load_from_state_dict for one parameter or buffer whose checkpoint value passed the shape checks."""
    with no_grad():
        if _future.get_swap_module_params_on_conversion():
            # the value module_load makes is swapped into the parameter/buffer object itself
            new_value = param.module_load(input_param, assign=assign)
            if new_value is input_param or new_value is param:
                raise RuntimeError("module_load returned one of self or other, please .detach() the result if "
                                   "returning one of the inputs in module_load")
            swap_tensors(param, _like(param, new_value))
        elif assign:
            setattr(module, name, _like(param, input_param))
        else:
            param.copy_(input_param)
