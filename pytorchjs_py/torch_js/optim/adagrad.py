"""Adagrad, in PyTorch's single-tensor update order (dense or sparse gradients)."""
from .._tensor import Tensor
from ..ops._registry import torch_ops
from ..ops.creation import full_like
from .optimizer import Optimizer, _addcdiv_, _addcmul_, _check_fused, _get_value, _new_step, _to_scalar

__all__ = ["Adagrad"]


def _sparse_update(p, grad, state_sum, clr, eps):
    """PyTorch's Adagrad step for a sparse gradient: the sum and the parameter change only at its entries."""
    grad = grad.coalesce()   # the update is not linear: one entry per position
    indices, values = grad._indices(), grad._values()
    state_sum.add_(torch_ops.sparse_coo_tensor(indices, values.pow(2), grad.shape))
    std_values = state_sum.sparse_mask(grad)._values().sqrt_().add_(eps)
    p.add_(torch_ops.sparse_coo_tensor(indices, values / std_values, grad.shape), alpha=-clr)


class Adagrad(Optimizer):
    _group_fallbacks = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}
    _tensor_step = True
    _sparse_grads = True

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for name, value in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps)):
            if not 0.0 <= value:
                raise ValueError(f"Invalid {name}: {value}")
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "fused": fused})
        _check_fused(self.defaults)
        # Unlike the other optimizers, state exists from construction (so state_dict() has it before any step).
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], initial_accumulator_value)

    @staticmethod
    def _init_state(p, state, initial_accumulator_value):
        state["step"] = _new_step()
        state["sum"] = full_like(p, initial_accumulator_value)

    def share_memory(self):
        pass  # no worker processes in torch_js: nothing to share

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        # params added later via add_param_group start from the constructor's accumulator value
        init = self.defaults["initial_accumulator_value"]
        lr, lr_decay = _to_scalar(group["lr"]), group["lr_decay"]
        eps, weight_decay = group["eps"], group["weight_decay"]
        for p, grad, state in self._with_grads(group, lambda p, st: self._init_state(p, st, init)):
            state["step"].add_(1)
            step = _get_value(state["step"])
            if weight_decay != 0:
                if grad.is_sparse:
                    raise RuntimeError("weight_decay option is not compatible with sparse gradients")
                grad = grad.add(p, alpha=weight_decay)
            clr = lr / (1 + (step - 1) * lr_decay)
            if grad.is_sparse:
                _sparse_update(p, grad, state["sum"], clr, eps)
                continue
            _addcmul_(state["sum"], grad, grad, 1)
            std = state["sum"].sqrt() + eps if group["differentiable"] else state["sum"].sqrt().add_(eps)
            _addcdiv_(p, grad, std, -clr)
