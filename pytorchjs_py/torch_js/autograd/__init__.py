"""torch_js.autograd: reverse-mode autodiff in Python (the graph in torch_js/_graph.py, engine.py), grad mode, custom Functions."""
from .._tensor import Tensor
from .engine import backward, grad
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .._graph import Node

__all__ = ["backward", "grad", "Function", "FunctionCtx", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "Node", "gradcheck"]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **kwargs):
    """Compare autograd's gradients with central finite differences (use float64 inputs)."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    out = func(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    for oi, o in enumerate(outs):
        flat_n = o.numel()
        for j in range(flat_n):
            grads = grad(o.reshape(-1)[j], [x for x in inputs if isinstance(x, Tensor) and x.requires_grad],
                         retain_graph=True, allow_unused=True)
            gi = 0
            for x in inputs:
                if not (isinstance(x, Tensor) and x.requires_grad):
                    continue
                analytic = grads[gi]
                gi += 1
                flat = x.detach().reshape(-1)
                for k in range(x.numel()):
                    orig = flat[k].item()
                    with no_grad():
                        x.data.reshape(-1)[k] = orig + eps
                        plus = func(*inputs)
                        plus = (plus,) if isinstance(plus, Tensor) else plus
                        x.data.reshape(-1)[k] = orig - eps
                        minus = func(*inputs)
                        minus = (minus,) if isinstance(minus, Tensor) else minus
                        x.data.reshape(-1)[k] = orig
                    num = (plus[oi].reshape(-1)[j].item() - minus[oi].reshape(-1)[j].item()) / (2 * eps)
                    ana = analytic.reshape(-1)[k].item() if analytic is not None else 0.0
                    if abs(num - ana) > atol + rtol * abs(num):
                        if raise_exception:
                            raise RuntimeError(f"Jacobian mismatch for output {oi} with respect to input: "
                                               f"numerical {num} vs analytical {ana}")
                        return False
    return True
