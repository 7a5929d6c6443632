"""grid_sample and affine_grid (the spatial transformer's sampler and grid), after ATen's GridSampler: each output
point reads a few taps of the input (4/8 bilinear corners, 1 nearest pixel, 16 bicubic taps), so the forward is
one gather and the backward one scatter_add plus a sum over channels for the grid's gradient, written with
PyTorch's own gradient multipliers (border clipping and reflection)."""
import math

from ...ops._registry import backward
from ...ops._util import not_implemented_for, rename_grad_fn, warn_at_caller
from ...ops import shape as _S
from ...ops.elementwise import where as _where
from ...ops.creation import linspace as _linspace
from ._common import D, GRAD_ENABLED, ones, record, reg, zeros

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75


def _align_corners_default(align_corners):
    if align_corners is None:
        warn_at_caller("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                       "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                       "grid_sample for details.")
        return False
    return align_corners


# ---- source coordinates (ATen's ComputeLocation) -------------------------------------------------------------

def _unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel coordinates, and d pixel / d coord."""
    if align_corners:
        scale = (size - 1) / 2
        return (coord + 1) * scale, scale
    scale = size / 2
    return (coord + 1) * scale - 0.5, scale


def _clip(x, size):
    """Clamp to [0, size - 1] (NaN to 0, as ATen's clip), and the gradient mask: 0 on and beyond the borders."""
    high = size - 1
    clipped = x.clamp(0, high).masked_fill(x != x, 0)
    return clipped, (clipped > 0) & (clipped < high)


def _reflect(x, size, align_corners):
    """Reflect into the input's extent (about the outer pixel centres, or edges without align_corners), and the
    sign the reflection gives the gradient."""
    if align_corners:
        if size <= 1:
            nothing = zeros(x._shape, dtype=x._dtype, device=x._storage.device)
            return nothing, nothing
        low, twice_span = 0.0, 2.0 * (size - 1)
    else:
        low, twice_span = -0.5, 2.0 * size
    shifted = x - low
    dist = shifted.abs()
    extra = dist - (dist / twice_span).trunc() * twice_span
    flipped = twice_span - extra
    one_more_flip = extra > flipped
    sign = _where(one_more_flip ^ (shifted < 0), -1.0, 1.0).to(x._dtype)
    return _where(one_more_flip, flipped, extra) + low, sign


def _pad_coordinates(x, size, padding_mode, align_corners):
    """compute_coordinates: the padding rule applied to pixel coordinates, and its gradient multiplier."""
    if padding_mode == "border":
        x, inside = _clip(x, size)
        return x, inside.to(x._dtype)
    if padding_mode == "reflection":
        x, sign = _reflect(x, size, align_corners)
        x, inside = _clip(x, size)
        return x, sign * inside.to(x._dtype)
    return x, None


# ---- taps ----------------------------------------------------------------------------------------------------

def _cubic(t):
    """The four cubic-convolution weights of taps at offsets -1, 0, 1, 2 from floor(x), t = x - floor(x)."""
    a = _CUBIC_A

    def near(s):
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic_grad(t):
    """d weight / d t of each of the four taps."""
    a = _CUBIC_A

    def near(s):          # d/ds of ((a + 2) s - (a + 3)) s^2 + 1
        return (3 * (a + 2) * s - 2 * (a + 3)) * s

    def far(s):           # d/ds of ((a s - 5 a) s + 8 a) s - 4 a
        return (3 * a * s - 10 * a) * s + 8 * a

    return [far(t + 1), near(t), -near(1 - t), -far(2 - t)]


def _axis_taps(coord, size, mode, padding_mode, align_corners):
    """Along one spatial axis: the taps' integer source positions (as floats), their weights and d weight / d pixel
    coordinate (None for nearest: weight 1, no gradient), and d pixel coordinate / d grid (PyTorch's multiplier)."""
    x, scale = _unnormalize(coord, size, align_corners)
    if mode == "bicubic":
        base = x.floor()
        t = x - base
        positions = []
        for k in range(-1, 3):
            p, _ = _pad_coordinates(base + k, size, padding_mode, align_corners)
            positions.append(p.trunc())
        weights, grads = _cubic(t), _cubic_grad(t)
        return positions, weights, grads, scale
    x, mult = _pad_coordinates(x, size, padding_mode, align_corners)
    scale = scale if mult is None else mult * scale
    if mode == "nearest":
        return [x.round()], [None], [None], scale
    base = x.floor()
    t = x - base
    return [base, base + 1], [1 - t, t], [-1.0, 1.0], scale


def _taps(grid, sizes, mode, padding_mode, align_corners):
    """Every tap of every output point: flat input index (N, T, P), weight with out-of-range taps zeroed (N, T, P),
    per axis d weight / d pixel coordinate, and per axis d pixel / d grid."""
    n = grid._shape[0]
    nd = len(sizes)
    flat_grid = grid.reshape(n, -1, nd)
    axes = []
    for k in range(nd):
        size = sizes[nd - 1 - k]              # grid's last dim is (x, y[, z]): W first
        axes.append(_axis_taps(flat_grid.select(2, k), size, mode, padding_mode, align_corners))
    indices, weights, dweights = [], [], [[] for _ in range(nd)]

    def combine(k, index, weight, inside, chosen):
        if k < 0:
            indices.append(_where(inside, index, 0))
            mask = inside.to(grid._dtype)
            # a product with the mask (not a select): a NaN weight stays NaN, as ATen's 0-valued tap times it
            weights.append(mask if weight is None else weight * mask)
            if mode != "nearest":
                for axis in range(nd):
                    dweights[axis].append(_tap_dweight(axes, chosen, axis) * mask)
            return
        positions, axis_weights, _, _ = axes[k]
        size = sizes[nd - 1 - k]
        stride = 1
        for s in sizes[nd - k:]:
            stride *= s
        for tap, (p, w) in enumerate(zip(positions, axis_weights)):
            ok = (p > -1) & (p < size)
            pos = _where(ok, p, 0.0).to(D.int64) * stride
            if w is not None and weight is not None:
                w = weight * w
            combine(k - 1, pos if index is None else index + pos, w, ok if inside is None else inside & ok,
                    chosen + (tap,))

    # outermost axis (z or y) first, so taps come in ATen's order
    combine(nd - 1, None, None, None, ())
    return indices, weights, dweights, [a[3] for a in axes]


def _tap_dweight(axes, chosen, axis):
    """d (product of the chosen taps' axis weights) / d coordinate along `axis`."""
    out = None
    for k, tap in enumerate(reversed(chosen)):       # chosen runs from the outermost axis in
        _, axis_weights, axis_grads, _ = axes[k]
        term = axis_grads[tap] if k == axis else axis_weights[tap]
        out = term if out is None else out * term
    return out


def _grid_sampler_back(ctx, g):
    (input,) = ctx.saved_tensors
    index, weight, dweight, scales, grid_shape = ctx.attrs
    n, c = input._shape[:2]
    spatial = input._shape[2:]
    taps, points = index._shape[1], index._shape[2]
    needs = [edge is not None for edge in ctx.edges]
    g = g.reshape(n, c, 1, points)
    grad_input = grad_grid = None
    if needs[0]:
        src = (g * weight.unsqueeze(1)).reshape(n, c, taps * points)
        flat = zeros((n, c, math.prod(spatial)), dtype=g._dtype, device=g._storage.device)
        grad_input = flat.scatter_add(2, index.reshape(n, 1, taps * points).expand(n, c, taps * points), src)
        grad_input = grad_input.view(input._shape)
    if needs[1]:
        nd = len(spatial)
        if dweight is None:
            grad_grid = zeros(grid_shape, dtype=g._dtype, device=g._storage.device)
        else:
            values = _gather_taps(input, index)                                   # (N, C, T, P)
            per_tap = (values * g).sum(1)                                         # (N, T, P)
            parts = [(per_tap * dweight[k]).sum(1) * scales[k] for k in range(nd)]
            grad_grid = _S.stack(parts, -1).view(grid_shape)
    return grad_input, grad_grid


def _gather_taps(input, index):
    n, c = input._shape[:2]
    taps, points = index._shape[1], index._shape[2]
    flat = input.reshape(n, c, -1)
    return flat.gather(2, index.reshape(n, 1, taps * points).expand(n, c, taps * points)).view(n, c, taps, points)


def _check_grid_sampler(input, grid, mode):
    if input._shape[0] != grid._shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input._shape)} and grid with sizes {list(grid._shape)}")
    if grid._shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got "
                           f"grid with sizes {list(grid._shape)}")
    for i in range(2, input.dim()):
        if input._shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {list(input._shape)} with dimension {i} being empty")
    if input.dim() == 4:
        if grid.dim() != 4:
            raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
                               f"input with sizes {list(input._shape)} and grid with sizes {list(grid._shape)}")
    else:
        if input.dim() != 5 or grid.dim() != 5:
            raise RuntimeError(f"grid_sampler(): expected 5D input and grid with same number of dimensions, but got "
                               f"input with sizes {list(input._shape)} and grid with sizes {list(grid._shape)}")
        if mode == "bicubic":
            raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    kernel = "grid_sampler_2d_cpu_kernel_impl" if input.dim() == 4 else "grid_sampler_3d_cpu"
    if not input._dtype.is_floating_point:
        raise not_implemented_for(kernel, input._dtype)
    if grid._dtype is not input._dtype:
        raise RuntimeError(f"expected scalar type {D.scalar_type_name(input._dtype)} but found "
                           f"{D.scalar_type_name(grid._dtype)}")


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    align_corners = _align_corners_default(align_corners)
    _check_grid_sampler(input, grid, mode)
    n, c = input._shape[:2]
    sizes = input._shape[2:]
    out_spatial = grid._shape[1:-1]
    x, gd = input.detach(), grid.detach()
    index, weight, dweight, scales = _taps(gd, sizes, mode, padding_mode, align_corners)
    index = _S.stack(index, 1)                   # (N, T, P)
    weight = _S.stack(weight, 1)
    out = (_gather_taps(x, index) * weight.unsqueeze(1)).sum(2).view((n, c) + tuple(out_spatial))
    if GRAD_ENABLED[0] and (input._requires_grad or grid._requires_grad):
        dweight = None if mode == "nearest" else [_S.stack(d, 1) for d in dweight]
        node = record(f"GridSampler{len(sizes)}DBackward0", _grid_sampler_back, (input, grid), (out,),
                      attrs=(index, weight, dweight, scales, grid._shape))
        node.save((x,))
    return out


