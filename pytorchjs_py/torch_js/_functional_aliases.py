"""The torch.<name> forms of nn.functional ops: torch.conv2d, torch.layer_norm, torch.dropout, torch.kl_div, ...

PyTorch exposes these ATen ops at the top level with their schemas' signatures. Where nn.functional binds the very
same function (torch.conv2d is F.conv2d), so does torch_js. Elsewhere the ATen form differs from nn.functional's and
each function below maps its arguments onto the one implementation in nn/_functional:
- parameter order and required arguments (torch.batch_norm(input, weight, bias, running_mean, running_var, training,
  momentum, eps, cudnn_enabled), torch.embedding(weight, indices, padding_idx=-1, ...), torch.dropout(input, p,
  train));
- losses take an int `reduction` (0: none, 1: mean, 2: sum, any other int: none, as ATen's apply_loss_reduction)
  whose Python default is 0 (torch.kl_div(x, t) is elementwise);
- the checks nn.functional makes in Python are not the op's (a batch of one value per channel in training, a
  non-positive triplet margin, a dropout p outside [0, 1] raises RuntimeError here, ValueError there);
- cudnn_enabled and the like choose nothing on a CPU/WebGPU build: they are type-checked and ignored.
"""
from . import _dtype as D
from ._tensor import Tensor
from .nn import functional as F
from .nn._functional import activation as _act, loss as _loss, misc as _misc, norm as _norm
from .nn.modules import rnn as _rnn
from .ops._api import guard
from .ops._util import broadcast_shapes, rename_grad_fn

__all__ = ["exported"]
_ATEN_FORMS = {}   # name -> the torch.<name> function defined below

# ---- the same function as nn.functional's -----------------------------------------------------------------------
SAME_AS_FUNCTIONAL = ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "avg_pool1d",
                      "adaptive_avg_pool1d", "bilinear", "cosine_similarity", "pairwise_distance", "pdist",
                      "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "hardshrink", "prelu", "rms_norm",
                      "relu_", "celu_", "selu_", "rrelu_", "threshold_", "embedding_renorm_")


# ---- argument checks of ATen's schemas --------------------------------------------------------------------------
_REFUSED = {"bool": (int, float, str, list, tuple, type(None)), "int": (float, bool, str, type(None)),
            "float": (bool, str, list, tuple, type(None))}


def _aten(name, **types):
    """fn as torch.<name>: PyTorch's TypeErrors for a non-Tensor where its schema takes a Tensor (ops/_api.guard) and
    for the bool/int/float parameters named in `types` given another type."""
    def wrap(fn):
        code = fn.__code__
        positions = {n: i for i, n in enumerate(code.co_varnames[:code.co_argcount])}
        checks = tuple((positions.get(p), p, kind) for p, kind in types.items())
        api = guard(name, fn)

        def checked(*args, **kwargs):
            for index, param, kind in checks:
                if index is not None and index < len(args):
                    value, where = args[index], f" (position {index + 1})"
                elif param in kwargs:
                    value, where = kwargs[param], ""
                else:
                    continue
                refused = _REFUSED[kind]
                if type(value) in refused or (kind == "bool" and type(value) is not bool):
                    raise TypeError(f"{name}(): argument '{param}'{where} must be {kind}, not "
                                    f"{type(value).__name__}")
            return api(*args, **kwargs)
        checked.__name__ = checked.__qualname__ = name
        checked.__doc__ = fn.__doc__
        checked.__wrapped__ = fn
        _ATEN_FORMS[name] = checked
        return checked
    return wrap


def _reduction_name(reduction):
    """ATen's apply_loss_reduction: 1 mean, 2 sum, any other int the unreduced loss."""
    return {1: "mean", 2: "sum"}.get(reduction, "none")


def _reduce(loss, reduction):
    return _loss.apply_reduction(loss, _reduction_name(reduction))


# ---- convolution ------------------------------------------------------------------------------------------------
_CONVOLUTIONS = {(1, False): "conv1d", (2, False): "conv2d", (3, False): "conv3d",
                 (1, True): "conv_transpose1d", (2, True): "conv_transpose2d", (3, True): "conv_transpose3d"}


