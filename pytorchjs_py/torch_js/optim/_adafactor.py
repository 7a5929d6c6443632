"""Adafactor (PyTorch's torch.optim.Adafactor, single-tensor path): the second moment of a matrix kept as its row
and column means (a vector's in full), a relative step size min(lr, 1/sqrt(t)) scaled by the parameter's RMS, and
the update clipped by its own RMS / d."""
from .. import _dtype as D
from .._tensor import Tensor
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _new_step, _to_scalar

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    _group_fallbacks = {"foreach": None}
    _tensor_step = True

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                                  "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize})

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        lr, d, weight_decay = _to_scalar(group["lr"]), group["d"], group["weight_decay"]
        beta2_decay = group["beta2_decay"]
        eps1, eps2 = group["eps"]
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.is_complex():
                raise RuntimeError("Adafactor does not support complex parameters")
            if p.grad.is_sparse:
                raise RuntimeError("Adafactor does not support sparse gradients")
            state = self.state[p]
            if not state:
                state["step"] = _new_step()
                if p.grad.dim() > 1:
                    state["row_var"] = p.grad.new_zeros(p.grad.shape[:-1] + (1,))
                    state["col_var"] = p.grad.new_zeros(p.grad.shape[:-2] + (1,) + p.grad.shape[-1:])
                else:
                    state["variance"] = zeros_like(p.grad)
            grad = -p.grad if group["maximize"] else p.grad
            if eps1 is None:   # (as PyTorch's loop: the first parameter's dtype sets it for the group)
                eps1 = D.finfo(p.dtype).eps
            step_t = state["step"]
            step_t += 1
            step = step_t.item()
            one_minus_beta2_t = step ** beta2_decay
            rho_t = min(lr, 1 / (step ** 0.5))
            alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
            if weight_decay != 0:
                p.mul_(1 - lr * weight_decay)
            if grad.dim() > 1:
                row_var, col_var = state["row_var"], state["col_var"]
                row_var.lerp_(grad.norm(dim=-1, keepdim=True).square_().div_(grad.shape[-1]), one_minus_beta2_t)
                col_var.lerp_(grad.norm(dim=-2, keepdim=True).square_().div_(grad.shape[-2]), one_minus_beta2_t)
                var_estimate = row_var @ col_var
                var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
            else:
                variance = state["variance"]
                variance.lerp_(grad * grad, one_minus_beta2_t)
                var_estimate = variance.clone()
            update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
            update.mul_(grad)
            denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
            p.add_(update, alpha=-alpha / denom)
