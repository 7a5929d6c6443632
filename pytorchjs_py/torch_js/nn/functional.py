"""torch_js.nn.functional: PyTorch's functional API. The ops live in nn/_functional/, one family per file:
activation, conv (im2col + gemm), pooling (C kernels), fractional_pool, norm, loss, misc (linear, embedding, dropout, pad,
interpolate, ...), embedding_bag, sampling (grid_sample, affine_grid), attention."""
from ._functional.activation import (celu, celu_, elu, elu_, gelu, glu, hardshrink, hardsigmoid, hardswish,  # noqa: F401
                                     hardtanh, hardtanh_, leaky_relu, leaky_relu_, log_softmax, logsigmoid, mish,
                                     prelu, relu, relu6, relu_, rrelu, rrelu_, selu, selu_, sigmoid, silu, softmax,
                                     softmin, softplus, softshrink, softsign, tanh, tanhshrink, threshold, threshold_)
from ._functional.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                               conv_transpose3d, fold, unfold)
from ._functional.pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,  # noqa: F401
                                  adaptive_max_pool1d, adaptive_max_pool1d_with_indices, adaptive_max_pool2d,
                                  adaptive_max_pool2d_with_indices, adaptive_max_pool3d,
                                  adaptive_max_pool3d_with_indices, avg_pool1d, avg_pool2d, avg_pool3d, lp_pool1d,
                                  lp_pool2d, lp_pool3d, max_pool1d, max_pool1d_with_indices, max_pool2d,
                                  max_pool2d_with_indices, max_pool3d, max_pool3d_with_indices)
from ._functional.fractional_pool import (fractional_max_pool2d, fractional_max_pool2d_with_indices,  # noqa: F401
                                          fractional_max_pool3d, fractional_max_pool3d_with_indices)
from ._functional.norm import (batch_norm, group_norm, instance_norm, layer_norm, local_response_norm,  # noqa: F401
                               rms_norm)
from ._functional.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                               cosine_embedding_loss, cross_entropy, gaussian_nll_loss, hinge_embedding_loss,
                               huber_loss, kl_div, l1_loss, margin_ranking_loss, mse_loss, multi_margin_loss,
                               multilabel_margin_loss, multilabel_soft_margin_loss, nll_loss, poisson_nll_loss,
                               smooth_l1_loss, soft_margin_loss, triplet_margin_loss,
                               triplet_margin_with_distance_loss)
from ._functional.misc import (alpha_dropout, bilinear, channel_shuffle, cosine_similarity, dropout,  # noqa: F401
                               dropout1d, dropout2d, dropout3d, embedding, feature_alpha_dropout, interpolate, linear,
                               normalize, one_hot, pad, pairwise_distance, pdist, pixel_shuffle, pixel_unshuffle,
                               upsample, upsample_bilinear, upsample_nearest)
from ._functional.embedding_bag import embedding_bag  # noqa: F401
from ._functional.sampling import affine_grid, grid_sample  # noqa: F401
from ._functional.attention import (_canonical_mask, _none_or_dtype, multi_head_attention_forward,  # noqa: F401
                                    scaled_dot_product_attention)
from ..ops._registry import ops_in as _ops_in  # noqa: E402


def _export():
    """The declared ops as the public API calls them (ops/_api.py: PyTorch's argument errors)."""
    g = globals()
    for name, op in _ops_in("nn.functional").items():
        g[name] = op.api


_export()
# torch.native_channel_shuffle is the same op, which PyTorch binds here too (after _export: the checked form)
native_channel_shuffle = channel_shuffle
