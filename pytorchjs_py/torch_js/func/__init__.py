"""torch.func: function transforms (grad, vjp, jvp, jacrev, jacfwd, hessian, vmap) and functional_call.

Built on torch_js's reverse-mode tape (func/_level.py); jvp and jacfwd are reverse mode too, vmap is a loop over
the batch (func/_vmap.py says what that costs).
"""
import functools

from ._functional_call import functional_call, stack_module_state
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ._vmap import vmap

__all__ = ["functional_call", "stack_module_state", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
           "vjp", "vmap", "functionalize"]


def functionalize(func, *, remove="mutations"):
    """func itself: functionalize rewrites mutations into out-of-place ops for tracing backends, and an eager call of
    the result gives func's own values and input updates, which is what calling func gives."""
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}. "
                           "Valid options are:\n     remove='mutations': all inplace and out= operators will be "
                           "removed from the program, and replaced with their out-of-place equivalents.\n     "
                           "remove='mutations_and_views': In addition to the above, all aliasing operators {view} "
                           "will be replaced with their non-aliasing counterparts, {view}_copy.\n")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapped
