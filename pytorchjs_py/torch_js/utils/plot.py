"""torch_js.utils.plot: small matplotlib-like charts of tensors as inline SVG, for notebooks with no matplotlib.

    from torch_js.utils.plot import plot, imshow, hist
    plot(losses, label="train loss", xlabel="epoch", logy=True)   # a line chart (a cell's last expression: drawn)
    imshow(image)                  # a (H, W) tensor through a colormap, or (3, H, W) / (H, W, 3) colour
    hist(model[0].weight, bins=30) # a histogram of a tensor's values
    display(plot(...))             # anywhere in a cell (IPython's display)

Each returns an `SVG`: Jupyter (JupyterLite included) draws it through `_repr_svg_`; `str()` is the markup and
save(path) writes it. line_plot (several series) and image_grid (captioned thumbnails) are the multi-series forms.
`progress` is torch_js.utils.progress.tqdm, the progress bar (the site's `tqdm` package is that too).
Pure Python, no dependencies (images are embedded as PNG, written with zlib): nothing here is part of PyTorch's API.
"""
import base64
import html
import math
import struct
import zlib

from .progress import tqdm as progress

__all__ = ["SVG", "plot", "imshow", "hist", "line_plot", "image_grid", "progress"]

_range = range   # hist() has an argument named range, as matplotlib's

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


def _axes(x0, x1, y0, y1, title, xlabel, ylabel, width, height, logy=False):
    """The frame of a chart: (SVG parts so far, px, py) with px, py mapping data to pixels."""
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
    if xlabel:
        out.append(f'<text x="{ml + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{e(xlabel)}</text>')
    if ylabel or logy:
        lab = (ylabel or "") + (" (log scale)" if logy else "")
        out.append(f'<text x="14" y="{mt + ph / 2:.1f}" text-anchor="middle" '
                   f'transform="rotate(-90 14 {mt + ph / 2:.1f})">{e(lab.strip())}</text>')
    return out, px, py


def _legend(out, labels, right, top):
    for i, name in enumerate(labels):
        color = _COLORS[i % len(_COLORS)]
        ly = top + 14 + 15 * i
        out.append(f'<line x1="{right - 110}" x2="{right - 92}" y1="{ly - 4}" y2="{ly - 4}" '
                   f'stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{right - 88}" y="{ly}" fill="#222">{html.escape(str(name))}</text>')


def _padded(lo, hi, pad_fraction):
    if lo == hi:
        return lo - 1, hi + 1
    pad = (hi - lo) * pad_fraction
    return lo - pad, hi + pad


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
    y0, y1 = _padded(min(finite), max(finite), 0.05)
    x0, x1 = _padded(min(allx), max(allx), 0.0)
    out, px, py = _axes(x0, x1, y0, y1, title, xlabel, ylabel, width, height, logy)
    for i, (xx, y) in enumerate(zip(xs, ys)):
        out.extend(svg_series(xx, y, px, py, _COLORS[i % len(_COLORS)], "2", "1.8"))
    if labels:
        _legend(out, labels, px(x1), py(y1))
    out.append("</svg>")
    return SVG("".join(out))


def _rows(t):
    """A tensor (any device, with or without grad) or nested lists as nested Python lists, and whether its values
    are integers (a tensor's dtype says; for lists, whether every value is an int)."""
    if hasattr(t, "tolist"):
        if hasattr(t, "detach"):
            t = t.detach()
        integral = hasattr(t, "is_floating_point") and not t.is_floating_point() and not t.is_complex()
        return t.tolist(), integral
    return t, None


def _depth(rows):
    d = 0
    while isinstance(rows, (list, tuple)):
        if not rows:
            break
        rows, d = rows[0], d + 1
    return d


