"""torch.utils.benchmark: Timer (timeit made torch aware: warmup, thread count, accelerator synchronization),
Measurement (its statistics and report) and Compare (tables of many Measurements).

C++ statements, Callgrind instruction counts and the Fuzzer family are not here: a browser has no C++ compiler and
no valgrind; Timer(language="cpp") and collect_callgrind() raise saying so.
"""
from .utils.common import *  # noqa: F401,F403
from .utils.timer import *  # noqa: F401,F403
from .utils.compare import *  # noqa: F401,F403
