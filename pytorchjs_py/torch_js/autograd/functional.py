"""torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp of a function of tensors, by autograd.grad.

jvp and hvp use the double-backward trick (PyTorch does too, as its default): g(u) = J^T u is linear in a dummy u,
and the vjp of g against v is J v. `vectorize` is accepted and computes the same values row by row;
strategy="forward-mode" keeps PyTorch's argument rules and computes the same Jacobian by reverse mode.
"""
from .._grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .._tensor import Tensor
from ..ops._registry import torch_ops
from .engine import grad as _grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _type_name(x):
    return "<class 'torch.Tensor'>" if isinstance(x, Tensor) else str(type(x))


def _tensors(value, arg_name, fn_name):
    """(was a tuple, the tensors as a tuple); TypeError for anything but a Tensor or a tuple of Tensors."""
    is_tuple = isinstance(value, tuple)
    items = value if is_tuple else (value,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                            f"{where} has type {_type_name(el)}.")
    return is_tuple, items


def _prepare_inputs(inputs, create_graph, need_graph):
    """Inputs the function sees: with create_graph, a tracked input stays connected (a view of itself), so the
    results can be differentiated again w.r.t. the caller's tensors; otherwise a detached copy of the reference."""
    out = []
    for x in inputs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(need_graph))
    return tuple(out)


def _finish(values, create_graph):
    if not values or isinstance(values[0], Tensor):
        return values if create_graph else tuple(v.detach() for v in values)
    return tuple(_finish(v, create_graph) for v in values)


