"""torch.autograd.gradcheck / gradgradcheck: autograd's Jacobians against central finite differences.

The numerical Jacobian perturbs one input element at a time through `.data` (so func still sees, and can
differentiate, the caller's tensors); the analytical one takes one backward pass per output element, twice, to
catch a nondeterministic backward. Both are (input numel x output numel) matrices, as PyTorch prints them.

fast_mode checks the full Jacobians (PyTorch's fast mode projects them on random vectors: the full check passes
and fails on the same gradients, more slowly). check_forward_ad compares the Jacobian from the double-backward
trick, torch_js's forward mode. check_batched_grad and check_undefined_grad are accepted: batched gradients are
computed row by row here, which is what the analytical check already does, and torch_js passes an unused output's
gradient as zeros, which the "backward multiplies by grad_output" check covers.
"""
import itertools
import warnings

from .. import _dtype as D
from .._tensor import Tensor
from ..ops._registry import torch_ops
from .engine import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _diff_inputs(inputs):
    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]


def _differentiable_outputs(out):
    return tuple(o for o in _as_tuple(out) if o.requires_grad)


def _check_inputs(inputs):
    found = False
    for idx, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype is not D.float64 and not x.dtype.is_complex:
                warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point or "
                              "complex. This check will likely fail if all the inputs are not of double precision "
                              "floating point or complex. ", stacklevel=4)
            if not all(st > 0 or sz <= 1 for st, sz in zip(x.stride(), x.size())):
                raise RuntimeError(f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs "
                                   "that are non-overlapping to be able to compute the numerical gradients correctly. "
                                   "You should call .contiguous on the input before passing it to gradcheck.")
            found = True
    if not found:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")


def _indices(shape):
    return itertools.product(*[range(s) for s in shape])


def _numerical_jacobians(func, inputs, func_out, positions, eps):
    """[per differentiable input: [per output of func at `positions`: (input numel x output numel) central
    differences]]."""
    result = []
    for x in _diff_inputs(inputs):
        data = x.data
        cols = [torch_ops.zeros((x.numel(), func_out[p].numel()), dtype=func_out[p].dtype, device=func_out[p].device)
                for p in positions]
        for k, idx in enumerate(_indices(tuple(x.shape))):
            entry = data[idx] if idx else data
            orig = entry.clone()
            # func runs with grad mode as the caller has it: gradgradcheck's func differentiates inside
            entry.copy_(orig - eps)
            before = _as_tuple(func(*inputs))
            entry.copy_(orig + eps)
            after = _as_tuple(func(*inputs))
            entry.copy_(orig)
            for col, p in zip(cols, positions):
                a, b = before[p], after[p]
                if a.shape != b.shape:
                    raise AssertionError(f"Expected `func` to return outputs with the same shape when inputs are "
                                         f"perturbed on index {idx} by {eps}, but got: shapes {a.shape} and "
                                         f"{b.shape}.")
                col[k] = ((b.detach() - a.detach()) / (2 * eps)).reshape(-1)
        result.append(cols)
    return result


def _analytical_jacobian(inputs, output):
    """[per differentiable input: (input numel x output numel)], plus whether sizes and dtypes were right."""
    diff = _diff_inputs(inputs)
    jacs = [torch_ops.zeros((x.numel(), output.numel()), dtype=x.dtype, device=x.device) for x in diff]
    sizes_ok = types_ok = True
    basis = torch_ops.zeros(output.numel(), dtype=output.dtype, device=output.device)
    for j in range(output.numel()):
        basis.zero_()
        basis[j] = 1
        grads = _grad(output, diff, basis.view(output.shape).clone(), retain_graph=True, allow_unused=True)
        for k, (g, x) in enumerate(zip(grads, diff)):
            if g is None:
                continue
            if g.size() != x.size():
                sizes_ok = False
                continue
            if g.dtype is not x.dtype:
                types_ok = False
            jacs[k][:, j] = g.reshape(-1).to(x.dtype)
    return jacs, sizes_ok, types_ok


def _forward_jacobian(func, inputs, outputs):
    """[per differentiable output: [per differentiable input: (input numel x output numel)]] by the
    double-backward trick: the vjp of u -> J^T u against a basis vector of the input is a column of J."""
    diff = _diff_inputs(inputs)
    dummies = [torch_ops.zeros_like(o).requires_grad_() for o in outputs]
    transposed = _grad(list(outputs), diff, dummies, create_graph=True, retain_graph=True, allow_unused=True)
    jacs = [[torch_ops.zeros((x.numel(), o.numel()), dtype=o.dtype, device=o.device) for x in diff] for o in outputs]
    for k, (g, x) in enumerate(zip(transposed, diff)):
        if g is None or not g.requires_grad:
            continue
        basis = torch_ops.zeros(x.numel(), dtype=x.dtype, device=x.device)
        for e in range(x.numel()):
            basis.zero_()
            basis[e] = 1
            cols = _grad(g, dummies, basis.view(x.shape).clone(), retain_graph=True, allow_unused=True)
            for i, c in enumerate(cols):
                if c is not None:
                    jacs[i][k][e] = c.reshape(-1)
    return jacs


def _allclose(a, b, rtol, atol):
    dtype = D.promote_types(a.dtype, b.dtype)
    return bool(torch_ops.allclose(a.to(dtype), b.to(dtype), rtol=rtol, atol=atol))