@_aten("convolution", transposed="bool", groups="int")
def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """The generic convolution: the nn.functional convolution that weight's dimensionality and `transposed` name."""
    for arg, v in (("stride", stride), ("padding", padding), ("dilation", dilation),
                   ("output_padding", output_padding)):
        if not isinstance(v, (list, tuple)):
            raise TypeError(f"convolution(): argument '{arg}' must be tuple of ints, not {type(v).__name__}")
    fn = getattr(F, _CONVOLUTIONS.get((weight.dim() - 2, transposed), ""), None)
    if fn is None:
        raise RuntimeError(f"convolution: torch_js has no {weight.dim() - 2}-d "
                           f"{'transposed ' if transposed else ''}convolution (weight of size {list(weight.shape)})")
    if transposed:
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return fn(input, weight, bias, stride, padding, dilation, groups)


@_aten("conv_tbc", pad="int")
def conv_tbc(input, weight, bias, pad=0):
    """A 1-d convolution of a (time, batch, channel) input with a (kernel, in, out) weight, zero-padded by `pad`."""
    if input.dim() != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.dim() != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, out_channels.")
    if bias.dim() != 1:
        raise RuntimeError("Bias must be 1-D")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    if weight.shape[2] != bias.shape[0]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    y = F.conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad)
    return rename_grad_fn(y.permute(2, 0, 1), "ConvTbcBackward0")


# ---- pooling ----------------------------------------------------------------------------------------------------
def _stride(stride):
    return None if isinstance(stride, (list, tuple)) and not stride else stride   # ATen's [] is the kernel size


@_aten("max_pool1d", ceil_mode="bool")
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


@_aten("max_pool2d", ceil_mode="bool")
def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


@_aten("max_pool1d_with_indices", ceil_mode="bool")
def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


@_aten("adaptive_max_pool1d")
def adaptive_max_pool1d(input, output_size):
    """(values, indices), always (ATen's op; nn.functional's return_indices chooses)."""
    return F.adaptive_max_pool1d(input, output_size, True)


# ---- normalization ----------------------------------------------------------------------------------------------
@_aten("batch_norm", training="bool", momentum="float", eps="float", cudnn_enabled="bool")
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return _norm.native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)[0]


@_aten("native_batch_norm", training="bool", momentum="float", eps="float")
def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """(output, save_mean, save_invstd): the batch's mean and 1/sqrt(var + eps) when training, empty otherwise."""
    return _norm.native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


@_aten("instance_norm", use_input_stats="bool", momentum="float", eps="float", cudnn_enabled="bool")
def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return _norm.aten_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


@_aten("layer_norm", eps="float", cudnn_enable="bool")
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


@_aten("native_layer_norm", eps="float")
def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """(output, mean, rstd), the statistics shaped like the input with the normalized dims of size 1."""
    return _norm.native_layer_norm(input, normalized_shape, weight, bias, eps)


@_aten("group_norm", num_groups="int", eps="float", cudnn_enabled="bool")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return F.group_norm(input, num_groups, weight, bias, eps)


@_aten("native_group_norm", N="int", C="int", HxW="int", group="int", eps="float")
def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """(output, mean, rstd) of a group norm of input viewed as (N, C, HxW); the statistics are (N, group)."""
    if input.numel() != N * C * HxW:
        raise RuntimeError(f"Expected input to have {N * C * HxW} elements, but got {input.numel()}")
    if C % group:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={group}")
    return _norm.group_norm_stats(input, weight, bias, group, eps)


# ---- embedding --------------------------------------------------------------------------------------------------
@_aten("embedding", padding_idx="int", scale_grad_by_freq="bool", sparse="bool")
def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of weight. padding_idx is ATen's: a row whose gradient stays zero, none if negative or past the last row
    (nn.functional checks its own and wraps negative values first)."""
    padding = padding_idx if 0 <= padding_idx < weight.shape[0] else None
    return F.embedding(indices, weight, padding, None, 2.0, scale_grad_by_freq, sparse)


# ---- dropout ----------------------------------------------------------------------------------------------------
def _dropout_variant(name, feature, alpha, inplace):
    """torch.dropout / alpha_dropout / feature_dropout / feature_alpha_dropout and their in-place forms: (input, p,
    train), ATen's checks (RuntimeError for p outside [0, 1]; feature dropout needs a (N, C, ...) input)."""
    def dropout(input, p, train):
        if not 0 <= p <= 1:
            raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
        if feature and train and 0 < p < 1 and input.numel() and input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        return _misc._dropout_impl(input, float(p), train, inplace, feature, alpha)
    dropout.__doc__ = f"torch.{name}(input, p, train)"
    return _aten(name, p="float", train="bool")(dropout)


