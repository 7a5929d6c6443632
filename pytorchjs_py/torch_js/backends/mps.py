"""torch.backends.mps: Apple's Metal device, which torch_js does not have (its GPU is "webgpu")."""

__all__ = ["is_available", "is_built"]


def is_available():
    return False


def is_built():
    return False
