"""NAdam (Adam with Nesterov momentum and a momentum-decay schedule), in PyTorch's single-tensor update order."""
from .._tensor import Tensor
from ..ops.creation import zeros_like
from .optimizer import Optimizer, _addcdiv_, _addcmul_, _get_value, _new_step, _to_scalar

__all__ = ["NAdam"]


class NAdam(Optimizer):
    _group_fallbacks = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                        "decoupled_weight_decay": False}
    _tensor_step = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize, "foreach": foreach, "capturable": capturable,
                                  "differentiable": differentiable})

    def __setstate__(self, state):
        super().__setstate__(state)
        # old checkpoints hold mu_product as a plain number; it is a 0-d tensor like step
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st and not isinstance(st["mu_product"], Tensor):
                    st["mu_product"] = _new_step().fill_(float(st["mu_product"]))

    def step(self, closure=None):
        return self._step_groups(closure)

    def _update_group(self, group):
        def init_state(p, state):
            state["step"] = _new_step()
            state["mu_product"] = _new_step().fill_(1.0)   # running product of the momentum coefficients
            state["exp_avg"] = zeros_like(p)
            state["exp_avg_sq"] = zeros_like(p)

        lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        momentum_decay = group["momentum_decay"]
        for p, grad, state in self._with_grads(group, init_state):
            exp_avg, exp_avg_sq, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
            state["step"].add_(1)
            step = _get_value(state["step"])
            bias_correction2 = 1 - beta2 ** step
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    p.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(p, alpha=weight_decay)
            # momentum coefficients for this step and the next (Dozat's schedule), as Python floats
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            mu_product.mul_(mu)   # float32 product, read back below: torch keeps it in the 0-d tensor too
            exp_avg.lerp_(grad, 1 - beta1)
            _addcmul_(exp_avg_sq.mul_(beta2), grad, grad, 1 - beta2)
            denom = exp_avg_sq.div(bias_correction2).sqrt()
            mu_prod = _get_value(mu_product)
            if group["differentiable"]:  # scale the tensors themselves so autograd sees every factor
                denom = denom.add(eps)
                p.addcdiv_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product)), denom)
                p.addcdiv_(exp_avg * (-lr * mu_next / (1.0 - mu_product * mu_next)), denom)
            else:
                denom.add_(eps)
                # the gradient's Nesterov share, then the momentum's look-ahead share
                _addcdiv_(p, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_prod))
                _addcdiv_(p, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_prod * mu_next))
