"""torch.func.functional_call (a module called with other tensors in place of its parameters and buffers) and
stack_module_state (the states of an ensemble, stacked for vmap)."""
from collections.abc import Sequence

from .._tensor import Tensor
from ..nn.modules.data_parallel import DataParallel
from ..nn.modules.module import Module
from ..ops._registry import torch_ops

_MISSING = object()   # a name the module did not have before the call


def _get_submodule(module, path, memo):
    if not path:
        return module
    if path in memo:
        return memo[path]
    prefix, dot, attr = path.rpartition(".")
    parent = _get_submodule(module, prefix, memo) if dot else module
    try:
        sub = getattr(parent, attr)
    except AttributeError as e:
        raise AttributeError(f"{parent._get_name()} has no attribute `{attr}`") from e
    if not isinstance(sub, Module):
        raise TypeError(f"submodule `{path}`: {sub} is not an instance of torch.nn.Module")
    memo[path] = sub
    return sub


def _swap_tensor(module, name, tensor):
    """Put `tensor` (or _MISSING: remove) under `name` in module; returns what was there."""
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f"{tensor} is not an instance of torch.Tensor")
    if name in module._parameters:
        orig = module._parameters[name]
        if tensor is _MISSING:
            del module._parameters[name]
        else:
            module._parameters[name] = tensor
    elif name in module._buffers:
        orig = module._buffers[name]
        if tensor is _MISSING:
            del module._buffers[name]
        else:
            module._buffers[name] = tensor
    else:
        orig = getattr(module, name) if hasattr(module, name) else _MISSING
        if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
            raise TypeError(f"attribute `{name}`: {orig} is not an instance of torch.Tensor")
        if tensor is not _MISSING:
            setattr(module, name, tensor)
        elif hasattr(module, name):
            delattr(module, name)
    return orig


def _swap_all(module, named, memo):
    """Swap every name of `named` in; on an error, everything swapped so far goes back first."""
    swapped = {}
    try:
        for path, tensor in named.items():
            prefix, _, attr = path.rpartition(".")
            swapped[path] = _swap_tensor(_get_submodule(module, prefix, memo), attr, tensor)
    except Exception:
        for path, orig in swapped.items():
            prefix, _, attr = path.rpartition(".")
            _swap_tensor(_get_submodule(module, prefix, memo), attr, orig)
        raise
    return swapped


def _untie(module, given):
    """`given` plus, for each given name of a tensor the module holds under several names, its other names."""
    names_of = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        names_of.setdefault(id(t), set()).add(name)
    tied = {n: names for names in names_of.values() if len(names) > 1 for n in names}
    given_tied = [n for n in given if n in tied]
    for name in given_tied:
        names = tied[name]
        values = {id(given[n]) for n in names if n in given}
        if len(names.intersection(given_tied)) > 1 and len(values) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                             "Consider using tie_weights=False")
    untied = dict(given)
    for name in given_tied:
        for other in tied[name]:
            untied[other] = given[name]
    return untied


def _check_keys(module, keys):
    valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    missing, unexpected = sorted(valid - set(keys)), sorted(set(keys) - valid)
    errors = []
    if unexpected:
        errors.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
    if missing:
        errors.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
    if errors:
        raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(module._get_name(), "\n\t".join(errors)))


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
    if isinstance(module, DataParallel):
        raise RuntimeError("The stateless API can't be used with nn.DataParallel module")
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else (args if isinstance(args, tuple) else (args,))
    named = _untie(module, given) if tie_weights else given
    if strict:
        _check_keys(module, named)
    memo = {}
    originals = {}
    try:
        originals = _swap_all(module, named, memo)
        return module(*args, **kwargs)
    finally:
        current = _swap_all(module, originals, memo)
        given.update({k: current[k] for k in given if k in current})


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
