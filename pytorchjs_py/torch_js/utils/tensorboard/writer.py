"""SummaryWriter: PyTorch's TensorBoard logging API, drawn inline in a notebook or written as CSV/JSON elsewhere.

No TensorBoard event files are produced (there is no TensorBoard, nor protobuf, in the browser). What is logged is
kept in memory on the writer (`scalars`, `histograms`, `texts`, `hparams`) and:

- in a notebook (IPython with a kernel, JupyterLite's included): one output shows a line chart per scalar tag (one
  line per run: add_scalars' keys, resumed runs), the hparams table and the latest text per tag; it is redrawn in
  place (a display id) every `plot_every` add_scalar calls, on flush() and on close(). Nothing is written to disk.
- elsewhere (a script, pytest, js_bridge/pyrun.mjs): files under log_dir, flushed as PyTorch's writer flushes
  (every max_queue records, every flush_secs seconds, flush(), close()):
      <log_dir>/scalars/<tag>.csv                 step,value,wall_time (a tag's "/" makes folders)
      <log_dir>/<main_tag>_<key>/scalars/<main_tag>.csv   add_scalars, in PyTorch's run folder for each key
      <log_dir>/histograms/<tag>.jsonl            one JSON object per add_histogram (HistogramProto's fields)
      <log_dir>/text/<tag>.jsonl                  {"step", "wall_time", "text"}
      <log_dir>/<run_name>/hparams.json           add_hparams; its metrics also as scalars of that run

`inline=True/False` (torch_js only) forces one mode. add_graph and the image/audio/embedding family record nothing
and say so once.
"""
import csv
import html
import io
import json
import os
import re
import socket
import sys
import time
import warnings
from datetime import datetime

from ..._tensor import Tensor
from ._chart import line_chart
from ._histogram import make_histogram

__all__ = ["SummaryWriter"]


def _notebook_display():
    """(display, HTML) from IPython.display when this runs under an IPython kernel, else None."""
    ipython = sys.modules.get("IPython")  # a kernel has imported it; a script that never did is not in a notebook
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    if shell is None or type(shell).__name__ == "TerminalInteractiveShell":
        return None
    from IPython.display import HTML, display  # optional: present exactly when a kernel runs this
    return display, HTML


def _default_log_dir(comment):
    try:
        host = socket.gethostname()
    except OSError:   # (a sandbox without one)
        host = "localhost"
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + host + comment)


def _as_float(value):
    """A logged scalar as a float: a number, or a tensor/array with one element (PyTorch: 'scalar should be 0D')."""
    if isinstance(value, Tensor) or (hasattr(value, "size") and hasattr(value, "item") and hasattr(value, "dtype")):
        n = value.numel() if isinstance(value, Tensor) else value.size
        if n != 1:
            raise AssertionError("scalar should be 0D")
        value = value.detach().item() if isinstance(value, Tensor) else value.item()
    return float(value)


def _step(global_step):
    if global_step is None:
        return None
    return int(global_step.item() if hasattr(global_step, "item") else global_step)


def _tag_path(tag):
    """A tag as a relative file path: "/" separates folders; other characters a file name cannot hold become _."""
    parts = [re.sub(r"[^\w.\-]", "_", p) for p in str(tag).split("/")]
    return os.path.join(*[p if p.strip(".") else "_" for p in parts])


