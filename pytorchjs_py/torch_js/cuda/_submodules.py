"""torch.cuda's submodules (nccl, nvtx, profiler, memory, random, ...) as PyTorch's CPU wheels have them, declared in
one table: `import torch.cuda.nccl as nccl` works, nccl.is_available(tensors) is False, and what needs CUDA raises
the exception a build without CUDA raises. memory, random, streams and graphs re-export torch.cuda's own functions.
"""
import contextlib
import importlib.machinery
import sys
import types
import warnings

from ._errors import no_cuda_runtime as _no_cuda_runtime, not_compiled as _not_compiled


# ---- torch.cuda.nccl: NCCL's collectives over CUDA tensors ---------------------------------------------------------

SUM = 0


def is_available(tensors):
    warnings.warn("PyTorch is not compiled with NCCL support", stacklevel=2)
    return False


def _nccl_collective(name):
    def collective(inputs, *args, **kwargs):
        if isinstance(inputs, (str, bytes)) or not hasattr(inputs, "__iter__"):
            raise TypeError("Inputs should be a collection of tensors")
        raise _no_cuda_runtime(f"nccl.{name}")
    collective.__name__ = collective.__qualname__ = name
    return collective


def _nccl_call(name):
    def call(*args, **kwargs):
        raise _no_cuda_runtime(f"nccl.{name}")
    call.__name__ = call.__qualname__ = name
    return call


_NCCL = {"SUM": SUM, "is_available": is_available,
         **{n: _nccl_collective(n) for n in ("all_reduce", "reduce", "broadcast", "all_gather", "reduce_scatter")},
         **{n: _nccl_call(n) for n in ("version", "unique_id", "init_rank")}}


# ---- torch.cuda.nvtx: NVIDIA's profiler ranges -----------------------------------------------------------------------

def _nvtx_missing():
    return RuntimeError("NVTX functions not installed. Are you sure you have a CUDA build?")


def _nvtx_call(name):
    def call(*args, **kwargs):
        raise _nvtx_missing()
    call.__name__ = call.__qualname__ = name
    return call


@contextlib.contextmanager
def _nvtx_range(msg, *args, **kwargs):
    raise _nvtx_missing()
    yield


_nvtx_range.__name__ = _nvtx_range.__qualname__ = "range"
_NVTX = {"range": _nvtx_range, **{n: _nvtx_call(n) for n in ("range_push", "range_pop", "range_start", "range_end",
                                                        "mark")}}


# ---- torch.cuda.profiler, tunable, gds, jiterator, sparse ----------------------------------------------------------

def _refusing(name, error):
    def refuse(*args, **kwargs):
        raise error()
    refuse.__name__ = refuse.__qualname__ = name
    return refuse


@contextlib.contextmanager
def profile():
    raise _not_compiled()
    yield


_PROFILER = {"profile": profile, **{n: _refusing(n, _not_compiled) for n in ("start", "stop")}}

_TUNABLE = {n: _refusing(n, lambda n=n: _no_cuda_runtime(f"tunable.{n}")) for n in (
    "enable is_enabled tuning_enable tuning_is_enabled record_untuned_enable record_untuned_is_enabled "
    "set_max_tuning_duration get_max_tuning_duration set_max_tuning_iterations get_max_tuning_iterations "
    "set_filename get_filename get_results get_validators read_file tune_gemm_in_file mgpu_tune_gemm_in_file "
    "set_rotating_buffer_size get_rotating_buffer_size set_numerical_check_tolerances").split()}


def _gds_unsupported(name):
    return lambda: RuntimeError(f"torch._C._{name} is not supported on this platform")


class GdsFile:
    """A file read and written by GPUDirect Storage straight to CUDA memory: needs CUDA and cuFile."""

    def __init__(self, filename, flags):
        raise _gds_unsupported("gds_register_handle")()


_GDS = {"GdsFile": GdsFile, **{n: _refusing(n, _gds_unsupported(n))
                               for n in ("gds_register_buffer", "gds_deregister_buffer")}}


class _JittedFunction:
    """A CUDA kernel compiled from C++ source at its first call, which needs CUDA's runtime compiler."""

    def __init__(self, code_string, **kwargs):
        self.code_string = code_string

    def __call__(self, *tensors, **kwargs):
        raise _not_compiled()


def _create_jit_fn(code_string, **kwargs):
    return _JittedFunction(code_string, **kwargs)


def _create_multi_output_jit_fn(code_string, num_outputs, **kwargs):
    return _JittedFunction(code_string, **kwargs)


def _sparse_type(name):
    def __new__(cls, *args, **kwargs):
        raise TypeError(f"type torch.cuda.sparse.{name} not available. Torch not compiled with CUDA enabled.")
    return type(name, (), {"__new__": __new__, "__module__": "torch.cuda.sparse", "is_cuda": True,
                           "is_sparse": True})


_SPARSE = {n: _sparse_type(n) for n in ("BFloat16Tensor ByteTensor CharTensor DoubleTensor FloatTensor HalfTensor "
                                         "IntTensor LongTensor ShortTensor").split()}


# ---- the table: submodule -> its names (a string: torch.cuda's own functions of those names) -----------------------

SUBMODULES = {
    "nccl": _NCCL,
    "nvtx": _NVTX,
    "profiler": _PROFILER,
    "tunable": _TUNABLE,
    "gds": _GDS,
    "jiterator": {"_create_jit_fn": _create_jit_fn, "_create_multi_output_jit_fn": _create_multi_output_jit_fn},
    "sparse": _SPARSE,
    "green_contexts": "GreenContext",
    "memory": ("caching_allocator_alloc caching_allocator_delete caching_allocator_disabled caching_allocator_enable "
               "get_per_process_memory_fraction set_per_process_memory_fraction empty_cache memory_stats "
               "memory_stats_as_nested_dict reset_accumulated_memory_stats reset_peak_memory_stats "
               "reset_max_memory_allocated reset_max_memory_cached host_memory_stats host_memory_stats_as_nested_dict "
               "reset_accumulated_host_memory_stats reset_peak_host_memory_stats memory_allocated "
               "max_memory_allocated memory_reserved max_memory_reserved memory_cached max_memory_cached "
               "memory_snapshot memory_summary list_gpu_processes mem_get_info get_allocator_backend "
               "CUDAPluggableAllocator change_current_allocator MemPool use_mem_pool"),
    "random": ("get_rng_state get_rng_state_all set_rng_state set_rng_state_all manual_seed manual_seed_all seed "
               "seed_all initial_seed"),
    "streams": "Stream ExternalStream Event",
    "graphs": "is_current_stream_capturing graph_pool_handle CUDAGraph graph make_graphed_callables",
}


def _install():
    cuda = sys.modules[__package__]
    for name, names in SUBMODULES.items():
        full_name = f"{__package__}.{name}"
        module = types.ModuleType(full_name, f"torch.cuda.{name} (torch_js: a build without CUDA).")
        module.__spec__ = importlib.machinery.ModuleSpec(full_name, None)
        members = {n: getattr(cuda, n) for n in names.split()} if isinstance(names, str) else names
        module.__dict__.update(members)
        module.__all__ = [n for n in members if not n.startswith("_")]
        sys.modules[full_name] = module
        setattr(cuda, name, module)
        if not name.startswith(("gds", "green")):   # the two torch.cuda.__all__ leaves out
            cuda.__all__.append(name)


_install()
