"""RAdam (Adam with a rectified adaptive learning rate), in PyTorch's single-tensor update order."""
from .._tensor import Tensor
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _addcmul_, _get_value, _new_step, _to_scalar

__all__ = ["RAdam"]


class RAdam(Optimizer):
    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False,
                        "decoupled_weight_decay": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "foreach": foreach, "capturable": capturable,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        def init_state(p, state):
            state["step"] = _new_step()
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)

        lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        # length of the approximated simple moving average as the step count goes to infinity
        rho_inf = 2 / (1 - beta2) - 1
        for p, grad, state in self._with_grads(group, init_state):
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            state["step"].add_(1)
            step = _get_value(state["step"])
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    p.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(p, alpha=weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            _addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            update = exp_avg / bias_correction1 * lr
            # the variance of the adaptive lr is only tractable once the SMA length passes 4; torch switches at 5
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
            if rho_t > 5.0:
                rms = exp_avg_sq.sqrt()
                rms = rms.add(eps) if group["differentiable"] else rms.add_(eps)
                # torch's `float / tensor` is reciprocal(tensor) * float; the same rounding here
                adaptive_lr = rms.reciprocal() * bias_correction2 ** 0.5
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                update = update * adaptive_lr * rect   # out of place: differentiable=True backprops through it
            p.add_(update, alpha=-1.0)
