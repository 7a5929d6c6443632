"""torch.func's autodiff transforms: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian.

All are reverse mode on torch_js's tape (func/_level.py says how a transform call lives on it):

* jvp is the double-vjp trick: g(u) = J^T u is linear in a dummy cotangent u, so the vjp of g against the tangent
  t is J t. It costs two backward passes and needs differentiable backward formulas, which torch_js's are.
* jacrev runs one backward pass per output element (PyTorch batches them with vmap).
* jacfwd is jacrev: the Jacobian is the same matrix whichever way it is computed, up to rounding. `randomness`
  keeps PyTorch's contract that a random op under randomness='error' raises.
* hessian is jacfwd(jacrev(f)), as in PyTorch.
"""
import functools

from .._grad_mode import enable_grad, is_grad_enabled
from .._tensor import Tensor
from ..autograd import grad as _autograd_grad_raw
from ..ops._registry import torch_ops
from ..ops.random import default_generator
from ..utils._pytree import tree_flatten, tree_map, tree_unflatten, treespec_pprint
from ._level import GradLevel, _torch_type

_JVP = "jvp(f, primals, tangents)"
_VJP = "vjp(f, *primals)"
RANDOM_IN_ERROR_MODE = ("vmap: called random operation while in randomness error mode. Please either use the 'same' "
                        "or 'different' randomness flags on vmap or perform the randomness operation out of vmap")


# ---- argnums -------------------------------------------------------------------------------------------------------
def _wrap_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _wrap_argnums(argnums, num_args):
    if isinstance(argnums, int):
        return _wrap_argnum(argnums, num_args)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    wrapped = tuple(_wrap_argnum(a, num_args) for a in argnums)
    if len(wrapped) == 0:
        raise RuntimeError("argnums must be non-empty")
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {wrapped}")
    return wrapped


def _slice_argnums(args, argnums):
    """The differentiated argument (argnums an int) or tuple of them."""
    argnums = _wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return args[argnums]
    return tuple(args[i] for i in argnums)


def _replace_args(args, new_diff, argnums):
    argnums = _wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return tuple(new_diff if i == argnums else a for i, a in enumerate(args))
    return tuple(new_diff[argnums.index(i)] if i in argnums else a for i, a in enumerate(args))


# ---- checks with PyTorch's messages --------------------------------------------------------------------------------
def _check_tensor_output(flat_out, api):
    if len(flat_out) < 1 or (len(flat_out) == 1 and flat_out[0] is None):
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {flat_out})")
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def _check_tensor_list(flat, api, argname):
    if len(flat) == 0:
        raise RuntimeError(f"{api}: Expected {argname} to contain at least one Tensor.")
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{api}: Expected {argname} to only contain Tensors, got {type(x)}")


def _error_if_complex(func_name, tree, is_input):
    for idx, x in enumerate(tree_flatten(tree)[0]):
        if isinstance(x, Tensor) and x.dtype.is_complex:
            kind = "inputs" if is_input else "outputs"
            raise RuntimeError(f"{func_name}: Expected all {kind} to be real but received complex tensor at "
                               f"flattened input idx: {idx}")


def _split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def _unwrap_aux(aux, level):
    def unwrap(x):
        if not isinstance(x, Tensor):
            raise RuntimeError(f"Expected tensors, got unsupported type {_torch_type(x)}")
        return level.unwrap(x)
    return tree_map(unwrap, aux)


