"""torch_js.optim.swa_utils: stochastic weight averaging (SWA) and exponential moving averages (EMA) of a model's
weights -- AveragedModel, the averaging functions it takes, update_bn and the SWALR schedule -- as in PyTorch.

The default (SWA) average is computed tensor by tensor as avg + (new - avg) / (n + 1), which is what torch does for
CPU tensors; the *_multi_avg_fn functions update whole lists in place with lerp, like torch's foreach path."""
import itertools
import math
from copy import deepcopy

from .. import _dtype as D
from .._grad_mode import no_grad
from .._tensor import Tensor
from ..nn.modules.batchnorm import _BatchNorm
from ..nn.modules.module import Module
from ..ops.creation import tensor
from ._lr_scheduler_base import LRScheduler, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _is_float_like(t):
    return t.is_floating_point() or t.is_complex()


def get_ema_multi_avg_fn(decay=0.999):
    """In-place EMA over lists of tensors: ema = decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if _is_float_like(ema_param_list[0]):
            for ema, current in zip(ema_param_list, current_param_list, strict=True):
                ema.lerp_(current, 1 - decay)
        else:   # lerp needs floating tensors
            for ema, current in zip(ema_param_list, current_param_list, strict=True):
                ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """In-place running mean over lists of tensors, given how many models are already averaged in."""

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _is_float_like(averaged_param_list[0]):
            # 1 / (n + 1) as torch computes it: for a tensor n, a float32 reciprocal
            weight = (num_averaged + 1).reciprocal() if isinstance(num_averaged, Tensor) else 1 / (num_averaged + 1)
            for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
                averaged.lerp_(current, weight.item() if isinstance(weight, Tensor) else weight)
        else:
            for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
                diff = current - averaged
                if isinstance(num_averaged, Tensor):
                    averaged.addcdiv_(diff, num_averaged + 1)
                else:
                    averaged.add_(diff, alpha=1.0 / (num_averaged + 1))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """EMA of one tensor, returned (not in place): decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """Running mean of one tensor, returned (not in place): avg + (current - avg) / (n + 1)."""

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _group_by_device_and_dtype(pairs):
    """{(device, dtype): ([averaged...], [current...])} in order of first appearance."""
    groups = {}
    for averaged, current in pairs:
        lists = groups.setdefault((averaged.device, averaged.dtype), ([], []))
        lists[0].append(averaged)
        lists[1].append(current)
    return groups


class AveragedModel(Module):
    """A deep copy of `model` whose parameters (and, with use_buffers=True, buffers) hold a running average of the
    model's, updated by update_parameters(model). The average is an equal-weight mean (SWA) unless avg_fn (one
    tensor at a time, returning the new average) or multi_avg_fn (lists, updated in place) is given, e.g.
    get_ema_multi_avg_fn(0.999). forward() runs the averaged copy."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=D.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        if self.use_buffers:
            ours = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:   # self.parameters() is the copy's parameters (n_averaged is a buffer)
            ours, theirs = self.parameters(), model.parameters()
        pairs = [(mine.detach(), other.detach().to(mine.device)) for mine, other in zip(ours, theirs)]
        if bool(self.n_averaged == 0):   # the first model is copied, not averaged
            for mine, other in pairs:
                mine.copy_(other)
        elif self.avg_fn is not None:
            for mine, other in pairs:
                mine.copy_(self.avg_fn(mine, other, self.n_averaged.to(mine.device)))
        else:
            for (device, _), (mine_list, other_list) in _group_by_device_and_dtype(pairs).items():
                n_averaged = self.n_averaged.to(device)
                if self.multi_avg_fn is not None:
                    self.multi_avg_fn(mine_list, other_list, n_averaged)
                else:   # torch's CPU path: the single-tensor SWA mean
                    swa = get_swa_avg_fn()
                    for mine, other in zip(mine_list, other_list):
                        mine.copy_(swa(mine, other, n_averaged))
        if not self.use_buffers:   # buffers (e.g. BatchNorm statistics) are copied from the model, not averaged
            for ours_b, theirs_b in zip(self.module.buffers(), model.buffers(), strict=True):
                ours_b.detach().copy_(theirs_b.detach().to(ours_b.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the BatchNorm running statistics of `model` with one pass over `loader` (a batch is a tensor, or a
    list/tuple whose first element is the input): they are reset, then accumulated as a plain average."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None   # momentum=None: cumulative moving average over all batches
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr to its swa_lr over anneal_epochs steps ('cos' or 'linear'), then holds it there.
    Chainable: each step interpolates from the lr the group holds now."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for value, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        # the lr the annealing started from, recovered from the current lr and the previous step's weight
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def _chained_lrs(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        alpha = self.anneal_func(max(0, min(1, step / span)))
        groups = self.optimizer.param_groups
        start_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, start_lrs, strict=True)]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
