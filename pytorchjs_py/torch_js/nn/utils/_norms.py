"""The arithmetic weight_norm and spectral_norm share in both their forms (nn.utils.parametrizations and the
older hook-based nn.utils.weight_norm / spectral_norm): ATen's norm_except_dim and _weight_norm, the reshape of
a weight into the matrix whose largest singular value spectral norm estimates, and one power-iteration step."""
from .. import functional as F

__all__ = ["norm_except_dim", "weight_norm_of", "weight_to_matrix", "power_iteration"]


def norm_except_dim(v, pow=2, dim=0):
    """The norm over every dimension but `dim`, shaped to broadcast against v; dim=-1 is the whole tensor's norm
    (as in ATen, where -1 means "no dimension", not the last one)."""
    if dim == -1:
        return v.norm(pow)
    if dim == 0:
        return v.contiguous().view(v.size(0), -1).norm(pow, 1).view((v.size(0),) + (1,) * (v.dim() - 1))
    if dim == v.dim() - 1:
        return v.contiguous().view(-1, v.size(-1)).norm(pow, 0).view((1,) * (v.dim() - 1) + (v.size(-1),))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def weight_norm_of(v, g, dim):
    """ATen's _weight_norm: v rescaled to norm g along every dimension but dim."""
    return v * (g / norm_except_dim(v, 2, dim))


def weight_to_matrix(weight, dim):
    """weight with `dim` moved first and the rest flattened: (size(dim), -1)."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.dim()) if d != dim))
    return weight.flatten(1)


def power_iteration(weight_mat, u, v, eps, u_first):
    """One step of the power method, written into u and v (no autograd). PyTorch's parametrization updates u then
    v; its older hook v then u."""
    if u_first:
        u.copy_(F.normalize(weight_mat.mv(v), dim=0, eps=eps))
        v.copy_(F.normalize(weight_mat.mH.mv(u), dim=0, eps=eps))
    else:
        v.copy_(F.normalize(weight_mat.t().mv(u), dim=0, eps=eps))
        u.copy_(F.normalize(weight_mat.mv(v), dim=0, eps=eps))
