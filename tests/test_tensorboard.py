"""torch.utils.tensorboard.SummaryWriter (torch_js.utils.tensorboard): records in memory, CSV/JSON files outside a
notebook, an inline chart redrawn in place inside one (IPython faked here). Needs no torch; numpy only where a
histogram is compared with numpy.histogram."""
import csv
import json
import os
import re
import subprocess
import sys
import types
import warnings

import pytest

import torch_js
from torch_js.utils.tensorboard import SummaryWriter
from torch_js.utils.tensorboard import _chart, writer as writer_mod
from torch_js.utils.tensorboard._histogram import make_histogram, tensorflow_edges

try:
    import numpy as np
except ImportError:
    np = None


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "value", "wall_time"]
    return [(int(s) if s else None, float(v)) for s, v, _ in rows[1:]]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                  for d, _, fs in os.walk(root) for f in fs)


# ---- import path -------------------------------------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "emscripten", reason="starts a second interpreter")
def test_import_as_torch_utils_tensorboard():
    pkg = os.path.dirname(os.path.dirname(torch_js.__file__))
    code = ("import torch_js; torch_js.install_as_torch()\n"
            "from torch.utils.tensorboard import SummaryWriter\n"
            "import torch.utils.tensorboard as tb\n"
            "assert SummaryWriter is torch_js.utils.tensorboard.SummaryWriter and tb is torch_js.utils.tensorboard\n"
            "print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=pkg))
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


# ---- files (outside a notebook) ----------------------------------------------------------------------------------

def test_default_log_dir_is_pytorchs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(writer_mod.socket, "gethostname", lambda: "box")
    w = SummaryWriter(comment="_lr0.1")
    assert re.fullmatch(r"runs[/\\][A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_box_lr0\.1", w.log_dir), w.log_dir
    assert w.get_logdir() == w.log_dir and os.path.isdir(w.log_dir) and not w.inline   # created at once
    assert SummaryWriter(str(tmp_path / "given"), comment="ignored").log_dir == str(tmp_path / "given")


def test_scalars_written_as_csv_per_tag(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=5)
    for i in range(4):
        w.add_scalar("Loss/train", 1.0 / (i + 1), i)
    assert files_under(tmp_path) == [], "fewer than max_queue records stay queued"
    w.add_scalar("Loss/train", torch_js.tensor(0.125), 4)     # a 0-d tensor; the 5th record flushes the queue
    assert read_csv(tmp_path / "scalars/Loss/train.csv") == [(0, 1.0), (1, 0.5), (2, 1 / 3), (3, 0.25), (4, 0.125)]
    w.add_scalar("acc", torch_js.tensor([[0.75]]))             # one element of any shape; no step
    w.flush()
    assert read_csv(tmp_path / "scalars/acc.csv") == [(None, 0.75)]
    w.add_scalar("Loss/train", 0.1, 5)
    w.close()
    assert read_csv(tmp_path / "scalars/Loss/train.csv")[-1] == (5, 0.1)      # appended, header once
    assert w.scalars["Loss/train"][""][-1][:2] == (5, 0.1)
    w.close()                                                                  # a second close is harmless


def test_scalar_value_must_have_one_element(tmp_path):
    w = SummaryWriter(tmp_path)
    with pytest.raises(AssertionError, match="scalar should be 0D"):
        w.add_scalar("x", torch_js.ones(2))
    with pytest.raises(ValueError):
        w.add_scalar("x", "not a number")
    if np is not None:
        w.add_scalar("x", np.float32(1.5), 0)
        w.add_scalar("x", np.ones((1, 1)), 1)
        assert [p[1] for p in w.scalars["x"][""]] == [1.5, 1.0]


def test_add_scalars_uses_pytorchs_run_folders(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for i in range(3):
            w.add_scalars("Loss/all", {"train": 1.0 - i * 0.1, "val": 2.0 - i * 0.1}, i)
    assert files_under(tmp_path) == ["Loss_all_train/scalars/Loss/all.csv", "Loss_all_val/scalars/Loss/all.csv"]
    assert [v for _, v in read_csv(tmp_path / "Loss_all_val/scalars/Loss/all.csv")] == pytest.approx([2.0, 1.9, 1.8])
    assert set(w.scalars["Loss/all"]) == {"Loss_all_train", "Loss_all_val"}


def test_histogram_text_hparams_files(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("layer/weight", torch_js.tensor([0.5, 1.5, 1.5, 2.5]), 7, bins=3)
        w.add_text("notes", "first <b>run</b>", 1)
        w.add_hparams({"lr": 0.1, "opt": "adam", "wd": None, "t": torch_js.tensor(3)}, {"hparam/acc": 0.9},
                      run_name="trial1", global_step=2)
    (h,) = read_jsonl(tmp_path / "histograms/layer/weight.jsonl")
    assert (h["step"], h["num"], h["min"], h["max"], h["sum"], h["sum_squares"]) == (7, 4, 0.5, 2.5, 6.0, 11.0)
    assert h["bucket"] == [0.0, 1.0, 2.0, 1.0]
    assert h["bucket_limit"] == pytest.approx([0.5, 0.5 + 2 / 3, 0.5 + 4 / 3, 2.5])
    assert read_jsonl(tmp_path / "text/notes.jsonl")[0]["text"] == "first <b>run</b>"
    saved = json.loads((tmp_path / "trial1/hparams.json").read_text())
    assert saved == {"hparams": {"lr": 0.1, "opt": "adam", "t": 3}, "metrics": {"hparam/acc": 0.9}, "step": 2}
    assert read_csv(tmp_path / "trial1/scalars/hparam/acc.csv") == [(2, 0.9)]


def test_add_hparams_checks(tmp_path):
    w = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match="^hparam_dict and metric_dict should be dictionary.$"):
        w.add_hparams([("lr", 0.1)], {})
    with pytest.raises(ValueError, match="value should be one of int, float, str, bool, or torch.Tensor"):
        w.add_hparams({"layers": [1, 2]}, {"acc": 1.0})
    w.add_hparams({"lr": 0.5}, {"acc": 1.0})
    run = w.hparams[0]["run"]
    assert float(run) > 0, "the default run name is the time, as PyTorch's"
    assert os.path.isfile(tmp_path / run / "hparams.json")


def test_purge_step_drops_later_rows_of_a_resumed_run(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for i in range(6):
            w.add_scalar("loss", float(i), i)
            w.add_text("t", f"at {i}", i)
    with SummaryWriter(tmp_path, purge_step=3) as w:
        w.add_scalar("loss", 30.0, 3)
        w.add_text("t", "again", 3)
    assert read_csv(tmp_path / "scalars/loss.csv") == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 30.0)]
    assert [r["text"] for r in read_jsonl(tmp_path / "text/t.jsonl")] == ["at 0", "at 1", "at 2", "again"]


def test_tags_become_safe_paths(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("../up/x y:z", 1.0, 0)
    assert files_under(tmp_path) == ["scalars/_/up/x_y_z.csv"]


def test_flush_secs_flushes_on_the_next_record(tmp_path, monkeypatch):
    w = SummaryWriter(tmp_path, flush_secs=120)
    w.add_scalar("a", 1.0, 0)
    assert files_under(tmp_path) == []
    monkeypatch.setattr(w, "_last_flush", w._last_flush - 121)
    w.add_scalar("a", 2.0, 1)
    assert read_csv(tmp_path / "scalars/a.csv") == [(0, 1.0), (1, 2.0)]


def test_add_graph_and_media_record_nothing_and_say_so(tmp_path, capsys):
    w = SummaryWriter(tmp_path)
    model = torch_js.nn.Linear(2, 3)
    with pytest.warns(UserWarning, match="add_graph records nothing"):
        w.add_graph(model, torch_js.zeros(1, 2), verbose=True)
    assert "Linear(in_features=2, out_features=3, bias=True)" in capsys.readouterr().out
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w.add_graph(model)                     # said once per writer
    with pytest.warns(UserWarning, match="add_image records nothing"):
        w.add_image("img", torch_js.zeros(3, 4, 4))
    w.close()
    assert files_under(tmp_path) == []


# ---- histograms --------------------------------------------------------------------------------------------------

def test_histogram_default_bins_are_tensorboards():
    edges = tensorflow_edges()
    assert len(edges) == 1549 and edges[774] == 0.0 and edges[775] == 1e-12 and edges[:774] == [-e for e in edges[:774:-1]]
    values = torch_js.tensor([-3.0, -0.5, 0.0, 0.2, 0.2, 7.0])
    h = make_histogram(values)
    assert h["num"] == 6 and sum(h["bucket"]) == 6 and h["bucket"][0] == 0.0 and h["bucket"][-1] == 1.0
    assert h["bucket_limit"][-1] >= 7.0 > h["bucket_limit"][-2]
    assert h["bucket_limit"][0] <= -3.0 < h["bucket_limit"][1]


def test_histogram_max_bins_and_errors():
    h = make_histogram(list(range(10)), bins=10, max_bins=3)
    assert sum(h["bucket"]) == 10 and len(h["bucket"]) == len(h["bucket_limit"]) <= 4 + 1
    with pytest.raises(ValueError, match="The input has no element."):
        make_histogram(torch_js.zeros(0))
    with pytest.raises(ValueError, match="not finite"):
        make_histogram([1.0, float("inf")], bins=4)
    h = make_histogram([1.0, float("nan"), 2.0])          # explicit edges drop NaN, as numpy's do
    assert sum(h["bucket"]) == 2 and h["num"] == 3
    h = make_histogram([5.0, 5.0], bins=2)                  # one value: numpy's range of +-0.5
    assert h["bucket_limit"] == [5.0, 5.5] and h["bucket"] == [0.0, 2.0]   # [5, 5.5) holds both, trimmed left


@pytest.mark.skipif(np is None, reason="numpy not importable")
@pytest.mark.parametrize("bins", [7, [-2.0, -0.5, 0.0, 0.1, 1.0, 3.0], "auto"])
def test_histogram_counts_match_numpy(bins):
    torch_js.manual_seed(0)
    x = torch_js.randn(500)
    h = make_histogram(x, bins=bins)
    counts, edges = np.histogram(np.array(x.tolist()), bins=bins)
    nz = np.flatnonzero(counts)
    first, last = nz[0], nz[-1]
    # numpy's buckets from the first to the last non-empty one, after one empty bucket (its right limit = the
    # first kept bucket's left edge)
    assert h["bucket"] == [0.0] + counts[first:last + 1].tolist()
    assert h["bucket_limit"] == pytest.approx(edges[first:last + 2].tolist())


# ---- notebook ----------------------------------------------------------------------------------------------------

class FakeDisplay:
    def __init__(self):
        self.shown, self.updates = [], []

    def display(self, obj, display_id=None):
        assert display_id is True
        self.shown.append(obj.data)
        fake = self

        class Handle:
            def update(self, new):
                fake.updates.append(new.data)
        return Handle()


@pytest.fixture
def notebook(monkeypatch):
    """IPython as a kernel has it: get_ipython() gives a shell, IPython.display has display and HTML."""
    shown = FakeDisplay()
    ipython = types.ModuleType("IPython")
    kernel = type("ZMQInteractiveShell", (), {})()
    ipython.get_ipython = lambda: kernel
    disp = types.ModuleType("IPython.display")
    disp.HTML = type("HTML", (), {"__init__": lambda self, data: setattr(self, "data", data)})
    disp.display = shown.display
    ipython.display = disp
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", disp)
    monkeypatch.setattr(SummaryWriter, "min_redraw_seconds", 0.0)
    return shown


def test_notebook_draws_inline_and_redraws_in_place(notebook, tmp_path):
    w = SummaryWriter(tmp_path / "nb", plot_every=10)
    assert w.inline and not os.path.exists(tmp_path / "nb"), "nothing is written in a notebook"
    for i in range(9):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    assert notebook.shown == []
    w.add_scalar("loss", 0.05, 9)                       # the 10th add_scalar draws
    assert len(notebook.shown) == 1 and "<svg" in notebook.shown[0] and ">loss" in notebook.shown[0]
    for i in range(10, 20):
        w.add_scalars("acc", {"train": i / 20, "val": i / 25}, i)
    assert len(notebook.shown) == 1 and len(notebook.updates) == 1, "redrawn in the same output"
    last = notebook.updates[-1]
    assert last.count("<svg") == 2 and ">train " in last and ">val " in last   # add_scalars: one chart, a legend
    assert last.count("<polyline") == 3
    w.add_text("note", "<i>escaped</i>", 3)
    w.add_hparams({"lr": 0.01}, {"hparam/final": 0.5}, run_name="hp")
    html_now = notebook.updates[-1]
    assert "&lt;i&gt;escaped&lt;/i&gt;" in html_now and ">hp<" in html_now and ">0.5<" in html_now
    assert html_now.count("<svg") == 2, "hparams metrics go in the table, not in a chart"
    w.close()
    assert len(notebook.shown) == 1 and not os.path.exists(tmp_path / "nb")


def test_notebook_close_without_records_shows_nothing(notebook, tmp_path):
    SummaryWriter(tmp_path / "nb").close()
    assert notebook.shown == [] and notebook.updates == []


def test_notebook_inline_false_writes_files(notebook, tmp_path):
    with SummaryWriter(tmp_path, inline=False) as w:
        w.add_scalar("x", 1.0, 0)
    assert notebook.shown == [] and files_under(tmp_path) == ["scalars/x.csv"]


def test_terminal_ipython_is_not_a_notebook(notebook, monkeypatch, tmp_path):
    terminal = type("TerminalInteractiveShell", (), {})()
    monkeypatch.setattr(sys.modules["IPython"], "get_ipython", lambda: terminal)
    assert not SummaryWriter(tmp_path).inline


def test_inline_true_needs_a_notebook(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "IPython", None)
    with pytest.raises(RuntimeError, match="needs IPython"):
        SummaryWriter(tmp_path, inline=True)


def test_long_series_are_thinned_for_drawing():
    xs = list(range(5000))
    svg = _chart.line_chart("t", [("t", xs, [float(x) for x in xs])])
    points = re.search(r'points="([^"]*)"', svg).group(1).split()
    assert len(points) <= _chart.MAX_POINTS + 1 and points[-1].startswith(svg_x_end(svg))


def svg_x_end(svg):
    """The x pixel of the plot's right edge (the last point of a series that spans the axis is drawn there)."""
    m = re.search(r'<rect x="(\d+)" y="\d+" width="(\d+)" height="\d+" fill="none"', svg)
    return f"{int(m.group(1)) + int(m.group(2))}.0,"
