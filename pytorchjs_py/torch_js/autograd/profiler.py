"""torch.autograd.profiler: time every op call, and record_function ranges, while a profiler is on.

How ops are timed: every declared op reaches the public API through ops/_api.guard, whose wrapper reads one module
global, `ops._api.PROFILER`, None unless a profiler is recording; while one is, the wrapper brackets the call with
PROFILER.begin(...) / PROFILER.end(...), wall-clock (time.perf_counter_ns). The Tensor operators (x + y, x @ w, -x,
comparisons), which do not pass through the op wrappers, are wrapped on the Tensor class for the recording's
duration only. Ops that call other ops internally call the undecorated functions, so an event's children are the
ops and ranges the program itself called inside it. With profile_memory, the backends' alloc is wrapped for the
duration too, and each allocation's release (a finalizer on its storage) is counted against the events open then.
Nothing is recorded, and the op path costs one global read, when no profiler is on.

Events are named as PyTorch names them: "aten::<op>" (linalg/special/fft ops as aten::linalg_<op> & co.), the
record_function name for ranges, "ProfilerStep*" for torch.profiler's steps.
"""
import contextlib
import os
import re
import threading
import time
import traceback
import weakref

from .._storage import device
from .._tensor import Tensor
from ..ops import _api
from .profiler_util import EventList, FunctionEvent

__all__ = ["profile", "record_function", "EventList", "FunctionEvent", "emit_nvtx", "emit_itt", "load_nvprof"]

_perf_ns = time.perf_counter_ns
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _thread_id():
    get = getattr(threading, "get_native_id", None)
    return get() if get is not None else 1


def _shape_of(v):
    shape = getattr(v, "_shape", None)
    if shape is not None and hasattr(v, "_storage"):
        return list(shape)
    if isinstance(v, (list, tuple)) and v and all(hasattr(x, "_storage") for x in v):
        return [list(x._shape) for x in v]
    return []


def _user_stack():
    """`file(line): function` of the calling frames outside torch_js, innermost first (PyTorch's with_stack)."""
    frames = []
    for fs in reversed(traceback.extract_stack()):
        if not os.path.abspath(fs.filename).startswith(_PACKAGE_DIR):
            frames.append(f"{fs.filename}({fs.lineno}): {fs.name}")
    return frames


class _Raw:
    """An open or closed event while recording."""
    __slots__ = ("id", "name", "start", "end", "parent", "children", "shapes", "stack", "alloc", "self_alloc",
                 "annotation")

    def __init__(self, id, name, start, parent, shapes, stack, annotation):
        self.id = id
        self.name = name
        self.start = start
        self.end = None
        self.parent = parent
        self.children = []
        self.shapes = shapes
        self.stack = stack
        self.alloc = 0          # bytes allocated minus bytes released while open, children included
        self.self_alloc = 0     # ... outside its children
        self.annotation = annotation


