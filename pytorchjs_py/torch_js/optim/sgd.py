"""SGD with momentum / dampening / Nesterov, in PyTorch's single-tensor update order."""
from .._tensor import Tensor
from .optimizer import Optimizer, _check_fused, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    _group_fallbacks = {"nesterov": False, "maximize": False, "foreach": None, "differentiable": False,
                        "fused": False}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                                  "foreach": foreach, "differentiable": differentiable, "fused": fused})
        _check_fused(self.defaults)

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        lr, momentum, weight_decay = _to_scalar(group["lr"]), group["momentum"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = -p.grad if group["maximize"] else p.grad
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            if momentum != 0:
                # state is only created with momentum: plain SGD keeps an empty state_dict()["state"], like torch
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:  # the first step seeds the buffer with the gradient itself (no dampening)
                    buf = state["momentum_buffer"] = grad.detach().clone()
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
                grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
            p.add_(grad, alpha=-lr)
