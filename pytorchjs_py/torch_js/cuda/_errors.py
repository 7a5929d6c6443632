"""The exceptions PyTorch's builds without CUDA raise, shared by torch_js.cuda and its submodules."""

NOT_COMPILED = "Torch not compiled with CUDA enabled"


def not_compiled():
    return AssertionError(NOT_COMPILED)


def no_cuda_runtime(name):
    # PyTorch's CPU wheels reach for a missing CUDA binding here, which raises AttributeError
    return AttributeError(f"torch.cuda.{name}(): {NOT_COMPILED} (this build has no CUDA runtime)")


def no_nvml():
    return ModuleNotFoundError("nvidia-ml-py does not seem to be installed or it can't be imported.")
