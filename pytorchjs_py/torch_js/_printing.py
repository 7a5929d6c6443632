"""repr(tensor) as PyTorch prints it (precision 4, shared width, sci mode by the same rules, summarised > 1000)."""
import math

from . import _dtype as D
from ._grad_mode import no_grad
from ._tensor import Tensor

PRINT_OPTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    if profile == "default":
        PRINT_OPTS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        PRINT_OPTS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        PRINT_OPTS.update(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            PRINT_OPTS[k] = v
    PRINT_OPTS["sci_mode"] = sci_mode


def get_printoptions():
    return dict(PRINT_OPTS)


class _Formatter:
    """PyTorch's element formatter: the width and mode come from the nonzero finite values alone (zeros, NaN and
    inf print in whatever width that gives); integral floats print as '3.', sci mode when the magnitudes span more
    than 1000x or reach past 1e8 or below 1e-4 (or as set_printoptions(sci_mode=) says)."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values:
                self.max_width = max(self.max_width, len(str(v)))
            return
        nonzero = [v for v in values if v != 0 and math.isfinite(v)]
        if not nonzero:
            return
        mags = [abs(v) for v in nonzero]
        mx, mn = max(mags), min(mags)
        self.int_mode = all(v == math.ceil(v) for v in nonzero)
        sci = PRINT_OPTS["sci_mode"]
        self.sci_mode = (mx / mn > 1000.0 or mx > 1.0e8 or mn < 1.0e-4) if sci is None else sci
        prec = PRINT_OPTS["precision"]
        if self.sci_mode:
            self.max_width = max(len(f"{v:.{prec}e}") for v in nonzero)
        elif self.int_mode:
            self.max_width = max(len(f"{v:.0f}") for v in nonzero) + 1   # the '.'
        else:
            self.max_width = max(len(f"{v:.{prec}f}") for v in nonzero)

    def width(self):
        return self.max_width

    def format(self, v):
        if not self.floating:
            s = str(v)
        elif self.sci_mode:
            s = f"{v:.{PRINT_OPTS['precision']}e}"
        elif self.int_mode:
            s = f"{v:.0f}" + ("." if math.isfinite(v) else "")
        else:
            s = f"{v:.{PRINT_OPTS['precision']}f}"
        return " " * (self.max_width - len(s)) + s


class _ComplexFormatter:
    """PyTorch's complex layout: the real parts with one formatter, the imaginary parts with another (each sized
    over its own values), joined as re+imj; an element takes both widths and the 'j'."""

    def __init__(self, values):
        self.real = _Formatter([v.real for v in values], True)
        self.imag = _Formatter([v.imag for v in values], True)

    def width(self):
        return self.real.width() + self.imag.width() + 1

    def format(self, v):
        im = (self.imag.format(v.imag) + "j").lstrip()
        return self.real.format(v.real) + (im if im[0] in "+-" else "+" + im)


def _values(obj, out):
    if isinstance(obj, tuple):
        _values(obj[0], out)
        _values(obj[1], out)
    elif isinstance(obj, list):
        for o in obj:
            _values(o, out)
    else:
        out.append(obj)


def _str(obj, fmt, indent, ndim):
    if not isinstance(obj, (list, tuple)):
        return fmt.format(obj)
    lead, tail = (obj if isinstance(obj, tuple) else (obj, []))
    items = lead + tail
    if ndim == 1:
        strs = [fmt.format(v) for v in lead]
        if isinstance(obj, tuple):
            strs += [" ..."] + [fmt.format(v) for v in tail]
        per_line = max(1, (PRINT_OPTS["linewidth"] - indent) // (fmt.width() + 2))
        lines = [", ".join(strs[i:i + per_line]) for i in range(0, len(strs), per_line)]
        return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"
    sub = [_str(o, fmt, indent + 1, ndim - 1) for o in lead]
    if isinstance(obj, tuple):
        sub += ["..."] + [_str(o, fmt, indent + 1, ndim - 1) for o in tail]
    sep = "," + "\n" * (ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(sub) + "]"


def _nested(t):
    """Nested lists of the values to print (summarised with (head, tail) tuples past the threshold)."""
    n = t.numel()
    if n > PRINT_OPTS["threshold"]:
        return _summ_lists(t)
    return t.tolist()


def _summ_lists(t):
    edge = PRINT_OPTS["edgeitems"]
    if t.dim() == 1:
        if t._shape[0] > 2 * edge:
            return (t[:edge].tolist(), t[-edge:].tolist())
        return t.tolist()
    if t._shape[0] > 2 * edge:
        return ([_summ_lists(t[i]) for i in range(edge)],
                [_summ_lists(t[i]) for i in range(t._shape[0] - edge, t._shape[0])])
    return [_summ_lists(t[i]) for i in range(t._shape[0])]


def tensor_repr(t, *, tensor_contents=None):
    with no_grad():
        return _tensor_repr(t)


def _tensor_repr(t):
    if t._sparse is not None:
        return _sparse_repr(t)
    prefix = "tensor("
    indent = len(prefix)
    d = t._dtype
    suffixes = []
    dev = t._storage.device
    if dev.type != "cpu":
        suffixes.append(f"device='{dev}'")
    if dev.type == "meta":   # no values to show: the size instead
        body = "..."
        suffixes.append(f"size={tuple(t._shape)}")
    elif t.numel() == 0 and t._shape != (0,):
        body = "[]"
        suffixes.append(f"size={tuple(t._shape)}")
    elif t.numel() == 0:
        body = "[]"
    else:
        src = t
        if dev.type != "cpu":
            try:
                src = t.cpu()
            except Exception as e:  # synchronous readback unavailable (e.g. no JSPI): degrade, don't raise
                return f"tensor(<{tuple(t._shape)} on {dev}, value not read back: {e}>)"
        body = _body(src, indent)
    # values show int64 and bool for what they are; with none shown, any dtype but the default is named
    if dev.type == "meta" or t.numel() == 0:
        show_dtype = d is not D.get_default_dtype()
    else:
        show_dtype = not _dtype_shows_itself(d)
    if show_dtype:
        suffixes.append(f"dtype={d!r}")
    return _add_suffixes(prefix + body, suffixes + _grad_suffix(t), indent)


def _dtype_shows_itself(d):
    return d in (D.get_default_dtype(), D.default_complex_dtype(), D.int64, D.bool_)


def _grad_suffix(t):
    if t._grad_fn is not None:
        return [f"grad_fn=<{t._grad_fn.name()}>"]
    return ["requires_grad=True"] if t._requires_grad else []


def _body(src, indent):
    """The bracketed values of a CPU tensor with elements, laid out from column `indent`."""
    d = src._dtype
    if d in (D.float16, D.bfloat16):
        src = src.to(D.float32)
    vals = _nested(src)
    flat = []
    _values(vals, flat)
    fmt = _ComplexFormatter(flat) if d.is_complex else _Formatter(flat, d.is_floating_point)
    if d is D.bool_:
        fmt.max_width = max(len(str(v)) for v in flat)
    return _str(vals, fmt, indent, src.dim()) if src.dim() else fmt.format(flat[0]).strip()


# the tensors a sparse tensor of each layout prints, with their names
_SPARSE_PARTS = {"sparse_coo": (("indices", "_indices"), ("values", "_values")),
                 "sparse_csr": (("crow_indices", "crow_indices"), ("col_indices", "col_indices"), ("values", "values"))}


def _sparse_repr(t):
    """PyTorch's layout for a sparse tensor: each index tensor and the values as tensors, then size, nnz, dtype (unless
    the default, int64 or bool) and layout, the first suffix on a new line."""
    prefix = "tensor("
    indent = len(prefix)
    suffixes = [] if t._storage.device.type == "cpu" else [f"device='{t._storage.device}'"]
    suffixes += [f"size={tuple(t._shape)}", f"nnz={t._nnz()}"]
    if not _dtype_shows_itself(t._dtype):
        suffixes.append(f"dtype={t._dtype!r}")
    parts = []
    for name, getter in _SPARSE_PARTS[t.layout.name]:
        part = getattr(t, getter)().detach()
        head = f"{name}=tensor("
        body = _body(part.cpu(), indent + len(head)) if part.numel() else "[]"
        if part.numel() == 0:
            body += f", size={tuple(part._shape)}"
        parts.append(head + body + ")")
    text = prefix + (",\n" + " " * indent).join(parts)
    return _add_suffixes(text, suffixes + [f"layout={t.layout!r}"] + _grad_suffix(t), indent,
                         force_newline=t.layout.name == "sparse_coo")


def _add_suffixes(text, suffixes, indent, force_newline=False):
    """Append ", dtype=..." & co.; one that would pass the line width starts a new line, as PyTorch's repr does (its
    running length counts two characters more than the last line holds, kept as it is so the breaks fall alike)."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if force_newline or last_line_len + len(s) + 2 > PRINT_OPTS["linewidth"]:
            force_newline = False
            parts.append(",\n" + " " * indent + s)
            last_line_len = indent + len(s)
        else:
            parts.append(", " + s)
            last_line_len += len(s) + 2
    parts.append(")")
    return "".join(parts)


Tensor.__repr__ = tensor_repr  # (core's Tensor cannot import this module)
