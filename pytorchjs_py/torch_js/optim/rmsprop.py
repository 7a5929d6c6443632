"""RMSprop (optionally centered, with momentum), in PyTorch's single-tensor update order."""
from .._tensor import Tensor
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _addcdiv_, _addcmul_, _new_step, _to_scalar

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    _group_fallbacks = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                        "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for name, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                                  "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable})

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        momentum, centered = group["momentum"], group["centered"]

        def init_state(p, state):
            state["step"] = _new_step()
            state["square_avg"] = zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = zeros_like(p)
            if centered:
                state["grad_avg"] = zeros_like(p)

        lr, alpha, eps, weight_decay = _to_scalar(group["lr"]), group["alpha"], group["eps"], group["weight_decay"]
        for p, grad, state in self._with_grads(group, init_state):
            square_avg = state["square_avg"]
            state["step"].add_(1)
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            _addcmul_(square_avg.mul_(alpha), grad, grad, 1 - alpha)
            if centered:  # subtract the squared running mean: a variance estimate instead of a raw second moment
                grad_avg = state["grad_avg"]
                grad_avg.lerp_(grad, 1 - alpha)
                avg = _addcmul_(square_avg.clone(), grad_avg, grad_avg, -1).sqrt_()
            else:
                avg = square_avg.sqrt()
            avg = avg.add(eps) if group["differentiable"] else avg.add_(eps)
            if momentum > 0:
                buf = state["momentum_buffer"]
                _addcdiv_(buf.mul_(momentum), grad, avg, 1)
                p.add_(buf, alpha=-lr)
            else:
                _addcdiv_(p, grad, avg, -lr)
