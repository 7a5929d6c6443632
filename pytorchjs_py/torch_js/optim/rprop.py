"""Rprop (resilient backpropagation: per-element step sizes driven by gradient signs), in PyTorch's single-tensor
update order."""
from .._tensor import Tensor
from ..ops.creation import full_like, zeros_like
from ..ops.elementwise import where
from .optimizer import Optimizer, _addcmul_, _new_step, _to_scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "capturable": capturable})

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        def init_state(p, state):
            state["step"] = _new_step()
            state["prev"] = zeros_like(p)   # the previous step's (masked) gradient
            state["step_size"] = full_like(p, _to_scalar(group["lr"]))

        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        for p, grad, state in self._with_grads(group, init_state):
            prev, step_size = state["prev"], state["step_size"]
            state["step"].add_(1)
            sign = grad.mul(prev.clone() if group["differentiable"] else prev).sign()
            # same sign as last step: grow the step; flipped: shrink it; a zero on either side: keep it
            # (NaN stays NaN, as torch's masked assignments leave it)
            factor = where(sign.gt(0), etaplus, where(sign.lt(0), etaminus, where(sign.eq(0), 1, sign)))
            step_size.mul_(factor).clamp_(step_size_min, step_size_max)
            # after a sign flip the step is skipped, and the zeroed gradient makes the next step keep its size
            grad = where(factor.eq(etaminus), 0, grad)
            _addcmul_(p, grad.sign(), step_size, -1)
            prev.copy_(grad)
