"""Normalisation layers as decompositions over reductions and elementwise ops (their gradients, including
double backward, come from those ops); layer_norm and rms_norm take the device's fused kernel where it has one
(ops/fused_norm.py). Running statistics are updated in place under no_grad, as ATen does:
running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance."""
from ...ops.fused_norm import fused_row_norm
from ._common import D, as_op_result, no_grad, reg
from .misc import pad
from .pooling import avg_pool2d


def _stats(x, dims):
    """Biased variance and mean over dims (keepdim)."""
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, unbiased=False, keepdim=True)
    return var, mean


def _channel_view(t, ndim):
    return t.reshape((1, -1) + (1,) * (ndim - 2))


def _check_param_dtypes(input, *params):
    """ATen's CPU norms take parameters of the input's dtype, or float32 ones beside a bfloat16/float16 input (the
    result keeps the input's dtype)."""
    ps = [p for p in params if p is not None]
    if all(p._dtype is input._dtype for p in ps):
        return
    if input._dtype in (D.bfloat16, D.float16) and all(p._dtype is D.float32 for p in ps):
        return
    if input._dtype is D.float64 and all(p._dtype is D.float32 for p in ps):
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")


def _affine(y, weight, bias, shape_fn):
    if weight is not None:
        y = y * shape_fn(weight)
    if bias is not None:
        y = y + shape_fn(bias)
    return y


def _update_running(running_mean, running_var, mean, var_biased, n, momentum):
    with no_grad():
        if running_mean is not None:
            running_mean.mul_(1 - momentum).add_(mean.detach().reshape(running_mean._shape) * momentum)
        if running_var is not None:
            unbiased = var_biased.detach().reshape(running_var._shape) * (n / (n - 1) if n > 1 else float("inf"))
            running_var.mul_(1 - momentum).add_(unbiased * momentum)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    if training:
        _verify_batch_size(input._shape)
    return native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)[0]


def _verify_batch_size(shape):
    """nn.functional's own check (torch.batch_norm, the ATen op, computes a zero variance instead)."""
    n = shape[0] if shape else 1
    for s in shape[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"torch.Size({list(shape)})")


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """ATen's batch norm: (output, save_mean, save_invstd); the saved statistics are the batch's when training
    (not differentiable), empty in evaluation."""
    c = input._shape[1] if input.dim() >= 2 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    _check_param_dtypes(input, weight, bias, running_mean, running_var)
    nd = input.dim()
    none = input.new_empty((0,))
    if input.numel() == 0:
        return input.clone(), none, none
    dims = (0,) + tuple(range(2, nd))
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    if input._dtype in (D.float32, D.float64) and input._storage.device.type == "cpu" and (
            weight is None or weight._dtype is input._dtype):
        y, mean, invstd = _cpu_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
                                          dims)
        y = as_op_result(y, "NativeBatchNormBackward0", (input,))
        if not training:
            return y, none, none
        return y, mean.detach().reshape(c), invstd.detach().reshape(c)
    if training:
        n = input.numel() // c if c else 0
        var, mean = _stats(input, dims)
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, running_var, mean, var, n, momentum)
    else:
        mean = _channel_view(running_mean, nd)
        var = _channel_view(running_var, nd)
    invstd = (var + eps).rsqrt()
    y = _affine((input - mean) * invstd, weight, bias, lambda t: _channel_view(t, nd)).to(input._dtype)
    y = as_op_result(y, "NativeBatchNormBackward0", (input,))
    if not training:
        return y, none, none
    return y, mean.detach().reshape(c), invstd.detach().reshape(c)


