"""TaskSpec (what a Timer runs), Measurement (the times it took, their statistics and report) and the number
formatting that Compare shares.

PyTorch computes the unit, significant-figure and trimming decisions on default-dtype (float32) tensors; the
helpers here round through float32 at the same points, so the decisions fall on the same side of a boundary.
"""
import collections
import contextlib
import dataclasses
import math
import textwrap

import torch_js

__all__ = ["TaskSpec", "Measurement", "select_unit", "unit_to_english", "trim_sigfig", "ordered_unique",
           "set_torch_threads"]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9   # 25 ns: no measurement is trusted to be finer than this

_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25

_SKIP_LINE = "\0skip"   # marks a repr line left out (IQR of fewer than 4 measurements)


def _f32(x):
    """x rounded to float32, as torch.tensor(x) stores a Python float."""
    try:
        return torch_js._dtype.round_float32(x)
    except OverflowError:
        return math.copysign(math.inf, x)


def _log10_f32(x):
    """torch.tensor(x).log10().item(): -inf at 0, nan below."""
    x = _f32(x)
    if x > 0:
        return _f32(math.log10(x))
    return -math.inf if x == 0 else math.nan


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """What a Timer measures and how its results are labelled (everything but its globals)."""
    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self):
        """The label (else the one-line stmt), with the sub_label; a multi-line stmt is shown indented."""
        sub = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + sub
        if "\n" not in self.stmt:
            return self.stmt + sub
        return f"stmt:{f' ({self.sub_label})' if self.sub_label else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self):
        if not self.setup or self.setup == "pass":
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self):
        """The task's lines of a Measurement's repr: title, description, setup (a multi-line one set off)."""
        sections = [s for s in (self.title, self.description or "", self.setup_str()) if s]
        return "\n".join(s + "\n" if "\n" in s else s for s in sections)


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _quantile(sorted_values, q):
    """torch.quantile(..., interpolation="linear") of already sorted values."""
    position = q * (len(sorted_values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(sorted_values) - 1)
    low, high, weight = sorted_values[below], sorted_values[above], position - below
    # torch.lerp's two-sided form: exact at both ends
    return low + weight * (high - low) if weight < 0.5 else high - (high - low) * (1 - weight)


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """One or more timings of a statement: raw_times are seconds per block of number_per_run runs.

    The statistics (median, mean, iqr...) are per run; the task's fields (stmt, label, num_threads...) read through.
    """
    number_per_run: int
    raw_times: list
    task_spec: TaskSpec
    metadata: dict | None = None   # the user's own payload

    def __post_init__(self):
        self._sorted_times = ()
        self._warnings = ()
        self._median = self._mean = self._p25 = self._p75 = -1.0

    def __getattr__(self, name):
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        self._lazy_init()
        return self._median

    @property
    def mean(self):
        self._lazy_init()
        return self._mean

    @property
    def iqr(self):
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self):
        """Digits of the median that the spread of the middle half of the times supports (1 to 4): a 90%
        confidence interval (z = 1.645) of the interquartile points, at least 25 ns."""
        self._lazy_init()
        n = len(self._sorted_times)
        middle = [_f32(t) for t in self._sorted_times[n // 4:math.ceil(_f32(3 * n / 4))]]
        mean = sum(middle) / len(middle)
        std = _f32(math.sqrt(sum((t - mean) ** 2 for t in middle) / len(middle)))
        confidence_interval = max(1.645 * std / _f32(math.sqrt(len(middle))), _MIN_CONFIDENCE_INTERVAL)
        figures = math.floor(_log10_f32(self._median / confidence_interval))
        return min(max(figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self):
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self):
        if not self.raw_times or self._sorted_times:
            return
        self._sorted_times = tuple(sorted(self.times))
        self._median = _quantile(self._sorted_times, 0.5)
        self._mean = sum(self._sorted_times) / len(self._sorted_times)
        self._p25 = _quantile(self._sorted_times, 0.25)
        self._p75 = _quantile(self._sorted_times, 0.75)
        if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
            self._add_warning("This suggests significant environmental influence.")
        elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
            self._add_warning("This could indicate system fluctuation.")

    def _add_warning(self, msg):
        relative_iqr = self.iqr / self.median * 100
        self._warnings += (f"  WARNING: Interquartile range is {relative_iqr:.1f}% of the median measurement.\n"
                           f"           {msg}",)

    def meets_confidence(self, threshold=_IQR_WARN_THRESHOLD):
        return self.iqr / self.median < threshold

    @property
    def title(self):
        return self.task_spec.title

    @property
    def env(self):
        return self.task_spec.env

    @property
    def as_row_name(self):
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self):
        """<...Measurement object at 0x...>, the task, then median, IQR and counts, e.g.

              batched_dot_mul_sum(x, x)
              setup: from __main__ import batched_dot_mul_sum
              Median: 5.73 us
              IQR:    2.25 us (4.01 to 6.26)
              372 measurements, 100 runs per measurement, 1 thread
              WARNING: Interquartile range is 39.4% of the median measurement.
                       This suggests significant environmental influence.
        """
        self._lazy_init()
        n = len(self._sorted_times)
        unit, scale = select_unit(self._median)
        several = n > 1
        lines = [
            object.__repr__(self),
            self.task_spec.summarize(),
            f"  {'Median: ' if several else ''}{self._median / scale:.2f} {unit}",
            f"  {'' if n >= 4 else _SKIP_LINE}IQR:    {self.iqr / scale:.2f} {unit} "
            f"({self._p25 / scale:.2f} to {self._p75 / scale:.2f})",
            f"  {n} measurement{'s' if several else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if several else ','} {self.num_threads} thread{'s' if self.num_threads > 1 else ''}",
            "\n".join(self._warnings),
        ]
        text = "\n".join(lines).strip()
        return "\n".join(line for line in text.splitlines() if _SKIP_LINE not in line)

    @staticmethod
    def merge(measurements):
        """One Measurement per TaskSpec, its times all the replicates' per-run times (number_per_run=1, no
        metadata, which may differ between replicates)."""
        grouped = collections.defaultdict(list)
        for m in measurements:
            grouped[m.task_spec].extend(m.times)
        return [Measurement(number_per_run=1, raw_times=times, task_spec=spec, metadata=None)
                for spec, times in grouped.items()]


_UNIT_SCALE = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}


def select_unit(t):
    """The unit that shows t (seconds) with 1 to 3 leading digits, and its size in seconds."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(_log10_f32(t) // 3), "s")
    return unit, _UNIT_SCALE[unit]


def unit_to_english(u):
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x, n):
    """x rounded to n significant figures (3.14159, 2 -> 3.1), a float32 value as PyTorch's."""
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = int(math.ceil(_log10_f32(abs(x))))
    scale = 10 ** (magnitude - n)
    return _f32(round(_f32(x / scale)) * _f32(scale))   # a float32 tensor times a Python float: float32 math


def ordered_unique(elements):
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_torch_threads(n):
    prior = torch_js.get_num_threads()
    try:
        torch_js.set_num_threads(n)
        yield
    finally:
        torch_js.set_num_threads(prior)
