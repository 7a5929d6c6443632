"""Bugs real PyTorch programs met: roll's alias, in-place activations in a training step, Linear's grad_fn
names, 0-d tensor formatting, cuda devices on a build without CUDA, whole-module checkpoints; and those the program
corpus (tests/programs, tests/test_programs.py) met: dropout and the *_like samplers on transposed tensors (an
attention output), the line a repr's dtype=/grad_fn= goes on, custom Functions' node class, the losses' node names,
weighted mse/l1 means, round(decimals=)'s node."""
import math

import pytest

import torch_js
import torch_js.nn as jnn
from optional_torch import needs_torch, torch


# ---- roll ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shifts,dims", [(0, None), (3, 1), ((0, 0), (0, 1)), (6, None), (-3, 1)])
def test_roll_without_movement_returns_a_copy(shifts, dims):
    x = torch_js.arange(6.0).reshape(2, 3)
    y = torch_js.roll(x, shifts, dims)
    assert y.data_ptr() != x.data_ptr()
    assert y.tolist() == x.tolist()
    y.add_(1)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


# ---- in-place activations in a training step -------------------------------------------------------------------

_INPLACE_ACTS = [("LeakyReLU", (0.1,)), ("ReLU", ()), ("ELU", (0.7,)), ("Hardtanh", (-0.5, 0.5)), ("ReLU6", ()),
                 ("SELU", ()), ("CELU", (1.3,)), ("SiLU", ()), ("Hardswish", ()), ("Mish", ()), ("Hardsigmoid", ()),
                 ("Threshold", (0.1, 2.0))]


def _copy_params(src, dst):
    for (name, p), (_, q) in zip(src.named_parameters(), dst.named_parameters()):
        q.data = torch_js.tensor(p.detach().tolist())


@needs_torch
@pytest.mark.parametrize("name,args", _INPLACE_ACTS)
def test_inplace_activation_training_step_matches_torch(name, args):
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 5), getattr(torch.nn, name)(*args, inplace=True),
                              torch.nn.Linear(5, 2))
    mine = jnn.Sequential(jnn.Linear(3, 5), getattr(jnn, name)(*args, inplace=True), jnn.Linear(5, 2))
    _copy_params(ref, mine)
    x = torch.randn(4, 3) * 3
    ref(x).pow(2).sum().backward()
    mine(torch_js.tensor(x.tolist())).pow(2).sum().backward()
    for p, q in zip(ref.parameters(), mine.parameters()):
        assert torch.allclose(p.grad, torch.tensor(q.grad.tolist()), rtol=1e-5, atol=1e-6), name


@needs_torch
@pytest.mark.parametrize("fn", ["leaky_relu_", "elu_", "selu_", "celu_", "hardtanh_"])
def test_inplace_functional_node_names(fn):
    x = torch.randn(3, requires_grad=True)
    ref = getattr(torch.nn.functional, fn)(x * 1)
    xj = torch_js.randn(3, requires_grad=True)
    mine = getattr(jnn.functional, fn)(xj * 1)
    assert type(mine.grad_fn).__name__ == type(ref.grad_fn).__name__


def test_inplace_rrelu_training_gradient_is_its_noise():
    x = torch_js.randn(50, requires_grad=True)
    y = x * 1
    out = jnn.functional.rrelu(y, training=True, inplace=True)
    assert out is y
    out.sum().backward()
    slope = x.grad.tolist()
    for v, s in zip(x.tolist(), slope):
        assert s == 1.0 if v > 0 else 1 / 8 <= s <= 1 / 3


def test_inplace_activation_of_a_leaf_refuses():
    x = torch_js.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        jnn.functional.elu_(x)


def test_inplace_activation_double_backward():
    # the kept input keeps its history, so a second derivative goes through it
    x = torch_js.tensor([0.3, -0.4], requires_grad=True)
    y = jnn.functional.silu(x * 1, inplace=True)
    (g,) = torch_js.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = torch_js.autograd.grad(g.sum(), x)
    for v, got in zip([0.3, -0.4], gg.tolist()):
        s = 1 / (1 + math.exp(-v))
        assert math.isclose(got, s * (1 - s) * (2 + v * (1 - 2 * s)), rel_tol=1e-5)


# ---- Linear's grad_fn ------------------------------------------------------------------------------------------