def _cpu_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, dims):
    """ATen's CPU batch norm (batch_norm_cpu_collect_stats / update_stats / transform_input), step for step so a
    float32 output and running statistics are its bits (one thread's): the batch mean is the double sum / n rounded
    to the dtype, the variance sum adds (x - mean)^2 (squared in the dtype) in double, invstd = 1/sqrt(var + eps) in
    double; evaluation takes invstd = 1/sqrt(running_var + eps) in the dtype; the output is x * alpha + beta with
    alpha = invstd * weight and beta = bias - mean * alpha per channel (fused multiply-adds, as the vectorised
    kernel compiles). float64 values agree to rounding (its double sums' order and fused multiply-adds are not
    emulated). Differentiable: the statistics are tensor ops of the input; gradients agree to rounding."""
    dt = input._dtype
    nd = input.dim()
    if training:
        n = input.numel() // input._shape[1]
        if n == input._shape[0] and n <= _ORDERED_SUM_MAX:
            # one value per (sample, channel): ATen's channels-last path adds the samples in the dtype, in order
            # (one thread's sums); the values computed without a graph, the gradient the plain sums'
            with no_grad():
                ordered_mean = (_ordered_sum(input.detach()) / n).to(dt)
            mean = _valued(input.mean(dims, keepdim=True), ordered_mean)
            d = input - mean
            with no_grad():
                ordered_var_sum = _ordered_sum(d.detach(), squares=True)
            var_sum = _valued((d * d).sum(dims, keepdim=True), ordered_var_sum)
        else:
            mean = (input.to(D.float64).sum(dims, keepdim=True) / n).to(dt)
            d = input - mean
            var_sum = (d * d).to(D.float64).sum(dims, keepdim=True).to(dt)
        invstd = (1 / ((var_sum / n).to(D.float64) + eps).sqrt()).to(dt)
        with no_grad():
            m = input.new_full((), momentum)       # momentum and 1 - momentum in the dtype, as the kernel's
            keep = 1 - m
            if running_mean is not None:
                running_mean.copy_(m * mean.detach().reshape(running_mean._shape) + keep * running_mean)
            if running_var is not None:
                unbiased = var_sum.detach().reshape(running_var._shape) / (n - 1) if n > 1 else \
                    var_sum.detach().reshape(running_var._shape) * float("inf")
                running_var.copy_(m.to(D.float64) * unbiased.to(D.float64) + (keep * running_var).to(D.float64))
    else:
        mean = _channel_view(running_mean, nd)
        invstd = 1 / (_channel_view(running_var, nd) + input.new_full((), eps)).sqrt()
    alpha = invstd if weight is None else invstd * _channel_view(weight, nd)
    if dt is D.float64:
        beta = -(mean * alpha) if bias is None else _channel_view(bias, nd) - mean * alpha
        return input * alpha + beta, mean, invstd
    # float32: the vectorised kernel's fused multiply-adds (bias - mean * alpha, x * alpha + beta), each rounded once
    wide = D.float64
    beta = (-(mean.to(wide) * alpha.to(wide)) if bias is None else
            _channel_view(bias, nd).to(wide) - mean.to(wide) * alpha.to(wide)).to(dt)
    return (input.to(wide) * alpha.to(wide) + beta.to(wide)).to(dt), mean, invstd


# an ordered sum costs one op per sample: past this many samples the double-accumulated sum is used (its value may
# differ from PyTorch's in the last bit, as PyTorch's own does between thread counts)
_ORDERED_SUM_MAX = 512


def _valued(differentiable, value):
    """value, with differentiable's gradient (differentiable - its detached self is an exact zero)."""
    return value + (differentiable - differentiable.detach())


def _ordered_sum(x, squares=False):
    """The (1, C, 1...) sum of x's samples (of their squares), added one after another in x's dtype; a float32
    square is added with one rounding, as the kernel's fused multiply-add."""
    if not squares:
        total = x[0:1]
        for i in range(1, x._shape[0]):
            total = total + x[i:i + 1]
        return total
    wide = x.to(D.float64) if x._dtype is D.float32 else None
    total = x[0:1] * x[0:1]
    for i in range(1, x._shape[0]):
        if wide is None:
            total = total + x[i:i + 1] * x[i:i + 1]
        else:
            total = (total.to(D.float64) + wide[i:i + 1] * wide[i:i + 1]).to(x._dtype)
    return total


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    nd = input.dim()
    if nd < 3:
        raise ValueError(f"Expected 2D (unbatched) or 3D (batched) input to instance_norm, but got input of size: "
                         f"{list(input._shape)}" if nd < 2 else "instance_norm expects at least 3-D input")
    if use_input_stats:   # nn.functional's own check (torch.instance_norm computes a zero variance instead)
        n = 1
        for s in input._shape[2:]:
            n *= s
        if n == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                             f"torch.Size({list(input._shape)})")
    return aten_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


def aten_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps):
    """torch.instance_norm: each (sample, channel) normalised over its spatial dims."""
    nd = input.dim()
    dims = tuple(range(2, nd))
    if use_input_stats:
        n = 1
        for d in dims:
            n *= input._shape[d]
        var, mean = _stats(input, dims)
        if running_mean is not None or running_var is not None:
            with no_grad():
                bm = mean.detach().reshape(input._shape[0], -1).mean(0)
                bv = var.detach().reshape(input._shape[0], -1).mean(0)
            _update_running(running_mean, running_var, bm, bv, n, momentum)
    else:
        mean = _channel_view(running_mean, nd)
        var = _channel_view(running_var, nd)
    y = (input - mean) * (var + eps).rsqrt()
    # PyTorch's instance norm is a batch norm of the (1, N·C, ...) view, viewed back: its node is that ViewBackward0
    return as_op_result(_affine(y, weight, bias, lambda t: _channel_view(t, nd)).to(input._dtype), "ViewBackward0",
                          (input,))