# ---- affine_grid ---------------------------------------------------------------------------------------------

def _base_coords(steps, align_corners, dtype, dev):
    """ATen's linspace_from_neg_one: pixel centres in [-1, 1] (corner pixels' centres with align_corners)."""
    if steps <= 1:
        return zeros(1, dtype=dtype, device=dev)
    r = _linspace(-1, 1, steps, dtype=dtype, device=dev)
    if not align_corners:
        r = r * (steps - 1) / steps
    return r


def affine_grid(theta, size, align_corners=None):
    align_corners = _align_corners_default(align_corners)
    if not theta._dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, list(size)   # the messages show the size as given (a tuple, list or torch.Size)
    if len(size) == 4:
        if theta.dim() != 3 or theta._shape[-2] != 2 or theta._shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. Got "
                             f"{theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta._shape[-2] != 3 or theta._shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. Got "
                             f"{theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {given}.")
    if align_corners and min(spatial) == 1:
        warn_at_caller("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                       "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                       "affine_grid for details.")
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    n = size[0]
    if theta._shape[0] != n:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {theta._shape[2]}] "
                           f"but got: [{theta._shape[0]}, {theta._shape[2]}].")
    dev = theta._storage.device
    nd = len(spatial)
    # base grid (*spatial, nd + 1): x varies along the last spatial dim, then y, z; a trailing 1 for the offset
    columns = []
    for k in range(nd):
        steps = spatial[nd - 1 - k]
        shape = [1] * nd
        shape[nd - 1 - k] = steps
        columns.append(_base_coords(steps, align_corners, theta._dtype, dev).view(shape).expand(spatial))
    columns.append(ones(spatial, dtype=theta._dtype, device=dev))
    base = _S.stack(columns, -1).reshape(1, -1, nd + 1).expand(n, -1, nd + 1)
    grid = base.bmm(theta.transpose(1, 2)).view([n] + list(spatial) + [nd])
    return rename_grad_fn(grid, "AffineGridGeneratorBackward0")


reg("grid_sample", grid_sample, "nn", dtype="same", derivative=backward(_grid_sampler_back))
reg("affine_grid", affine_grid, "nn", dtype="same", opinfo=())   # op_db has no affine_grid entry: tests/test_nn_misc_more.py
