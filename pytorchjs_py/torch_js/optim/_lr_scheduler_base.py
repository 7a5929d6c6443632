"""LRScheduler, the base of torch_js.optim.lr_scheduler's schedulers, and the param-group helpers they share.

step() advances last_epoch and writes the new lr into each param group: get_lr() is the chainable form (from the lr
the group holds now), _closed_form_lrs() (where a class has one) the form step(epoch) jumps with. state_dict() is the
scheduler's __dict__ minus the optimizer, as in torch.
"""
import warnings
from functools import wraps
from weakref import ref

from .._tensor import Tensor
from .optimizer import Optimizer, _to_scalar

# Warning texts open with torch's sentence, since users silence them with filterwarnings(message=<prefix>).
_EPOCH_WARNING = ("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
                  "possible. Please use `scheduler.step()`; with an epoch, schedulers that have a closed form jump "
                  "to it instead of chaining from the current lr.")
_ORDER_WARNING = ("Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call optimizer.step() first: "
                  "otherwise the first value of the learning rate schedule is skipped.")
_OVERRIDE_WARNING = ("Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                     "initialization. Please, make sure to call `optimizer.step()` before `lr_scheduler.step()`.")


def _group_values(optimizer, key="lr"):
    # tensor values are cloned: a tensor lr is later updated in place with fill_()
    return [g[key].clone() if isinstance(g[key], Tensor) else g[key] for g in optimizer.param_groups]


def _set_group_value(group, key, value):
    if isinstance(group[key], Tensor):  # keep the same tensor object (the optimizer may hold references to it)
        group[key].fill_(_to_scalar(value))
    else:
        group[key] = value


def _per_group(name, optimizer, value):
    """One value per param group: a list/tuple must have one per group, a scalar is repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has {len(value)} "
                             f"values, param_groups has {n}.")
    else:
        value = [value] * n
    return [v.clone() if isinstance(v, Tensor) else v for v in value]


def _track_optimizer_step(optimizer):
    """Replace optimizer.step (on the instance) by a wrapper that records that it ran, so the scheduler can warn
    when its first step() comes before any optimizer step. A weak reference avoids an optimizer <-> wrapper cycle."""
    if hasattr(optimizer.step, "_wrapped_by_lr_sched"):
        return
    opt_ref, func = ref(optimizer), optimizer.step.__func__

    @wraps(func)
    def step(*args, **kwargs):
        opt = opt_ref()
        opt._opt_called = True
        return func.__get__(opt, opt.__class__)(*args, **kwargs)
    step._wrapped_by_lr_sched = True
    optimizer.step = step


class LRScheduler:
    # Instance flags while step() runs; class-level defaults for when it doesn't. (Once set on the instance they
    # appear in state_dict(), exactly as in torch.)
    _get_lr_called_within_step = False
    _is_initial = False   # True during the construction-time step that sets the epoch-0 lr

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:  # a fresh schedule starts from the optimizer's lr (unless a scheduler already set it)
            for group in optimizer.param_groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:  # resuming: base_lrs must come from the checkpointed optimizer
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler "
                                   "with last_epoch >= 0.\nLoad the optimizer's state_dict first, or pass "
                                   "last_epoch=-1 for a fresh run.")
        self.base_lrs = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _track_optimizer_step(optimizer)
        self._initial_step()

    def _initial_step(self):
        """Advance last_epoch to 0 (or resume one past it) and apply that lr; does not count as a user step."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    def get_last_lr(self):
        return self._last_lr

    def get_lr(self):
        """The chainable update. step() calls it; called directly it still computes (for the cyclic schedulers it
        even moves momentum) but warns that get_last_lr() is what was meant."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        return self._chained_lrs()

    def _chained_lrs(self):
        raise NotImplementedError

    def step(self, epoch=None):
        if self._step_count == 1:  # the first step after construction: check optimizer.step() ran before it
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(_OVERRIDE_WARNING, UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(_ORDER_WARNING, UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                lrs = self.get_lr()
            else:
                self.last_epoch = epoch
                lrs = self._closed_form_lrs() if hasattr(self, "_closed_form_lrs") else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer)

    # helpers for the chainable forms
    def _current_lrs(self):
        return _group_values(self.optimizer)

    def _scaled_lrs(self, factor):
        return [group["lr"] * factor for group in self.optimizer.param_groups]