def _mismatch(a, n, i, j, forward=False):
    mode = "computed with forward mode " if forward else ""
    return (f"Jacobian {mode}mismatch for output {i:d} with respect to input {j:d},\n"
            f"numerical:{n}\nanalytical:{a}\n")


def _run_checks(func, inputs, eps, atol, rtol, nondet_tol, check_grad_dtypes, check_forward_ad, check_backward_ad):
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    func_out = func(*inputs)
    outputs = _differentiable_outputs(func_out)
    if not outputs:
        floats = [p for p, o in enumerate(_as_tuple(func_out)) if o.dtype.is_floating_point or o.dtype.is_complex]
        for per_input in _numerical_jacobians(func, inputs, _as_tuple(func_out), floats, eps):
            for jac in per_input:
                if bool(torch_ops.ne(jac, 0).sum() > 0):
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return True
    positions = [p for p, o in enumerate(_as_tuple(func_out)) if o.requires_grad]
    numerical = _numerical_jacobians(func, inputs, _as_tuple(func_out), positions, eps)   # [input][output]
    if check_forward_ad:
        forward = _forward_jacobian(func, inputs, outputs)
        for i in range(len(outputs)):
            for j, per_output in enumerate(numerical):
                if not _allclose(forward[i][j], per_output[i], rtol, atol):
                    raise GradcheckError(_mismatch(forward[i][j], per_output[i], i, j, forward=True))
    if not check_backward_ad:
        return True
    for i, o in enumerate(outputs):
        first, sizes_ok, types_ok = _analytical_jacobian(inputs, o)
        second, _, _ = _analytical_jacobian(inputs, o)
        if not types_ok and check_grad_dtypes:
            raise GradcheckError("Gradient has dtype mismatch")
        if not sizes_ok:
            raise GradcheckError("Analytical gradient has incorrect size")
        for a, b in zip(first, second):
            if a.numel() != 0 and bool((a - b).abs().max() > nondet_tol):
                raise GradcheckError("Backward is not reentrant, i.e., running backward with same input and "
                                     "grad_output multiple times gives different values, although analytical gradient "
                                     f"matches numerical gradient.The tolerance for nondeterminism was {nondet_tol}.")
        for j, a in enumerate(first):
            n = numerical[j][i]
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_mismatch(a, n, i, j))
    _check_backward_scales_with_grad_output(outputs, inputs)
    return True


def _check_backward_scales_with_grad_output(outputs, inputs):
    diff = _diff_inputs(inputs)
    grads = _grad(list(outputs), diff, [torch_ops.zeros_like(o) for o in outputs], allow_unused=True)
    for g, x in zip(grads, diff):
        if g is None:
            continue
        if not bool(g.eq(0).all()):
            raise GradcheckError("backward not multiplied by grad_output")
        if g.dtype is not x.dtype:
            raise GradcheckError("grad is incorrect type")
        if g.device != x.device:
            raise GradcheckError("grad is incorrect device")
        if g.size() != x.size():
            raise GradcheckError("grad is incorrect size")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """True when autograd's gradients of func at inputs (the tensors with requires_grad, ideally float64) match
    finite differences within allclose(rtol, atol); else GradcheckError, or False with raise_exception=False."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    try:
        return _run_checks(func, inputs, eps, atol, rtol, nondet_tol, check_grad_dtypes, check_forward_ad,
                           check_backward_ad)
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _random_grad_output(x, noncontiguous):
    """torch.testing.make_tensor(x.shape, low=-1, high=1, requires_grad=True): the same draws from the generator."""
    dtype = x.dtype if (x.dtype.is_floating_point or x.dtype.is_complex) else D.float64
    shape = tuple(x.shape)
    wide = noncontiguous and x.numel() > 1
    if wide:
        shape = shape[:-1] + (2 * shape[-1],)
    t = torch_ops.empty(shape, dtype=dtype, device=x.device).uniform_(-1, 1)
    if wide:
        t = t[..., 1::2]
    return t.requires_grad_()


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True,
                  fast_mode=False, masked=False):
    """gradcheck of the map (inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs): second
    derivatives. grad_outputs default to random ones in [-1, 1) (as torch.testing.make_tensor draws them)."""
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _differentiable_outputs(func(*inputs))
        grad_outputs = tuple(_random_grad_output(o, gen_non_contig_grad_outputs) for o in outs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_out = len(grad_outputs)
    diff_inputs = {i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad}
    diff_grads = {i for i, x in enumerate(grad_outputs) if x.requires_grad}

    def first_derivative(*args):
        xs = tuple(x.requires_grad_() if i in diff_inputs else x for i, x in enumerate(args[:-n_out]))
        outs = _differentiable_outputs(func(*xs))
        gos = tuple(g.requires_grad_() if i in diff_grads else g for i, g in enumerate(args[-n_out:]))
        grads = _grad(outs, tuple(x for i, x in enumerate(xs) if i in diff_inputs), gos, create_graph=True,
                      allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, check_batched_grad=check_batched_grad, fast_mode=fast_mode,
                     check_forward_ad=check_fwd_over_rev, check_backward_ad=check_rev_over_rev, masked=masked)