def plot(*args, label=None, title=None, xlabel=None, ylabel=None, logy=False, width=520, height=280):
    """matplotlib's plot(y) or plot(x, y): a line chart. A 2-D y of shape (N, k) draws its k columns as k lines;
    `label` names the line (a string, or a list for several). Returns an `SVG`."""
    if len(args) not in (1, 2):
        raise TypeError(f"plot() takes y or x, y ({len(args)} positional arguments given)")
    x = args[0] if len(args) == 2 else None
    y, _ = _rows(args[-1])
    if _depth(y) == 2:
        series = [list(col) for col in zip(*y)]
    elif _depth(y) == 1:
        series = [y]
    else:
        raise ValueError(f"plot(): y must be 1-D or 2-D (got {_depth(y)} dimensions)")
    if x is not None:
        x, _ = _rows(x)
        if len(x) != len(series[0]):
            raise ValueError(f"plot(): x and y must have the same first dimension, but have shapes ({len(x)},) "
                             f"and ({len(series[0])},)")
    labels = [label] if isinstance(label, str) else label
    return line_plot(*series, x=x, labels=labels, title=title, xlabel=xlabel, ylabel=ylabel, logy=logy,
                     width=width, height=height)


def hist(x, bins=10, range=None, density=False, title=None, xlabel=None, ylabel=None, color=None, width=520,
         height=280):
    """A histogram of every value of `x` (a tensor or list, flattened): `bins` equal bins over `range` (default the
    values' min and max), or a list of bin edges. density=True scales the bars to unit area. Returns an `SVG`
    (its `.counts` and `.edges` hold the numbers)."""
    values, _ = _rows(x)
    flat = []
    stack = [values]
    while stack:   # flatten any nesting
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        else:
            flat.append(float(v))
    flat = [v for v in flat if math.isfinite(v)]
    if isinstance(bins, int):
        if bins < 1:
            raise ValueError(f"hist(): bins must be positive, got {bins}")
        lo, hi = range if range is not None else ((min(flat), max(flat)) if flat else (0.0, 1.0))
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = [lo + (hi - lo) * i / bins for i in _range(bins + 1)]
    else:
        edges = [float(e) for e in _rows(bins)[0]]
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("hist(): bin edges must increase monotonically")
    counts = [0] * (len(edges) - 1)
    n_bins, lo, hi = len(counts), edges[0], edges[-1]
    uniform = isinstance(bins, int)
    for v in flat:
        if v < lo or v > hi:
            continue
        if uniform:
            i = min(int((v - lo) / (hi - lo) * n_bins), n_bins - 1)
        else:
            i = next(k for k in _range(n_bins) if v < edges[k + 1] or k == n_bins - 1)
        counts[i] += 1
    heights = counts
    if density:
        total = sum(counts) or 1
        heights = [c / (total * (b - a)) for c, a, b in zip(counts, edges, edges[1:])]
    top = max(heights) if heights and max(heights) > 0 else 1.0
    out, px, py = _axes(lo, hi, 0.0, top * 1.05, title, xlabel, ylabel or ("density" if density else "count"),
                        width, height)
    fill = color or _COLORS[0]
    for h, a, b in zip(heights, edges, edges[1:]):
        if h > 0:
            out.append(f'<rect x="{px(a):.1f}" y="{py(h):.1f}" width="{max(px(b) - px(a) - 0.5, 0.5):.1f}" '
                       f'height="{py(0) - py(h):.1f}" fill="{fill}" fill-opacity="0.85"/>')
    out.append("</svg>")
    svg = SVG("".join(out))
    svg.counts, svg.edges = counts, edges
    return svg


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


# matplotlib's viridis at 9 evenly spaced points (interpolated between them)
_VIRIDIS = [(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141), (39, 173, 129),
            (92, 200, 99), (170, 220, 50), (253, 231, 37)]
_CMAPS = {"viridis": _VIRIDIS, "gray": [(0, 0, 0), (255, 255, 255)], "gray_r": [(255, 255, 255), (0, 0, 0)],
          "binary": [(255, 255, 255), (0, 0, 0)]}