class Recording:
    """One recording: the events of the op calls and ranges between start() and stop()."""

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.events = []        # every event begun, in begin order
        self.open = []          # the events begun and not ended, outermost first
        self.memory_events = []  # (ts_us, bytes, total allocated) per allocation/release, for the Chrome trace
        self.allocated = 0
        self.start_ns = self.wall_start_ns = 0
        self.thread = _thread_id()
        self._finalizers = []
        self._wrapped_backends = []
        self._saved_operators = {}
        self.recording = False

    # ---- events ------------------------------------------------------------------------------------------------
    def begin(self, name, args=(), kwargs=None, annotation=False):
        parent = self.open[-1] if self.open else None
        shapes = None
        if self.record_shapes and not annotation:
            shapes = [_shape_of(a) for a in args]
            if kwargs:
                shapes += [_shape_of(v) for v in kwargs.values()]
        raw = _Raw(len(self.events) + 1, name, 0, parent, shapes, _user_stack() if self.with_stack else None,
                   annotation)
        self.events.append(raw)
        if parent is not None:
            parent.children.append(raw)
        self.open.append(raw)
        raw.start = _perf_ns()
        return raw

    def end(self, raw):
        raw.end = _perf_ns()
        # the innermost open event, except when a record_function's exit is out of order (then it is found and
        # everything opened inside it closes with it)
        while self.open:
            top = self.open.pop()
            if top is raw:
                break
            top.end = raw.end

    # ---- memory ------------------------------------------------------------------------------------------------
    def _count(self, nbytes):
        self.allocated += nbytes
        self.memory_events.append(((_perf_ns() - self.start_ns) / 1e3, nbytes, self.allocated))
        if self.open:
            self.open[-1].self_alloc += nbytes
            for raw in self.open:
                raw.alloc += nbytes

    def _released(self, nbytes):
        if self.recording:
            self._count(-nbytes)

    def _wrap_alloc(self, backend):
        original = backend.alloc

        def alloc(nbytes):
            storage = original(nbytes)
            self._count(nbytes)
            self._finalizers.append(weakref.finalize(storage, self._released, nbytes))
            return storage
        backend.alloc = alloc   # an instance attribute over the class's method, deleted at stop
        self._wrapped_backends.append(backend)

    # ---- start / stop ------------------------------------------------------------------------------------------
    def start(self):
        self.start_ns = _perf_ns()
        self.wall_start_ns = time.time_ns()
        if self.profile_memory:
            for backend in set(device._BACKENDS.values()):
                if "alloc" not in vars(backend):
                    self._wrap_alloc(backend)
        self._wrap_operators()
        self.outer = _api.PROFILER
        self.recording = True
        _api.PROFILER = self

    def stop(self):
        if _api.PROFILER is self:
            _api.PROFILER = self.outer
        self.recording = False
        end = _perf_ns()
        for raw in self.open:
            raw.end = end
        self.open = []
        for backend in self._wrapped_backends:
            del backend.alloc
        self._wrapped_backends = []
        for f in self._finalizers:
            f.detach()
        self._finalizers = []
        self._unwrap_operators()

    def _wrap_operators(self):
        for dunder, name in _OPERATORS.items():
            method = Tensor.__dict__.get(dunder)
            if method is None or getattr(method, "_profiled", False):
                continue
            self._saved_operators[dunder] = method
            setattr(Tensor, dunder, _profiled_operator(method, name))

    def _unwrap_operators(self):
        for dunder, method in self._saved_operators.items():
            setattr(Tensor, dunder, method)
        self._saved_operators = {}

    # ---- results -----------------------------------------------------------------------------------------------
    def function_events(self, use_device=None, with_flops=False):
        """The closed events as FunctionEvents (microseconds from the start), linked parent to child."""
        made = {}
        out = []
        for raw in self.events:
            if raw.end is None:
                continue
            name = _STEP.sub("ProfilerStep*", raw.name)
            evt = FunctionEvent(raw.id, name, self.thread, (raw.start - self.start_ns) / 1e3,
                                (raw.end - self.start_ns) / 1e3, input_shapes=raw.shapes, stack=raw.stack,
                                cpu_memory_usage=raw.alloc, self_cpu_memory_usage=raw.self_alloc,
                                is_user_annotation=raw.annotation, trace_name=raw.name)
            made[raw.id] = evt
            if raw.parent is not None and raw.parent.id in made:
                parent = made[raw.parent.id]
                evt.set_cpu_parent(parent)
                parent.append_cpu_child(evt)
            out.append(evt)
        return EventList(out, use_device=use_device, profile_memory=self.profile_memory, with_flops=with_flops,
                         trace=self)


_STEP = re.compile(r"^ProfilerStep#\d+$")

# the Tensor operators that bypass the op wrappers, and PyTorch's names for what they run (x @ y calls the matmul
# op's wrapper, which records it)
_OPERATORS = {
    "__add__": "aten::add", "__radd__": "aten::add", "__iadd__": "aten::add_", "__sub__": "aten::sub",
    "__rsub__": "aten::rsub", "__isub__": "aten::sub_", "__mul__": "aten::mul", "__rmul__": "aten::mul",
    "__imul__": "aten::mul_", "__truediv__": "aten::div", "__rtruediv__": "aten::div", "__itruediv__": "aten::div_",
    "__floordiv__": "aten::floor_divide", "__rfloordiv__": "aten::floor_divide", "__mod__": "aten::remainder",
    "__rmod__": "aten::remainder", "__pow__": "aten::pow", "__rpow__": "aten::pow", "__ipow__": "aten::pow_",
    "__neg__": "aten::neg", "__abs__": "aten::abs",
    "__lt__": "aten::lt", "__le__": "aten::le", "__gt__": "aten::gt", "__ge__": "aten::ge", "__eq__": "aten::eq",
    "__ne__": "aten::ne",
}


