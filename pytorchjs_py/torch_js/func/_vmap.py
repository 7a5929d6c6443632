"""torch.func.vmap as a loop: func runs once per batch element on that element's slices, and the per-element results
are stacked at out_dims.

Cost: batch-size calls of func (PyTorch runs it once on batched tensors), so time grows linearly with the batch and
nothing is vectorized across it; values, shapes, autograd history and errors are PyTorch's. randomness: 'same'
gives every element the draw an unbatched call would make (bit for bit PyTorch's, since torch_js's generator is);
'different' gives each element its own draw, one element after the other: PyTorch's numbers where its one batched
draw takes the generator's values in element order (rand, dropout, bernoulli), other independent numbers where it
does not (randn of 16 or more values in all takes PyTorch's 16-wide path); 'error' raises PyTorch's error when func
draws from the default generator.
"""
import functools

from .._tensor import Tensor
from ..ops._registry import torch_ops
from ..ops.random import default_generator
from ..utils._pytree import _broadcast_to_and_flatten, tree_flatten, tree_map_, tree_unflatten
from ._level import _torch_type
from ._transforms import RANDOM_IN_ERROR_MODE, check_randomness_arg


def _get_name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return

    def check(x):
        if not (isinstance(x, int) or x is None):
            raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a "
                             "python collection of ints representing where in the outputs the vmapped dimension "
                             "should appear.")
    tree_map_(check, out_dims)


def _batched_inputs(in_dims, args, func):
    """(batch size, flat in_dims with negative dims wrapped, flat args, args spec), checked as PyTorch does."""
    name = _get_name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying "
                         "to vmap over a function with no inputs. The latter is unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = _broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {args_spec}.")
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if not isinstance(in_dim, int) and in_dim is not None:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input but "
                             "in_dim must be either an integer dimension or None.")
        if isinstance(in_dim, int) and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input but "
                             f"the input is of type {_torch_type(arg)}. We cannot vmap over non-Tensor arguments, "
                             "please use None as the respective in_dim")
        if in_dim is not None and (in_dim < -arg.dim() or in_dim >= arg.dim()):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for some input, "
                             f"but that input is a Tensor of dimensionality {arg.dim()} so expected in_dim to satisfy "
                             f"-{arg.dim()} <= in_dim < {arg.dim()}.")
        if in_dim is not None and in_dim < 0:
            flat_in_dims[i] = in_dim % arg.dim()
    sizes = [arg.size(d) for arg, d in zip(flat_args, flat_in_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return sizes[0], flat_in_dims, flat_args, args_spec


def _flat_out_dims(out_dims, sample_output, out_spec, func):
    if isinstance(sample_output, Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None
    else:
        flat = _broadcast_to_and_flatten(out_dims, out_spec)
    if flat is None:
        raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible "
                         f"with the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but "
                         f"outputs has structure {out_spec}.")
    return flat


def _same_across_batch(values):
    first = values[0]
    for v in values[1:]:
        if v is first:
            continue
        if not (isinstance(v, Tensor) and v.shape == first.shape and v.dtype is first.dtype
                and bool(torch_ops.equal(v, first))):
            return False
    return True


def _combine(per_sample, out_dims, func):
    """Stack the per-element results at their out_dims (out_dim None: the one value every element returned)."""
    name = _get_name(func)
    flats = [tree_flatten(out) for out in per_sample]
    out_spec = flats[0][1]
    for _, spec in flats[1:]:
        if spec != out_spec:
            raise RuntimeError("vmap: It looks like you're attempting to use a Tensor in some data-dependent control "
                               "flow: the function returned differently structured outputs for different batch "
                               "elements.")
    dims = _flat_out_dims(out_dims, per_sample[0], out_spec, func)
    combined = []
    for k, out_dim in enumerate(dims):
        values = [flat[k] for flat, _ in flats]
        if out_dim is None:
            if isinstance(values[0], Tensor) and not _same_across_batch(values):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            combined.append(values[0])
            continue
        if not isinstance(values[0], Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{_torch_type(values[0])}. Did you mean to set out_dims= to None for output?")
        combined.append(torch_ops.stack(values, out_dim))
    return tree_unflatten(combined, out_spec)


def _empty_batch(func, flat_in_dims, flat_args, args_spec, kwargs, out_dims):
    """A batch of size 0: func runs once on zero-filled elements (the generator left as it was) to learn the shapes
    of its outputs; each comes back with an empty batch dimension."""
    sample = [a if d is None else torch_ops.zeros(tuple(s for i, s in enumerate(a.shape) if i != d), dtype=a.dtype,
                                                  device=a.device)
              for a, d in zip(flat_args, flat_in_dims)]
    state = default_generator.get_state()
    try:
        out = func(*tree_unflatten(sample, args_spec), **kwargs)
    finally:
        default_generator.set_state(state)
    flat, out_spec = tree_flatten(out)
    dims = _flat_out_dims(out_dims, out, out_spec, func)
    combined = []
    for value, d in zip(flat, dims):
        if d is None or not isinstance(value, Tensor):
            combined.append(value)
            continue
        combined.append(torch_ops.stack([value], d).narrow(d % (value.dim() + 1), 0, 0))
    return tree_unflatten(combined, out_spec)


def _loop(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs):
    if batch_size == 0:
        return _empty_batch(func, flat_in_dims, flat_args, args_spec, kwargs, out_dims)
    start_state = default_generator.get_state() if randomness in ("same", "error") else None
    per_sample = []
    for b in range(batch_size):
        if randomness == "same":
            default_generator.set_state(start_state)
        element = [a if d is None else a.select(d, b) for a, d in zip(flat_args, flat_in_dims)]
        per_sample.append(func(*tree_unflatten(element, args_spec), **kwargs))
        if randomness == "error" and default_generator.get_state() != start_state:
            default_generator.set_state(start_state)   # PyTorch raises before drawing anything
            raise RuntimeError(RANDOM_IN_ERROR_MODE)
    return _combine(per_sample, out_dims, func)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its inputs, results stacked at out_dims (see the module docstring for
    how: a loop over the batch)."""
    check_randomness_arg(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        _check_out_dims(out_dims, func)
        batch_size, flat_in_dims, flat_args, args_spec = _batched_inputs(in_dims, args, func)
        return _loop(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs)
    return wrapped
