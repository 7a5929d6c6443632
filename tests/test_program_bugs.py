"""Bugs real PyTorch programs met: roll's alias, in-place activations in a training step, Linear's grad_fn
names, 0-d tensor formatting, cuda devices on a build without CUDA, whole-module checkpoints."""
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
