"""embedding_bag: ATen's _embedding_bag as tensor ops. Bags come from the offsets as ATen builds them (offset2bag
by a cumulative sum, bag sizes from offset differences less padding entries), sum/mean reduce with one index_add,
max lays the bags out as a (bags, longest, dim) block; an EmbeddingBagBackward0 node gives PyTorch's gradients
(dense or, with sparse=True, COO) for the weight and the per-sample weights."""

from ...ops._registry import backward, torch_ops
from ...ops._util import warn_at_caller
from ...ops import shape as _S
from ...ops.elementwise import where as _where
from ._common import D, GRAD_ENABLED, arange, full, record, reg, zeros
from .misc import _legacy_type, embedding_renorm_


_BAG_MODES = {"sum": 0, "mean": 1, "max": 2}


def _check_bag_dtypes(indices, offsets, weight, per_sample_weights):
    """ATen's check_arguments: indices and offsets promoted to one index dtype, weight floating, per-sample weights
    of weight's dtype."""
    index_dtype = D.promote_types(indices._dtype, offsets._dtype)
    if index_dtype not in (D.int64, D.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{_legacy_type(index_dtype)} instead (while checking arguments "
                           "for embedding_bag)")
    if weight._dtype not in (D.float16, D.bfloat16, D.float32, D.float64):
        raise RuntimeError("Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, "
                           f"BFloat16, Float, Double; but got torch.{_legacy_type(weight._dtype)} instead (while "
                           "checking arguments for embedding_bag)")
    if per_sample_weights is not None and per_sample_weights._dtype is not weight._dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
                           f"'per_sample_weights'; but type torch.{_legacy_type(weight._dtype)} does not equal "
                           f"torch.{_legacy_type(per_sample_weights._dtype)} (while checking arguments for "
                           "embedding_bag)")


def _bag_layout(indices, offsets, num_bags, dev):
    """offset2bag (each index's bag) and each bag's size as ATen makes them: a bag runs from its offset to the next
    bag's start (the last one to the input's end), sizes are offset differences (so decreasing offsets give
    what PyTorch gives)."""
    n = indices._shape[0]
    offs = offsets.narrow(0, 0, num_bags).to(D.int64)
    starts = zeros(n + 1, dtype=D.int64, device=dev).index_add(0, offs, full((num_bags,), 1, dtype=D.int64,
                                                                             device=dev))
    starts[0] -= 1
    offset2bag = starts.cumsum(0).narrow(0, 0, n)
    ends = _S.cat([offs.narrow(0, 1, num_bags - 1), full((1,), n, dtype=D.int64, device=dev)])
    return offset2bag, ends - offs


def _embedding_bag_back(ctx, g):
    saved = ctx.saved_tensors
    weight, indices, offset2bag, bag_size, keep = saved[:5]
    per_sample_weights = saved[5] if len(saved) > 5 else None
    mode, scale_grad_by_freq, max_rows, sparse = ctx.attrs
    num, dim = weight._shape
    dev = g._storage.device
    needs = [edge is not None for edge in ctx.edges]
    grad_weight = grad_psw = None
    if mode == 2:
        if needs[0]:
            # each (bag, feature) sends its gradient to the row that held the max; empty bags send nothing
            rows, nonempty = max_rows
            flat = (rows * dim + arange(dim, device=dev)).masked_select(nonempty.unsqueeze(1))
            grad_weight = zeros(num * dim, dtype=g._dtype, device=dev).index_add(
                0, flat, g.masked_select(nonempty.unsqueeze(1))).view(num, dim)
        return grad_weight, None
    g_rows = g.index_select(0, offset2bag)
    if needs[1]:
        grad_psw = (g_rows * weight.index_select(0, indices)).sum(1).masked_fill(~keep, 0)
    if needs[0]:
        if mode == 1:
            sizes = bag_size.masked_fill(bag_size == 0, 1).to(g._dtype)     # ATen leaves a 0-size bag unscaled
            g_rows = g_rows / sizes.index_select(0, offset2bag).unsqueeze(1)
        if per_sample_weights is not None:
            g_rows = g_rows * per_sample_weights.unsqueeze(1)
        if sparse:   # a COO gradient: one entry per kept lookup, uncoalesced (ATen's embedding_backward)
            if scale_grad_by_freq:
                raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
            return torch_ops.sparse_coo_tensor(indices[keep].unsqueeze(0), g_rows[keep], (num, dim)), grad_psw
        g_rows = g_rows.masked_fill(~keep.unsqueeze(1), 0)
        if scale_grad_by_freq:
            g_rows = g_rows / _bag_freq_divisor(indices, num, g._dtype).unsqueeze(1)
        grad_weight = zeros((num, dim), dtype=g._dtype, device=dev).index_add(0, indices, g_rows)
    return grad_weight, grad_psw


