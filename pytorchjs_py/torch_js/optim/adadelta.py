"""Adadelta, in PyTorch's single-tensor update order."""
from .._tensor import Tensor
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _addcmul_, _new_step, _to_scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        # foreach / capturable are accepted for API compatibility; torch_js always runs the single-tensor update
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        def init_state(p, state):
            state["step"] = _new_step()
            state["square_avg"] = zeros_like(p)   # running mean of squared gradients
            state["acc_delta"] = zeros_like(p)    # running mean of squared updates

        lr, rho, eps, weight_decay = _to_scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
        for p, grad, state in self._with_grads(group, init_state):
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            state["step"].add_(1)
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            _addcmul_(square_avg.mul_(rho), grad, grad, 1 - rho)
            # the update is grad scaled by RMS(previous updates) / RMS(gradients)
            rms_grad = square_avg.add(eps).sqrt_()
            update = acc_delta.add(eps).sqrt_()
            if group["differentiable"]:  # sqrt_ saved its output for backward: scale a copy instead
                update = update.clone()
            update.div_(rms_grad).mul_(grad)
            _addcmul_(acc_delta.mul_(rho), update, update, 1 - rho)
            p.add_(update, alpha=-lr)
