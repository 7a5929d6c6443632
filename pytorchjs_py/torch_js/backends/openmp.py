"""torch.backends.openmp: torch_js's CPU kernels are single-threaded (no OpenMP, in CPython or in wasm)."""

__all__ = ["is_available"]


def is_available():
    return False
