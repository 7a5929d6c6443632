"""torch_js.optim.lr_scheduler: PyTorch's learning-rate schedulers, same numbers and same state_dict.

Every epoch-based scheduler works in two modes, as in torch:
  * step()      -- the *chainable* form: the next lr is computed from the lr currently in each param group, so
                   several schedulers can drive one optimizer (their factors multiply);
  * step(epoch) -- deprecated; jumps straight to `epoch` with the *closed form* from base_lrs where the class has
                   one (_closed_form_lrs), else falls back to the chainable form.
state_dict() is the scheduler's __dict__ minus the optimizer, attribute names included, so checkpoints move between
torch and torch_js. This module is the public namespace; the schedulers live by kind in _lr_scheduler_base.py
(LRScheduler), _lr_epoch_schedules.py, _lr_cyclic.py, _lr_plateau.py and _lr_composite.py.
"""
from ._lr_composite import ChainedScheduler, SequentialLR
from ._lr_cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from ._lr_epoch_schedules import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR, MultiplicativeLR,
                                  MultiStepLR, PolynomialLR, StepLR)
from ._lr_plateau import ReduceLROnPlateau
from ._lr_scheduler_base import LRScheduler

_LRScheduler = LRScheduler  # old public name

__all__ = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
           "SequentialLR", "CosineAnnealingLR", "ChainedScheduler", "ReduceLROnPlateau", "CyclicLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "PolynomialLR", "LRScheduler"]
