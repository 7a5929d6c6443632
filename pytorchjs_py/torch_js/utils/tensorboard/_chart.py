"""The inline charts SummaryWriter draws in a notebook: one SVG line chart per scalar tag, one line per run.

Unlike utils.plot.line_plot, every series has its own steps (add_scalars' runs and resumed logs need not share
them). A series longer than MAX_POINTS is thinned to every k-th point plus its last, so a long run still redraws
quickly; the writer keeps every value.
"""
import html
import math

from ..plot import _COLORS, _fmt, _nice_ticks, svg_series

MAX_POINTS = 800


def _thin(xs, ys):
    if len(xs) <= MAX_POINTS:
        return xs, ys
    k = math.ceil(len(xs) / MAX_POINTS)
    keep = list(range(0, len(xs), k))
    if keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]


def line_chart(title, series, width=380, height=230):
    """SVG markup: `series` is [(label, xs, ys), ...]; a legend appears when there is more than one."""
    series = [(label, *_thin(xs, ys)) for label, xs, ys in series]
    finite = [y for _, _, ys in series for y in ys if math.isfinite(y)]
    allx = [x for _, xs, _ in series for x in xs]
    y0, y1 = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if y0 == y1:
        y0, y1 = y0 - 1, y1 + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    x0, x1 = (min(allx), max(allx)) if allx else (0, 1)
    if x0 == x1:
        x0, x1 = x0 - 1, x1 + 1
    ml, mr, mt, mb = 52, 10, 24, 24
    pw, ph = width - ml - mr, height - mt - mb

    def px(v):
        return ml + (v - x0) / (x1 - x0) * pw

    def py(v):
        return mt + (y1 - v) / (y1 - y0) * ph

    e = html.escape
    last = [ys[-1] for _, _, ys in series if ys]
    head = f"{title}" + (f"  (last {_fmt(last[0])})" if len(series) == 1 and last else "")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'font-family="sans-serif" font-size="10">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
           f'<text x="{ml}" y="15" font-size="12" font-weight="bold" fill="#222">{e(head)}</text>']
    for t in _nice_ticks(y0, y1, 4):
        yy = py(t)
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ececec"/>')
        out.append(f'<text x="{ml - 5}" y="{yy + 3:.1f}" text-anchor="end" fill="#555">{_fmt(t)}</text>')
    for t in _nice_ticks(x0, x1, 5):
        xx = px(t)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{mt + ph}" y2="{mt + ph + 3}" stroke="#555"/>')
        out.append(f'<text x="{xx:.1f}" y="{mt + ph + 14}" text-anchor="middle" fill="#555">{_fmt(t)}</text>')
    out.append(f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    for i, (label, xs, ys) in enumerate(series):
        out.extend(svg_series(xs, ys, px, py, _COLORS[i % len(_COLORS)], "2.2", "1.6"))
    if len(series) > 1:
        for i, (label, _, ys) in enumerate(series):
            color = _COLORS[i % len(_COLORS)]
            ly = mt + 12 + 12 * i
            text = f"{label} {_fmt(ys[-1])}" if ys else label
            out.append(f'<line x1="{ml + pw - 120}" x2="{ml + pw - 106}" y1="{ly - 3}" y2="{ly - 3}" stroke="{color}" '
                       f'stroke-width="2"/><text x="{ml + pw - 102}" y="{ly}" fill="#222">{e(text)}</text>')
    out.append("</svg>")
    return "".join(out)