def _grads(outputs, inputs, grad_outputs=None, retain_graph=False, create_graph=False):
    """autograd.grad over the outputs that have history; zeros for inputs they do not reach."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return [torch_ops.zeros_like(x) for x in inputs]
    # a graph made with create_graph is kept: torch_js's engine refuses to rerun a released node even when it saved
    # nothing (a view), and the caller's next pass goes through the nodes this one ran
    got = _autograd_grad_raw([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                             retain_graph=retain_graph or create_graph, create_graph=create_graph, allow_unused=True)
    return [torch_ops.zeros_like(x) if g is None else g for g, x in zip(got, inputs)]


def _prepare(args, argnums, level):
    """(args with the differentiated ones replaced, their flat leaves as the function sees them, their spec)."""
    diff = _slice_argnums(args, argnums)
    flat, spec = tree_flatten(diff)
    seen = [level.differentiable(x) for x in flat]
    return _replace_args(args, tree_unflatten(seen, spec), argnums), seen, spec


# ---- grad / grad_and_value -----------------------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func w.r.t. args[argnums], func's value); with has_aux func returns
    (output, aux) and the result is (gradient, (output, aux))."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        level = GradLevel()
        with enable_grad():
            new_args, seen, spec = _prepare(args, argnums, level)
            output, aux = _split_aux(func(*new_args, **kwargs), has_aux, "grad_and_value(f)(*args)")
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                                   f"{_torch_type(output)}")
            if output.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got tensor "
                                   f"with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            create_graph = level.grad_enabled and level.reaches_outside(output)
            grads = _grads([output], seen, create_graph=create_graph)
        grads = tree_unflatten([level.unwrap(g) for g in grads], spec)
        output = level.unwrap(output)
        if has_aux:
            return grads, (output, _unwrap_aux(aux, level))
        return grads, output
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func (which returns a scalar tensor) w.r.t. args[argnums]; with has_aux
    func returns (output, aux) and the result is (gradient, aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


# ---- vjp -----------------------------------------------------------------------------------------------------------
def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]); vjp_fn(cotangents) returns a tuple of one gradient per primal."""
    level = GradLevel()
    with enable_grad():
        flat, spec = tree_flatten(primals)
        seen = [level.differentiable(x) for x in flat]
        output, aux = _split_aux(func(*tree_unflatten(seen, spec)), has_aux, _VJP)
        if has_aux:
            aux = _unwrap_aux(aux, level)
        flat_out, out_spec = tree_flatten(output)
        _check_tensor_output(flat_out, _VJP)
        for o in flat_out:
            if not (o.dtype.is_floating_point or o.dtype.is_complex):
                raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got "
                                   f"Tensor with dtype {o.dtype}")
        results = tree_unflatten([level.unwrap(o) for o in flat_out], out_spec)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        if create_graph is None:
            create_graph = is_grad_enabled()
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of outputs "
                               f"to the function. cotangents: {treespec_pprint(cot_spec)}, primal output: "
                               f"{treespec_pprint(out_spec)}")
        grads = _grads(flat_out, seen, flat_cot, retain_graph=retain_graph, create_graph=create_graph)
        return tree_unflatten([level.unwrap(g) for g in grads], spec)

    if has_aux:
        return results, vjp_fn, aux
    return results, vjp_fn


