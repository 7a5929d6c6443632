"""SparseAdam: Adam's update on the entries a sparse gradient has (nn.Embedding(sparse=True) & co.), PyTorch's
arithmetic order: the moments move by (1 - beta) * (new - old) at those entries only, and so do the parameters."""
import math

from .._tensor import Tensor
from ..ops._registry import torch_ops
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _to_scalar

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse_params.append([index, d_index])
                if p.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors")
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not support complex "
                             "parameters")

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        lr, eps = _to_scalar(group["lr"]), group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            if not p.grad.is_sparse:
                raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = zeros_like(p)
                state["exp_avg_sq"] = zeros_like(p)
            state["step"] += 1
            grad = -p.grad if group["maximize"] else p.grad
            grad = grad.coalesce()   # the update is not linear: one entry per position
            indices, values = grad._indices(), grad._values()
            if values.numel() == 0:
                continue
            size = grad.shape

            def entries(v):
                return torch_ops.sparse_coo_tensor(indices, v, size)

            exp_avg, exp_avg_sq, step = state["exp_avg"], state["exp_avg_sq"], state["step"]
            old_exp_avg = exp_avg.sparse_mask(grad)._values()
            exp_avg_update = values.sub(old_exp_avg).mul_(1 - beta1)
            exp_avg.add_(entries(exp_avg_update))
            old_exp_avg_sq = exp_avg_sq.sparse_mask(grad)._values()
            exp_avg_sq_update = values.pow(2).sub_(old_exp_avg_sq).mul_(1 - beta2)
            exp_avg_sq.add_(entries(exp_avg_sq_update))
            numer = exp_avg_update.add_(old_exp_avg)
            denom = exp_avg_sq_update.add_(old_exp_avg_sq).sqrt_().add_(eps)
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            p.add_(entries(numer.div_(denom).mul_(-step_size)))
