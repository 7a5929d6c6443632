"""Loss functions as decompositions (log_softmax, gather, masked reductions), following ATen's formulas so
values agree with PyTorch's, weights, ignore_index and label smoothing included."""
import math

from ...ops._registry import backward
from ...ops._util import check, not_implemented_for, rename_grad_fn, warn_at_caller
from ...ops import shape as _S
from ...ops.creation import tensor as _tensor
from ...ops.elementwise import where as _where
from ...functional import broadcast_tensors as _broadcast_tensors
from ._common import (D, GRAD_ENABLED, Tensor, apply_reduction, arange, full, legacy_reduction, no_grad, ones, record,
                      reg, zeros)
from .activation import logsigmoid
from .misc import linear as _linear, pairwise_distance


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _float_kernel(kernel, input, target):
    """PyTorch's pointwise loss kernels have floating variants only: two integer inputs have no kernel."""
    d = D.promote_types(input._dtype, target._dtype)
    if not d.is_floating_point:
        raise not_implemented_for(kernel, d)


def _weighted(loss, weight, reduction):
    if weight is not None:
        loss = loss * weight
    return apply_reduction(loss, reduction)


def _check_weight_size(weight, input):
    if weight is not None and weight._shape != input._shape:
        raise ValueError("Weights and input must have the same size.")


def _weight_normalised(loss, weight, reduction, node):
    """mse_loss/l1_loss: with a weight, PyTorch's mean is sum(weight * loss) / sum(weight); without one the loss is
    a single node of PyTorch's (node; l1_loss has none: it is abs().mean() there too)."""
    if weight is None:
        r = apply_reduction(loss, reduction)
        return rename_grad_fn(r, node) if node else r
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return apply_reduction(loss, reduction)


