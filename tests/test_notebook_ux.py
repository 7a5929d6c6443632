"""Notebook helpers with no numpy/matplotlib/tqdm: torch_js.utils.progress (tqdm's API and text format, and the
site's `tqdm` shim package) and torch_js.utils.plot (plot, imshow, hist as inline SVG). The real tqdm, where
installed, is the oracle for the text format; PyTorch's histc for the histogram counts."""
import base64
import io
import os
import re
import struct
import sys
import types
import zlib

import pytest

import torch_js
from optional_torch import HAVE_TORCH, needs_torch, torch
from torch_js.utils import plot as P
from torch_js.utils.progress import TqdmKeyError, tqdm, trange

try:
    import tqdm as real_tqdm
except ImportError:
    real_tqdm = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TIMES = re.compile(r"\[\d\d:\d\d(<(\d\d:\d\d|\?))?, *([?\d.]+\w+/s|[\d.]+s/\w+)")


def _bar_lines(cls, **kwargs):
    """Every state a text bar drew (its \\r-separated frames), times and rates blanked."""
    f = io.StringIO()
    bar = cls(range(12), file=f, mininterval=0, ascii=True, **kwargs)
    for i in bar:
        if i == 5:
            bar.set_postfix(loss=0.123456, acc=1, name=" x ")
    return [_TIMES.sub("[T", line).rstrip() for line in f.getvalue().split("\r") if line.strip()]


@pytest.mark.skipif(real_tqdm is None, reason="needs the real tqdm as the oracle")
@pytest.mark.parametrize("kwargs", [{}, {"desc": "train"}, {"desc": "epochs", "unit": "batch"}])
def test_text_bar_draws_what_tqdm_draws(kwargs):
    ours, theirs = _bar_lines(tqdm, **kwargs), _bar_lines(real_tqdm.tqdm, **kwargs)
    assert ours[-1] == theirs[-1]          # the final bar, with the postfix in tqdm's order and number format
    assert ours[-1].startswith(f"{kwargs['desc']}: " if "desc" in kwargs else "100%")
    assert "acc=1, loss=0.123, name=x]" in ours[-1]
    assert set(theirs) <= set(ours)        # tqdm skips some frames (miniters); those it draws, we draw the same


def test_total_unknown_manual_update_and_reset():
    f = io.StringIO()
    with tqdm(file=f, mininterval=0, unit="img") as bar:
        bar.update(3)
        assert _TIMES.sub("[T", str(bar)) == "3img [T]"
        bar.reset(total=4)
        bar.update(4)
        assert _TIMES.sub("[T", str(bar)).startswith("100%|")
    assert f.getvalue().endswith("\n") and bar.n == 4
    assert [i for i in trange(2, 7, 2, file=io.StringIO())] == [2, 4, 6]
    assert len(tqdm(range(5), file=io.StringIO())) == 5


def test_leave_false_erases_disable_draws_nothing_unknown_argument_raises():
    f = io.StringIO()
    list(tqdm(range(3), file=f, leave=False, mininterval=0))
    assert f.getvalue().endswith("\r") and f.getvalue().split("\r")[-2].strip() == ""
    f = io.StringIO()
    assert list(tqdm(range(3), file=f, disable=True)) == [0, 1, 2] and f.getvalue() == ""
    with pytest.raises(TqdmKeyError, match="Unknown argument"):
        tqdm(range(3), no_such_option=1)
    assert issubclass(TqdmKeyError, KeyError)
    tqdm(range(3), file=io.StringIO(), position=0, dynamic_ncols=True, smoothing=0.1)   # accepted, no effect


def test_notebook_bar_is_one_html_output_updated_in_place(monkeypatch):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj.data))

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(("display", obj.data))
        return Handle()

    fake = types.ModuleType("IPython.display")
    fake.HTML = type("HTML", (), {"__init__": lambda self, data: setattr(self, "data", data)})
    fake.display = display
    monkeypatch.setitem(sys.modules, "IPython.display", fake)
    bar = tqdm(range(4), desc="fit", notebook=True, mininterval=0)
    for _ in bar:
        bar.set_postfix(loss=torch_js.tensor(0.5))
    assert [kind for kind, _ in shown].count("display") == 1 and len(shown) > 4
    last = shown[-1][1]
    assert "<progress" in last and "100%" in last and "4/4" in last and "loss=0.5" in last and "fit: " in last


def test_tqdm_shim_package_is_torch_js_progress():
    """torch_shim/tqdm (the site's `tqdm`): every module tqdm users import from gives this bar."""
    sys.path.insert(0, os.path.join(ROOT, "torch_shim"))
    saved = {n: m for n, m in sys.modules.items() if n == "tqdm" or n.startswith("tqdm.")}
    for n in saved:
        del sys.modules[n]
    try:
        import tqdm as shim
        import tqdm.auto
        import tqdm.autonotebook
        import tqdm.notebook
        import tqdm.std
        assert shim.__file__.startswith(os.path.join(ROOT, "torch_shim"))
        for mod in (shim, tqdm.auto, tqdm.autonotebook, tqdm.notebook, tqdm.std):
            assert mod.tqdm is torch_js.utils.progress.tqdm and mod.trange is trange
    finally:
        sys.path.remove(os.path.join(ROOT, "torch_shim"))
        for n in [n for n in sys.modules if n == "tqdm" or n.startswith("tqdm.")]:
            del sys.modules[n]
        sys.modules.update(saved)


