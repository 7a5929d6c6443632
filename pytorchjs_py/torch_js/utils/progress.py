"""torch_js.utils.progress: a tqdm-compatible progress bar for sites and runtimes that have no tqdm (Pyodide).

    from torch_js.utils.progress import tqdm, trange     # the site's `tqdm` package re-exports these
    for epoch in (bar := trange(20, desc="training")):
        ...
        bar.set_postfix(loss=loss.item())

tqdm's calling convention and text format (`desc: 45%|████▌     | 9/20 [00:01<00:01,  8.00it/s, loss=0.123]`),
a subset of its options. In a notebook (IPython with a display, JupyterLite included) the bar is one HTML output
re-drawn in place (`display(..., display_id=True).update`, no widgets); elsewhere a `\\r`-updated line on `file`.
The default file is stdout, not tqdm's stderr: the notebooks and embeds of the torch_js site show stderr as errors.
Pure Python, no dependencies.
"""
import html
import os
import sys
import time

__all__ = ["tqdm", "trange", "TqdmKeyError"]


class TqdmKeyError(KeyError):
    """An unknown keyword argument (tqdm's exception type for it)."""


# tqdm's keyword arguments that change nothing here (terminal geometry, locking, GUI...)
_ACCEPTED_NOOPS = {"maxinterval", "miniters", "dynamic_ncols", "smoothing", "position", "lock_args", "nrows", "colour",
                   "write_bytes", "gui", "delay", "bar_format", "unit_divisor"}
_BLOCKS = " ▏▎▍▌▋▊▉█"

# The Interrupt button. JupyterLite's Pyodide kernel cannot stop running Python (no interrupt buffer: that needs a
# SharedArrayBuffer shared with the page, which its kernel does not set up; jupyterlite/jupyterlite#459). A bar in a
# JupyterLite notebook carries INTERRUPT_SCRIPT: when the Interrupt command runs, the page saves the file
# INTERRUPT_FILE at the root of the notebook contents, which the kernel sees under its /drive mount (a synchronous
# lookup through JupyterLite's service worker); update() looks at most every INTERRUPT_POLL_S and raises
# KeyboardInterrupt, so a loop with a bar stops within a second, as in Jupyter. On a cross-origin isolated page the
# site gives the kernel Pyodide's interrupt buffer (static/torch_js/kernel-interrupt.js: window.torchJsInterrupt),
# which stops any running Python; no flag is saved for such a kernel (one left behind would stop a later bar).
INTERRUPT_FILE = ".torch_js_interrupt"
INTERRUPT_POLL_S = 0.25
_DRIVE = "/drive"
INTERRUPT_SCRIPT = """<script>(() => {
  const app = window.jupyterapp;
  if (!app || window.__torchJsInterrupt) return;
  window.__torchJsInterrupt = true;
  app.commands.commandExecuted.connect((_, args) => {
    if (!/(^|:)interrupt(-kernel)?$/.test(args.id)) return;
    const w = app.shell.currentWidget;
    const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
    if (k && window.torchJsInterrupt && window.torchJsInterrupt.ready.has(k.id)) return;
    app.serviceManager.contents.save('%s', {type: 'file', format: 'text', content: 'interrupt'});
  });
})();</script>""" % INTERRUPT_FILE


def _interrupt_flag():
    """The flag file's path where the kernel has JupyterLite's contents at /drive (Pyodide), else None."""
    if sys.platform != "emscripten" or not os.path.isdir(_DRIVE):
        return None
    return os.path.join(_DRIVE, INTERRUPT_FILE)


def _take_flag(path):
    """True (and the flag removed) when the page asked for an interrupt."""
    try:
        os.remove(path)
    except OSError:   # no flag (the usual case), or the drive is gone
        return False
    return True


def _in_notebook():
    """IPython runs a kernel with a display (a notebook), not a terminal shell."""
    ipython = sys.modules.get("IPython")   # never imported here: a kernel has it loaded already
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except AttributeError:
        return False
    return shell is not None and type(shell).__name__ != "TerminalInteractiveShell"


