"""torch.utils.swap_tensors: two Python tensors exchange everything they are (class, attributes, data), so every
reference to one now sees the other's contents; what nn.Module uses under
torch.__future__.set_swap_module_params_on_conversion(True)."""
import copyreg
import weakref

from .._tensor import Tensor


def swap_tensors(t1, t2):
    if not isinstance(t1, Tensor) or not isinstance(t2, Tensor):
        raise TypeError(f"swap_tensors(): expected two Tensors, but got {type(t1).__name__} and "
                        f"{type(t2).__name__}")
    if weakref.getweakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if weakref.getweakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    t1_slots = set(copyreg._slotnames(t1.__class__))
    t2_slots = set(copyreg._slotnames(t2.__class__))
    if t1_slots != t2_slots:
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")

    def swap_attr(name):
        tmp = getattr(t1, name)
        setattr(t1, name, getattr(t2, name))
        setattr(t2, name, tmp)

    swap_attr("__class__")
    # a torch_js tensor's autograd state (requires_grad, grad, grad_fn, hooks) lives in its __dict__ and its data
    # in Tensor's slots (_storage, _shape, ...): swapping both is PyTorch's swap of the Python attributes plus its
    # _swap_tensor_impl of the at::Tensors
    swap_attr("__dict__")
    for slot in t1_slots:
        if hasattr(t1, slot) and hasattr(t2, slot):
            swap_attr(slot)
        elif hasattr(t1, slot):
            setattr(t2, slot, getattr(t1, slot))
            delattr(t1, slot)
        elif hasattr(t2, slot):
            setattr(t1, slot, getattr(t2, slot))
            delattr(t2, slot)