dropout = _dropout_variant("dropout", False, False, False)
dropout_ = _dropout_variant("dropout_", False, False, True)
alpha_dropout = _dropout_variant("alpha_dropout", False, True, False)
alpha_dropout_ = _dropout_variant("alpha_dropout_", False, True, True)
feature_dropout = _dropout_variant("feature_dropout", True, False, False)
feature_dropout_ = _dropout_variant("feature_dropout_", True, False, True)
feature_alpha_dropout = _dropout_variant("feature_alpha_dropout", True, True, False)
feature_alpha_dropout_ = _dropout_variant("feature_alpha_dropout_", True, True, True)


@_aten("native_dropout", p="float")
def native_dropout(input, p, train):
    """(output, mask): mask a bool tensor of the kept elements; train=None counts as training."""
    if train is not None and type(train) is not bool:
        raise TypeError(f"native_dropout(): argument 'train' (position 3) must be bool, not {type(train).__name__}")
    if train is False or input.numel() == 0:
        return input.clone(), input.new_ones(input.shape, dtype=D.bool_)
    if not 0 <= p <= 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    keep = input.new_empty(input.shape).bernoulli_(1 - p)
    scale = 1 / (1 - p) if p < 1 else 0.0
    return input * keep * scale, keep.to(D.bool_)


# ---- activations ------------------------------------------------------------------------------------------------
@_aten("celu")
def celu(input, alpha=1.0):
    return F.celu(input, alpha)


@_aten("selu")
def selu(input):
    return F.selu(input)


@_aten("threshold")
def threshold(input, threshold, value):
    return F.threshold(input, threshold, value)


@_aten("rrelu", training="bool")
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return _act.rrelu_with_noise(input, lower, upper, training, False, generator)


# ---- losses (int reduction) -------------------------------------------------------------------------------------
@_aten("kl_div", reduction="int", log_target="bool")
def kl_div(input, target, reduction=0, *, log_target=False):
    return _reduce(F.kl_div(input, target, reduction="none", log_target=log_target), reduction)


@_aten("binary_cross_entropy_with_logits", reduction="int")
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    # ATen's in-place steps: (1 - target) *= input, log_sigmoid(input) *= (pos_weight - 1) * target + 1, loss *= weight
    steps = [(target.shape, input.shape)]
    if pos_weight is not None:
        steps.append((input.shape, broadcast_shapes(pos_weight.shape, target.shape)))
    if weight is not None:
        steps.append((target.shape, weight.shape))
    for written, operand in steps:
        shape = tuple(broadcast_shapes(written, operand))
        if shape != tuple(written):
            raise RuntimeError(f"output with shape {list(written)} doesn't match the broadcast shape {list(shape)}")
    return _loss.aten_bce_with_logits(input, target, weight, pos_weight, _reduction_name(reduction))


@_aten("hinge_embedding_loss", margin="float", reduction="int")
def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return _reduce(F.hinge_embedding_loss(input, target, margin, reduction="none"), reduction)


@_aten("margin_ranking_loss", margin="float", reduction="int")
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return _reduce(F.margin_ranking_loss(input1, input2, target, margin, reduction="none"), reduction)


@_aten("cosine_embedding_loss", margin="float", reduction="int")
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return _reduce(F.cosine_embedding_loss(input1, input2, target, margin, reduction="none"), reduction)


@_aten("poisson_nll_loss", log_input="bool", full="bool", eps="float", reduction="int")
def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _reduce(F.poisson_nll_loss(input, target, log_input, full, eps=eps, reduction="none"), reduction)


@_aten("triplet_margin_loss", margin="float", p="float", eps="float", swap="bool", reduction="int")
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=0):
    return _loss.aten_triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                          _reduction_name(reduction))