def _chain(t):
    names = [type(t.grad_fn).__name__]
    nxt = [e for e in t.grad_fn.next_functions if e is not None and e[0] is not None]
    if names[0] in ("ViewBackward0", "UnsafeViewBackward0") or names[0].startswith("Squeeze"):
        names.append(type(nxt[0][0]).__name__)
    return names


@needs_torch
@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 4, 3), (2, 1, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_grad_fn_names(shape, bias):
    torch.manual_seed(0)
    ref = torch.nn.Linear(3, 2, bias=bias)
    mine = jnn.Linear(3, 2, bias=bias)
    _copy_params(ref, mine)
    x = torch.randn(*shape)
    r, m = ref(x), mine(torch_js.tensor(x.tolist()))
    assert torch.allclose(r, torch.tensor(m.tolist()), atol=1e-6)
    got, want = _chain(m), _chain(r)
    if bias or len(shape) == 2:
        assert got == want
    else:
        assert got[-1] == want[-1] == "MmBackward0"


@needs_torch
def test_linear_addmm_gradients_match_torch():
    torch.manual_seed(1)
    ref = torch.nn.Linear(3, 2)
    mine = jnn.Linear(3, 2)
    _copy_params(ref, mine)
    x = torch.randn(2, 5, 3, requires_grad=True)
    xj = torch_js.tensor(x.tolist(), requires_grad=True)
    ref(x).tanh().sum().backward()
    mine(xj).tanh().sum().backward()
    for a, b in [(x.grad, xj.grad), (ref.weight.grad, mine.weight.grad), (ref.bias.grad, mine.bias.grad)]:
        assert torch.allclose(a, torch.tensor(b.tolist()), atol=1e-6)


def test_linear_addmm_self_check():
    w = torch_js.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    b = torch_js.tensor([0.5, -0.5, 1.0], requires_grad=True)
    x = torch_js.tensor([[1.0, -1.0], [2.0, 0.0]], requires_grad=True)
    y = jnn.functional.linear(x, w, b)
    assert type(y.grad_fn).__name__ == "AddmmBackward0"
    assert y.tolist() == [[-0.5, -1.5, 0.0], [2.5, 5.5, 11.0]]
    y.backward(torch_js.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]))
    assert b.grad.tolist() == [1.0, 1.0, 2.0]
    assert x.grad.tolist() == [[11.0, 14.0], [3.0, 4.0]]
    assert w.grad.tolist() == [[1.0, -1.0], [2.0, 0.0], [2.0, -2.0]]


# ---- formatting a 0-d tensor -----------------------------------------------------------------------------------

_FORMAT_CASES = [(3.14159, "+.2f"), (3.14159, ""), (3, "d"), (3, ">5"), (True, ""), (2.5, "e"), (7, "x")]


@needs_torch
@pytest.mark.parametrize("value,spec", _FORMAT_CASES)
def test_format_0d_matches_torch(value, spec):
    assert format(torch_js.tensor(value), spec) == format(torch.tensor(value), spec)


def test_format_0d_and_nd_self_check():
    assert f"{torch_js.tensor(0.5)}" == "0.5"
    assert f"{torch_js.tensor(2.0, requires_grad=True):.3f}" == "2.000"
    assert format(torch_js.tensor([1.5, 2.0]), "") == str(torch_js.tensor([1.5, 2.0]))
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(torch_js.tensor([1.5, 2.0]), ".2f")


# ---- no CUDA ---------------------------------------------------------------------------------------------------

_CUDA_CALLS = {
    "zeros": lambda t: t.zeros(2, device="cuda"),
    "tensor": lambda t: t.tensor([1.0], device="cuda"),
    "randn": lambda t: t.randn(2, device=t.device("cuda")),
    "to": lambda t: t.zeros(2).to("cuda"),
    "to_index": lambda t: t.zeros(2).to("cuda:1"),
    "tensor_cuda": lambda t: t.zeros(2).cuda(),
    "module_cuda": lambda t: t.nn.Linear(2, 2).cuda(),
    "module_to": lambda t: t.nn.Linear(2, 2).to("cuda"),
}


@pytest.mark.parametrize("call", sorted(_CUDA_CALLS))
def test_cuda_device_raises_not_compiled(call):
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        _CUDA_CALLS[call](torch_js)


@needs_torch
@pytest.mark.parametrize("call", sorted(_CUDA_CALLS))
def test_cuda_device_error_matches_torch(call):
    with pytest.raises(AssertionError) as ref:
        _CUDA_CALLS[call](torch)
    with pytest.raises(AssertionError) as mine:
        _CUDA_CALLS[call](torch_js)
    assert str(mine.value) == str(ref.value)


