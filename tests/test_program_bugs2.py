"""Bugs that third-party PyTorch programs (pytorch/examples, lucidrains' vit-pytorch, karpathy's repos, ...) met
under torch_js, each pinned against PyTorch's behaviour: the dim a broadcast error names, setitem's value with
leading size-1 dims; the transformer modules' mismatched-mask deprecation warning, F.pad's rank error, the in-place
error's text, var/std's no-degrees-of-freedom warning; the autograd graph's next_functions and node names;
print(type(t))."""
import os
import subprocess
import sys
import warnings

import pytest

import torch_js
from optional_torch import needs_torch, torch


def _outcome(lib, fn):
    """fn(lib) -> ("ok", nested list) or (exception type name, first message line)."""
    try:
        r = fn(lib)
    except Exception as e:   # noqa: BLE001 - the outcome is what is compared
        return type(e).__name__, str(e).split("\n")[0]
    return "ok", r.tolist() if hasattr(r, "tolist") else r


def _warned(calls):
    """Per call, the warnings it gave: (category, message without PyTorch's "Triggered internally" suffix, the
    basename of the file they name)."""
    out = []
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        out.append([(w.category.__name__, str(w.message).split(" (Triggered internally")[0],
                     os.path.basename(w.filename)) for w in caught])
    return out


# ---- broadcasting names the rightmost mismatching dim (ATen's infer_size walks from the right) -----------------

_BROADCASTS = [((8, 64, 64), (65, 63)), ((2, 3, 4), (5, 4)), ((3, 1, 5), (4, 6)), ((2, 3), (4, 3)), ((7,), (2, 6))]


@pytest.mark.parametrize("a,b", _BROADCASTS)
def test_broadcast_error_names_the_rightmost_dim(a, b):
    with pytest.raises(RuntimeError) as e:
        torch_js.zeros(a) + torch_js.zeros(b)
    rightmost = max(i for i in range(-1, -min(len(a), len(b)) - 1, -1) if a[i] != b[i] and 1 not in (a[i], b[i]))
    n = max(len(a), len(b))
    assert str(e.value) == (f"The size of tensor a ({a[rightmost]}) must match the size of tensor b ({b[rightmost]}) "
                            f"at non-singleton dimension {n + rightmost}")


@needs_torch
@pytest.mark.parametrize("a,b", _BROADCASTS)
def test_broadcast_error_matches_torch(a, b):
    assert _outcome(torch_js, lambda L: L.zeros(a) * L.ones(b)) == _outcome(torch, lambda L: L.zeros(a) * L.ones(b))


# ---- setitem: the value's leading size-1 dims are dropped before it broadcasts (vit-pytorch's MPP mask token) ---

def _set(key, value_shape):
    def run(L):
        t = L.zeros(2, 3)
        n = 1
        for d in value_shape:
            n *= d
        t[key(L) if callable(key) else key] = L.arange(1.0, n + 1).reshape(value_shape)
        return t
    return run


_SETITEMS = [
    (0, (1, 1, 3)),                                      # basic index, value (1, 1, n)
    (Ellipsis, (1, 2, 3)),
    ((slice(None), 1), (1, 2)),
    ((slice(None), 1), (2, 1)),                          # no leading 1s: PyTorch's expand error
    (None, (1, 1, 1, 3)),
    (0, (2, 3)),                                         # too many dims after stripping: expand error
    (lambda L: L.tensor([True, False]), (1, 1, 3)),      # boolean mask (advanced)
    (lambda L: L.tensor([0, 1]), (1, 1, 1, 3)),          # integer index (advanced)
    (lambda L: L.tensor([0]), (2, 1, 3)),                # advanced, stays a mismatch
]


@needs_torch
@pytest.mark.parametrize("key,shape", _SETITEMS)
def test_setitem_value_with_leading_ones_matches_torch(key, shape):
    assert _outcome(torch_js, _set(key, shape)) == _outcome(torch, _set(key, shape))


