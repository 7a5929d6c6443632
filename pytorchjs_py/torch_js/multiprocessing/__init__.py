"""torch_js.multiprocessing (torch.multiprocessing): the queries of PyTorch's module, without processes.

torch_js runs in one process: a browser tab (Pyodide) cannot fork or spawn, and torch_js's tensors have no shared
memory to hand between processes. The same holds under CPython, so a program behaves alike on both: start methods
and sharing strategies are reported and can be set (checked as PyTorch and the standard library check them),
cpu_count() is the machine's, and whatever starts a process or needs one (Process, Pool, spawn, start_processes,
Queue, Manager, ...) raises a RuntimeError saying multiprocessing is not available. DataLoader's num_workers > 0
loads in the main process instead (torch_js.utils.data).
"""
import os
import sys

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies", "set_start_method",
           "get_start_method", "get_all_start_methods", "get_context", "cpu_count", "current_process",
           "parent_process", "active_children", "freeze_support", "spawn", "start_processes", "ProcessContext",
           "ProcessRaisedException", "ProcessExitedException", "ProcessError", "Process", "Pool", "Queue",
           "SimpleQueue", "JoinableQueue", "Manager", "Pipe", "Lock", "RLock", "Semaphore", "BoundedSemaphore",
           "Event", "Condition", "Barrier", "Value", "Array", "RawValue", "RawArray"]

_START_METHODS = ["fork", "spawn", "forkserver"]
_SHARING_STRATEGIES = {"file_descriptor", "file_system"}
_state = {"start_method": None, "sharing_strategy": "file_descriptor"}


def _unavailable(name):
    return RuntimeError(f"torch.multiprocessing.{name}: multiprocessing is not available in torch_js: a browser "
                        "(Pyodide) cannot start processes, and torch_js runs in a single process everywhere. Run "
                        "the work in this process (a DataLoader with num_workers > 0 loads in the main process).")


class ProcessError(Exception):
    pass


class ProcessRaisedException(ProcessError):
    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = error_pid


class ProcessExitedException(ProcessError):
    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = error_pid
        self.exit_code = exit_code
        self.signal_name = signal_name


def _refusing_class(name):
    class Refusing:
        def __init__(self, *args, **kwargs):
            raise _unavailable(name)
    Refusing.__name__ = Refusing.__qualname__ = name
    return Refusing


def _refusing_function(name):
    def refuse(*args, **kwargs):
        raise _unavailable(name)
    refuse.__name__ = refuse.__qualname__ = name
    return refuse


Process = _refusing_class("Process")
ProcessContext = _refusing_class("ProcessContext")
Pool = _refusing_class("Pool")
for _name in ("Queue", "SimpleQueue", "JoinableQueue", "Manager", "Pipe", "Lock", "RLock", "Semaphore",
              "BoundedSemaphore", "Event", "Condition", "Barrier", "Value", "Array", "RawValue", "RawArray"):
    globals()[_name] = _refusing_function(_name)


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    raise _unavailable("spawn")


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    raise _unavailable("start_processes")


def get_all_sharing_strategies():
    return set(_SHARING_STRATEGIES)


def get_sharing_strategy():
    return _state["sharing_strategy"]


def set_sharing_strategy(new_strategy):
    if new_strategy not in _SHARING_STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, expected one of {_SHARING_STRATEGIES}")
    _state["sharing_strategy"] = new_strategy


def get_all_start_methods():
    return list(_START_METHODS)


def _default_start_method():
    return "spawn" if sys.platform in ("win32", "darwin", "emscripten") else "fork"


def get_start_method(allow_none=False):
    if _state["start_method"] is None and not allow_none:
        _state["start_method"] = _default_start_method()
    return _state["start_method"]


def set_start_method(method, force=False):
    if _state["start_method"] is not None and not force:
        raise RuntimeError("context has already been set")
    if method is not None and method not in _START_METHODS:
        raise ValueError(f"cannot find context for {method!r}")
    _state["start_method"] = method


class _Context:
    """What get_context() returns: the start method's name, and the same refusals as the module."""

    def __init__(self, method):
        self._name = method

    def get_start_method(self, allow_none=False):
        return self._name

    def __getattr__(self, name):
        return globals()[name]


def get_context(method=None):
    if method is not None and method not in _START_METHODS:
        raise ValueError(f"cannot find context for {method!r}")
    return _Context(method or get_start_method())


def cpu_count():
    return os.cpu_count() or 1


class _CurrentProcess:
    name = "MainProcess"
    daemon = False

    @property
    def pid(self):
        return os.getpid()

    def __repr__(self):
        return f"<_MainProcess name='{self.name}' parent=None started>"


_MAIN = _CurrentProcess()


def current_process():
    return _MAIN


def parent_process():
    return None


def active_children():
    return []


def freeze_support():
    pass