def _profiled_operator(method, name):
    def operator(*args):
        rec = _api.PROFILER
        if rec is None:
            return method(*args)
        raw = rec.begin(name, args)
        try:
            return method(*args)
        finally:
            rec.end(raw)
    operator._profiled = True
    operator.__name__ = getattr(method, "__name__", "operator")
    return operator


def active_recording():
    return _api.PROFILER


class record_function(contextlib.ContextDecorator):
    """A named range in the profile (a context manager or a decorator); nothing is recorded without a profiler."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self._raw = None
        self._rec = None

    def __enter__(self):
        rec = active_recording()
        if rec is not None:
            self._rec = rec
            self._raw = rec.begin(self.name, annotation=True)
        return self

    def __exit__(self, exc_type, exc_value, tb):
        if self.run_callbacks_on_exit and self._raw is not None:
            self._rec.end(self._raw)
        self._raw = self._rec = None
        return False

    def _call_end_callbacks_on_future(self, fut):
        """Ends the range when `fut` completes (at once for torch_js's Futures, which complete eagerly)."""
        if not self.run_callbacks_on_exit:
            raise RuntimeError("_call_end_callbacks_on_future can only be called once.")
        self.run_callbacks_on_exit = False
        raw, rec = self._raw, self._rec
        return fut.then(lambda f: (rec.end(raw) if raw is not None else None, f.wait())[1])


class profile:
    """torch.autograd.profiler.profile: records while the block runs; then function_events, key_averages(),
    table(), export_chrome_trace(), self_cpu_time_total (see the module docstring for what is timed)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None,
                 post_processing_timeout_s=None, activity_filters=None):
        self.enabled = enabled
        self.use_cuda = use_cuda
        self.use_device = None   # no device whose kernels are timed (see profiler_util)
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.entered = False
        self._recording = None
        self._function_events = None
        self._old_function_events = None

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start_trace()
        return self

    def _start_trace(self):
        self._recording = Recording(self.record_shapes, self.profile_memory, self.with_stack)
        self._recording.start()

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return False
        if self._function_events and self.acc_events:
            self._old_function_events = self._function_events
        self._recording.stop()
        events = self._recording.function_events(self.use_device, self.with_flops)
        if self._old_function_events and self.acc_events:
            events.extend(self._old_function_events)
            self._old_function_events = None
        self._function_events = events
        return False

    def _events(self):
        if self._function_events is not None:
            return self._function_events
        return EventList([], use_device=self.use_device, profile_memory=self.profile_memory)

    @property
    def function_events(self):
        return self._events()

    def __repr__(self):
        return "<unfinished torch.autograd.profile>" if self._function_events is None else repr(self._function_events)

    def __str__(self):
        return "<unfinished torch.autograd.profile>" if self._function_events is None else str(self._function_events)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        return self._events().table(sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
                                    max_name_column_width=max_name_column_width,
                                    max_shapes_column_width=max_shapes_column_width, header=header,
                                    top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path, metadata=None, use_python_export=False):
        return self._events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        return self._events().export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        return self._events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def total_average(self):
        return self._events().total_average()

    @property
    def self_cpu_time_total(self):
        return self._events().self_cpu_time_total


def _no_tool(name, tool):
    class Unavailable:
        def __init__(self, *args, **kwargs):
            raise RuntimeError(f"torch.autograd.profiler.{name} needs {tool}, which a browser does not have; use "
                               "torch.profiler.profile")
    Unavailable.__name__ = Unavailable.__qualname__ = name
    return Unavailable


emit_nvtx = _no_tool("emit_nvtx", "NVIDIA's NVTX (a CUDA build)")
emit_itt = _no_tool("emit_itt", "Intel's ITT (VTune)")


def load_nvprof(path):
    raise RuntimeError("torch.autograd.profiler.load_nvprof reads nvprof traces of CUDA runs; torch_js has no CUDA")

