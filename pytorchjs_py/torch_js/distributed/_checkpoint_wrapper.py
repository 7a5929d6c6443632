"""torch.distributed.algorithms._checkpoint.checkpoint_wrapper: activation checkpointing as a module wrapper.

Nothing in it is distributed: CheckpointWrapper runs the wrapped module through torch.utils.checkpoint, so it works
in one process as in PyTorch. Its state_dict and named_parameters drop the wrapper's "_checkpoint_wrapped_module."
level, so a wrapped model saves and loads the keys of the unwrapped one.
"""
import enum
from functools import partial

from ..nn.modules.module import Module
from ..utils.checkpoint import checkpoint

__all__ = ["CheckpointImpl", "ActivationWrapper", "CheckpointWrapper", "checkpoint_wrapper",
           "apply_activation_checkpointing"]

_CHECKPOINT_WRAPPED_MODULE = "_checkpoint_wrapped_module"
_CHECKPOINT_PREFIX = _CHECKPOINT_WRAPPED_MODULE + "."


class CheckpointImpl(enum.Enum):
    REENTRANT = enum.auto()
    NO_REENTRANT = enum.auto()


def _replace_by_prefix(state_dict, old_prefix, new_prefix):
    for key in [k for k in state_dict if k.startswith(old_prefix)]:
        state_dict[new_prefix + key[len(old_prefix):]] = state_dict.pop(key)


class ActivationWrapper(Module):
    """Holds the wrapped module; attributes and indexing it lacks are looked up on the wrapped module."""

    def __init__(self, mod):
        super().__init__()
        self._checkpoint_wrapped_module = mod
        self._register_state_dict_hook(self._post_state_dict_hook)
        self.register_load_state_dict_pre_hook(self._pre_load_state_dict_hook)

    def forward(self, *args, **kwargs):
        raise ValueError("Subclasses should implement forward().")

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._checkpoint_wrapped_module, name)

    def __getitem__(self, key):
        return self._checkpoint_wrapped_module.__getitem__(key)

    def named_parameters(self, *args, **kwargs):
        for name, param in super().named_parameters(*args, **kwargs):
            yield name.replace(_CHECKPOINT_PREFIX, ""), param

    @staticmethod
    def _post_state_dict_hook(module, state_dict, prefix, *args):
        _replace_by_prefix(state_dict, prefix + _CHECKPOINT_PREFIX, prefix)
        return state_dict

    @staticmethod
    def _pre_load_state_dict_hook(module, state_dict, prefix, *args):
        _replace_by_prefix(state_dict, prefix, prefix + _CHECKPOINT_PREFIX)


class CheckpointWrapper(ActivationWrapper):
    def __init__(self, mod, checkpoint_impl=CheckpointImpl.NO_REENTRANT, checkpoint_fn=None, **checkpoint_fn_kwargs):
        super().__init__(mod)
        self.checkpoint_impl = checkpoint_impl
        if checkpoint_fn is None:
            self.checkpoint_fn = partial(checkpoint, use_reentrant=checkpoint_impl == CheckpointImpl.REENTRANT,
                                         **checkpoint_fn_kwargs)
        else:
            self.checkpoint_fn = partial(checkpoint_fn, **checkpoint_fn_kwargs)

    def forward(self, *args, **kwargs):
        if self.checkpoint_impl == CheckpointImpl.REENTRANT and kwargs:
            # the reentrant checkpoint passes positional inputs only: the keyword values ride at the end
            keys = tuple(kwargs)
            n_positional = len(args)

            def run_with_kwargs(*inputs):
                return self._checkpoint_wrapped_module(*inputs[:n_positional],
                                                       **dict(zip(keys, inputs[n_positional:])))
            return self.checkpoint_fn(run_with_kwargs, *args, *kwargs.values())
        return self.checkpoint_fn(self._checkpoint_wrapped_module, *args, **kwargs)


def checkpoint_wrapper(module, checkpoint_impl=CheckpointImpl.NO_REENTRANT, checkpoint_fn=None,
                       **checkpoint_fn_kwargs):
    """module wrapped so that each call recomputes its activations in backward (torch.utils.checkpoint)."""
    return CheckpointWrapper(module, checkpoint_impl, checkpoint_fn, **checkpoint_fn_kwargs)


def apply_activation_checkpointing(model, checkpoint_wrapper_fn=checkpoint_wrapper, check_fn=lambda _: True,
                                   auto_wrap_policy=None):
    """Replaces, in place, every submodule of model for which check_fn is true with checkpoint_wrapper_fn(it),
    innermost first (as PyTorch's recursive wrap does; model itself is not wrapped)."""
    if auto_wrap_policy is not None:
        raise NotImplementedError("apply_activation_checkpointing(auto_wrap_policy=...): torch_js supports "
                                  "check_fn only (auto-wrap policies belong to FSDP, which needs torch.distributed)")

    def wrap_children(module):
        for name, child in list(module.named_children()):
            wrap_children(child)
            if check_fn(child):
                setattr(module, name, checkpoint_wrapper_fn(child))
    wrap_children(model)
