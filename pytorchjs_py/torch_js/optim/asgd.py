"""ASGD (averaged SGD: SGD with a decaying step size plus a running average of the iterates in state["ax"]), in
PyTorch's single-tensor update order."""
from .._tensor import Tensor
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _get_value, _new_step, _to_scalar

__all__ = ["ASGD"]


class ASGD(Optimizer):
    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_step = True

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                                  "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def __setstate__(self, state):
        super().__setstate__(state)
        # old checkpoints hold eta and mu as plain numbers; they are 0-d tensors like step
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    for key in ("eta", "mu"):
                        if not isinstance(st[key], Tensor):
                            st[key] = _new_step().fill_(float(st[key]))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        def init_state(p, state):
            state["step"] = _new_step()
            state["eta"] = _new_step().fill_(_get_value(_to_scalar(group["lr"])))   # current step size
            state["mu"] = _new_step().fill_(1.0)   # averaging weight of the newest iterate
            state["ax"] = zeros_like(p)            # the averaged parameters

        lr, lambd, alpha, t0 = _to_scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        weight_decay = group["weight_decay"]
        for p, grad, state in self._with_grads(group, init_state):
            mu, ax, eta = state["mu"], state["ax"], state["eta"]
            state["step"].add_(1)
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            # eta is read back from its float32 tensor, so the decay and the step use the rounded value, as in torch
            eta_value = _get_value(eta)
            p.mul_(1 - lambd * eta_value)
            p.add_(grad, alpha=-eta_value)
            if mu.item() != 1:
                ax.add_(p.sub(ax).mul_(mu))
            else:  # averaging has not started (step <= t0): the average is the iterate itself
                ax.copy_(p)
            step = _get_value(state["step"])
            eta.fill_(_get_value(lr / ((1 + lambd * lr * step) ** alpha)))
            mu.fill_(1 / max(1, step - t0))