def test_setitem_value_with_leading_ones_self_check():
    t = torch_js.zeros(2, 3)
    t[torch_js.tensor([False, True])] = torch_js.tensor([[[1.0, 2.0, 3.0]]])
    assert t.tolist() == [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
    t[0] = torch_js.full((1, 1, 1), 7.0)
    assert t.tolist() == [[7.0, 7.0, 7.0], [1.0, 2.0, 3.0]]


def test_setitem_value_with_leading_ones_keeps_gradient():
    v = torch_js.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    t = torch_js.zeros(3, 3, requires_grad=True).clone()
    t[torch_js.tensor([True, False, True])] = v
    (t * torch_js.arange(9.0).reshape(3, 3)).sum().backward()
    assert v.grad.shape == (1, 1, 3)
    assert v.grad.tolist() == [[[6.0, 8.0, 10.0]]]


# ---- the autograd graph as programs walk it (torchviz, tutorials printing grad_fn.next_functions) ---------------

def _graph(lib, root, depth=3):
    """(node name, [children...]) down `depth` levels, as a graph-drawing program walks next_functions."""
    def walk(fn, d):
        if fn is None:
            return None
        kids = [] if d == 0 else [(walk(f, d - 1), nr) for f, nr in fn.next_functions]
        return type(fn).__name__, kids
    return walk(root.grad_fn, depth)


_EXPRS = ["2 * c", "c * 2", "2 + c", "c + 2", "2 - c", "c - 2", "2 / c", "3.0 / c", "c / 2", "2 ** c", "c ** 2",
          "c // 2", "-c", "c + c", "torch.tensor(3.) * c", "torch.rsub(c, 2, alpha=3)", "torch.rsub(c, b)",
          "torch.where(c > 1, c, 0.)", "c.exp().sum()", "(1 - c).log1p()"]


def _expr_case(lib, expr):
    b = lib.tensor([1.0, 2.0], requires_grad=True)
    c = b * 1
    r = eval(expr, {"torch": lib, "b": b, "c": c})
    return _graph(lib, r), r.detach().tolist()


@needs_torch
@pytest.mark.parametrize("expr", _EXPRS)
def test_operator_graphs_match_torch(expr):
    assert _expr_case(torch_js, expr) == _expr_case(torch, expr)


def test_next_functions_have_pytorch_placeholders():
    c = torch_js.tensor([1.0, 2.0], requires_grad=True) * 1
    r = 2 * c + 1
    (add_fn, nr), missing = r.grad_fn.next_functions
    assert missing == (None, 0) and type(add_fn).__name__ == "MulBackward0" and nr == 0
    assert [type(f).__name__ if f is not None else None for f, _ in add_fn.next_functions] == ["MulBackward0", None]
    assert type((1 - c).grad_fn).__name__ == "RsubBackward1" and len((1 - c).grad_fn.next_functions) == 1


@pytest.mark.parametrize("alpha", [1, 3, 0.5])
def test_rsub_gradients(alpha):
    x = torch_js.tensor([1.0, -2.0, 4.0], requires_grad=True)
    o = torch_js.tensor([[0.5], [2.0]], requires_grad=True)
    r = torch_js.rsub(x, o, alpha=alpha)          # o - alpha * x, broadcast to (2, 3)
    assert r.tolist() == [[ov - alpha * xv for xv in (1.0, -2.0, 4.0)] for ov in (0.5, 2.0)]
    r.sum().backward()
    assert x.grad.tolist() == [-2.0 * alpha] * 3 and o.grad.tolist() == [[3.0], [3.0]]
    y = torch_js.tensor([2.0], requires_grad=True)
    (5 - y).backward()
    assert y.grad.tolist() == [-1.0]


def test_rtruediv_is_reciprocal_times_number():
    x = torch_js.tensor([3.0, 7.0, 0.1], dtype=torch_js.float32)
    assert (3.0 / x).tolist() == (x.reciprocal() * 3.0).tolist()
    assert (1 / torch_js.tensor([2, 4])).dtype == torch_js.float32


# ---- the grad_fn a printed module output shows (conv, norms, activations) ---------------------------------------

def _module_cases(lib):
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    x1 = lib.randn(2, 3, 8, requires_grad=True)
    x2 = lib.randn(2, 3, 6, 6)
    s = lib.randn(2, 5, 6)
    return {
        "conv1d": lambda: nn.Conv1d(3, 4, 3)(x1), "conv1d_nobias": lambda: nn.Conv1d(3, 4, 3, bias=False)(x1),
        "conv1d_n1": lambda: nn.Conv1d(3, 2, 1, bias=False)(x1[:1]), "conv2d": lambda: nn.Conv2d(3, 4, 3)(x2),
        "conv_t2d": lambda: nn.ConvTranspose2d(3, 2, 2, bias=False)(x2),
        "conv_unbatched": lambda: nn.Conv1d(3, 2, 2)(x1[0]),
        "conv_double": lambda: nn.Conv1d(3, 2, 2).double()(x1.double()),
        "bn": lambda: nn.BatchNorm2d(3)(x2), "bn_eval": lambda: nn.BatchNorm1d(3).eval()(x1),
        "bn_noaffine": lambda: nn.BatchNorm1d(3, affine=False)(x1), "ln": lambda: nn.LayerNorm(6)(s),
        "ln_plain": lambda: F.layer_norm(x1, (8,)), "gn": lambda: nn.GroupNorm(1, 3)(x2),
        "gn_plain": lambda: F.group_norm(x1, 3), "in": lambda: nn.InstanceNorm1d(3)(x1),
        "prelu": lambda: nn.PReLU()(x1), "pdist": lambda: F.pairwise_distance(x1[0], x1[1]), "gelu": lambda: F.gelu(x1),
        "gelu_tanh": lambda: F.gelu(x1, approximate="tanh"), "log1p": lambda: x1.exp().log1p(),
        "conv_relu_": lambda: F.relu(nn.Conv2d(3, 4, 3, bias=False)(x2), inplace=True),
        "tel": lambda: nn.TransformerEncoderLayer(6, 2, 8, dropout=0.0, batch_first=True)(s),
    }


@needs_torch
@pytest.mark.parametrize("name", list(_module_cases(torch_js)))
def test_module_output_grad_fn_matches_torch(name):
    mine = _module_cases(torch_js)[name]()
    ref = _module_cases(torch)[name]()
    assert type(mine.grad_fn).__name__ == type(ref.grad_fn).__name__
    assert repr(mine.grad_fn).split(" object")[0] == repr(ref.grad_fn).split(" object")[0]


@pytest.mark.parametrize("name", ["conv1d_nobias", "conv1d_n1", "conv_t2d", "conv_relu_"])
def test_conv_output_is_not_a_view(name):
    y = _module_cases(torch_js)[name]()
    assert y._base is None and not y._is_view()
    assert type(y.grad_fn).__name__ in ("ConvolutionBackward0", "ReluBackward0")


# ---- print(type(t)) under `python -m torch_js` -------------------------------------------------------------------

@pytest.mark.skipif(sys.platform == "emscripten", reason="no subprocesses in Pyodide")
def test_type_repr_reads_torch_under_the_alias():
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(torch_js.__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    code = ("import torch\nclass Mine(torch.Tensor): pass\n"
            "print(type(torch.zeros(1)), torch.Tensor, type(torch.nn.Parameter(torch.zeros(1))), Mine)")
    r = subprocess.run([sys.executable, "-m", "torch_js", "-c", code], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.stdout.strip() == ("<class 'torch.Tensor'> <class 'torch.Tensor'> <class 'torch.nn.parameter.Parameter'> "
                                "<class '__main__.Mine'>"), r.stderr
    assert repr(torch_js.Tensor) == "<class 'torch_js._tensor.Tensor'>"   # imported by its own name: its own module


# ---- custom autograd.Function as torchdiffeq's adjoint uses it ---------------------------------------------------

def _function_cases(lib):
    log = []

    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            ctx.save_for_backward(None, x)
            return x * k, x + 1

        @staticmethod
        def backward(ctx, ga, gb):
            none, x = ctx.saved_tensors
            log.append(("two", ga.tolist(), gb.tolist(), none, x.tolist()))
            return ga * ctx.k + gb, None

    class NoMaterialize(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            log.append(("nomat", ga.tolist(), gb))
            return ga * 2

    class SetupContext(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs, output)

        @staticmethod
        def backward(ctx, g):
            x, y, out = ctx.saved_tensors
            log.append(("setup", out.tolist()))
            return g * y, g * x

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor([5.0, 7.0], requires_grad=True)
    a, b = Two.apply(x, 3)
    log.append((type(a.grad_fn).__name__, a.grad_fn.k, a.grad_fn is b.grad_fn, a.grad_fn.needs_input_grad))
    a.sum().backward()
    c, _ = NoMaterialize.apply(x)
    c.sum().backward()
    r = SetupContext.apply(x, y)
    r.sum().backward()
    log.append((x.grad.tolist(), y.grad.tolist(), r.tolist(), type(r.grad_fn).__name__))
    try:
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 2
        Bad.apply(x)
    except TypeError as e:
        log.append(str(e))
    return log


@needs_torch
def test_custom_function_protocol_matches_torch():
    assert _function_cases(torch_js) == _function_cases(torch)


def test_custom_function_protocol_self_check():
    log = _function_cases(torch_js)
    assert log[0] == ("TwoBackward", 3, True, (True, False))
    assert log[1] == ("two", [1.0, 1.0], [0.0, 0.0], None, [1.0, 2.0])   # the unused output's grad: zeros
    assert log[2] == ("nomat", [1.0, 1.0], None)
    assert log[-1] == "save_for_backward can only save variables, but argument 1 is of type int"


def test_linalg_error_is_reachable_as_torch_C():
    assert torch_js._C._LinAlgError is torch_js.linalg.LinAlgError
    with pytest.raises(torch_js._C._LinAlgError):
        torch_js.linalg.solve(torch_js.zeros(2, 2), torch_js.ones(2))


# ---- dropout2d/3d's deprecation warnings: PyTorch's text, pointing at the caller (mnist_rnn's Dropout2d) ------------

def _dropout_warnings(lib):
    nn, F = lib.nn, lib.nn.functional
    return _warned((lambda: nn.Dropout2d()(lib.ones(2, 3)), lambda: F.dropout2d(lib.ones(2, 3, 4)),
                    lambda: F.dropout3d(lib.ones(2, 3)), lambda: nn.Dropout3d()(lib.ones(2, 3, 4))))


@needs_torch
def test_dropout_nd_warnings_match_torch():
    assert _dropout_warnings(torch_js) == _dropout_warnings(torch)


def test_dropout_nd_warning_points_at_the_caller():
    got = _dropout_warnings(torch_js)
    assert got[1][0][2] == os.path.basename(__file__) and got[0][0][2] == "dropout.py"
    assert got[0][0][1].endswith("(i.e. 3D or 4D inputs).")


# ---- a bool key-padding mask beside a float attention mask: PyTorch's deprecation warning, where it puts it -------

def _mask_warnings(lib):
    """The warnings of the transformer modules and MHA given a bool padding mask and a float attention mask, each
    with the basename of the file it names, and F._canonical_mask's own (its caller's file: this one)."""
    nn = lib.nn
    lib.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x, am = lib.randn(2, 3, 8), lib.zeros(3, 3)
    kpm = lib.tensor([[False, False, True], [False, False, False]])
    calls = [lambda: nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)(x, mask=am, src_key_padding_mask=kpm),
             lambda: layer(x, src_mask=am, src_key_padding_mask=kpm),
             lambda: nn.MultiheadAttention(8, 2, batch_first=True)(x, x, x, key_padding_mask=kpm, attn_mask=am),
             lambda: nn.functional._canonical_mask(kpm, "a", lib.float32, "b", lib.float32),
             lambda: nn.functional._canonical_mask(am, "a", None, "b", lib.float32)]
    return _warned(calls)


@needs_torch
def test_mismatched_mask_warnings_match_torch():
    assert _mask_warnings(torch_js) == _mask_warnings(torch)


def test_mismatched_mask_warnings():
    got = _mask_warnings(torch_js)
    assert got[0] == [("UserWarning", "Support for mismatched src_key_padding_mask and mask is deprecated. Use same "
                       "type for both instead.", "transformer.py")]
    assert got[3][0][2] == os.path.basename(__file__) and got[4] == []
    assert torch_js.nn.functional._none_or_dtype(None) is None
    with pytest.raises(RuntimeError, match="must be None or torch.Tensor"):
        torch_js.nn.functional._none_or_dtype(3)


# ---- more printed grad_fn names, and results that must not alias their input -------------------------------------

def _named_cases(lib):
    F = lib.nn.functional
    lib.manual_seed(0)
    a = (lib.rand(3, 4) + 0.5).requires_grad_()
    v = (lib.rand(4) + 0.5).requires_grad_()
    m = (lib.rand(4, 4) + 0.5).requires_grad_()
    b3 = (lib.rand(2, 3, 4) + 0.5).requires_grad_()
    idx = lib.tensor([0, 2])
    return {
        "sum_keepdim": lambda: a.sum(dim=-1, keepdim=True), "mean_keepdim": lambda: a.mean(1, keepdim=True),
        "v@v": lambda: v @ v, "dot": lambda: lib.dot(v, v), "m@v": lambda: m @ v, "v@m": lambda: v @ m,
        "b3@m": lambda: b3 @ m, "b3@v": lambda: b3 @ v, "v@b3": lambda: v @ b3.transpose(1, 2),
        "b3@b3": lambda: b3 @ b3.transpose(1, 2), "m@b3": lambda: m @ b3.transpose(1, 2),
        "linear1d": lambda: F.linear(v, m), "linear3d": lambda: F.linear(b3, m),
        "addmm": lambda: lib.addmm(v, a, m), "baddbmm": lambda: lib.baddbmm(b3, b3, m.expand(2, 4, 4)),
        "lerp": lambda: a.lerp(a * 2, 0.5), "lerp_t": lambda: a.lerp(a * 2, lib.tensor(0.3)),
        "addcmul": lambda: lib.addcmul(a, a, a, value=2), "addcdiv": lambda: lib.addcdiv(a, a, a),
        "nan_to_num": lambda: a.nan_to_num(), "repeat": lambda: a.repeat(2, 1), "repeat_1": lambda: a.repeat(1, 1),
        "tril": lambda: m.tril(), "triu": lambda: m.triu(1), "trace": lambda: lib.trace(m),
        "index_select": lambda: a.index_select(0, idx), "masked_select": lambda: a.masked_select(a > 1),
        "roll": lambda: a.roll(1, 0), "roll_flat": lambda: a.roll(2), "square": lambda: a.square(),
        "pad": lambda: F.pad(a, (1, 1)), "pad_crop": lambda: F.pad(a, (-1, 0)), "pad_none": lambda: F.pad(a, (0, 0)),
        "nearest1d": lambda: F.interpolate(b3, scale_factor=2),
        "linear_up": lambda: F.interpolate(b3, size=6, mode="linear"),
        "bilinear": lambda: F.interpolate(b3.unsqueeze(0), scale_factor=2, mode="bilinear"),
        "nearest_exact": lambda: F.interpolate(b3, scale_factor=2, mode="nearest-exact"),
    }


@needs_torch
@pytest.mark.parametrize("name", list(_named_cases(torch_js)))
def test_result_node_and_view_match_torch(name):
    mine, ref = _named_cases(torch_js)[name](), _named_cases(torch)[name]()
    assert (type(mine.grad_fn).__name__, mine._is_view()) == (type(ref.grad_fn).__name__, ref._is_view())
    assert torch.allclose(torch.tensor(mine.detach().tolist()), ref.detach(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make", [lambda x: x.repeat(1, 1), lambda x: x.tile((1,)), lambda x: x.repeat_interleave(1),
                                  lambda x: x.repeat_interleave(1, dim=1),
                                  lambda x: torch_js.nn.functional.pixel_shuffle(x.view(1, 1, 2, 3), 1),
                                  lambda x: torch_js.nn.functional.pixel_unshuffle(x.view(1, 1, 2, 3), 1),
                                  lambda x: torch_js.nn.functional.channel_shuffle(x.view(1, 2, 3), 1),
                                  lambda x: torch_js.nn.functional.pad(x, (-1, 0)),
                                  lambda x: torch_js.nn.functional.pad(x, (0, 0))])
def test_copies_do_not_alias_their_input(make):
    x = torch_js.arange(6.0).reshape(2, 3)
    y = make(x)
    y.fill_(-1.0)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


@needs_torch
@pytest.mark.parametrize("expr", ["x.repeat(1, 1)", "x.repeat_interleave(1)", "x.repeat_interleave(2, dim=1)",
                                  "torch.einsum('ij->ij', x)", "torch.einsum('ij', x)", "F.pad(x, (0, 0))",
                                  "x.roll(3, 1)", "torch.cat([x])", "F.pixel_shuffle(x.view(1, 1, 2, 3), 1)",
                                  "F.channel_shuffle(x.view(1, 2, 3), 2)", "F.embedding(torch.tensor([[1, 0]]), x)",
                                  "torch.take(x, torch.tensor([[0, 5]]))", "torch.kron(x, x)", "torch.diag(x[0])",
                                  "torch.diag(x)", "F.fold(x.view(1, 1, 6), (2, 3), 1)"])
def test_identity_like_results_match_torch(expr):
    def outcome(lib):
        x = lib.arange(6.0).reshape(2, 3)
        r = eval(expr, {"torch": lib, "F": lib.nn.functional, "x": x})
        return r is x, r._is_view(), r.data_ptr() == x.data_ptr()
    assert outcome(torch_js) == outcome(torch)


def test_inplace_on_matmul_result_records_the_op():
    q = torch_js.rand(2, 3, 4, requires_grad=True)
    scores = q @ q.transpose(1, 2)
    scores.masked_fill_(torch_js.ones(3, 3, dtype=torch_js.bool).triu(1), float("-inf"))
    assert type(scores.grad_fn).__name__ == "MaskedFillBackward0"
    scores.softmax(-1).sum().backward()
    assert q.grad.shape == (2, 3, 4)


# ---- F.pad: a non-constant mode given a padding length its input's rank does not take -------------------------

_BAD_PADS = [((2, 3, 4, 5), (1, 1)), ((2, 3), (1, 1, 1, 1)), ((2,), (1, 1)), ((2, 3, 4, 5, 6), (1,) * 8)]


@pytest.mark.parametrize("shape,pad", _BAD_PADS)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_pad_rank_error(shape, pad, mode):
    with pytest.raises(NotImplementedError) as e:
        torch_js.nn.functional.pad(torch_js.ones(shape), pad, mode=mode)
    assert str(e.value).startswith(f"Padding size {len(pad)} is not supported for {len(shape)}D input tensor.\n")
    if torch is not None:
        assert _outcome(torch_js, lambda lib: lib.nn.functional.pad(lib.ones(shape), pad, mode=mode)) == \
            _outcome(torch, lambda lib: lib.nn.functional.pad(lib.ones(shape), pad, mode=mode))


# ---- the error for a saved tensor written in place: whose output it is (a saved output's node, a saved input's
# grad_fn now, nothing for a leaf), named as PyTorch 2.13 names it, and the hint for anomaly mode on or off ---------

def _inplace_errors(lib):
    def saved_output():
        c = lib.ones(2, requires_grad=True).sigmoid()
        c.mul_(2)
        c.sum().backward()

    def saved_input():
        x = lib.ones(2, requires_grad=True).exp()
        y = x ** 2
        x.add_(1)
        y.sum().backward()

    def saved_leaf():
        w = lib.ones(2)
        y = lib.ones(2, requires_grad=True) * w
        w.add_(1)
        y.sum().backward()

    def in_anomaly_mode():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.set_detect_anomaly(True):
                saved_output()
    out = []
    for f in (saved_output, saved_input, saved_leaf, in_anomaly_mode):
        with pytest.raises(RuntimeError) as e:
            f()
        out.append(str(e.value))
    return out


def test_inplace_error_names_the_producer():
    got = _inplace_errors(torch_js)
    assert ", which is output 0 of Sigmoid, is at version 1; expected version 0 instead." in got[0]
    assert "output 0 of Exp" not in got[1] and ", which is output 0 of Add," in got[1]
    assert "which is output" not in got[2] and got[3].endswith("Good luck!")
    if torch is not None:
        assert got == _inplace_errors(torch)


# ---- var / std with no degree of freedom left warn, as PyTorch, at the caller's line ------------------------------

def _dof_warnings(lib):
    calls = [lambda: lib.tensor([1.0]).std(), lambda: lib.tensor([1.0]).var(), lambda: lib.std_mean(lib.tensor([1.0])),
             lambda: lib.var_mean(lib.ones(3, 1), dim=1), lambda: lib.ones(2, 2).var(correction=2),
             lambda: lib.ones(2, 2).var(correction=3, dim=0), lambda: lib.std(lib.ones(1))]
    return _warned(calls)


def test_no_degrees_of_freedom_warns():
    got = _dof_warnings(torch_js)
    assert [len(w) for w in got] == [1, 1, 1, 1, 0, 1, 1]
    assert got[0][0] == ("UserWarning", "std(): degrees of freedom is <= 0. Correction should be strictly less than "
                         "the reduction factor (input numel divided by output numel).", os.path.basename(__file__))
    if torch is not None:
        assert got == _dof_warnings(torch)


def test_index_add_node_is_index_add_backward():
    """A GCN's message passing (zeros().index_add_(0, col, messages)): the result's node is IndexAddBackward0, and the
    messages' gradient is the output's gradient gathered at their rows."""
    src = torch_js.arange(6.0).reshape(3, 2).requires_grad_()
    out = torch_js.zeros(4, 2).index_add_(0, torch_js.tensor([1, 3, 1]), src)
    assert type(out.grad_fn).__name__ == "IndexAddBackward0"
    (out * torch_js.arange(8.0).reshape(4, 2)).sum().backward()
    assert src.grad.tolist() == [[2.0, 3.0], [6.0, 7.0], [2.0, 3.0]]


NODE_NAMES = [   # (expression over x, a (3, 4) float leaf; PyTorch 2.13's grad_fn names of the results)
    ("x.max(1, keepdim=True)[0]", ["MaxBackward0"]),    # FGSM's out.max(1, keepdim=True)[1]'s values
    ("x.min(0, keepdim=True)[0]", ["MinBackward0"]),
    ("x.amax(1, keepdim=True)", ["AmaxBackward0"]),
    ("x.amin((0, 1), keepdim=True)", ["AminBackward0"]),
    ("x.prod(1, keepdim=True)", ["ProdBackward1"]),
    ("x.prod(1)", ["ProdBackward1"]),
    ("x.prod()", ["ProdBackward0"]),
    ("x.split([1, 3], 1)", ["SplitWithSizesBackward0"] * 2),
    ("x.split(2, 1)", ["SplitBackward0"] * 2),
    ("x.tensor_split(2, 1)", ["SliceBackward0"] * 2),
    ("x.hsplit(2)", ["SliceBackward0"] * 2),
    ("x.rot90()", ["Rot90Backward0"]),
    ("x.rot90(0)", ["Rot90Backward0"]),
    ("x.H", ["TransposeBackward0"]),
]


@pytest.mark.parametrize("expr,names", NODE_NAMES, ids=[n[0] for n in NODE_NAMES])
def test_node_names_are_pytorchs(expr, names):
    x = torch_js.arange(12.0).reshape(3, 4).requires_grad_()
    r = eval(expr)
    got = [type(t.grad_fn).__name__ for t in (r if isinstance(r, tuple) else (r,))]
    assert got == names


def test_keepdim_reductions_differentiate_as_before():
    """The keepdim reductions record their node on the kept-dim result: gradients (and their graphs) unchanged."""
    x = torch_js.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 4.0]], requires_grad=True)
    w = torch_js.tensor([[1.0], [2.0]])
    for r, grad in ((x.max(1, keepdim=True)[0], [[0, 1, 0], [2, 0, 0]]),
                    (x.amax(1, keepdim=True), [[0, 1, 0], [1, 0, 1]]),
                    (x.prod(1, keepdim=True), [[10, 2, 5], [24, 32, 24]])):
        g, = torch_js.autograd.grad((r * w).sum(), x)
        assert g.tolist() == grad