class SummaryWriter:
    """torch.utils.tensorboard.SummaryWriter's API (see the module docstring for where the records go).

    log_dir: default runs/<Mon01_12-00-00>_<host><comment>, as PyTorch names it. purge_step: files of an earlier
    run in the same log_dir lose their rows with step >= purge_step when first written again (TensorBoard's hiding
    of purged events). plot_every: notebook redraw interval in add_scalar calls (torch_js only).
    """

    # the shortest time between two notebook redraws triggered by add_scalar (flush/close always draw)
    min_redraw_seconds = 0.2

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix="", *, inline=None, plot_every=10):
        self.log_dir = log_dir if log_dir else _default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.plot_every = plot_every
        self.scalars = {}      # tag -> {run: [(step, value, wall_time), ...]}; run "" is this writer's own
        self.histograms = {}   # tag -> [{"step", "wall_time", "min", "max", "num", "sum", "sum_squares", ...}]
        self.texts = {}        # tag -> [(step, text, wall_time)]
        self.hparams = []      # [{"run", "hparams", "metrics", "step"}]
        self._hparam_runs = set()
        self._warned = set()
        display = _notebook_display()
        if inline is False or (inline is None and display is None):
            self._display = None
        elif display is None:
            raise RuntimeError("SummaryWriter(inline=True) needs IPython's display (run it in a notebook)")
        else:
            self._display = display
        self._handle = None
        self._since_draw = 0
        self._last_draw = 0.0
        self._pending = {}     # file path -> [line, ...] not yet written
        self._n_pending = 0
        self._last_flush = time.time()
        self._touched = set()  # files this writer has written (purge_step applies on the first write)
        if self._display is None:
            os.makedirs(self.log_dir, exist_ok=True)   # as PyTorch's writer creates it at once

    def get_logdir(self):
        return self.log_dir

    @property
    def inline(self):
        """True where records are drawn in the notebook, False where they go to files under log_dir."""
        return self._display is not None

    # ---- recording ---------------------------------------------------------------------------------------------

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Record one value of `tag` (new_style and double_precision concern event files: values are kept as float)."""
        self._scalar("", tag, _as_float(scalar_value), _step(global_step), walltime)
        self._scalar_logged()

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several values drawn on one chart `main_tag`, each key its own run, as in PyTorch."""
        walltime = time.time() if walltime is None else walltime
        step = _step(global_step)
        for key, value in tag_scalar_dict.items():
            self._scalar(main_tag.replace("/", "_") + "_" + key, main_tag, _as_float(value), step, walltime)
        self._scalar_logged()

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """Record the histogram of `values` (TensorBoard's fields: min, max, num, sum, sum_squares, buckets)."""
        record = {"step": _step(global_step), "wall_time": time.time() if walltime is None else walltime}
        record.update(make_histogram(values, bins, max_bins))
        self.histograms.setdefault(tag, []).append(record)
        self._queue(os.path.join("histograms", _tag_path(tag) + ".jsonl"), json.dumps(record))

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        step, wall = _step(global_step), time.time() if walltime is None else walltime
        self.texts.setdefault(tag, []).append((step, str(text_string), wall))
        self._queue(os.path.join("text", _tag_path(tag) + ".jsonl"),
                    json.dumps({"step": step, "wall_time": wall, "text": str(text_string)}))

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """Record a run's hyperparameters and final metrics (PyTorch's checks); its metrics are also its scalars."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        hp = {}
        for k, v in hparam_dict.items():
            if v is None:
                continue
            if isinstance(v, Tensor):
                v = v.reshape(-1)[0].item()
            elif not isinstance(v, (int, float, str, bool)):
                raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
            hp[k] = v
        run = run_name or str(time.time())
        step = _step(global_step)
        metrics = {k: _as_float(v) for k, v in metric_dict.items()}
        self.hparams.append({"run": run, "hparams": hp, "metrics": metrics, "step": step})
        self._hparam_runs.add(run)
        for k, v in metrics.items():
            self._scalar(run, k, v, step, None)
        if self._display is None:
            path = os.path.join(self.log_dir, run, "hparams.json")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"hparams": hp, "metrics": metrics, "step": step}, f, indent=1)
        self.flush()

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Records nothing: a model graph needs TorchScript tracing and TensorBoard's graph plugin, which torch_js
        has not. verbose=True prints the module instead."""
        self._say_once("add_graph", "SummaryWriter.add_graph records nothing in torch_js (no TorchScript tracer, no "
                                    "TensorBoard graph files); print(model) shows its structure")
        if verbose:
            print(model)

    def _not_recorded(self, name):
        self._say_once(name, f"SummaryWriter.{name} records nothing in torch_js: only scalars, histograms, text "
                             f"and hparams are kept")

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._not_recorded("add_image")

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._not_recorded("add_images")

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        self._not_recorded("add_figure")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        self._not_recorded("add_embedding")

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        self._not_recorded("add_pr_curve")

    # ---- output ------------------------------------------------------------------------------------------------

    def flush(self):
        """Write what is pending to log_dir's files, or redraw the notebook output."""
        if self._display is not None:
            self._draw()
            return
        for rel, lines in self._pending.items():
            self._write(rel, lines)
        self._pending.clear()
        self._n_pending = 0
        self._last_flush = time.time()

    def close(self):
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    def _repr_html_(self):
        """The writer as the last expression of a cell: its charts."""
        return self.to_html()

    def to_html(self):
        """The notebook output: a chart per scalar tag, then the hparams table and the latest text per tag."""
        charts = []
        for tag, runs in self.scalars.items():
            series = []
            for run, points in runs.items():
                if run in self._hparam_runs:
                    continue   # one value per run: the hparams table shows it
                xs = [p[0] if p[0] is not None else i for i, p in enumerate(points)]
                prefix = tag.replace("/", "_") + "_"   # add_scalars' run for key k is <tag>_k: labelled k
                label = run[len(prefix):] if run.startswith(prefix) else run or tag
                series.append((label, xs, [p[1] for p in points]))
            if series:
                charts.append(line_chart(tag, series))
        e = html.escape
        parts = [f'<div style="font-family:sans-serif;font-size:12px">'
                 f'<div style="color:#666;margin:2px 0 6px">SummaryWriter {e(str(self.log_dir))}'
                 f'{" (drawn here; no files written)" if self.inline else ""}: '
                 f'{sum(len(p) for r in self.scalars.values() for p in r.values())} scalar values, '
                 f'{sum(map(len, self.histograms.values()))} histogram records</div>',
                 '<div style="display:flex;flex-wrap:wrap;gap:10px">', *charts, "</div>"]
        if self.hparams:
            keys = list(dict.fromkeys(k for h in self.hparams for k in h["hparams"]))
            mkeys = list(dict.fromkeys(k for h in self.hparams for k in h["metrics"]))
            cell = 'style="border:1px solid #ddd;padding:2px 6px"'
            rows = ["<tr>" + "".join(f"<th {cell}>{e(k)}</th>" for k in ["run", *keys, *mkeys]) + "</tr>"]
            for h in self.hparams:
                vals = [h["run"], *(h["hparams"].get(k, "") for k in keys),
                        *(f"{h['metrics'][k]:.6g}" if k in h["metrics"] else "" for k in mkeys)]
                rows.append("<tr>" + "".join(f"<td {cell}>{e(str(v))}</td>" for v in vals) + "</tr>")
            parts.append(f'<table style="border-collapse:collapse;margin-top:8px;font-size:12px">{"".join(rows)}</table>')
        for tag, entries in self.texts.items():
            step, text, _ = entries[-1]
            parts.append(f'<div style="margin-top:6px"><b>{e(tag)}</b>'
                         f'{"" if step is None else f" (step {step})"}: {e(text)}</div>')
        parts.append("</div>")
        return "".join(parts)

    # ---- internals ---------------------------------------------------------------------------------------------

    def _scalar(self, run, tag, value, step, walltime):
        wall = time.time() if walltime is None else walltime
        self.scalars.setdefault(tag, {}).setdefault(run, []).append((step, value, wall))
        row = io.StringIO()
        csv.writer(row, lineterminator="\n").writerow(["" if step is None else step, repr(value), wall])
        self._queue(os.path.join(run, "scalars", _tag_path(tag) + ".csv"), row.getvalue())

    def _scalar_logged(self):
        if self._display is None:
            return
        self._since_draw += 1
        if self._since_draw >= self.plot_every and time.monotonic() - self._last_draw >= self.min_redraw_seconds:
            self._draw()

    def _queue(self, rel, line):
        if self._display is not None:
            return
        self._pending.setdefault(rel, []).append(line if line.endswith("\n") else line + "\n")
        self._n_pending += 1
        if self._n_pending >= self.max_queue or time.time() - self._last_flush >= self.flush_secs:
            self.flush()

    def _write(self, rel, lines):
        path = os.path.join(self.log_dir, rel)
        first = path not in self._touched
        self._touched.add(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if first and self.purge_step is not None and os.path.exists(path):
            self._purge(path)
        header = "step,value,wall_time\n" if path.endswith(".csv") and not os.path.exists(path) else ""
        with open(path, "a", encoding="utf-8", newline="") as f:
            f.write(header + "".join(lines))

    def _purge(self, path):
        """Drop an earlier run's rows at steps >= purge_step (a restarted run writes them again)."""
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.readlines()
        if path.endswith(".csv"):
            head, rows = lines[:1], lines[1:]
            keep = [r for r in rows if not (r.split(",", 1)[0] and int(r.split(",", 1)[0]) >= self.purge_step)]
        else:
            head = []
            keep = [r for r in lines if (json.loads(r).get("step") is None or
                                         json.loads(r)["step"] < self.purge_step)]
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(head + keep))

    def _draw(self):
        if self._handle is None and not (self.scalars or self.histograms or self.texts or self.hparams):
            return   # nothing logged yet: no empty output
        display, html_cls = self._display
        out = html_cls(self.to_html())
        if self._handle is None:
            self._handle = display(out, display_id=True)
        else:
            self._handle.update(out)
        self._since_draw = 0
        self._last_draw = time.monotonic()

    def _say_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, UserWarning, stacklevel=3)
