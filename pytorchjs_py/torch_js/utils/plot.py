"""torch_js.utils.plot: a line chart as inline SVG and a progress bar, for notebooks with no matplotlib.

    from torch_js.utils.plot import line_plot, progress
    for epoch in progress(range(20), desc="epochs"):
        ...
        bar.set_postfix(loss=...)          # on the object progress() returns
    line_plot(losses, labels=["train loss"], xlabel="epoch")   # last expression of a cell: drawn inline

Both render in Jupyter (JupyterLite included: SVG through `_repr_svg_`, the bar as HTML re-drawn in place with
IPython's `display(..., display_id=True).update`) and degrade to text elsewhere (`str(plot)` is the SVG markup;
the bar writes `\\r`-updated lines to stdout). Pure Python, no dependencies: nothing here is part of PyTorch's API.
"""
import html
import math
import sys
import time

__all__ = ["SVG", "image_grid", "line_plot", "progress"]

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


class SVG:
    """SVG markup that Jupyter draws inline (`_repr_svg_`); `str()` gives the markup, `save(path)` writes it."""

    def __init__(self, markup):
        self.markup = markup

    def _repr_svg_(self):
        return self.markup

    def __str__(self):
        return self.markup

    def __repr__(self):
        return f"<torch_js.utils.plot.SVG, {len(self.markup)} characters>"

    def save(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.markup)


def _values(ys):
    if hasattr(ys, "tolist"):  # a 1-D tensor
        ys = ys.tolist()
    out = []
    for y in ys:
        if hasattr(y, "item"):
            y = y.item()
        out.append(float(y))
    return out


def _nice_ticks(lo, hi, n=5):
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def _fmt(v):
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 or a < 1e-3:
        return f"{v:.1e}"
    return f"{v:.4g}"


def svg_series(xs, ys, px, py, color, dot_radius, stroke_width):
    """One series as SVG: a polyline per run of finite values (NaN/inf break the line), a dot for a lone point.
    px, py map data to pixel coordinates."""
    segs, cur = [], []
    for a, b in zip(xs, ys):
        if math.isfinite(b):
            cur.append(f"{px(a):.1f},{py(b):.1f}")
        elif cur:
            segs.append(cur)
            cur = []
    if cur:
        segs.append(cur)
    out = []
    for seg in segs:
        if len(seg) == 1:
            cx, cy = seg[0].split(",")
            out.append(f'<circle cx="{cx}" cy="{cy}" r="{dot_radius}" fill="{color}"/>')
        else:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="{stroke_width}" '
                       f'points="{" ".join(seg)}"/>')
    return out