def _unpack(res, was_tuple):
    """A tuple result (or tuple of tuples, was_tuple a pair: outer, inner) unpacked where the caller passed no
    tuple."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            res = tuple(r[0] for r in res)
        return res if outer else res[0]
    return res if was_tuple else res[0]


def _check_v(v, other, other_is_tuple):
    if len(v) != len(other):
        if other_is_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, other)):
        if a.size() != b.size():
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.size()} but got {a.size()}.")


_INDEPENDENT = {
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the user-provided "
                   "function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function with respect to "
                "input {i} is independent of the input. This is not allowed in strict mode. You should ensure that "
                "your function is twice differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).",
    "hessian": "The hessian of the user-provided function with respect to input {i} is independent of the input. "
               "This is not allowed in strict mode. You should ensure that your function is thrice differentiable "
               "and that the hessian depends on the inputs.",
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs must be computed in "
               "a differentiable manner from the input when running in strict mode.",
}


def _strict_requires_grad(values, kind, strict):
    if not strict:
        return
    for i, x in enumerate(values):
        if x is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if not x.requires_grad:
            raise RuntimeError(_INDEPENDENT[kind].format(i=i))


def _grads(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None for every input when none does)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    # torch_js's engine will not rerun a released node even one that saved nothing (a view), so a graph made for
    # differentiating again is kept
    return _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], allow_unused=True,
                 create_graph=create_graph, retain_graph=retain_graph if retain_graph is not None else create_graph)


_ZERO_FILL = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when using "
                  "the double backward trick to compute forward mode gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed in "
                   "strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
                         "This is not allowed in strict mode as it prevents from using the double backward trick to "
                         "replace forward mode AD.",
}


def _zeros_for_none(grads, refs, strict, create_graph, stage):
    out = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_FILL[stage].format(i=i))
            g = torch_ops.zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        out.append(g)
    return tuple(out)


def _prepare_v(v, against, against_is_tuple, create_graph, fn_name, none_msg):
    if v is None:
        if len(against) != 1 or against[0].nelement() != 1:
            raise RuntimeError(none_msg)
        return None
    _, v = _tensors(v, "v", fn_name)
    v = _prepare_inputs(v, create_graph, need_graph=False)
    _check_v(v, against, against_is_tuple)
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product of func at inputs."""
    with enable_grad():
        inputs_is_tuple, inputs = _tensors(inputs, "inputs", "vjp")
        inputs = _prepare_inputs(inputs, create_graph, need_graph=True)
        outputs_is_tuple, outputs = _tensors(func(*inputs), "outputs of the user-provided function", "vjp")
        _strict_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, outputs_is_tuple, create_graph, "vjp",
                       "The vector v can only be None if the user-provided function returns a single Tensor with a "
                       "single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _zeros_for_none(_grads(outputs, inputs, v, create_graph=create_graph), inputs, strict, create_graph,
                              "back")
    return (_unpack(_finish(outputs, create_graph), outputs_is_tuple),
            _unpack(_finish(res, create_graph), inputs_is_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product of func at inputs (double-backward trick)."""
    with enable_grad():
        inputs_is_tuple, inputs = _tensors(inputs, "inputs", "jvp")
        inputs = _prepare_inputs(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_is_tuple, create_graph, "jvp",
                       "The vector v can only be None if the input to the user-provided function is a single Tensor "
                       "with a single element.")
        outputs_is_tuple, outputs = _tensors(func(*inputs), "outputs of the user-provided function", "jvp")
        _strict_requires_grad(outputs, "outputs", strict)
        dummies = tuple(torch_ops.zeros_like(o).requires_grad_() for o in outputs)
        grad_inputs = _grads(outputs, inputs, dummies, create_graph=True)
        _strict_requires_grad(grad_inputs, "grad_inputs", strict)
    with enable_grad() if create_graph else set_grad_enabled(is_grad_enabled()):
        res = _zeros_for_none(_grads(grad_inputs, dummies, v, create_graph=create_graph), outputs, strict,
                              create_graph, "back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_is_tuple),
            _unpack(_finish(res, create_graph), outputs_is_tuple))


def _jacobian_rows(outputs, inputs, create_graph, strict):
    """One backward pass per output element; ((J[out i][in j] shaped out_i.shape + in_j.shape for j) for i)."""
    jac = []
    for i, out in enumerate(outputs):
        rows = tuple([] for _ in inputs)
        flat = out.reshape(-1)
        for k in range(out.nelement()):
            vj = _grads((flat[k],), inputs, create_graph=create_graph, retain_graph=True)
            for j, (g, x) in enumerate(zip(vj, inputs)):
                if g is not None:
                    if strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {i}. "
                                           "This is not allowed in strict mode when create_graph=True.")
                    rows[j].append(g)
                else:
                    if strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of input {j}. "
                                           "This is not allowed in strict mode.")
                    rows[j].append(torch_ops.zeros_like(x))
        jac.append(tuple(torch_ops.stack(r, 0).view(tuple(out.size()) + tuple(x.size())) if r else
                         torch_ops.zeros(tuple(out.size()) + tuple(x.size()), dtype=x.dtype, device=x.device)
                         for r, x in zip(rows, inputs)))
    return tuple(jac)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of func at inputs: a Tensor, or tuples indexed [output][input] where func takes or returns
    tuples."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                             'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, '
                             'prefer to use "reverse-mode".')
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError('torch.autograd.functional.jacobian: `create_graph=True` and '
                                      '`strategy="forward-mode"` are not supported together (yet). Please either set '
                                      '`create_graph=False` or `strategy="reverse-mode"`.')
        if strict:
            raise RuntimeError('torch.autograd.functional.jacobian: `strict=True` and `strategy="forward-mode"` are '
                               'not supported together (yet). Please either set `strict=False` or '
                               '`strategy="reverse-mode"`.')
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian isonly "
                                      "implemented for `vectorize=True`.")
    with enable_grad():
        inputs_is_tuple, inputs = _tensors(inputs, "inputs", "jacobian")
        inputs = _prepare_inputs(inputs, create_graph, need_graph=True)
        outputs_is_tuple, outputs = _tensors(func(*inputs), "outputs of the user-provided function", "jacobian")
        _strict_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not "
                               "supported together. Please either set `strict=False` or `vectorize=False`.")
        jac = _jacobian_rows(outputs, inputs, create_graph, strict)
        return _unpack(_finish(jac, create_graph), (outputs_is_tuple, inputs_is_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function at inputs: a Tensor, or tuples indexed [input][input]."""
    inputs_is_tuple, inputs = _tensors(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        out = func(*inp)
        out_is_tuple, t_out = _tensors(out, "outputs of the user-provided function", "hessian")
        _strict_requires_grad(t_out, "outputs", strict)
        if out_is_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def jac_func(*inp):
        if outer_jacobian_strategy == "forward-mode":
            inp = tuple(t.requires_grad_(True) for t in inp)
        jac = jacobian(single_output, inp, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _unpack(res, (inputs_is_tuple, inputs_is_tuple))


def _scalar_output(func, inputs, fn_name, strict):
    outputs_is_tuple, outputs = _tensors(func(*inputs), "outputs of the user-provided function", fn_name)
    _strict_requires_grad(outputs, "outputs", strict)
    if outputs_is_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    return outputs_is_tuple, outputs


_V_NONE_SINGLE_INPUT = ("The vector v can only be None if the input to the user-provided function is a single Tensor "
                        "with a single element.")


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of a scalar function at inputs."""
    with enable_grad():
        inputs_is_tuple, inputs = _tensors(inputs, "inputs", "vhp")
        inputs = _prepare_inputs(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_is_tuple, create_graph, "vhp", _V_NONE_SINGLE_INPUT)
        outputs_is_tuple, outputs = _scalar_output(func, inputs, "vhp", strict)
        jac = _grads(outputs, inputs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _zeros_for_none(_grads(jac, inputs, v, create_graph=create_graph), inputs, strict, create_graph,
                              "double_back")
    return (_unpack(_finish(outputs, create_graph), outputs_is_tuple),
            _unpack(_finish(res, create_graph), inputs_is_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product of a scalar function at inputs (double-backward trick)."""
    with enable_grad():
        inputs_is_tuple, inputs = _tensors(inputs, "inputs", "hvp")
        inputs = _prepare_inputs(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, inputs_is_tuple, create_graph, "hvp", _V_NONE_SINGLE_INPUT)
        outputs_is_tuple, outputs = _scalar_output(func, inputs, "hvp", strict)
        jac = _grads(outputs, inputs, create_graph=True)
        _strict_requires_grad(jac, "jacobian", strict)
        dummies = tuple(torch_ops.zeros_like(x).requires_grad_() for x in inputs)
        double_back = _grads(jac, inputs, dummies, create_graph=True)
        _strict_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        res = _zeros_for_none(_grads(double_back, dummies, v, create_graph=create_graph), inputs, strict,
                              create_graph, "double_back_trick")
    return (_unpack(_finish(outputs, create_graph), outputs_is_tuple),
            _unpack(_finish(res, create_graph), inputs_is_tuple))