def _check_same_size(input, target, name):
    if input._shape != target._shape:
        warn_at_caller(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                       "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                       "same size.")


# ---- nll / cross entropy -------------------------------------------------------------------------------------

def _check_nll_shapes(input, target):
    """ATen's nll_loss_nd checks, in its order: the batch, then nll_loss's (1-D and 2-D inputs), nll_loss2d's (4-D)
    or the target's size for the input it views as 4-D (3-D, 5-D and more)."""
    nd = input.dim()
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    batch = target._shape[0] if target.dim() else 0
    if nd != 1 and input._shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input._shape[0]}) to match target batch_size ({batch}).")
    if nd <= 2:
        check(target.dim() <= 1, "0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and target.dim() == 1 and batch != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {batch}")
    elif nd == 4:
        check(target.dim() == 3, lambda: f"only batches of spatial targets supported (3D tensors) but got targets "
              f"of dimension: {target.dim()}")
        check(input._shape[2:] == target._shape[1:], lambda: f"size mismatch (got input: {list(input._shape)} , "
              f"target: {list(target._shape)}")
    else:
        expected = [input._shape[0]] + list(input._shape[2:])
        check(list(target._shape) == expected, lambda: f"Expected target size {expected}, got {list(target._shape)}")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    _check_nll_shapes(input, target)
    if target._dtype is not D.int64 and target._dtype is not D.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {D.scalar_type_name(target._dtype)}")
    unbatched = input.dim() == 1
    x = input.unsqueeze(0) if unbatched else input
    t = target.unsqueeze(0) if unbatched and target.dim() == 0 else target
    n, c = x._shape[0], x._shape[1]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight._shape)}")
    t = t.to(D.int64)
    ignore = t == ignore_index
    safe = t.masked_fill(ignore, 0)
    # where index errors are deferred (webgpu), the gather below checks the targets' bounds
    if x.numel() and t.numel() and not x._storage.backend.index_errors_deferred:
        bad = (safe < 0) | (safe >= c)
        if bool(bad.any()):
            v = int(t.masked_select(bad)[0].item())
            raise IndexError(f"Target {v} is out of bounds.")
    picked = x.gather(1, safe.unsqueeze(1)).squeeze(1)
    if weight is not None:
        w = weight.to(x._dtype).index_select(0, safe.reshape(-1)).reshape(safe._shape).masked_fill(ignore, 0)
    else:
        w = (~ignore).to(x._dtype)
    loss = -(picked * w)
    if weight is None:
        loss = loss.masked_fill(ignore, 0)
    if reduction == "none":
        r = loss.squeeze(0) if unbatched else loss
    elif reduction == "sum":
        r = loss.sum()
    else:
        r = loss.sum() / w.sum()
    # PyTorch's node: nll_loss up to 2-D, nll_loss2d beyond (3-D and 5-D+ inputs through a view, which is what an
    # unreduced loss of those shows)
    if input.dim() <= 2:
        return rename_grad_fn(r, "NllLossBackward0")
    if reduction != "none" or input.dim() == 4:
        return rename_grad_fn(r, "NllLoss2DBackward0")
    return rename_grad_fn(r, "ViewBackward0")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    c = input._shape[class_dim]
    logp = input.log_softmax(class_dim)
    if target._shape == input._shape:   # class probabilities (ATen decides by the shapes)
        check(target._dtype.is_floating_point, lambda: f"Expected floating point type for target with class "
              f"probabilities, got {D.scalar_type_name(target._dtype)}")
        check(ignore_index < 0, "ignore_index is not supported for floating point target")
        tgt = target
        if label_smoothing > 0:
            tgt = target * (1 - label_smoothing) + label_smoothing / c
        lw = logp
        if weight is not None:
            lw = logp * weight.reshape((c,) + (1,) * (input.dim() - class_dim - 1))
        prod = lw * tgt
        if reduction == "none":
            return -prod.sum(class_dim)
        if reduction == "sum":
            return -prod.sum()
        if input.numel() == 0:
            return -prod.sum() * float("nan")
        return rename_grad_fn(-prod.sum() / (input.numel() // c), "DivBackward1")   # ATen divides by a Scalar
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing <= 0:
        return nll
    ignore = target == ignore_index
    if weight is not None:
        wshape = [1] * input.dim()
        wshape[class_dim] = c
        smooth = -(logp * weight.reshape(wshape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            ret = smooth.sum() / weight.gather(0, target.masked_select(~ignore).reshape(-1)).sum()
        else:
            ret = smooth.sum() / (~ignore).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return (1 - label_smoothing) * nll + ret * (label_smoothing / c)


# ---- regression losses ---------------------------------------------------------------------------------------

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _check_same_size(input, target, "mse_loss")
    reduction = _reduction(size_average, reduce, reduction)
    _check_weight_size(weight, input)
    _float_kernel("mse_cpu", input, target)
    if weight is not None:
        d = input - target
        return _weight_normalised(d * d, weight, reduction, None)
    if input._shape != target._shape:
        input, target = _broadcast_tensors(input, target)   # F.mse_loss expands before the aten op, as PyTorch
    # one MseLossBackward0 node over (input, target), as PyTorch's: its next_functions are the inputs' own nodes
    with no_grad():
        d = input - target
        loss = apply_reduction(d * d, reduction)
    if GRAD_ENABLED[0] and (input._requires_grad or target._requires_grad):
        node = record("MseLossBackward0", _mse_loss_back, (input, target), (loss,), attrs=reduction)
        node.save((input, target))
    return loss


def _mse_loss_backward(grad, input, target, reduction):
    """ATen's mse_loss_backward: norm * (input - target) * grad, norm = 2 (/ numel for the mean)."""
    norm = 2.0 / input.numel() if reduction == "mean" else 2.0
    return (norm * (input - target) * grad).to(input._dtype)


def _mse_loss_back(ctx, g):
    input, target = ctx.saved_tensors
    reduction = ctx.attrs
    grad_input = _mse_loss_backward(g, input, target, reduction) if input._requires_grad else None
    grad_target = _mse_loss_backward(g, target, input, reduction) if target._requires_grad else None
    return grad_input, grad_target


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    _check_same_size(input, target, "l1_loss")
    reduction = _reduction(size_average, reduce, reduction)
    _check_weight_size(weight, input)
    return _weight_normalised((input - target).abs(), weight, reduction, None)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _check_same_size(input, target, "smooth_l1_loss")
    reduction = _reduction(size_average, reduce, reduction)
    _float_kernel("smooth_l1_cpu", input, target)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    z = (input - target).abs()
    if beta == 0:
        return apply_reduction(z, reduction)   # l1_loss in PyTorch too
    loss = _where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta)
    return rename_grad_fn(apply_reduction(loss, reduction), "SmoothL1LossBackward0")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_same_size(input, target, "huber_loss")
    _float_kernel("huber_cpu", input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_weight_size(weight, input)
    z = (input - target).abs()
    loss = _where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    if weight is None:
        return rename_grad_fn(apply_reduction(loss, _reduction(None, None, reduction)), "HuberLossBackward0")
    # PyTorch weighs the unreduced huber_loss
    return _weighted(rename_grad_fn(loss, "HuberLossBackward0"), weight, _reduction(None, None, reduction))


# ---- binary / probabilistic ----------------------------------------------------------------------------------

def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if target._shape != input._shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    check(target._dtype is input._dtype, lambda: f"Found dtype {D.scalar_type_name(target._dtype)} but expected "
          f"{D.scalar_type_name(input._dtype)}")
    with_grad_check = bool(((input < 0) | (input > 1)).any()) if input.numel() else False
    if with_grad_check:
        raise RuntimeError("all elements of input should be between 0 and 1")
    # ATen clamps each log at -100
    loss = -(target * input.log().clamp_min(-100) + (1 - target) * (1 - input).log().clamp_min(-100))
    if weight is not None:
        loss = loss * weight
    return rename_grad_fn(apply_reduction(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = _reduction(size_average, reduce, reduction)
    if target._shape != input._shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    return aten_bce_with_logits(input, target, weight, pos_weight, reduction)


def aten_bce_with_logits(input, target, weight, pos_weight, reduction):
    """The op under nn.functional's shape check (torch.binary_cross_entropy_with_logits broadcasts)."""
    # ATen writes (1 - target) * input into 1 - target: an integral target cannot hold it, a bool one cannot subtract
    check(target._dtype is not D.bool_, "Subtraction, the `-` operator, with two bool tensors is not supported. Use "
          "the `^` or `logical_xor()` operator instead.")
    check(target._dtype.is_floating_point or target._dtype.is_complex, lambda: f"result type "
          f"{D.scalar_type_name(D.promote_types(input._dtype, target._dtype))} can't be cast to the desired output "
          f"type {D.scalar_type_name(target._dtype)}")
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input - log_weight * logsigmoid(input)
    else:
        loss = (1 - target) * input - logsigmoid(input)
    if weight is not None:
        loss = loss * weight
    return rename_grad_fn(apply_reduction(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    kernel_reduction = "sum" if reduction == "batchmean" else reduction
    if size_average is not None or reduce is not None:
        # PyTorch reduces as the legacy flags say, then still divides by the batch size if asked for batchmean
        kernel_reduction = legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warn_at_caller("reduction: 'mean' divides the total loss by both the batch size and the support size."
                       "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                       "'mean' will be changed to behave the same as 'batchmean' in the next major release.")
    if not (input._dtype.is_floating_point and target._dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    reduced = apply_reduction(loss, kernel_reduction)
    if reduction == "batchmean" and input.dim() != 0:
        return reduced / input._shape[0]
    return reduced


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return apply_reduction((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    return rename_grad_fn(apply_reduction((-input * target).exp().log1p(), reduction), "SoftMarginLossBackward0")


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    zeros = input * 0
    margin_clamp = (margin - input).clamp_min(0)
    out_margin = _where(target != 1, margin_clamp, zeros)
    out_self = _where(target != -1, input, zeros)
    return apply_reduction(out_margin + out_self, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    eps = 1e-12
    d = input1.dim() - 1
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + eps
    mag2 = (input2 * input2).sum(d) + eps
    cos = prod / (mag1 * mag2).sqrt()
    zeros = cos * 0
    pos = _where(target == 1, 1 - cos, zeros)
    neg = _where(target == -1, (cos - margin).clamp_min(0), zeros)
    return apply_reduction(pos + neg, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08, reduce=None,
                     reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return apply_reduction(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction="mean"):
    # torch.nn.functional.gaussian_nll_loss's checks, in its order
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones(input._shape, dtype=input._dtype, device=input._storage.device)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var._shape) != tuple(input._shape):
        if tuple(input._shape[:-1]) == tuple(var._shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(y for x, y in zip(input._shape, var._shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # ATen clamps var in place under no_grad: the clamp is invisible to autograd
    v = var + (var.clamp_min(eps) - var).detach()
    loss = 0.5 * (v.log() + (input - target) ** 2 / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pd, nd = anchor.dim(), positive.dim(), negative.dim()
    if not a == pd == nd:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {pd}D, and negative {nd}D inputs")
    return aten_triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction)


def aten_triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction):
    """The op under nn.functional's checks (torch.triplet_margin_loss takes any margin)."""
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_s = pairwise_distance(positive, negative, p, eps)
        d_neg = d_neg.minimum(d_s)
    return apply_reduction((margin + d_pos - d_neg).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(input.dim() - 1) / input._shape[-1]
    return apply_reduction(loss, reduction)


# ---- multi-class margin losses (ATen's LossMultiMargin.cpp / LossMultiLabelMargin.cpp as tensor ops) ----------

def _margin_loss_frames(input):
    """(nframe, dim) of a multi(label)_margin_loss input: a scalar, a vector or a batch of vectors."""
    nd = input.dim()
    if not (nd == 0 or (nd == 1 and input._shape[0] != 0) or (nd == 2 and input._shape[1] != 0)):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input._shape)}")
    return (input._shape[0] if nd == 2 else 1), (input._shape[-1] if nd else 1)


def _check_margin_dtypes(kernel, input, target):
    # PyTorch's kernels have float and double variants only, and read the target as int64
    if input._dtype not in (D.float32, D.float64):
        raise not_implemented_for(kernel, input._dtype)
    if target._dtype is not D.int64:
        raise RuntimeError(f"expected scalar type Long but found {D.scalar_type_name(target._dtype)}")


def _hinge(z):
    """max(0, z) whose gradient is 0 at z == 0, as ATen's backward (clamp_min's passes it there)."""
    return _where(z > 0, z, 0.0)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _margin_loss_frames(input)
    if target.dim() > 1 or target.numel() != nframe:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{nframe}], but got {list(target._shape)}. "
                           f"Input has shape {list(input._shape)}.")
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {list(weight._shape)}")
    _check_margin_dtypes("multi_margin_loss_cpu_kernel", input, target)
    if weight is not None and weight._dtype is not input._dtype:
        raise RuntimeError(f"expected scalar type {D.scalar_type_name(input._dtype)} but found "
                           f"{D.scalar_type_name(weight._dtype)}")
    x = input.reshape(nframe, dim)
    t = target.reshape(nframe, 1)
    if nframe and bool(((t < 0) | (t >= dim)).any()):
        raise RuntimeError("target out of range")
    # z[n, i] = max(0, margin - x[n, target] + x[n, i]) ** p over the classes i other than the target
    z = _hinge(margin - x.gather(1, t) + x)
    if p == 2:
        z = z * z
    z = _where(arange(dim, device=input._storage.device) == t, 0.0, z)
    if weight is not None:
        # the target class's weight scales its row; PyTorch gives the weight no gradient
        z = z * weight.detach().index_select(0, t.reshape(-1)).unsqueeze(1)
    loss = z.sum(1) / dim
    if reduction == "none":
        out = loss.reshape(target._shape)
    elif reduction == "sum" or nframe == 0:
        out = loss.sum()
    else:
        out = loss.sum() / nframe
    return rename_grad_fn(out, "MultiMarginLossBackward0")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(size_average, reduce, reduction)
    nframe, dim = _margin_loss_frames(input)
    if input.dim() <= 1:
        fits = target.dim() <= 1 and target.numel() == dim
    else:
        fits = target.dim() == 2 and target._shape[0] == nframe and target._shape[1] == dim
    if not fits:
        raise RuntimeError(f"inconsistent target size: {list(target._shape)} for input of size: "
                           f"{list(input._shape)}")
    _check_margin_dtypes("multilabel_margin_loss_forward_out_frame", input, target)
    x = input.reshape(nframe, dim)
    t = target.reshape(nframe, dim)
    if nframe and bool(((t < -1) | (t >= dim)).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    # a row's labels are its entries before the first -1; a label listed twice counts twice, as in ATen's loop
    listed = ((t < 0).to(D.int64).cumsum(1) == 0).unsqueeze(2)
    hits = (t.unsqueeze(2) == arange(dim, device=input._storage.device)) & listed     # [n, slot, class]
    count = hits.to(x._dtype).sum(1)                                                   # [n, class]
    non_target = (count == 0).unsqueeze(1)                                             # [n, 1, other class]
    # z[n, j, i] = max(0, 1 - x[n, j] + x[n, i]) for target classes j and non-target classes i
    z = _where(non_target, _hinge(1 - x.unsqueeze(2) + x.unsqueeze(1)), 0.0)
    loss = (z.sum(2) * count).sum(1) / dim
    if reduction == "none":
        out = loss if input.dim() == 2 else loss.reshape(())
    elif reduction == "sum" or nframe == 0:
        out = loss.sum()
    else:
        out = loss.sum() / nframe
    return rename_grad_fn(out, "MultilabelMarginLossBackward0")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pd, nd = anchor.dim(), positive.dim(), negative.dim()
    if not a == pd == nd:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {pd}D, and negative {nd}D inputs")
    distance = distance_function if distance_function is not None else pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        # the distance swap (Balntas et al.): the harder of the two negatives' distances
        d_neg = d_neg.minimum(distance(positive, negative))
    return apply_reduction((margin + d_pos - d_neg).clamp_min(0), reduction)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target, ...), linear_weight (C, *out_features, in)
    giving K-dimensional logits. `options` (LinearCrossEntropyOptions) asks PyTorch for its batch-chunked kernel,
    which only saves memory; torch_js computes the reference path for every call, with the same values."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    num_batches = tuple(input._shape[:-1])
    in_features = input._shape[-1]
    if in_features != linear_weight._shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), got "
                           f"{input._shape[-1]} and {linear_weight._shape[-1]}, respectively")
    num_classes = linear_weight._shape[0]
    out_features = tuple(linear_weight._shape[1:-1])
    if linear_bias is not None and tuple(linear_bias._shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, got "
                           f"{tuple(linear_bias._shape)}")
    if out_features and not num_batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight._shape)} "
                           f"requires batched input, (N, {in_features}), got unbatched input with shape "
                           f"{tuple(input._shape)}")
    logits_shape = (*num_batches, num_classes, *out_features)
    if tuple(target._shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = ignore_index if ignore_index is not None else -100
    if options is not None and (out_features or reduction not in ("mean", "sum", "none") or label_smoothing != 0.0
                                or target._dtype is not D.int64):
        warn_at_caller("linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                       "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == (). Got "
                       f"reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                       f"out_features={out_features}, tracing=False, linear_bias.shape="
                       f"{tuple(linear_bias._shape) if linear_bias is not None else None}.")
    if out_features:
        flat = math.prod(out_features) * num_classes
        linear_weight = linear_weight.reshape(flat, in_features)
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(flat)
    logits = _linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


# ---- CTC (ATen's LossCTC.cpp: Graves et al.'s alpha/beta recursions in log space, vectorised over batch and
# states, one time step per iteration) ------------------------------------------------------------------------

_CTC_CHECK = " (while checking arguments for ctc_loss_allocate_outputs)"
_NEG_INF = float("-inf")


def _ctc_lengths(value, name):
    if isinstance(value, Tensor):
        if value._dtype.is_floating_point or value._dtype.is_complex or value._dtype is D.bool_:
            raise RuntimeError(f"{name} must be integral")
        return [int(v) for v in value.reshape(-1).tolist()]
    return [int(v) for v in value]


def _ctc_padded_targets(targets, target_lengths, batch, dev):
    """(batch, longest target) labels from padded (batch, S) or concatenated targets, checked as ATen checks them."""
    longest = max(target_lengths, default=0)
    for length in target_lengths:
        if length < 0:
            raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value {length}{_CTC_CHECK}")
    pos = arange(longest, dtype=D.int64, device=dev)
    within = pos < _tensor(target_lengths, dtype=D.int64, device=dev).unsqueeze(1)      # (batch, longest)
    if targets.dim() == 1:
        total = sum(target_lengths)
        if targets._shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size "
                               f"{targets._shape[0]} for argument #2 'targets'{_CTC_CHECK}")
        starts = [sum(target_lengths[:b]) for b in range(batch)]
        index = (_tensor(starts, dtype=D.int64, device=dev).unsqueeze(1) + pos).masked_fill(~within, 0)
        labels = targets.index_select(0, index.reshape(-1)).view(batch, longest) if total else \
            zeros((batch, longest), dtype=D.int64, device=dev)
    else:
        if targets._shape[0] != batch:
            raise RuntimeError(f"Expected tensor to have size {batch} at dimension 0, but got size "
                               f"{targets._shape[0]} for argument #2 'targets'{_CTC_CHECK}")
        if targets._shape[1] < longest:
            raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                               f"{targets._shape[1]} for argument #2 'targets'{_CTC_CHECK}")
        labels = targets.narrow(1, 0, longest)
    return labels, within


def _shift(x, k, fill=_NEG_INF):
    """x (rows, states) moved k states right (k > 0) or left (k < 0), the gap filled."""
    states = x._shape[1]
    if abs(k) >= states:
        return full(x._shape, fill, dtype=x._dtype, device=x._storage.device)
    gap = full((x._shape[0], abs(k)), fill, dtype=x._dtype, device=x._storage.device)
    if k > 0:
        return _S.cat([gap, x.narrow(1, 0, states - k)], 1)
    return _S.cat([x.narrow(1, -k, states + k), gap], 1)


def _log_add3(a, b, c):
    """log(e^a + e^b + e^c) as ATen's loops compute it (the max taken out, 0 when all are -inf)."""
    m = a.maximum(b).maximum(c)
    m = m.masked_fill(m == _NEG_INF, 0)
    return ((a - m).exp() + (b - m).exp() + (c - m).exp()).log() + m


def _ctc_alpha(lp_ext, skip, first_label_ok):
    """log alpha (T, N, S): paths through the extended target (blanks between and around the labels)."""
    steps, batch, states = lp_ext._shape
    row = full((batch, states), _NEG_INF, dtype=lp_ext._dtype, device=lp_ext._storage.device)
    if steps == 0:
        return row.unsqueeze(0).narrow(0, 0, 0)
    start = arange(states, device=lp_ext._storage.device) < 2
    start = start.unsqueeze(0) & (first_label_ok.unsqueeze(1) | (arange(states, device=lp_ext._storage.device) == 0))
    rows = [_where(start, lp_ext[0], row)]
    for t in range(1, steps):
        prev = rows[-1]
        rows.append(_log_add3(prev, _shift(prev, 1), _where(skip, _shift(prev, 2), _NEG_INF)) + lp_ext[t])
    return _S.stack(rows, 0)


def _ctc_loss_back(ctx, g):
    (lp,) = ctx.saved_tensors
    ext, skip, log_alpha, lp_ext, nll, input_lengths, target_lengths, zero_infinity = ctx.attrs
    steps, batch, classes = lp._shape
    states = ext._shape[1]
    dev = lp._storage.device
    state = arange(states, device=dev).unsqueeze(0)
    last = (2 * target_lengths).unsqueeze(1)
    live = state <= last                                               # states of each item's own target
    ends = (state == last) | ((state == last - 1) & (target_lengths > 0).unsqueeze(1))
    may_step = state < last
    may_skip = (state < last - 1) & _shift(skip, -2, False)
    ninf = full((batch, states), _NEG_INF, dtype=lp._dtype, device=dev)
    rows = [None] * steps
    nxt = ninf
    for t in range(steps - 1, -1, -1):
        lp_t = lp_ext[t]
        recurse = _log_add3(nxt, _where(may_step, _shift(nxt, -1), _NEG_INF),
                            _where(may_skip, _shift(nxt, -2), _NEG_INF)) + lp_t
        final = (input_lengths - 1 == t).unsqueeze(1)
        inside = (input_lengths - 1 > t).unsqueeze(1)
        beta = _where(final, _where(ends, lp_t, _NEG_INF), _where(inside & live, recurse, _NEG_INF))
        rows[t] = beta
        nxt = beta
    log_beta = _S.stack(rows, 0) if steps else ninf.unsqueeze(0).narrow(0, 0, 0)
    # log of the summed alpha * beta of the states of each class (the blank's and each label's), per step
    ab = (log_alpha + log_beta).masked_fill(~live.unsqueeze(0), _NEG_INF)
    top = ab.amax(2, keepdim=True)
    top = top.masked_fill(top == _NEG_INF, 0)
    summed = zeros((steps, batch, classes), dtype=lp._dtype, device=dev).scatter_add(
        2, ext.unsqueeze(0).expand(steps, batch, states), (ab - top).exp())
    collected = summed.log() + top
    # PyTorch's formula: the gradient of the loss with respect to the logits under log_softmax
    grad = (lp.exp() - (collected + nll.view(1, batch, 1) - lp).exp()) * g.view(1, batch, 1)
    keep = arange(steps, device=dev).view(steps, 1) < input_lengths.view(1, batch)
    if zero_infinity:
        keep = keep & (nll != float("inf")).view(1, batch)
    return grad.masked_fill(~keep.unsqueeze(2), 0)


def _ctc_reduction(reduction):
    if reduction == "elementwise_mean":
        warn_at_caller("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    reduction = _ctc_reduction(reduction)
    as_tensors = isinstance(input_lengths, Tensor), isinstance(target_lengths, Tensor)
    as_lists = isinstance(input_lengths, (list, tuple)), isinstance(target_lengths, (list, tuple))
    if not (all(as_tensors) or all(as_lists)):
        raise TypeError("ctc_loss() received an invalid combination of arguments: input_lengths and target_lengths "
                        "must both be Tensors or both be tuples of ints")
    input_lens = _ctc_lengths(input_lengths, "input_lengths")
    target_lens = _ctc_lengths(target_lengths, "target_lengths")
    batched = log_probs.dim() == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    if lp._dtype not in (D.float32, D.float64):
        raise not_implemented_for("ctc_loss_cpu", lp._dtype)
    if lp.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.dim()}-dimensional tensor for argument #1 "
                           f"'log_probs'{_CTC_CHECK}")
    if not 1 <= targets.dim() <= 2:
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for argument #2 "
                           f"'targets'{_CTC_CHECK}")
    steps, batch, classes = lp._shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(input_lens) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lens) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    dev = lp._storage.device
    labels, within = _ctc_padded_targets(targets.to(D.int64), target_lens, batch, dev)
    for length in input_lens:
        if length < 0:
            raise RuntimeError(f"Expected input_lengths to have value at least 0, but got value {length}{_CTC_CHECK}")
        if length > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value {length}"
                               f"{_CTC_CHECK}")
    if labels.numel() and bool((within & ((labels < 0) | (labels >= classes))).any()):
        # PyTorch reads past the class dimension here; an error is kinder than its garbage
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {classes}) (the number of classes)")
    # the extended target: blank, l1, blank, l2, ..., blank; a label may be skipped to when it differs from the
    # label two states back
    labels = labels.masked_fill(~within, blank)
    longest = labels._shape[1]
    blanks = full((batch, longest), blank, dtype=D.int64, device=dev)
    ext = _S.cat([_S.stack([blanks, labels], 2).reshape(batch, 2 * longest),
                  full((batch, 1), blank, dtype=D.int64, device=dev)], 1)
    states = 2 * longest + 1
    skip = _shift(ext, 2, -1) != ext
    skip = skip & (arange(states, device=dev) >= 2)
    x = lp.detach()
    lp_ext = x.gather(2, ext.unsqueeze(0).expand(steps, batch, states))
    il = _tensor(input_lens, dtype=D.int64, device=dev)
    tl = _tensor(target_lens, dtype=D.int64, device=dev)
    log_alpha = _ctc_alpha(lp_ext, skip, tl > 0)
    # the likelihood: paths ending in the last label or the blank after it
    last = log_alpha.gather(0, (il - 1).clamp_min(0).view(1, batch, 1).expand(1, batch, states)).squeeze(0) \
        if steps else full((batch, states), _NEG_INF, dtype=x._dtype, device=dev)
    l1 = last.gather(1, (2 * tl).unsqueeze(1)).squeeze(1)
    l2 = last.gather(1, (2 * tl - 1).clamp_min(0).unsqueeze(1)).squeeze(1)
    m = l1.maximum(l2)
    m = m.masked_fill(m == _NEG_INF, 0)
    both = ((l1 - m).exp() + (l2 - m).exp()).log() + m
    log_likelihood = _where(tl > 0, both, l1)
    log_likelihood = _where(il > 0, log_likelihood, _where(tl > 0, _NEG_INF, 0.0).to(x._dtype))
    nll = -log_likelihood
    if GRAD_ENABLED[0] and lp._requires_grad:
        node = record("CtcLossBackward0", _ctc_loss_back, (lp,), (nll,),
                      attrs=(ext, skip, log_alpha, lp_ext, nll.detach(), il, tl, bool(zero_infinity)))
        node.save((x,))
    res = nll
    if zero_infinity:
        res = _where(res == float("inf"), zeros((), dtype=res._dtype, device=dev), res)
    if reduction == "mean":
        return (res / tl.clamp_min(1).to(res._dtype)).mean()
    if reduction == "sum":
        return res.sum()
    return res if batched else res.squeeze(0)


for _n, _f in [("nll_loss", nll_loss), ("cross_entropy", cross_entropy), ("mse_loss", mse_loss),
               ("l1_loss", l1_loss), ("smooth_l1_loss", smooth_l1_loss), ("huber_loss", huber_loss),
               ("binary_cross_entropy", binary_cross_entropy),
               ("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits), ("kl_div", kl_div),
               ("margin_ranking_loss", margin_ranking_loss), ("soft_margin_loss", soft_margin_loss),
               ("hinge_embedding_loss", hinge_embedding_loss), ("cosine_embedding_loss", cosine_embedding_loss),
               ("poisson_nll_loss", poisson_nll_loss), ("gaussian_nll_loss", gaussian_nll_loss),
               ("triplet_margin_loss", triplet_margin_loss),
               ("multilabel_soft_margin_loss", multilabel_soft_margin_loss),
               ("multi_margin_loss", multi_margin_loss), ("multilabel_margin_loss", multilabel_margin_loss),
               ("triplet_margin_with_distance_loss", triplet_margin_with_distance_loss)]:
    reg(_n, _f, "loss", dtype="float")   # composites; losses are computed in floating point
reg("linear_cross_entropy", linear_cross_entropy, "loss", dtype="float")
reg("ctc_loss", ctc_loss, "loss", dtype="float", derivative=backward(_ctc_loss_back),
    opinfo=())   # op_db's samples all exceed the oracle's size cap: tests/test_nn_misc_more.py tests it