def _cmap(name):
    try:
        stops = _CMAPS[name]
    except KeyError:
        raise ValueError(f"imshow(): unknown cmap {name!r}; one of {sorted(_CMAPS)}") from None

    def color(f):
        f = min(max(f, 0.0), 1.0) * (len(stops) - 1)
        i = min(int(f), len(stops) - 2)
        a, b, t = stops[i], stops[i + 1], f - i
        return tuple(round(a[k] + (b[k] - a[k]) * t) for k in _range(3))
    return color


def _png(pixels, w, h):
    """PNG bytes of rows of (r, g, b) tuples (8-bit RGB, no filtering)."""
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def imshow(image, cmap=None, vmin=None, vmax=None, title=None, scale=None):
    """An image, as matplotlib's imshow: a (H, W) tensor through a colormap (viridis, gray, gray_r/binary; values
    from vmin to vmax, default their min and max), or colour: (3, H, W) / (1, H, W) as PyTorch stores images, or
    (H, W, 3) as matplotlib takes them; floats in [0, 1], integers in [0, 255] (clipped). `scale`: screen pixels
    per image pixel (default: about 256 pixels across). Returns an `SVG` (a PNG inside)."""
    rows, integral = _rows(image)
    dims = _depth(rows)
    if dims == 3:
        c_first, c_last = len(rows), len(rows[0][0])
        channels_first = c_first in (1, 3, 4) and (c_last not in (1, 3, 4) or c_last != 3 or c_first == 3)
        if channels_first:   # (C, H, W) unless only the last size looks like channels (3 wins a tie: RGB)
            rows = [[[rows[c][i][j] for c in _range(c_first)] for j in _range(len(rows[0][0]))]
                    for i in _range(len(rows[0]))]
        elif c_last not in (1, 3, 4):
            raise ValueError(f"imshow(): a 3-D image needs 1, 3 or 4 channels first (C, H, W) or last (H, W, C), "
                             f"got shape ({c_first}, {len(rows[0])}, {c_last})")
        if len(rows[0][0]) == 1:
            rows, dims = [[p[0] for p in row] for row in rows], 2
    elif dims == 4:
        raise ValueError("imshow(): one image at a time (got a batch, 4-D): see image_grid() for several")
    elif dims != 2:
        raise ValueError(f"imshow(): expected a 2-D or 3-D image, got {dims} dimensions")
    h, w = len(rows), len(rows[0])
    if h == 0 or w == 0:
        raise ValueError("imshow(): empty image")
    if dims == 2:
        flat = [float(v) for row in rows for v in row if math.isfinite(float(v))]
        lo = (min(flat) if flat else 0.0) if vmin is None else float(vmin)
        hi = (max(flat) if flat else 1.0) if vmax is None else float(vmax)
        span = (hi - lo) or 1.0
        color = _cmap(cmap or "viridis")
        pixels = [[color((float(v) - lo) / span) if math.isfinite(float(v)) else (255, 255, 255) for v in row]
                  for row in rows]
    else:
        if cmap is not None:
            raise ValueError("imshow(): cmap applies to 2-D images only (this one has colour channels)")
        if integral is None:   # lists: integers if every value is one
            integral = all(isinstance(v, int) for row in rows for p in row for v in p)
        top = 255.0 if integral else 1.0
        pixels = [[tuple(round(255 * min(max(float(v) / top, 0.0), 1.0)) for v in p[:3]) for p in row]
                  for row in rows]
    scale = scale or max(1, 256 // max(h, w))
    data = base64.b64encode(_png(pixels, w, h)).decode()
    cap = 22 if title else 0
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'width="{w * scale}" height="{h * scale + cap}" font-family="sans-serif" font-size="13">']
    if title:
        out.append(f'<text x="{w * scale / 2}" y="15" text-anchor="middle">{html.escape(title)}</text>')
    out.append(f'<image x="0" y="{cap}" width="{w * scale}" height="{h * scale}" preserveAspectRatio="none" '
               f'style="image-rendering:pixelated" xlink:href="data:image/png;base64,{data}"/>')
    out.append("</svg>")
    return SVG("".join(out))
