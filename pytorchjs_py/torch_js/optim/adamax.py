"""Adamax (Adam with an infinity-norm second moment), in PyTorch's single-tensor update order."""
from .._tensor import Tensor
from ..ops.creation import zeros_like
from ..ops.elementwise import maximum
from .optimizer import Optimizer, _addcdiv_, _get_value, _new_step, _to_scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
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
                                  "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        def init_state(p, state):
            state["step"] = _new_step()
            state["exp_avg"] = zeros_like(p)
            state["exp_inf"] = zeros_like(p)   # exponentially weighted infinity norm of the gradients

        lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        for p, grad, state in self._with_grads(group, init_state):
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            state["step"].add_(1)
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            exp_avg.lerp_(grad, 1 - beta1)
            if group["differentiable"]:  # out= would hide the maximum from autograd
                exp_inf.copy_(maximum(exp_inf.mul_(beta2), grad.abs().add_(eps)))
            else:
                maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
            # only the first moment is bias-corrected (a Python float, as in torch's non-capturable path)
            bias_correction = 1 - beta1 ** _get_value(state["step"])
            _addcdiv_(p, exp_avg, exp_inf, -(lr / bias_correction))