def _bag_freq_divisor(indices, num, dtype):
    """Each index's scale_grad_by_freq divisor as PyTorch's CPU kernel computes it: the k-th smallest distinct
    index is divided by the count of sorted_indices[k] (ATen indexes its counts by group number, not by index, so
    this is the index's own count only while no smaller index repeats)."""
    dev = indices._storage.device
    counts = zeros(num, dtype=D.int64, device=dev).index_add(0, indices, full(indices._shape, 1, dtype=D.int64,
                                                                              device=dev))
    rank = (counts > 0).to(D.int64).cumsum(0) - 1                       # group number of each present index
    sorted_indices = indices.sort().values
    divisor = counts.index_select(0, sorted_indices.index_select(0, rank.index_select(0, indices)))
    return divisor.to(dtype)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if weight._dtype is D.int64 and input._dtype.is_floating_point:
        warn_at_caller("Argument order of nn.functional.embedding_bag was changed. Usage `embedding_bag(weight, "
                       "input, ...)` is deprecated, and should now be `embedding_bag(input, weight, ...)`.")
        weight, input = input, weight
    if per_sample_weights is not None and input._shape != per_sample_weights._shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}")
    dev = weight._storage.device
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        offsets = arange(0, input.numel(), input._shape[1], dtype=input._dtype, device=dev)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if mode not in _BAG_MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        embedding_renorm_(weight, input.to(D.int64), max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    # ATen from here
    _check_bag_dtypes(input, offsets, weight, per_sample_weights)
    num, dim = weight._shape
    n = input._shape[0]
    if include_last_offset and offsets._shape[0] < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    num_bags = offsets._shape[0] - (1 if include_last_offset else 0)
    if offsets._shape[0]:
        first, last = int(offsets[0].item()), int(offsets[-1].item())
        if first != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {first}")
        if last > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                               f"{last}")
    if padding_idx is None:
        padding_idx = -1
    elif not -num <= padding_idx < num:
        raise RuntimeError(f"padding_idx must be within the number of embeddings, -{num} through {num - 1}, but got "
                           f"{padding_idx}")
    elif padding_idx < 0:
        padding_idx += num
    indices = input.to(D.int64)
    bad = ((indices < 0) | (indices >= num)).nonzero()
    if bad.numel():
        at = int(bad[0, 0].item())
        value = int(indices[at].item())
        if mode == "max":
            raise RuntimeError(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be {value}")
        raise RuntimeError(f"Index {at} of input takes value {value} which is not in the valid range [0, {num})")
    mode_id = _BAG_MODES[mode]
    w = weight.detach()
    keep = indices != padding_idx
    if num_bags <= 0:
        out = zeros((0, dim), dtype=w._dtype, device=dev)
        offset2bag = zeros(n, dtype=D.int64, device=dev)
        bag_size = zeros(0, dtype=D.int64, device=dev)
    else:
        offset2bag, bag_size = _bag_layout(indices, offsets, num_bags, dev)
        # padded entries leave their bag (ATen decrements the bag's size for each)
        bag_size = bag_size - zeros(num_bags, dtype=D.int64, device=dev).index_add(0, offset2bag,
                                                                                   (~keep).to(D.int64))
    max_rows = None
    if num_bags > 0 and mode_id == 2:
        members = zeros(num_bags, dtype=D.int64, device=dev).index_add(0, offset2bag, full((n,), 1, dtype=D.int64,
                                                                                          device=dev))
        longest = int(members.max().item()) if n else 0
        if longest == 0:
            out = zeros((num_bags, dim), dtype=w._dtype, device=dev)
            max_rows = (zeros((num_bags, dim), dtype=D.int64, device=dev), zeros(num_bags, dtype=D.bool_, device=dev))
        else:
            # bags are contiguous runs of the input: lay them out as (bags, longest) slots
            start = members.cumsum(0) - members
            slot = start.unsqueeze(1) + arange(longest, dtype=D.int64, device=dev)
            filled = arange(longest, dtype=D.int64, device=dev) < members.unsqueeze(1)
            slot = slot.masked_fill(~filled, 0)
            valid = filled & keep.index_select(0, slot.reshape(-1)).view(slot._shape)
            rows = w.index_select(0, indices.index_select(0, slot.reshape(-1))).view(num_bags, longest, dim)
            ninf = float("-inf")
            best = _where(valid.unsqueeze(2), rows, ninf).amax(1, keepdim=True)
            # the first slot holding the max (ATen keeps the first of equal values)
            hit = valid.unsqueeze(2) & ((rows == best) | (best == ninf))
            rank = _where(hit, arange(longest, 0, -1, dtype=D.int64, device=dev).view(1, longest, 1), 0)
            pos = rank.argmax(1, keepdim=True)
            nonempty = valid.any(1)
            out = best.squeeze(1).masked_fill(~nonempty.unsqueeze(1), 0)
            held = slot.unsqueeze(2).expand(num_bags, longest, dim).gather(1, pos).squeeze(1)
            max_rows = (indices.index_select(0, held.reshape(-1)).view(num_bags, dim), nonempty)
    elif num_bags > 0:
        rows = w.index_select(0, indices)
        if per_sample_weights is not None:
            rows = rows * per_sample_weights.detach().unsqueeze(1)
        rows = rows.masked_fill(~keep.unsqueeze(1), 0)
        out = zeros((num_bags, dim), dtype=w._dtype, device=dev).index_add(0, offset2bag, rows)
        if mode_id == 1:
            out = out / bag_size.clamp_min(1).to(w._dtype).unsqueeze(1)
    psw = per_sample_weights
    if GRAD_ENABLED[0] and (weight._requires_grad or (psw is not None and psw._requires_grad)):
        node = record("EmbeddingBagBackward0", _embedding_bag_back, (weight, psw), (out,),
                      attrs=(mode_id, scale_grad_by_freq, max_rows, bool(sparse)))
        saved = (w, indices, offset2bag, bag_size, keep) + ((psw.detach(),) if psw is not None else ())
        node.save(saved)
    return out


reg("embedding_bag", embedding_bag, "nn", dtype="same", derivative=backward(_embedding_bag_back))