def line_plot(*series, x=None, labels=None, title=None, xlabel=None, ylabel=None, logy=False, width=520,
              height=280):
    """One or more y-series (lists, 1-D tensors) against `x` (default 0, 1, 2, ...). Returns an `SVG`."""
    if not series:
        raise ValueError("line_plot: give at least one series")
    ys = [_values(s) for s in series]
    xs = [_values(x) if x is not None else list(range(len(y))) for y in ys]
    if logy:
        ys = [[math.log10(v) if v > 0 else float("nan") for v in y] for y in ys]
    finite = [v for y in ys for v in y if math.isfinite(v)]
    allx = [v for xx in xs for v in xx]
    if not finite or not allx:
        raise ValueError("line_plot: nothing finite to draw")
    y0, y1 = min(finite), max(finite)
    if y0 == y1:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    x0, x1 = min(allx), max(allx)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1

    ml, mr, mt, mb = 58, 14, 30 if title else 12, 40 if xlabel else 28
    pw, ph = width - ml - mr, height - mt - mb

    def px(v):
        return ml + (v - x0) / (x1 - x0) * pw

    def py(v):
        return mt + (y1 - v) / (y1 - y0) * ph

    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>']
    if title:
        out.append(f'<text x="{ml + pw / 2:.1f}" y="18" text-anchor="middle" font-size="13">{e(title)}</text>')
    for t in _nice_ticks(y0, y1):
        yy = py(t)
        label = _fmt(10 ** t) if logy else _fmt(t)
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{ml - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#444">{label}</text>')
    for t in _nice_ticks(x0, x1, 6):
        xx = px(t)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{mt + ph}" y2="{mt + ph + 4}" stroke="#444"/>')
        out.append(f'<text x="{xx:.1f}" y="{mt + ph + 16}" text-anchor="middle" fill="#444">{_fmt(t)}</text>')
    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    for i, (xx, y) in enumerate(zip(xs, ys)):
        out.extend(svg_series(xx, y, px, py, _COLORS[i % len(_COLORS)], "2", "1.8"))
    if labels:
        for i, name in enumerate(labels):
            color = _COLORS[i % len(_COLORS)]
            ly = mt + 14 + 15 * i
            out.append(f'<line x1="{ml + pw - 110}" x2="{ml + pw - 92}" y1="{ly - 4}" y2="{ly - 4}" '
                       f'stroke="{color}" stroke-width="2"/>')
            out.append(f'<text x="{ml + pw - 88}" y="{ly}" fill="#222">{e(str(name))}</text>')
    if xlabel:
        out.append(f'<text x="{ml + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{e(xlabel)}</text>')
    if ylabel or logy:
        lab = (ylabel or "") + (" (log scale)" if logy else "")
        out.append(f'<text x="14" y="{mt + ph / 2:.1f}" text-anchor="middle" '
                   f'transform="rotate(-90 14 {mt + ph / 2:.1f})">{e(lab.strip())}</text>')
    out.append("</svg>")
    return SVG("".join(out))


def image_grid(images, labels=None, ncols=10, scale=4, vmin=None, vmax=None):
    """Grayscale images (a (N, H, W) tensor or nested lists; dark = high) as an SVG grid, each with an optional
    caption from `labels` (strings or numbers). Returns an `SVG`."""
    if hasattr(images, "tolist"):
        images = images.tolist()
    images = [[[float(v) for v in row] for row in img] for img in images]
    if not images:
        raise ValueError("image_grid: no images")
    h, w = len(images[0]), len(images[0][0])
    flat = [v for img in images for row in img for v in row]
    lo = min(flat) if vmin is None else vmin
    hi = max(flat) if vmax is None else vmax
    span = (hi - lo) or 1.0
    if labels is not None and hasattr(labels, "tolist"):
        labels = labels.tolist()
    cap = 14 if labels is not None else 0
    ncols = max(1, min(ncols, len(images)))
    nrows = (len(images) + ncols - 1) // ncols
    cw, ch = w * scale + 6, h * scale + 6 + cap
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{ncols * cw}" height="{nrows * ch}" '
           f'font-family="sans-serif" font-size="11" shape-rendering="crispEdges">',
           f'<rect width="{ncols * cw}" height="{nrows * ch}" fill="white"/>']
    for k, img in enumerate(images):
        ox, oy = (k % ncols) * cw + 3, (k // ncols) * ch + 3
        for i, row in enumerate(img):
            for j, v in enumerate(row):
                g = 255 - int(round(255 * min(max((v - lo) / span, 0.0), 1.0)))
                if g < 255:
                    out.append(f'<rect x="{ox + j * scale}" y="{oy + i * scale}" width="{scale}" height="{scale}" '
                               f'fill="rgb({g},{g},{g})"/>')
        out.append(f'<rect x="{ox - 0.5}" y="{oy - 0.5}" width="{w * scale + 1}" height="{h * scale + 1}" '
                   f'fill="none" stroke="#ccc"/>')
        if labels is not None:
            out.append(f'<text x="{ox + w * scale / 2}" y="{oy + h * scale + cap - 2}" text-anchor="middle">'
                       f'{html.escape(str(labels[k]))}</text>')
    out.append("</svg>")
    return SVG("".join(out))


def _in_notebook():
    try:
        from IPython import get_ipython  # type: ignore  (optional: present only in notebooks)
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and type(ip).__name__ != "TerminalInteractiveShell"


def _duration(s):
    s = int(s)
    return f"{s // 60:02d}:{s % 60:02d}"


class progress:
    """A progress bar over an iterable (tqdm's calling convention, a subset): `for x in progress(it): ...`.

    In a notebook it is one HTML output updated in place (at most every `mininterval` seconds, and at the end);
    elsewhere a `\\r`-updated line on `file` (default stdout). `set_postfix(loss=0.12)` shows values beside it.
    """

    def __init__(self, iterable=None, total=None, desc="", mininterval=0.1, file=None, notebook=None):
        self.iterable = iterable
        if total is None and iterable is not None:
            try:
                total = len(iterable)
            except TypeError:
                total = None
        self.total = total
        self.desc = desc
        self.n = 0
        self.mininterval = mininterval
        self.file = file
        self.postfix = ""
        self._notebook = _in_notebook() if notebook is None else notebook
        self._handle = None
        self._start = time.monotonic()
        self._last = -1.0
        self._closed = False
        self._width = 0
        self._draw(force=True)

    def __len__(self):
        return self.total if self.total is not None else len(self.iterable)

    def __iter__(self):
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

    def update(self, n=1):
        self.n += n
        self._draw()

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        items = dict(ordered_dict or {}, **kwargs)
        parts = []
        for k, v in items.items():
            if hasattr(v, "item"):
                v = v.item()
            parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
        self.postfix = ", ".join(parts)
        if refresh:
            self._draw()

    def set_description(self, desc, refresh=True):
        self.desc = desc
        if refresh:
            self._draw()

    def close(self):
        if not self._closed:
            self._draw(force=True)
            self._closed = True
            if not self._notebook:
                self._out().write("\n")
                self._out().flush()

    def _out(self):
        return self.file if self.file is not None else sys.stdout

    def _text(self):
        elapsed = time.monotonic() - self._start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        head = f"{self.desc}: " if self.desc else ""
        if self.total:
            frac = min(self.n / self.total, 1.0)
            eta = (self.total - self.n) / rate if rate > 0 else 0.0
            stats = f"{self.n}/{self.total} [{_duration(elapsed)}<{_duration(eta)}, {rate:.2f}it/s]"
        else:
            frac = None
            stats = f"{self.n} [{_duration(elapsed)}, {rate:.2f}it/s]"
        tail = f" {self.postfix}" if self.postfix else ""
        return head, frac, stats, tail

    def _draw(self, force=False):
        if self._closed:
            return
        now = time.monotonic()
        if not force and now - self._last < self.mininterval and not (self.total and self.n >= self.total):
            return
        self._last = now
        head, frac, stats, tail = self._text()
        if self._notebook:
            from IPython.display import HTML, display  # type: ignore  (optional: notebooks only)
            pct = 100.0 * frac if frac is not None else 0.0
            e = html.escape
            bar = (f'<div style="font-family:monospace;font-size:12px;display:flex;align-items:center;gap:8px">'
                   f'<span>{e(head)}{"%3d%%" % round(pct) if frac is not None else ""}</span>'
                   f'<progress value="{pct:.1f}" max="100" style="width:260px"></progress>'
                   f'<span>{e(stats)}{e(tail)}</span></div>')
            if self._handle is None:
                self._handle = display(HTML(bar), display_id=True)
            else:
                self._handle.update(HTML(bar))
        else:
            if frac is not None:
                filled = int(round(frac * 24))
                bar = f"{round(100 * frac):3d}%|{'#' * filled}{' ' * (24 - filled)}| "
            else:
                bar = ""
            line = f"{head}{bar}{stats}{tail}"
            self._out().write("\r" + line + " " * max(0, self._width - len(line)))
            self._width = len(line)
            self._out().flush()