# ---- jvp -----------------------------------------------------------------------------------------------------------
def _tangent_size_check(primal, tangent):
    if tuple(tangent.shape) != tuple(primal.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(primal.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")


def _jvp_by_double_vjp(outputs, inputs, tangents, level, strict):
    """J t for each output: the vjp, against t, of u -> J^T u (u a dummy cotangent)."""
    result = [None] * len(outputs)
    diff = [i for i, o in enumerate(outputs) if o.requires_grad]
    if diff:
        dummies = [level.own(torch_ops.zeros_like(outputs[i]).requires_grad_()) for i in diff]
        transposed = _autograd_grad_raw([outputs[i] for i in diff], list(inputs), dummies, create_graph=True,
                                        allow_unused=True)
        pairs = [(g, t) for g, t in zip(transposed, tangents) if g is not None and g.requires_grad]
        if pairs:
            create_graph = level.grad_enabled and (any(level.reaches_outside(outputs[i]) for i in diff)
                                                   or any(t.requires_grad for _, t in pairs))
            forward = _autograd_grad_raw([g for g, _ in pairs], dummies, [t for _, t in pairs],
                                         create_graph=create_graph, allow_unused=True)
            for k, i in enumerate(diff):
                result[i] = forward[k]
    for i, o in enumerate(outputs):
        if result[i] is None:
            if strict:
                raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of the "
                                   "inputs. This is not allowed with strict=True.")
            result[i] = torch_ops.zeros_like(o)
    return [level.unwrap(r) for r in result]


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian of func at primals times tangents[, aux])."""
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{_JVP}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    _check_tensor_list(flat_p, _JVP, "primals")
    _check_tensor_list(flat_t, _JVP, "tangents")
    for p, t in zip(flat_p, flat_t):
        _tangent_size_check(p, t)
    level = GradLevel()
    with enable_grad():
        seen = [level.differentiable(p) for p in flat_p]
        output, aux = _split_aux(func(*tree_unflatten(seen, p_spec)), has_aux, _JVP)
        if has_aux:
            aux = _unwrap_aux(aux, level)
        flat_out, out_spec = tree_flatten(output)
        _check_tensor_output(flat_out, _JVP)
        tangents_out = _jvp_by_double_vjp(flat_out, seen, flat_t, level, strict)
    primals_out = tree_unflatten([level.unwrap(o) for o in flat_out], out_spec)
    tangents_out = tree_unflatten(tangents_out, out_spec)
    if has_aux:
        return primals_out, tangents_out, aux
    return primals_out, tangents_out


# ---- jacrev / jacfwd / hessian -------------------------------------------------------------------------------------
def _jacobian(func, argnums, has_aux, args, api, name):
    """func's Jacobian w.r.t. args[argnums], one backward pass per output element; shaped output tree of
    (argument tree of tensors out.shape + arg.shape)."""
    level = GradLevel()
    with enable_grad():
        new_args, seen, spec = _prepare(args, argnums, level)
        output, aux = _split_aux(func(*new_args), has_aux, api)
        if has_aux:
            aux = _unwrap_aux(aux, level)
        flat_out, out_spec = tree_flatten(output)
        _check_tensor_output(flat_out, api)
        if api == _VJP:
            for o in flat_out:
                if not (o.dtype.is_floating_point or o.dtype.is_complex):
                    raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got "
                                       f"Tensor with dtype {o.dtype}")
        _error_if_complex(name, flat_out, False)
        create_graph = level.grad_enabled and any(level.reaches_outside(o) for o in flat_out)
        per_output = []
        for o in flat_out:
            rows = [[] for _ in seen]
            basis = torch_ops.zeros(o.numel(), dtype=o.dtype, device=o.device)
            for j in range(o.numel()):
                basis.zero_()
                basis[j] = 1
                cot = basis.view(o.shape).clone()
                for k, g in enumerate(_grads([o], seen, [cot], retain_graph=True, create_graph=create_graph)):
                    rows[k].append(g)
            jacs = []
            for k, x in enumerate(seen):
                if rows[k]:
                    jac = torch_ops.stack(rows[k], 0).view(tuple(o.shape) + tuple(x.shape))
                else:   # an empty output: a Jacobian with no rows
                    jac = torch_ops.zeros(tuple(o.shape) + tuple(x.shape), dtype=x.dtype, device=x.device)
                jacs.append(level.unwrap(jac))
            per_output.append(tree_unflatten(jacs, spec))
    jacobian = tree_unflatten(per_output, out_spec)
    return (jacobian, aux) if has_aux else jacobian


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func w.r.t. args[argnums] by reverse mode (one backward pass per output element)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args):
        _error_if_complex("jacrev", args, True)
        return _jacobian(func, argnums, has_aux, args, _VJP, "jacrev")
    return wrapper


def check_randomness_arg(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of func w.r.t. args[argnums] (same values as jacrev). func is called once, so with
    randomness='same' or 'different' every column sees the same random draw; 'error' raises on a random op."""
    @functools.wraps(func)
    def wrapper(*args):
        check_randomness_arg(randomness)
        _error_if_complex("jacfwd", args, True)
        for x in tree_flatten(_slice_argnums(args, argnums))[0]:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"{_JVP}: Expected primals to only contain Tensors, got {type(x)}")
        state = default_generator.get_state() if randomness == "error" else None
        result = _jacobian(func, argnums, has_aux, args, _JVP, "jacfwd")
        if state is not None and default_generator.get_state() != state:
            default_generator.set_state(state)
            raise RuntimeError(RANDOM_IN_ERROR_MODE)
        return result
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of func w.r.t. args[argnums]: jacfwd(jacrev(func, argnums), argnums)."""
    return jacfwd(jacrev(func, argnums), argnums)

