"""Compare: Measurements laid out as tables, one per label: a row per (num_threads, env, sub_label or stmt), a
column per description, each cell the median in the table's unit; rows are grouped under "N threads:" rules.
The layout is PyTorch's, character for character."""
import collections
import enum
import math

from . import common

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"

_SEPARATOR = "  |  "
_VARIANCE_NOTE = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100."


class Colorize(enum.Enum):
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _colored(segment, value, best_value):
    """The cell in green/blue when within 1%/10% of the best, dim red/red when 2x/5x slower."""
    if value <= best_value * 1.01 or value <= best_value + 100e-9:
        return BEST + BOLD + segment + TERMINATE * 2
    if value <= best_value * 1.1:
        return GOOD + BOLD + segment + TERMINATE * 2
    if value >= best_value * 5:
        return VERY_BAD + BOLD + segment + TERMINATE * 2
    if value >= best_value * 2:
        return BAD + segment + TERMINATE * 2
    return segment


class _ColumnFormat:
    """How one column writes its numbers: one width and one number of decimals for all its cells (the fewest any
    cell's significant figures allow when trimming, else 1), and the "(! XX%)" variance note where asked."""

    def __init__(self, cells, time_scale, trim_significant_figures, highlight_warnings):
        present = [m for m in cells if m is not None]
        self._trim = trim_significant_figures
        self._highlight = highlight_warnings and any(m.has_warnings for m in present)
        leading_digits = [int(math.ceil(common._log10_f32(m.median / time_scale))) for m in present]
        decimals = (min(max(m.significant_figures - digits, 0) for m, digits in zip(present, leading_digits))
                    if trim_significant_figures else 1)
        width = max(leading_digits) + decimals + (1 if decimals else 0)
        self._template = f"{{:>{width}.{decimals}f}}{{:>{7 if self._highlight else 0}}}"

    def cell(self, value, significant_figures, spread):
        """value (in the table's unit) written out; None: blanks as wide as a number."""
        if value is None:
            return " " * len(self.cell(1, significant_figures, None))
        if self._trim:
            value = common.trim_sigfig(value, significant_figures)
        note = f" (! {spread * 100:.0f}%)" if self._highlight and spread is not None else ""
        return self._template.format(value, note)


class _Table:
    """The Measurements of one label as rows (num_threads, env, row name) by columns (description)."""

    def __init__(self, results, colorize, trim_significant_figures, highlight_warnings):
        if len({m.label for m in results}) != 1:
            raise AssertionError("All results must share the same label")
        self.results = results
        self.label = results[0].label
        self.colorize = colorize
        self.highlight_warnings = highlight_warnings
        self.time_unit, self.time_scale = common.select_unit(min(m.median for m in results))

        row_keys = common.ordered_unique(self._row_key(m) for m in results)
        row_keys.sort(key=lambda key: key[:2])   # by threads then env; statements keep their order
        self.column_keys = common.ordered_unique(m.description for m in results)
        row_index = {key: i for i, key in enumerate(row_keys)}
        column_index = {key: j for j, key in enumerate(self.column_keys)}
        self.grid = [[None] * len(self.column_keys) for _ in row_keys]
        for m in results:
            self.grid[row_index[self._row_key(m)]][column_index[m.description]] = m

        # a thread count starts a group of rows (under its "N threads:" rule); env shows where it changes
        envs = {m.env for m in results}
        self.render_env = len(envs) > 1
        self.env_width = max(len(env) for env in envs) if self.render_env else 0
        self.row_group, self.thread_rule, self.show_env = [], [], []
        prior_threads, prior_env = -1, ""
        for num_threads, env, _ in row_keys:
            new_group = num_threads != prior_threads
            if new_group:
                prior_threads, prior_env = num_threads, ""
            self.row_group.append((self.row_group[-1] if self.row_group else -1) + new_group)
            self.thread_rule.append(num_threads if new_group else None)
            self.show_env.append(self.render_env and env != prior_env)
            prior_env = env

        self.formats = [
            _ColumnFormat([row[j] for row in self.grid], self.time_scale, trim_significant_figures, highlight_warnings)
            for j in range(len(self.column_keys))]

    @staticmethod
    def _row_key(m):
        return m.num_threads, m.env, m.as_row_name

    def _row_strings(self, i):
        row = self.grid[i]
        first = next(m for m in row if m is not None)
        env = (f"({first.env})" if self.show_env[i] else "").ljust(self.env_width + 4)
        strings = ["  " + env + first.as_row_name]
        for m, fmt in zip(row, self.formats):
            if m is None:
                strings.append(fmt.cell(None, 1, None))
            else:
                strings.append(fmt.cell(m.median / self.time_scale, m.significant_figures,
                                        m.iqr / m.median if m.has_warnings else None))
        return strings

    def _best_medians(self, i):
        """The median each cell of row i is coloured against: the row's best, or its column's best in its group."""
        if self.colorize == Colorize.ROWWISE:
            best = min(m.median for m in self.grid[i] if m is not None)
            return [best] * len(self.column_keys)
        if self.colorize == Colorize.COLUMNWISE:
            group = [r for r, g in zip(self.grid, self.row_group) if g == self.row_group[i]]
            return [min((r[j].median for r in group if r[j] is not None), default=None)
                    for j in range(len(self.column_keys))]
        return [None] * len(self.column_keys)

    def render(self):
        string_rows = [[""] + self.column_keys] + [self._row_strings(i) for i in range(len(self.grid))]
        num_columns = max(len(r) for r in string_rows)
        for r in string_rows:
            r.extend([""] * (num_columns - len(r)))
        widths = [max(len(s) for s in column) for column in zip(*string_rows)]
        header = _SEPARATOR.join(s.center(w) for s, w in zip(string_rows[0], widths))
        lines = [header]
        for i, strings in enumerate(string_rows[1:]):
            if self.thread_rule[i] is not None:
                lines.append(f"{self.thread_rule[i]} threads: ".ljust(len(header), "-"))
            cells = [strings[0].ljust(widths[0])]
            for s, w, m, best in zip(strings[1:], widths[1:], self.grid[i], self._best_medians(i)):
                s = s.center(w)
                if self.colorize != Colorize.NONE and m is not None and best is not None:
                    s = _colored(s, m.median, best)
                cells.append(s)
            lines.append(_SEPARATOR.join(cells))

        title = f" {self.label or ''} ".center(len(header) - 2, "-")
        variance_note = (_VARIANCE_NOTE + "\n" if self.highlight_warnings and any(m.has_warnings for m in self.results)
                         else "")
        return (f"[{title}]\n" + "\n".join(lines) + "\n\n"
                f"Times are in {common.unit_to_english(self.time_unit)}s ({self.time_unit}).\n" + variance_note)


class Compare:
    """Measurements shown as formatted tables (one per label), by print() or str().

    Replicates of one task (same TaskSpec) are merged first. See
    https://pytorch.org/tutorials/recipes/recipes/benchmark.html
    """

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        """Add Measurements to those already held."""
        for r in results:
            if not isinstance(r, common.Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Write each number with only the digits its measurement supports."""
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        """Colour cells against the best of their column (default) or of their row."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Mark cells whose measurement has a wide IQR with "(! XX%)"."""
        self._highlight_warnings = True

    def print(self):
        print(str(self))

    def _render(self):
        by_label = collections.defaultdict(list)
        for m in common.Measurement.merge(self._results):
            by_label[m.label].append(m)
        return [_Table(group, self._colorize, self._trim_significant_figures, self._highlight_warnings).render()
                for group in by_label.values()]
