"""Adam and AdamW, in PyTorch's single-tensor update order (foreach=False; capturable=False or True)."""
from .._grad_mode import GRAD_ENABLED
from .._tensor import Tensor
from ..ops.creation import zeros_like
from ..ops.elementwise import maximum
from . import _adam_direct as _direct
from .optimizer import (Optimizer, _addcdiv_, _addcmul_, _check_capturable_devices, _check_fused, _get_value,
                        _new_step, _to_scalar)

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    _group_fallbacks = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                        "differentiable": False, "decoupled_weight_decay": False, "fused": None}
    _tensor_step = True
    _capturable = True
    _sparse_grad_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        super().__init__(params, {"lr": lr, "betas": tuple(map(_to_scalar, betas)), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                                  "foreach": foreach, "capturable": capturable, "differentiable": differentiable,
                                  "fused": fused, "decoupled_weight_decay": decoupled_weight_decay})
        _check_fused(self.defaults)

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        amsgrad, capturable = group["amsgrad"], group["capturable"]

        def init_state(p, state):
            state["step"] = _new_step(p, capturable)
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros_like(p)

        lr, weight_decay, eps = _to_scalar(group["lr"]), group["weight_decay"], group["eps"]
        beta1, beta2 = (_to_scalar(b) for b in group["betas"])
        stepped = list(self._with_grads(group, init_state))
        if capturable:
            _check_capturable_devices([p for p, _, _ in stepped], [st["step"] for _, _, st in stepped])
        # the op-by-op update below as direct kernel calls (_adam_direct.py) where that computes the same
        direct = not (amsgrad or capturable or GRAD_ENABLED[0]) and all(
            v.__class__ is float or v.__class__ is int for v in (lr, beta1, beta2, eps))
        for p, grad, state in stepped:
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            state["step"].add_(1)
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:  # AdamW: shrink the weights, leave the moments alone
                    p.mul_(1 - lr * weight_decay)
                else:  # L2 penalty folded into the gradient
                    grad = grad.add(p, alpha=weight_decay)
            if direct and _direct.eligible(p, grad, exp_avg, exp_avg_sq):
                step = _get_value(state["step"])
                _direct.update(p, grad, exp_avg, exp_avg_sq, beta1, beta2, eps, (1 - beta2 ** step) ** 0.5,
                               -(lr / (1 - beta1 ** step)))
                continue
            exp_avg.lerp_(grad, 1 - beta1)
            _addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
            second = exp_avg_sq
            if amsgrad:  # keep the running maximum of the second moment and normalise by that
                second = maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            if capturable:
                # the bias corrections from the step count on the device, in torch's capturable order: nothing here
                # depends on a host value that changes from step to step
                step = state["step"]
                step_size_neg = (lr / (1 - beta1 ** step)).neg()
                bias_correction2_sqrt = (1 - beta2 ** step).sqrt()
                denom = (second.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(eps / step_size_neg)
                p.addcdiv_(exp_avg, denom)
                continue
            # bias corrections are Python floats (double precision), as in torch's non-capturable path
            step = _get_value(state["step"])
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            denom = (second.sqrt() / bias_correction2_sqrt).add_(eps)
            _addcdiv_(p, exp_avg, denom, -(lr / bias_correction1))


class AdamW(Adam):
    """Adam with decoupled weight decay (default 1e-2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
