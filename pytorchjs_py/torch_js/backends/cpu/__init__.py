"""The CPU backend: torch_js's primitives on the wasm_ext kernel library (native or wasm32, through ctypes).

One mixin per kernel family (the files beside this one), combined here into the class that implements
backends.interface.Backend. library.py loads the kernels; kernel_abi.py gives every argument layout.
"""
from ... import _dtype as D
from ..._storage import CPU, device
from ..interface import Backend
from .elementwise import CPUElementwise, CPUMemory
from .indexing import CPUIndexing
from .linalg import CPULinalg
from .nn import CPUNN
from .reduction import CPUGemm, CPUReductions
from .sorting import CPUSorting


class CPUBackend(CPUMemory, CPUElementwise, CPUReductions, CPUGemm, CPUIndexing, CPUNN, CPUSorting, CPULinalg,
                 Backend):
    name = "cpu"
    device = CPU
    wide_float = D.float64


BACKEND = CPUBackend()
device._BACKENDS["cpu"] = BACKEND