# ---- torch.load of a whole pickled nn.Module -------------------------------------------------------------------

import io  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402


def _jmodel():
    torch_js.manual_seed(0)
    return jnn.Sequential(jnn.Linear(2, 3), jnn.ReLU(), jnn.Linear(3, 1))


def _saved(obj, save=torch_js.save):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def test_whole_module_round_trip_with_weights_only_false():
    m = _jmodel()
    back = torch_js.load(io.BytesIO(_saved(m)), weights_only=False)
    assert type(back[0]) is jnn.Linear and type(back) is jnn.Sequential
    x = torch_js.randn(4, 2)
    assert back(x).tolist() == m(x).tolist()
    assert repr(back) == repr(m)


def test_whole_module_refused_by_default_with_pytorchs_message():
    data = _saved(_jmodel())
    for kwargs in ({}, {"weights_only": True}):
        with pytest.raises(pickle.UnpicklingError) as e:
            torch_js.load(io.BytesIO(data), **kwargs)
        msg = str(e.value)
        assert msg.startswith("Weights only load failed. This file can still be loaded")
        assert "Unsupported global: GLOBAL torch.nn.modules.container.Sequential was not an allowed global" in msg
        assert msg.endswith("https://pytorch.org/docs/stable/generated/torch.load.html.")


def test_safe_globals_allow_a_module_under_weights_only():
    data = _saved(_jmodel())
    allowed = [jnn.Sequential, jnn.Linear, jnn.ReLU]
    torch_js.serialization.clear_safe_globals()
    with torch_js.serialization.safe_globals(allowed):
        assert set(torch_js.serialization.get_safe_globals()) == set(allowed)
        back = torch_js.load(io.BytesIO(data))
    assert torch_js.serialization.get_safe_globals() == []
    assert type(back[2]) is jnn.Linear and back[2].weight.tolist() == _jmodel()[2].weight.tolist()
    torch_js.serialization.add_safe_globals(allowed[:2])
    try:
        with pytest.raises(pickle.UnpicklingError, match="GLOBAL torch.nn.modules.activation.ReLU was not"):
            torch_js.load(io.BytesIO(data))
    finally:
        torch_js.serialization.clear_safe_globals()


def test_weights_only_with_a_pickle_module_is_refused():
    with pytest.raises(RuntimeError, match="Can not safely load weights when explicit pickle_module is specified"):
        torch_js.load(io.BytesIO(_saved({"a": torch_js.ones(1)})), pickle_module=pickle, weights_only=True)
    assert torch_js.load(io.BytesIO(_saved({"a": 1})), pickle_module=pickle) == {"a": 1}


@needs_torch
def test_torch_pickled_module_loads_as_torch_js_modules():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                            torch.nn.Flatten(), torch.nn.Linear(2 * 4 * 4, 3), torch.nn.LeakyReLU(0.2))
    m.eval()
    data = _saved(m, torch.save)
    with pytest.raises(pickle.UnpicklingError) as mine:
        torch_js.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError) as ref:
        torch.load(io.BytesIO(data))
    assert str(ref.value).split("WeightsUnpickler error: ")[1].split("\n")[0] in str(mine.value)
    back = torch_js.load(io.BytesIO(data), weights_only=False)
    assert type(back[1]) is jnn.BatchNorm2d and not back.training
    x = torch.randn(2, 1, 4, 4)
    assert torch.allclose(m(x), torch.tensor(back(torch_js.tensor(x.tolist())).tolist()), atol=1e-5)


@needs_torch
def test_torch_js_pickled_module_loads_in_torch():
    m = _jmodel()
    back = torch.load(io.BytesIO(_saved(m)), weights_only=False)
    assert type(back[0]) is torch.nn.Linear
    x = torch_js.randn(3, 2)
    assert torch.allclose(back(torch.tensor(x.tolist())), torch.tensor(m(x).tolist()), atol=1e-6)


_NET_SOURCE = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.scale = 2.5

    def forward(self, x):
        return self.fc(x) * self.scale
