"""Timer: timeit.Timer made torch aware. It warms the statement up, runs it with the Timer's thread count, and its
default clock waits for the accelerator (WebGPU) before reading the time, so queued kernels are counted, as
PyTorch's waits for CUDA."""
import enum
import textwrap
import timeit

import torch_js

from .... import webgpu as _webgpu
from . import common

__all__ = ["Timer", "timer", "Language"]


def timer():
    """timeit's clock, read once the webgpu device's queued work is done (on any adapter: a software one is no
    accelerator, but the statement may still use the device)."""
    if _webgpu.is_initialized():
        _webgpu.synchronize()
    return timeit.default_timer()


class Language(enum.Enum):
    PYTHON = 0
    CPP = 1


_NO_CALLGRIND = ("collect_callgrind() counts instructions under valgrind, which torch_js cannot run: there is no "
                 "valgrind in a browser or WebAssembly runtime. Use blocked_autorange() or adaptive_autorange() "
                 "for wall-clock times.")


def _strip_block(code):
    """Dedented, without the first newline of a block string and trailing space: what runs, and what repr shows."""
    code = textwrap.dedent(code)
    return (code[1:] if code.startswith("\n") else code).rstrip()


class Timer:
    """Measures the time a Python statement takes, as torch.utils.benchmark.Timer.

    stmt runs after setup, in a namespace of globals (a copy, with `torch` added unless given); label, sub_label,
    description and env name the results in a Compare table; num_threads is the torch thread count while timing.
    See https://pytorch.org/tutorials/recipes/recipes/benchmark.html
    """

    _timer_cls = timeit.Timer

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=timer, globals=None, label=None,
                 sub_label=None, description=None, env=None, num_threads=1, language=Language.PYTHON):
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        self._globals = dict(globals or {})   # a copy: exec adds __builtins__, and the caller's dict stays theirs
        if language in (Language.PYTHON, "py", "python"):
            self._globals.setdefault("torch", torch_js)
            self._language = Language.PYTHON
            if global_setup:
                raise ValueError(f"global_setup is C++ only, got `{global_setup}`. Most likely this code can simply "
                                 "be moved to `setup`.")
        elif language in (Language.CPP, "cpp", "c++"):
            raise NotImplementedError("Timer(language='cpp') compiles the statement as C++, which torch_js cannot "
                                      "do: there is no C++ compiler or libtorch in a browser. Time Python statements.")
        else:
            raise ValueError(f"Invalid language `{language}`.")

        stmt, setup = _strip_block(stmt), _strip_block(setup)
        self._timer = self._timer_cls(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = common.TaskSpec(stmt=stmt, setup=setup, global_setup=global_setup, label=label,
                                          sub_label=sub_label, description=description, env=env,
                                          num_threads=num_threads)

    def _timeit(self, number):
        # at least 1 ns: no real statement is faster, and a zero would divide by zero downstream
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number=1000000):
        """One Measurement of `number` runs, after a warmup of number // 100 (at least 2)."""
        with common.set_torch_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return common.Measurement(number_per_run=number, raw_times=[self._timeit(number=number)],
                                      task_spec=self._task_spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback=None):
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _measurement_loop(self, number, stop_hook, min_run_time, max_run_time=None, callback=None):
        """Blocks of `number` runs until min_run_time has passed and stop_hook agrees, or max_run_time has passed."""
        total_time, can_stop, times = 0.0, False, []
        with common.set_torch_threads(self._task_spec.num_threads):
            while total_time < min_run_time or not can_stop:
                time_spent = self._timeit(number)
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time):
        """Runs per block (a power of 10) for the timer's own overhead to be negligible; doubles as the warmup."""
        with common.set_torch_threads(self._task_spec.num_threads):
            overhead = sorted(self._timeit(0) for _ in range(5))[2]
            number = 1
            while True:
                time_taken = self._timeit(number)
                if overhead / time_taken <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time or number * 10 > 2147483647:
                    break
                number *= 10
        return number

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        """Blocks of runs (sized so the timer's overhead does not count) until at least min_run_time seconds."""
        number = self._estimate_block_size(min_run_time)
        times = self._measurement_loop(number, lambda times: True, min_run_time=min_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0, callback=None):
        """Blocks of runs until the IQR is under threshold * median (after more than 3 blocks and min_run_time),
        or max_run_time seconds have passed."""
        number = self._estimate_block_size(min_run_time=0.05)

        def confident(times):
            return len(times) > 3 and common.Measurement(
                number_per_run=number, raw_times=times, task_spec=self._task_spec).meets_confidence(threshold)

        times = self._measurement_loop(number, confident, min_run_time, max_run_time, callback=callback)
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def collect_callgrind(self, number=100, *, repeats=None, collect_baseline=True, retain_out_file=False):
        """Instruction counts under valgrind's Callgrind: not available in a browser (raises OSError, as PyTorch
        does where valgrind is missing)."""
        if repeats is not None and repeats < 1:
            raise ValueError("If specified, `repeats` must be >= 1")
        self._timeit(1)   # a faulty stmt or setup reports its own error first, as in PyTorch
        raise OSError(_NO_CALLGRIND)
