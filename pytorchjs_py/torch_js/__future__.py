"""torch.__future__: how nn.Module's conversions (module.to/float/cpu/..., load_state_dict) replace a parameter."""
_overwrite_module_params_on_conversion = False
_swap_module_params_on_conversion = False


def set_overwrite_module_params_on_conversion(value):
    """True: conversions give a module new Parameter objects instead of setting .data on the old ones."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion():
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value):
    """True: conversions and load_state_dict swap the new value into the existing Parameter object
    (torch.utils.swap_tensors), so references held elsewhere (an optimizer) see it; load_state_dict takes the
    value from param.module_load(state_dict_value, assign)."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion():
    return _swap_module_params_on_conversion
