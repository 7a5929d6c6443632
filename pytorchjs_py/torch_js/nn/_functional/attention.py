"""scaled_dot_product_attention (PyTorch's math reference: batched gemm, masked softmax, dropout, gemm) and
multi_head_attention_forward, ported from torch.nn.functional so nn.MultiheadAttention behaves the same."""
import math

from ...backends import cuda as _sdp_switches
from ...ops import shape as _S
from ...ops._util import assertion_error, warn_at_caller
from ...ops.fused_attention import fused_sdpa
from ._common import D, Tensor, reg, zeros, arange
from .misc import dropout, linear, pad
from .activation import softmax


def _causal_mask(l, s, dev):
    return arange(l, device=dev).unsqueeze(1) >= arange(s, device=dev).unsqueeze(0)    # tril(ones(L, S))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)


def _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa, tokens_first=False):
    """scaled_dot_product_attention; tokens_first: a fused kernel may lay its 4-D output's memory out (row, batch,
    head, column), as multi_head_attention_forward reads it next (the composite's is contiguous)."""
    if not (_sdp_switches.math_sdp_enabled() or _sdp_switches.flash_sdp_enabled()):
        # nn.attention.sdpa_kernel left only kernels a CPU build of PyTorch lacks
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels.")
    l, s = query._shape[-2], key._shape[-2]
    e = query._shape[-1]
    scale_factor = 1.0 / math.sqrt(e) if scale is None else scale
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if dropout_p == 0.0 and (_sdp_switches.flash_sdp_enabled() or _sdp_switches.mem_efficient_sdp_enabled()):
        out = fused_sdpa(query, key, value, attn_mask, is_causal, scale_factor, enable_gqa, tokens_first)
        if out is not None:   # None: no fused kernel
            return out
    if enable_gqa and query.dim() >= 3:
        hq, hk = query._shape[-3], key._shape[-3]
        if hq != hk:
            rep = hq // hk
            key = key.unsqueeze(-3).expand(key._shape[:-2] + (rep,) + key._shape[-2:]) \
                .reshape(key._shape[:-3] + (hq,) + key._shape[-2:])
            value = value.unsqueeze(-3).expand(value._shape[:-2] + (rep,) + value._shape[-2:]) \
                .reshape(value._shape[:-3] + (hq,) + value._shape[-2:])
    attn = query.matmul(key.transpose(-2, -1)) * scale_factor
    if is_causal:
        attn = attn.masked_fill(_causal_mask(l, s, query._storage.device).logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask._dtype is D.bool_:
            attn = attn.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            attn = attn + attn_mask
    attn = softmax(attn, -1)
    if dropout_p > 0.0:
        attn = dropout(attn, dropout_p, True)
    return attn.matmul(value)


# ---- multi-head attention ------------------------------------------------------------------------------------

def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """PyTorch's F._canonical_mask: a bool mask as a float one (-inf where True), a float mask as it is; warns when
    its dtype is not the other mask's."""
    if mask is not None:
        mdt = mask._dtype
        is_float = mdt.is_floating_point
        if mdt is not D.bool_ and not is_float:
            raise assertion_error(f"only bool and floating types of {mask_name} are supported")
        if check_other and other_type is not None and mdt is not other_type:
            warn_at_caller(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                           "both instead.")
        if not is_float:
            mask = zeros(mask._shape, dtype=target_type, device=mask._storage.device).masked_fill(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise assertion_error("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise assertion_error("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise assertion_error("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise assertion_error("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise assertion_error("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise assertion_error("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                     f"found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query._shape[0], key._shape[0])
                if attn_mask._shape != expected:
                    raise assertion_error(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise assertion_error(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                          "tensor")


def _reads_strided(t, dims, tensors):
    """Whether t's backend has a fused attention that takes attention of these dims (batch heads l s e ev) over
    these tensors now, reading q, k and v as any strided views (the CPU worker pool's in Pyodide): then the
    in-projection is not split into copies."""
    takes = getattr(t._storage.backend, "attention_takes", None)
    return takes is not None and takes(dims, [x for x in tensors if x is not None])


def _split(proj, parts, e, views):
    """The packed projection's `parts` pieces of e columns: views of it, or (PyTorch's) contiguous copies."""
    proj = proj.unflatten(-1, (parts, e))
    if views:
        return [proj.select(-2, i) for i in range(parts)]
    proj = proj.unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
    return [proj[i] for i in range(parts)]


def _in_projection_packed(q, k, v, w, b=None, views=False):
    e = q._shape[-1]
    if k is v:
        if q is k:
            if views and q.dim() == 3 and q.transpose(0, 1).is_contiguous():
                # batch-first memory (MultiheadAttention's batch_first): its rows projected where they lie, not
                # copied into (L, B, E) order first; each row's sums are the same
                return tuple(_split(linear(q.transpose(0, 1), w, b).transpose(0, 1), 3, e, views))
            return tuple(_split(linear(q, w, b), 3, e, views))
        w_q, w_kv = w.split([e, e * 2])
        b_q, b_kv = (None, None) if b is None else b.split([e, e * 2])
        q_proj = linear(q, w_q, b_q)
        return (q_proj, *_split(linear(k, w_kv, b_kv), 2, e, views))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query._shape
    src_len = key._shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       attn_mask._dtype if attn_mask is not None else None, "attn_mask",
                                       query._dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query._dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise assertion_error(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise assertion_error(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key._shape[:2] != value._shape[:2]:
            raise assertion_error(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif key._shape != value._shape:
        raise assertion_error(f"key shape {key.shape} does not match value shape {value.shape}")

    # q, k and v go to scaled_dot_product_attention as 4-D views of (L, B, E), not through (B * heads, L, head_dim)
    direct = not (need_weights or static_k is not None or static_v is not None or add_zero_attn)
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise assertion_error("use_separate_proj_weight is False but in_proj_weight is None")
        views = direct and bias_k is None and (not training or dropout_p == 0.0) and _reads_strided(
            query, (bsz, num_heads, tgt_len, key._shape[0], head_dim, head_dim),
            (query, key, value, in_proj_weight, in_proj_bias, attn_mask, key_padding_mask))
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias, views)
    else:
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if attn_mask._shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if attn_mask._shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise assertion_error("bias cannot be added to static key.")
        k = _S.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = _S.cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise assertion_error("bias_k is set but bias_v is None" if bias_k is not None else
                             "bias_v is set but bias_k is None")

    if direct:
        src_len = k._shape[0]
    else:
        q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
        k = k.reshape(k._shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None else static_k
        v = v.reshape(v._shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None else static_v
        if add_zero_attn:
            z = zeros((bsz * num_heads, 1, head_dim), dtype=k._dtype, device=k._storage.device)
            k = _S.cat([k, z], 1)
            v = _S.cat([v, z], 1)
            if attn_mask is not None:
                attn_mask = pad(attn_mask, (0, 1))
            if key_padding_mask is not None:
                key_padding_mask = pad(key_padding_mask, (0, 1))
        src_len = k._shape[1]
    if key_padding_mask is not None:
        if key_padding_mask._shape != (bsz, src_len):
            raise assertion_error(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{key_padding_mask.shape}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1) \
            .reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:
        e = q._shape[-1]
        q_scaled = q * math.sqrt(1.0 / float(e))
        if is_causal and attn_mask is None:
            raise assertion_error("FIXME: is_causal not implemented for need_weights")
        w = q_scaled.matmul(k.transpose(-2, -1))
        if attn_mask is not None:
            w = w + attn_mask
        w = softmax(w, -1)
        if dropout_p > 0.0:
            w = dropout(w, p=dropout_p)
        out = w.matmul(v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        w = w.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(1)
        if not is_batched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w
    if attn_mask is not None:
        if attn_mask._shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    if direct:
        q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
        k = k.reshape(src_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
        v = v.reshape(src_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    else:
        q = q.reshape(bsz, num_heads, tgt_len, head_dim)
        k = k.reshape(bsz, num_heads, src_len, head_dim)
        v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = _attention(q, k, v, attn_mask, dropout_p, is_causal, None, False, tokens_first=True)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)   # a view where it came tokens first
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


# composites over matmul, softmax, dropout and linear: floating inputs, the input's dtype out
reg("scaled_dot_product_attention", scaled_dot_product_attention, "attention", dtype="same")
reg("multi_head_attention_forward", multi_head_attention_forward, "attention", dtype="same")