# ---- padding ----------------------------------------------------------------------------------------------------
@_aten("constant_pad_nd")
def constant_pad_nd(input, pad, value=0):
    """input padded (or, for negative amounts, cropped) by `pad`, last dim first, with `value`."""
    return F.pad(input, pad, "constant", value)


# ---- sampling ---------------------------------------------------------------------------------------------------
_GRID_MODES = ("bilinear", "nearest", "bicubic")
_GRID_PADDINGS = ("zeros", "border", "reflection")


def _grid_sampler(name, dims):
    def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
        if dims and (input.dim() != dims or grid.dim() != dims):
            raise RuntimeError(f"grid_sampler(): expected {dims}D input and grid with same number of dimensions, but "
                               f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
        if not 0 <= interpolation_mode < 3 or not 0 <= padding_mode < 3:
            raise RuntimeError(f"{name}: interpolation_mode (0 bilinear, 1 nearest, 2 bicubic) and padding_mode "
                               f"(0 zeros, 1 border, 2 reflection) must be 0, 1 or 2, got {interpolation_mode} and "
                               f"{padding_mode}")
        return F.grid_sample(input, grid, _GRID_MODES[interpolation_mode], _GRID_PADDINGS[padding_mode],
                             align_corners)
    grid_sampler.__doc__ = f"torch.{name}: nn.functional.grid_sample with its modes as ATen's ints."
    return _aten(name, interpolation_mode="int", padding_mode="int", align_corners="bool")(grid_sampler)


grid_sampler = _grid_sampler("grid_sampler", 0)
grid_sampler_2d = _grid_sampler("grid_sampler_2d", 4)
grid_sampler_3d = _grid_sampler("grid_sampler_3d", 5)


@_aten("affine_grid_generator", align_corners="bool")
def affine_grid_generator(theta, size, align_corners):
    return F.affine_grid(theta, size, align_corners)


# ---- recurrent cells --------------------------------------------------------------------------------------------
def _check_cell(input, hx, w_ih, w_hh, gates, name):
    """ATen's check_rnn_cell_forward_input/_hidden, and that the weights hold `gates` gate blocks."""
    if input.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {w_ih.shape[1]}")
    hidden_size = w_hh.shape[1]
    if w_ih.shape[0] != gates * hidden_size:
        raise RuntimeError(f"weight_ih first dim must be {gates} * hidden_size = {gates * hidden_size}, but got "
                           f"{w_ih.shape[0]}")
    for i, h in enumerate(hx):
        if input.shape[0] != h.shape[0]:
            raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} batch size {h.shape[0]}")
        if h.shape[1] != hidden_size:
            raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, expected {hidden_size}")


@_aten("lstm_cell")
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: (h', c') from hx = (h, c), gates i, f, g, o."""
    if isinstance(hx, Tensor) or not isinstance(hx, (list, tuple)):
        raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not {type(hx).__name__}")
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    _check_cell(input, hx[:1], w_ih, w_hh, 4, "lstm_cell")
    return _rnn._lstm_cell(F.linear(input, w_ih, b_ih), hx[0], hx[1], w_hh, b_hh)


@_aten("gru_cell")
def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, gates r, z, n."""
    _check_cell(input, (hx,), w_ih, w_hh, 3, "gru_cell")
    return _rnn._gru_cell(F.linear(input, w_ih, b_ih), hx, w_hh, b_hh)


@_aten("rnn_tanh_cell")
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step: tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh)."""
    _check_cell(input, (hx,), w_ih, w_hh, 1, "rnn_tanh_cell")
    return _rnn._rnn_cell(F.linear(input, w_ih, b_ih), hx, w_hh, b_hh, False)


@_aten("rnn_relu_cell")
def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with relu."""
    _check_cell(input, (hx,), w_ih, w_hh, 1, "rnn_relu_cell")
    return _rnn._rnn_cell(F.linear(input, w_ih, b_ih), hx, w_hh, b_hh, True)


# nn.functional binds this ATen form too (F.conv_tbc is torch.conv_tbc in PyTorch)
F.conv_tbc = _ATEN_FORMS["conv_tbc"]


def exported():
    """{name: function} of every torch.<name> this module provides."""
    names = {n: getattr(F, n) for n in SAME_AS_FUNCTIONAL}
    names["native_channel_shuffle"] = F.channel_shuffle
    names.update(_ATEN_FORMS)
    return names
