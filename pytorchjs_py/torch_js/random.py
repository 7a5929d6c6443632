"""torch_js.random (torch.random): the default generator's seeding and state, and fork_rng.

torch_js draws every random number, for any device, from the CPU's default generator (ops/random.py), so forking
the CPU state forks all of it; a device module's own state (torch.cuda's, on a build without CUDA) is forked as
PyTorch forks it, and refuses as PyTorch's does.
"""
import contextlib

from . import accelerator
from ._generator import default_generator
from .ops.random import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng", "default_generator"]


def _device_module(device_type):
    """torch.<device_type> (torch.get_device_module's answer), None where torch has no such module."""
    import importlib
    module = getattr(importlib.import_module(__package__), device_type, None)
    if device_type == "webgpu" and module is not None:
        return _WebGPURng(module)
    return module


class _WebGPURng:
    """torch.webgpu's side of fork_rng: its draws come from the CPU generator, so there is no state of its own."""

    def __init__(self, module):
        self.module = module

    def device_count(self):
        return 1 if self.module.is_available() else 0

    def get_rng_state(self, device=None):
        return None

    def set_rng_state(self, state, device=None):
        pass



@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Restore the random state when the block exits: the CPU generator's, and that of `devices` of device_type
    (default: the accelerator's type, else "cuda"; every device when devices is None)."""
    if device_type == "meta":
        yield
        return
    acc = accelerator.current_accelerator()
    device_type = device_type or (acc.type if acc is not None else "cuda")
    device_mod = _device_module(device_type)
    if device_mod is None:
        raise RuntimeError(f"torch has no module of `{device_type}`, you should register a module by "
                           "`torch._register_device_module`.")
    if not enabled:
        yield
        return
    devices = list(range(device_mod.device_count())) if devices is None else list(devices)
    cpu_rng_state = get_rng_state()
    device_rng_states = [device_mod.get_rng_state(device) for device in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_rng_state)
        for device, state in zip(devices, device_rng_states):
            device_mod.set_rng_state(state, device)
