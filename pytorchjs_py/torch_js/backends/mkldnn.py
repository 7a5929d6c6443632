"""torch.backends.mkldnn: oneDNN's switch. torch_js has no oneDNN (its CPU kernels are its own), so it is not
available; the `enabled` flag is kept for scripts that set it."""

__all__ = ["enabled", "is_available"]

enabled = True


def is_available():
    return False