def _norm_dims(input, normalized_shape, name, params=()):
    """ATen's _check_layer_norm_inputs / _check_rms_norm_inputs: params are (name, tensor) pairs."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0:
        raise RuntimeError(f"Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got normalized_shape = {list(ns)}")
    for pname, t in params:
        if t is not None and tuple(t._shape) != ns:
            raise RuntimeError(f"Expected {pname} to be of same shape as normalized_shape, but got {pname} of shape "
                               f"{list(t._shape)} and normalized_shape = {list(ns)}")
    if name == "rms_norm" and input.dim() < k:
        raise ValueError(f"Input tensor must have at least {k} dimensions, but got {input.dim()}")
    if input.dim() < k or input._shape[input.dim() - k:] != ns:
        sep = "" if name == "rms_norm" else ", "
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [*{sep}"
                           f"{', '.join(map(str, ns))}], but got input of size{list(input._shape)}")
    return ns, tuple(range(input.dim() - k, input.dim()))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    return native_layer_norm(input, normalized_shape, weight, bias, eps)[0]


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """ATen's layer norm: (output, mean, rstd), the statistics kept with size-1 normalized dims (not
    differentiable)."""
    ns, dims = _norm_dims(input, normalized_shape, "layer_norm", (("weight", weight), ("bias", bias)))
    _check_param_dtypes(input, weight, bias)
    fused = fused_row_norm(input, len(ns), weight, bias, eps, rms=False)
    if fused is not None:
        return fused
    var, mean = _stats(input, dims)
    rstd = (var + eps).rsqrt()
    y = _affine((input - mean) * rstd, weight, bias, lambda t: t).to(input._dtype)
    return as_op_result(y, "NativeLayerNormBackward0", (input,)), mean.detach(), rstd.detach()


def rms_norm(input, normalized_shape, weight=None, eps=None):
    ns, dims = _norm_dims(input, normalized_shape, "rms_norm", (("weight", weight),))
    if eps is None:
        eps = D.finfo(input._dtype).eps
    fused = fused_row_norm(input, len(ns), weight, None, eps, rms=True)
    if fused is not None:
        return fused[0]
    # float16/bfloat16 are normalized in float32, as PyTorch's opmath does (x * x overflows float16 from 256 up)
    x = input.float() if input._dtype in (D.float16, D.bfloat16) else input
    y = (x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()).to(input._dtype)
    return y * weight if weight is not None else y


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input._shape[0], input._shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input._shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t._shape)} and input of shape {list(input._shape)}")
    _check_param_dtypes(input, weight, bias)
    return group_norm_stats(input, weight, bias, num_groups, eps)[0]


def group_norm_stats(input, weight, bias, num_groups, eps):
    """(output, mean, rstd) of a group norm, the statistics (N, num_groups) in the graph (torch.native_group_norm's
    are differentiable too)."""
    n = input._shape[0]
    x = input.reshape(n, num_groups, (input.numel() // n) // num_groups if n else 0)
    var, mean = _stats(x, (2,))
    rstd = (var + eps).rsqrt()
    y = ((x - mean) * rstd).reshape(input._shape)
    y = as_op_result(_affine(y, weight, bias, lambda t: _channel_view(t, input.dim())), "NativeGroupNormBackward0",
                       (input,))
    return y, mean.reshape(n, num_groups), rstd.reshape(n, num_groups)


def local_response_norm(input, size, alpha=0.0001, beta=0.75, k=1.0):
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = (input * input).unsqueeze(1)
    if dim == 3:
        div = pad(div, (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input._shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div.reshape(sizes[0], 1, sizes[1] + size - 1, -1), (size, 1), stride=1)
        div = div.reshape(sizes[0], sizes[1], *sizes[2:])
    div = (div * alpha + k).pow(beta)
    return input / div


# composites; floating inputs, the input's dtype out (their mean/var reject integers), except local_response_norm,
# an average pool of squares, which turns integers into the default float
for _n, _f, _dtype in [("batch_norm", batch_norm, "same"), ("instance_norm", instance_norm, "same"),
                       ("layer_norm", layer_norm, "same"), ("group_norm", group_norm, "same"),
                       ("rms_norm", rms_norm, "same"), ("local_response_norm", local_response_norm, "float")]:
    reg(_n, _f, "norm", dtype=_dtype)
