"""torch.autograd.grad_mode: the public path of torch_js._grad_mode.

Grad mode is core (Tensor reads the flag), so it lives outside this package: importing any module of
torch_js.autograd first runs its __init__, which loads the engine, and core must not depend on that.
"""
from .._grad_mode import (GRAD_ENABLED, _GradModeContext, enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                          no_grad, set_grad_enabled)