def format_interval(seconds):
    """[H:]MM:SS, as tqdm.format_interval."""
    minutes, s = divmod(int(seconds), 60)
    h, m = divmod(minutes, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def format_num(n):
    """A number for a postfix, as tqdm.format_num: 3 significant digits unless str() is shorter."""
    f = f"{n:.3g}".replace("+0", "+").replace("-0", "-")
    n = str(n)
    return f if len(f) < len(n) else n


def _scaled(n, unit_scale):
    if not unit_scale:
        return str(n)
    for prefix in ("", "k", "M", "G", "T"):
        if abs(n) < 999.5:
            return f"{n:.3g}{prefix}" if prefix else (f"{n:.3g}" if isinstance(n, float) else str(n))
        n /= 1000
    return f"{n:.3g}P"


class tqdm:
    """A progress bar over an iterable, or updated by hand with update(n) (tqdm's API, a subset)."""

    def __init__(self, iterable=None, desc=None, total=None, leave=True, file=None, ncols=None, mininterval=0.1,
                 ascii=None, disable=False, unit="it", unit_scale=False, initial=0, postfix=None, notebook=None,
                 **kwargs):
        unknown = sorted(set(kwargs) - _ACCEPTED_NOOPS)
        if unknown:
            raise TqdmKeyError(f"Unknown argument(s): {dict((k, kwargs[k]) for k in unknown)}")
        if total is None and iterable is not None:
            try:
                total = len(iterable)
            except (TypeError, AttributeError):
                total = None
        if total == float("inf"):
            total = None
        self.iterable = iterable
        self.desc = desc or ""
        self.total = total
        self.leave = leave
        self.file = file
        self.ncols = ncols
        self.mininterval = mininterval
        self.ascii = ascii
        self.disable = disable
        self.unit = unit
        self.unit_scale = unit_scale
        self.n = self.last_print_n = initial
        self.postfix = ""
        self.start_t = self.last_print_t = time.monotonic()
        self._notebook = file is None and (_in_notebook() if notebook is None else notebook)
        self._handle = None
        self._width = 0
        self._closed = False
        self._flag = _interrupt_flag() if self._notebook and not disable else None
        if self._flag is not None:
            _take_flag(self._flag)   # an Interrupt pressed before this bar existed stopped nothing: forget it
        self._last_poll = self.start_t
        if postfix is not None:
            self.set_postfix(postfix, refresh=False)
        if not disable:
            self.refresh()

    # -- iteration and counting ----------------------------------------------------------------------------------

    def __len__(self):
        if self.total is not None:
            return self.total
        return len(self.iterable)

    def __iter__(self):
        if self.disable:
            yield from self.iterable
            return
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def update(self, n=1):
        """Advance by n; redraws at most every `mininterval` seconds (and when it reaches total)."""
        if self.disable:
            return None
        self.n += n
        now = time.monotonic()
        if self._flag is not None and now - self._last_poll >= INTERRUPT_POLL_S:
            self._last_poll = now
            if _take_flag(self._flag):
                raise KeyboardInterrupt
        if now - self.last_print_t >= self.mininterval or (self.total is not None and self.n >= self.total):
            self.refresh()
        return True

    def reset(self, total=None):
        """Back to 0 (for reuse across epochs), optionally with a new total."""
        self.n = self.last_print_n = 0
        if total is not None:
            self.total = total
        self.start_t = time.monotonic()
        if not self.disable:
            self.refresh()

    # -- text around the bar -------------------------------------------------------------------------------------

    def set_description(self, desc=None, refresh=True):
        self.desc = desc or ""   # drawn as "desc: " before the bar
        if refresh and not self.disable:
            self.refresh()

    def set_description_str(self, desc=None, refresh=True):
        self.set_description(desc, refresh)

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        """`loss=0.123, acc=0.9` beside the counts; tensors with one element are shown by value."""
        items = dict(ordered_dict or {})
        items.update(sorted(kwargs.items()))   # tqdm sorts the keyword arguments
        parts = []
        for key, value in items.items():
            if hasattr(value, "item") and getattr(value, "numel", lambda: 1)() == 1:
                value = value.item()
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = format_num(value)
            parts.append(f"{key}={str(value).strip()}")
        self.set_postfix_str(", ".join(parts), refresh)

    def set_postfix_str(self, s="", refresh=True):
        self.postfix = str(s)
        if refresh and not self.disable:
            self.refresh()

    @property
    def format_dict(self):
        return {"n": self.n, "total": self.total, "elapsed": time.monotonic() - self.start_t, "prefix": self.desc,
                "unit": self.unit, "postfix": self.postfix}

    def __str__(self):
        return self._line()

    def __repr__(self):
        return self._line()

    def _parts(self):
        """(prefix, fraction or None, counts and times)."""
        elapsed = time.monotonic() - self.start_t
        rate = self.n / elapsed if elapsed > 0 and self.n else None
        if rate is None:
            speed = f"?{self.unit}/s"
        elif self.unit_scale:
            speed = f"{_scaled(rate, True)}{self.unit}/s"
        elif rate >= 1:
            speed = f"{rate:5.2f}{self.unit}/s"
        else:
            speed = f"{1 / rate:5.2f}s/{self.unit}"
        post = f", {self.postfix}" if self.postfix else ""
        prefix = f"{self.desc}: " if self.desc else ""
        n = _scaled(self.n, self.unit_scale)
        if self.total:
            remaining = (self.total - self.n) / rate if rate else None
            eta = format_interval(remaining) if remaining is not None else "?"
            total = _scaled(self.total, self.unit_scale)
            stats = f"{n}/{total} [{format_interval(elapsed)}<{eta}, {speed}{post}]"
            return prefix, min(max(self.n / self.total, 0.0), 1.0), stats
        return prefix, None, f"{n}{self.unit} [{format_interval(elapsed)}, {speed}{post}]"

    def _line(self):
        prefix, frac, stats = self._parts()
        if frac is None:
            return f"{prefix}{stats}"
        width = 10 if self.ncols is None else max(1, self.ncols - len(prefix) - len(stats) - 7)
        if self.ascii:
            chars = " 123456789#" if self.ascii is True else str(self.ascii)
        else:
            chars = _BLOCKS
        steps = len(chars) - 1
        filled, part = divmod(int(frac * width * steps), steps)
        bar = chars[-1] * filled
        if filled < width:
            bar += (chars[part] if part else chars[0]) + chars[0] * (width - filled - 1)
        return f"{prefix}{round(100 * frac):3d}%|{bar}| {stats}"

    # -- drawing -------------------------------------------------------------------------------------------------

    def _out(self):
        return self.file if self.file is not None else sys.stdout

    def _html(self):
        prefix, frac, stats = self._parts()
        e = html.escape
        pct = f"{round(100 * frac):3d}%" if frac is not None else ""
        bar = (f'<progress value="{100 * frac:.1f}" max="100" style="width:240px"></progress>' if frac is not None
               else '<progress style="width:240px"></progress>')
        script = INTERRUPT_SCRIPT if self._flag is not None else ""
        return ('<div class="torch-js-progress" style="font-family:monospace;font-size:12px;display:flex;'
                f'align-items:center;gap:8px;white-space:pre"><span>{e(prefix)}{pct}</span>{bar}'
                f'<span>{e(stats)}</span></div>{script}')

    def refresh(self):
        """Redraw now."""
        if self.disable or self._closed:
            return
        self.last_print_n, self.last_print_t = self.n, time.monotonic()
        if self._notebook:
            from IPython.display import HTML, display   # notebooks only (see _in_notebook)
            if self._handle is None:
                self._handle = display(HTML(self._html()), display_id=True)
            else:
                self._handle.update(HTML(self._html()))
            return
        line = self._line()
        out = self._out()
        out.write("\r" + line + " " * max(0, self._width - len(line)))
        out.flush()
        self._width = len(line)

    def clear(self):
        """Erase the bar (it comes back at the next refresh)."""
        if self._notebook:
            if self._handle is not None:
                from IPython.display import HTML
                self._handle.update(HTML(""))
        elif self._width:
            self._out().write("\r" + " " * self._width + "\r")
            self._out().flush()

    def display(self, msg=None, pos=None):
        self.refresh()

    def unpause(self):
        self.last_print_t = time.monotonic()

    def close(self):
        """Final draw; with leave=False the bar is erased instead. Safe to call twice."""
        if self._closed or self.disable:
            self._closed = True
            return
        if self.leave:
            self.refresh()
            if not self._notebook:
                self._out().write("\n")
                self._out().flush()
        else:
            self.clear()
        self._closed = True

    @classmethod
    def write(cls, s, file=None, end="\n", nolock=False):
        """Print a message without breaking a text bar (the notebook bar is a separate output anyway)."""
        out = file if file is not None else sys.stdout
        out.write(f"{s}{end}")
        out.flush()

    format_interval = staticmethod(format_interval)
    format_num = staticmethod(format_num)


def trange(*args, **kwargs):
    """tqdm(range(*args), **kwargs)."""
    return tqdm(range(*args), **kwargs)