# ---- plots -----------------------------------------------------------------------------------------------------

def _polylines(svg):
    return [pts.split() for pts in re.findall(r'<polyline[^>]* points="([^"]+)"', str(svg))]


def test_plot_takes_y_or_x_y_and_columns_of_a_2d_tensor():
    one = P.plot(torch_js.tensor([3.0, 1.0, 2.0]), title="loss", xlabel="epoch")
    assert one._repr_svg_().startswith("<svg") and [len(p) for p in _polylines(one)] == [3]
    assert ">loss<" in str(one) and ">epoch<" in str(one)
    two = P.plot(torch_js.arange(5), torch_js.rand(5, 2), label=["train", "test"])
    assert [len(p) for p in _polylines(two)] == [5, 5] and ">train<" in str(two) and ">test<" in str(two)
    logy = P.plot([1.0, 10.0, 100.0], logy=True)
    ys = [float(p.split(",")[1]) for p in _polylines(logy)[0]]
    assert ys[0] - ys[1] == pytest.approx(ys[1] - ys[2], abs=0.2)   # equal steps on a log axis
    with pytest.raises(ValueError, match="same first dimension"):
        P.plot([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="1-D or 2-D"):
        P.plot(torch_js.zeros(2, 2, 2))


def _png_pixels(svg):
    data = re.search(r'base64,([A-Za-z0-9+/=]+)"', str(svg)).group(1)
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    idat, pos = b"", 8
    while pos < len(png):
        n, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    rows = [raw[r * (3 * w + 1) + 1:(r + 1) * (3 * w + 1)] for r in range(h)]
    return [[tuple(row[3 * j:3 * j + 3]) for j in range(w)] for row in rows]


def test_imshow_gray_and_colour_layouts():
    img = torch_js.tensor([[0.0, 0.5], [1.0, 0.25]])
    px = _png_pixels(P.imshow(img, cmap="gray"))
    assert px == [[(0, 0, 0), (128, 128, 128)], [(255, 255, 255), (64, 64, 64)]]
    assert _png_pixels(P.imshow(img, cmap="gray", vmin=0, vmax=2))[1][0] == (128, 128, 128)
    viridis = _png_pixels(P.imshow(img))
    assert viridis[0][0] == (68, 1, 84) and viridis[1][0] == (253, 231, 37)   # matplotlib's default colormap ends
    chw = torch_js.rand(3, 6, 5)
    assert _png_pixels(P.imshow(chw)) == _png_pixels(P.imshow(chw.permute(1, 2, 0)))   # PyTorch's and matplotlib's
    as_bytes = (chw * 255).round().to(torch_js.uint8)
    assert _png_pixels(P.imshow(as_bytes)) == _png_pixels(P.imshow(as_bytes.float() / 255))
    assert len(_png_pixels(P.imshow(torch_js.rand(1, 6, 7)))[0]) == 7
    svg = str(P.imshow(torch_js.rand(8, 8), title="weights"))
    assert 'width="256"' in svg and ">weights<" in svg   # 8 px scaled to about 256
    with pytest.raises(ValueError, match="batch"):
        P.imshow(torch_js.rand(2, 3, 4, 4))
    with pytest.raises(ValueError, match="channels"):
        P.imshow(torch_js.rand(5, 4, 6))
    with pytest.raises(ValueError, match="unknown cmap"):
        P.imshow(img, cmap="jet2")


@pytest.mark.parametrize("bins", [1, 7, 30])
def test_hist_counts(bins):
    g = torch_js.Generator().manual_seed(bins)
    x = torch_js.randn(500, generator=g)
    h = P.hist(x, bins=bins)
    assert sum(h.counts) == 500 and len(h.edges) == bins + 1
    if HAVE_TORCH:
        want = torch.histc(torch.tensor(x.tolist(), dtype=torch.float64), bins=bins, min=min(x.tolist()),
                           max=max(x.tolist()))
        assert h.counts == [int(v) for v in want.tolist()]
    dens = P.hist(x, bins=bins, density=True)
    heights = [c / (500 * (b - a)) for c, a, b in zip(dens.counts, dens.edges, dens.edges[1:])]
    assert sum(hh * (b - a) for hh, a, b in zip(heights, dens.edges, dens.edges[1:])) == pytest.approx(1.0)
    assert str(h).count("<rect") >= 2


def test_hist_edges_and_range():
    h = P.hist([0, 1, 1, 2, 5, 9], bins=[0, 1, 2, 10])
    assert h.counts == [1, 2, 3]    # the last bin includes its right edge, as numpy's and matplotlib's
    assert P.hist([0.5, 3.0], bins=2, range=(0, 1)).counts == [0, 1]   # outside the range: left out
    with pytest.raises(ValueError, match="monotonically"):
        P.hist([1], bins=[0, 0, 1])


@needs_torch
def test_hist_matches_torch_histogram_edges():
    x = [0.1, 0.2, 0.5, 0.7, 0.9, 1.0]
    h = P.hist(x, bins=4)
    want = torch.histogram(torch.tensor(x, dtype=torch.float64), bins=4)
    assert h.counts == [int(v) for v in want.hist.tolist()]
    assert h.edges == pytest.approx(want.bin_edges.tolist())


def test_plot_module_keeps_progress_and_line_plot():
    assert P.progress is tqdm
    assert [len(p) for p in _polylines(P.line_plot([1, 2], [3, 4, 5], labels=["a", "b"]))] == [2, 3]