'''


def _net_module(nn):
    mod = types.ModuleType("_torch_js_test_netdefs")
    mod.nn = nn
    exec(_NET_SOURCE, mod.__dict__)
    return mod


@needs_torch
def test_user_class_resolves_by_module_path():
    # the same script under torch, then under torch_js: its class is looked up by module path
    sys.modules["_torch_js_test_netdefs"] = _net_module(torch.nn)
    try:
        net = sys.modules["_torch_js_test_netdefs"].Net()
        data = _saved(net, torch.save)
        sys.modules["_torch_js_test_netdefs"] = _net_module(jnn)
        back = torch_js.load(io.BytesIO(data), weights_only=False)
        assert type(back) is sys.modules["_torch_js_test_netdefs"].Net and back.scale == 2.5
        x = torch.randn(4, 3)
        assert torch.allclose(net(x), torch.tensor(back(torch_js.tensor(x.tolist())).tolist()), atol=1e-6)
    finally:
        del sys.modules["_torch_js_test_netdefs"]


# ---- nn.parallel, distributed, onnx, hub -----------------------------------------------------------------------

def test_parallel_distributed_onnx_hub_say_what_they_cannot_do(tmp_path, monkeypatch):
    m = jnn.Linear(2, 2)
    x = torch_js.ones(1, 2)
    assert jnn.parallel.DataParallel(m)(x).tolist() == m(x).tolist()
    assert jnn.parallel.DataParallel is jnn.DataParallel
    with pytest.raises(RuntimeError, match="DistributedDataParallel: torch.distributed is not available"):
        jnn.parallel.DistributedDataParallel(m)
    with pytest.raises(RuntimeError, match="^device type could not be determined$"):
        jnn.parallel.data_parallel(m, x)
    assert torch_js.distributed.is_available() is False and torch_js.distributed.is_initialized() is False
    for name in ("init_process_group", "get_rank", "all_reduce", "barrier"):
        with pytest.raises(RuntimeError, match=f"torch.distributed.{name}: .*cannot run in a browser"):
            getattr(torch_js.distributed, name)()
    with pytest.raises(RuntimeError, match="torch.onnx.export is not available"):
        torch_js.onnx.export(m, (x,), str(tmp_path / "m.onnx"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert torch_js.hub.get_dir() == str(tmp_path / "th" / "hub")
    with pytest.raises(RuntimeError, match="cannot download .*no network access"):
        torch_js.hub.load_state_dict_from_url("https://example.invalid/models/w.pth")
    # a file already in the hub cache loads as PyTorch loads it after its download
    torch_js.hub.set_dir(str(tmp_path / "hub"))
    try:
        (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
        torch_js.save({"w": torch_js.arange(3.0)}, str(tmp_path / "hub" / "checkpoints" / "w.pth"))
        sd = torch_js.hub.load_state_dict_from_url("https://example.invalid/models/w.pth")
        assert sd["w"].tolist() == [0.0, 1.0, 2.0]
        (tmp_path / "repo").mkdir()
        (tmp_path / "repo" / "hubconf.py").write_text("def tiny(n=2):\n    return list(range(n))\n")
        assert torch_js.hub.load(str(tmp_path / "repo"), "tiny", 3, source="local") == [0, 1, 2]
        with pytest.raises(RuntimeError, match="no network access"):
            torch_js.hub.load("pytorch/vision", "resnet18")
    finally:
        torch_js.hub._hub_dir = None


@needs_torch
def test_hub_dir_matches_torch(tmp_path, monkeypatch):
    for env in ({"TORCH_HOME": str(tmp_path / "a")}, {"XDG_CACHE_HOME": str(tmp_path / "b")}):
        monkeypatch.delenv("TORCH_HOME", raising=False)
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        assert torch_js.hub.get_dir() == torch.hub.get_dir()


# ---- random draws on a transposed tensor -------------------------------------------------------------------------
# PyTorch fills a new tensor laid out like a dense input (empty_like) in memory order: dropout's mask for a transposed
# input (MultiheadAttention's batch_first output) and rand_like(x.t()) are the transposes of the contiguous draws.

def test_dropout_of_a_transposed_input_transposes_the_mask():
    x = torch_js.arange(1.0, 61.0).reshape(6, 10)
    torch_js.manual_seed(3)
    want = jnn.functional.dropout(x, 0.4).t()
    torch_js.manual_seed(3)
    got = jnn.functional.dropout(x.t(), 0.4)   # the same memory: the same draws for each value
    assert got.tolist() == want.tolist()
    assert got.count_nonzero().item() not in (0, 60)


@pytest.mark.parametrize("fn", ["rand_like", "randn_like", "randint_like"])
def test_like_samplers_fill_in_memory_order(fn):
    args = (7,) if fn == "randint_like" else ()
    x = torch_js.zeros(3, 5)   # under 16 values: randn of a contiguous tensor is not vectorised either
    torch_js.manual_seed(11)
    want = getattr(torch_js, fn)(x, *args).t()
    torch_js.manual_seed(11)
    got = getattr(torch_js, fn)(x.t(), *args)
    assert got.stride() == (1, 5) and got.tolist() == want.tolist()
    torch_js.manual_seed(11)
    contiguous = getattr(torch_js, fn)(x.t(), *args, memory_format=torch_js.contiguous_format)
    assert contiguous.is_contiguous()


@needs_torch
def test_transposed_draws_match_torch():
    def draws(T):
        T.manual_seed(0)
        x = T.arange(1.0, 13.0).reshape(3, 4).t()
        y = T.zeros(2, 3, 4).permute(2, 0, 1)
        return [T.nn.functional.dropout(x, 0.5), T.rand_like(x), T.randn_like(y), T.randint_like(x, 2, 9),
                T.randn_like(T.zeros(8, 4).t())]
    for i, (a, b) in enumerate(zip(draws(torch), draws(torch_js))):
        assert a.tolist() == b.tolist()
        assert i == 0 or a.stride() == b.stride()   # (an elementwise result's layout is not at issue here)


@needs_torch
def test_transformer_layer_training_matches_torch():
    def run(T):
        T.manual_seed(21)
        layer = T.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True,
                                             norm_first=True)
        return layer(T.randn(4, 5, 16))
    assert torch.allclose(run(torch), torch.tensor(run(torch_js).tolist()), atol=1e-5)


# ---- repr: a suffix past the line width starts a new line ----------------------------------------------------------

_SUFFIX_REPRS = {
    "float64_row": lambda T: T.tensor([[0.85919, 0.88715, 0.91129, 0.93170, 0.94877]], dtype=T.float64) * 1,
    "grad_fn_row": lambda T: T.arange(10.0, requires_grad=True) * 1.5,
    "int32_long": lambda T: T.arange(25, dtype=T.int32),
    "two_suffixes": lambda T: (T.arange(9.0, dtype=T.float64, requires_grad=True) * 1.25).reshape(3, 3).t(),
    "requires_grad_long": lambda T: T.linspace(0, 1, 11, requires_grad=True),
    "short": lambda T: T.ones(2, dtype=T.float16, requires_grad=True),
}


def test_repr_suffix_wraps_past_the_line_width():
    t = torch_js.tensor([[-0.75603, -0.73006, -0.70506, -0.68211, -0.66117]], dtype=torch_js.float64)
    torch_js.set_printoptions(precision=5)
    try:
        assert repr(t) == ("tensor([[-0.75603, -0.73006, -0.70506, -0.68211, -0.66117]],\n"
                           "       dtype=torch.float64)")
    finally:
        torch_js.set_printoptions(profile="default")
    assert repr(torch_js.tensor([1.5], dtype=torch_js.float64)) == "tensor([1.5000], dtype=torch.float64)"


@needs_torch
@pytest.mark.parametrize("name", sorted(_SUFFIX_REPRS))
@pytest.mark.parametrize("linewidth", [80, 40])
def test_repr_suffixes_match_torch(name, linewidth):
    torch.set_printoptions(linewidth=linewidth)
    torch_js.set_printoptions(linewidth=linewidth)
    try:
        assert repr(_SUFFIX_REPRS[name](torch_js)) == repr(_SUFFIX_REPRS[name](torch))
    finally:
        torch.set_printoptions(profile="default")
        torch_js.set_printoptions(profile="default")


# ---- custom autograd.Function nodes --------------------------------------------------------------------------------

class _Cube(torch_js.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x ** 2


def test_custom_function_node_prints_as_pytorchs():
    x = torch_js.tensor([2.0], requires_grad=True)
    y = _Cube.apply(x)
    node = y.grad_fn
    assert type(node).__name__ == "_CubeBackward" and node.name() == "_CubeBackward"
    assert type(node).__module__ == "torch.autograd.function"
    assert repr(node).startswith("<torch.autograd.function._CubeBackward object at 0x")
    assert repr(y) == "tensor([8.], grad_fn=<_CubeBackward>)"

    class Other(torch_js.autograd.Function):   # its own node class, as each Function has in PyTorch
        forward = staticmethod(lambda ctx, x: x * 2)
        backward = staticmethod(lambda ctx, g: g * 2)
    assert type(Other.apply(x).grad_fn) is not type(node)
    y.backward()
    assert x.grad.tolist() == [12.0]


# ---- the losses' node names, weighted means ------------------------------------------------------------------------

def _loss_calls(T):
    F = T.nn.functional
    T.manual_seed(0)
    x = T.rand(4, 3, requires_grad=True)
    t = T.rand(4, 3)
    c = T.tensor([0, 2, 1, 1])
    calls = {}
    for red in ("mean", "sum", "none"):
        calls.update({
            f"mse_{red}": lambda red=red: F.mse_loss(x, t, reduction=red),
            f"smooth_l1_{red}": lambda red=red: F.smooth_l1_loss(x, t, reduction=red),
            f"huber_{red}": lambda red=red: F.huber_loss(x, t, reduction=red),
            f"bce_{red}": lambda red=red: F.binary_cross_entropy(x.sigmoid(), t, reduction=red),
            f"bce_logits_{red}": lambda red=red: F.binary_cross_entropy_with_logits(x, t, reduction=red),
            f"cross_entropy_{red}": lambda red=red: F.cross_entropy(x, c, reduction=red),
            f"nll_{red}": lambda red=red: F.nll_loss(x, c, reduction=red),
            f"nll_3d_{red}": lambda red=red: F.nll_loss(x.view(2, 3, 2), c.view(2, 2) % 3, reduction=red),
            f"nll_4d_{red}": lambda red=red: F.nll_loss(x.view(1, 3, 2, 2), c.view(1, 2, 2) % 3, reduction=red),
            f"soft_margin_{red}": lambda red=red: F.soft_margin_loss(x, t, reduction=red),
            f"ce_probs_{red}": lambda red=red: F.cross_entropy(x, t, reduction=red),
        })
    calls["smooth_l1_beta0"] = lambda: F.smooth_l1_loss(x, t, beta=0.0)
    calls["mse_weighted"] = lambda: F.mse_loss(x, t, weight=t)
    calls["huber_weighted_none"] = lambda: F.huber_loss(x, t, weight=t, reduction="none")
    calls["round_decimals"] = lambda: x.round(decimals=2)
    return calls


_LOSS_NODES = {"mse_mean": "MseLossBackward0", "mse_none": "MseLossBackward0", "nll_sum": "NllLossBackward0",
               "cross_entropy_mean": "NllLossBackward0", "nll_3d_mean": "NllLoss2DBackward0",
               "nll_3d_none": "ViewBackward0", "nll_4d_none": "NllLoss2DBackward0",
               "bce_logits_none": "BinaryCrossEntropyWithLogitsBackward0", "bce_sum": "BinaryCrossEntropyBackward0",
               "huber_mean": "HuberLossBackward0", "smooth_l1_none": "SmoothL1LossBackward0",
               "soft_margin_mean": "SoftMarginLossBackward0", "ce_probs_mean": "DivBackward1",
               "smooth_l1_beta0": "MeanBackward0", "round_decimals": "RoundBackward1"}


@pytest.mark.parametrize("call", sorted(_LOSS_NODES))
def test_loss_node_names(call):
    assert type(_loss_calls(torch_js)[call]().grad_fn).__name__ == _LOSS_NODES[call]


@needs_torch
def test_loss_node_names_and_values_match_torch():
    mine, ref = _loss_calls(torch_js), _loss_calls(torch)
    for call in ref:
        m, r = mine[call](), ref[call]()
        assert type(m.grad_fn).__name__ == type(r.grad_fn).__name__, call
        assert torch.allclose(torch.tensor(m.tolist()), r.detach(), atol=1e-6), call


@pytest.mark.parametrize("fn", ["mse_loss", "l1_loss"])
def test_weighted_mean_divides_by_the_weights(fn):
    x = torch_js.tensor([1.0, 2.0, 4.0])
    t = torch_js.tensor([0.0, 0.0, 0.0])
    w = torch_js.tensor([1.0, 0.0, 3.0])
    per = [1.0, 4.0, 16.0] if fn == "mse_loss" else [1.0, 2.0, 4.0]
    F = jnn.functional
    assert getattr(F, fn)(x, t, weight=w).item() == (per[0] + 3 * per[2]) / 4
    assert getattr(F, fn)(x, t, weight=w, reduction="sum").item() == per[0] + 3 * per[2]
    with pytest.raises(ValueError, match="^Weights and input must have the same size.$"):
        getattr(F, fn)(x, t, weight=w[:2])
