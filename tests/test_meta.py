"""The meta device: tensors with a shape, dtype and strides and no memory.

Factories, views, casts and ops give meta results with PyTorch's geometry; random fills and nn.init draw nothing
(the generator is left as it was); reading values raises PyTorch's errors; meta tensors print as PyTorch prints
them; nothing is allocated (a meta tensor may be larger than memory). The loading path of real programs:
`with torch.device("meta"): model = Net()`, then `model.to_empty(device="cpu")` and `load_state_dict(sd)`, or
`load_state_dict(sd, assign=True)`; nn.utils.skip_init builds on meta too. A meta tensor handed to a CPU kernel
raises instead of reaching memory.

Against live torch: the same calls give the same shapes, strides, dtypes, reprs and errors."""
import inspect
import warnings

import pytest

import torch_js
import torch_js.nn as nn
from optional_torch import needs_torch, torch
from torch_js.backends import interface
from torch_js.backends.cpu import BACKEND as CPU_BACKEND
from torch_js.backends.meta import MetaBackend


def meta(*size, **kw):
    return torch_js.empty(*size, device="meta", **kw)


# ---- geometry ---------------------------------------------------------------------------------------------------

# (name, fn(module) -> tensor): each runs on both libraries; results are compared by shape, stride, dtype, device
GEOMETRY = [
    ("empty", lambda m: m.empty(3, 4, device="meta")),
    ("empty_int", lambda m: m.empty(2, dtype=m.int64, device="meta")),
    ("zeros", lambda m: m.zeros(2, 3, device="meta")), ("ones", lambda m: m.ones(5, device="meta")),
    ("full", lambda m: m.full((2, 2), 7.0, device="meta")), ("rand", lambda m: m.rand(3, device="meta")),
    ("randn", lambda m: m.randn(2, 2, device="meta")), ("randint", lambda m: m.randint(0, 9, (4,), device="meta")),
    ("randperm", lambda m: m.randperm(6, device="meta")), ("arange", lambda m: m.arange(6, device="meta")),
    ("linspace", lambda m: m.linspace(0, 1, 7, device="meta")), ("eye", lambda m: m.eye(3, 2, device="meta")),
    ("tensor", lambda m: m.tensor([[1.0, 2.0]], device="meta")),
    ("empty_strided", lambda m: m.empty_strided((2, 3), (1, 2), device="meta")),
    ("zeros_like", lambda m: m.zeros_like(m.empty(2, 3, device="meta").t())),
    ("to_meta", lambda m: m.arange(6.0).reshape(2, 3).to("meta")),
    ("to_dtype", lambda m: m.empty(2, 3, device="meta").to(m.float16)),
    ("view", lambda m: m.empty(2, 6, device="meta").view(3, 4)),
    ("reshape", lambda m: m.empty(2, 6, device="meta").t().reshape(12)),
    ("transpose", lambda m: m.empty(2, 3, 4, device="meta").transpose(0, 2)),
    ("t", lambda m: m.empty(2, 3, device="meta").t()), ("expand", lambda m: m.empty(3, 1, device="meta").expand(3, 4)),
    ("permute_contiguous", lambda m: m.empty(2, 3, 4, device="meta").permute(2, 0, 1).contiguous()),
    ("slice", lambda m: m.empty(4, 5, device="meta")[1:, ::2]),
    ("add", lambda m: m.empty(2, 3, device="meta") + m.empty(3, device="meta")),
    ("matmul", lambda m: m.empty(5, 2, 3, device="meta") @ m.empty(3, 4, device="meta")),
    ("sum", lambda m: m.empty(2, 3, device="meta").sum(1)), ("argmax", lambda m: m.empty(2, 3, device="meta").argmax()),
    ("compare", lambda m: m.empty(2, 3, device="meta") > 0),
    ("softmax", lambda m: m.empty(2, 3, device="meta").softmax(-1)),
    ("conv2d", lambda m: m.nn.functional.conv2d(m.empty(2, 3, 8, 8, device="meta"), m.empty(4, 3, 3, 3, device="meta"),
                                                padding=1)),
    ("linear_module", lambda m: m.nn.Linear(3, 2, device="meta")(m.empty(5, 3, device="meta"))),
    ("cat", lambda m: m.cat([m.empty(2, 3, device="meta"), m.empty(1, 3, device="meta")])),
    ("index", lambda m: m.empty(4, 3, device="meta")[m.tensor([0, 2], device="meta")]),
]


@pytest.mark.parametrize("name,fn", GEOMETRY, ids=[g[0] for g in GEOMETRY])
def test_geometry(name, fn):
    t = fn(torch_js)
    assert t.is_meta and t.device == torch_js.device("meta") and t.device.type == "meta"
    assert t.data_ptr() == 0
    if torch is not None:
        want = fn(torch)
        assert want.is_meta
        assert tuple(t.shape) == tuple(want.shape) and t.stride() == want.stride(), name
        assert str(t.dtype) == str(want.dtype), name


def test_nothing_is_allocated():
    huge = meta(1 << 40, 1 << 10)                       # 4 PiB: larger than any memory
    assert huge.shape == (1 << 40, 1 << 10) and huge.untyped_storage().nbytes() == 1 << 52
    assert huge.t().contiguous().stride() == (1 << 40, 1)
    assert torch_js.empty_strided((1 << 45,), (1,), device="meta").numel() == 1 << 45
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        meta(1 << 62, 4)                                # past int64 it still fails, as in PyTorch


def test_views_are_checked_against_the_storage():
    t = meta(6)
    assert t.as_strided((2, 2), (2, 1), 1).shape == (2, 2)
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
        t.as_strided((3, 3), (3, 1))


def test_autograd_on_meta():
    w = meta(3, 2, requires_grad=True)
    loss = (meta(4, 3) @ w).relu().sum()
    assert loss.is_meta and loss.grad_fn is not None
    loss.backward()
    assert w.grad.is_meta and w.grad.shape == (3, 2)


def test_random_fills_draw_nothing():
    torch_js.manual_seed(0)
    expected = torch_js.rand(4).tolist()
    torch_js.manual_seed(0)
    t = meta(1000)
    t.uniform_()
    t.normal_()
    t.random_(0, 10)
    t.exponential_()
    t.bernoulli_(0.5)
    torch_js.randn(50, device="meta")
    torch_js.randint(0, 3, (7,), device="meta")
    for init in (nn.init.uniform_, nn.init.normal_, nn.init.trunc_normal_, nn.init.xavier_uniform_,
                 nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_):
        assert init(meta(20, 10)).is_meta
    assert nn.init.dirac_(meta(4, 4, 3)).is_meta and nn.init.sparse_(meta(6, 4), 0.5).is_meta
    assert nn.init.eye_(meta(3, 3)).is_meta and nn.init.zeros_(meta(3)).is_meta
    assert torch_js.rand(4).tolist() == expected


def test_data_access_raises():
    t = meta(3, 4)
    with pytest.raises(RuntimeError, match=r"^Tensor.item\(\) cannot be called on meta tensors$"):
        meta(()).item()
    for read in (bool, float, int):
        with pytest.raises(RuntimeError, match=r"Tensor.item\(\) cannot be called on meta tensors"):
            read(meta(()))
    for read in (t.tolist, t.cpu, lambda: t.to("cpu"), lambda: torch_js.ones(3, 4).copy_(t)):
        with pytest.raises(NotImplementedError, match=r"^Cannot copy out of meta tensor; no data!$"):
            read()
    try:
        import numpy  # noqa: F401,PLC0415  (absent in Pyodide offline: .numpy() says so before it looks at devices)
    except ImportError:
        pass
    else:
        with pytest.raises(TypeError, match="can't convert meta device type tensor to numpy"):
            t.numpy()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        t + torch_js.ones(3, 4)


def test_kernels_never_reach_a_meta_tensor():
    """A CPU kernel handed a meta tensor raises before touching memory; a meta primitive handed a CPU tensor
    raises instead of leaving it unwritten."""
    m, c = meta(4), torch_js.ones(4)
    with pytest.raises(RuntimeError, match="memory of a meta tensor"):
        CPU_BACKEND.copy(c, m)
    with pytest.raises(RuntimeError, match="memory of a meta tensor"):
        CPU_BACKEND.binary("add", c, c, (1,), m, (1,))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two "
                                           "devices, meta and cpu"):
        m._storage.backend.copy(c, m)
    assert m._storage.buf is None


def test_meta_backend_implements_the_interface():
    missing = [p for p in interface.PRIMITIVES if getattr(MetaBackend, p) is getattr(interface.Backend, p)]
    assert not missing
    for p in interface.PRIMITIVES:
        assert list(inspect.signature(getattr(MetaBackend, p)).parameters) == \
            list(inspect.signature(getattr(interface.Backend, p)).parameters), p


def test_printing():
    assert repr(meta(3, 4)) == "tensor(..., device='meta', size=(3, 4))"
    assert repr(meta(())) == "tensor(..., device='meta', size=())" == str(meta(())) == f"{meta(())}"
    assert repr(meta(0)) == "tensor(..., device='meta', size=(0,))"
    assert repr(meta(2, dtype=torch_js.int64)) == "tensor(..., device='meta', size=(2,), dtype=torch.int64)"
    assert repr(meta(2, requires_grad=True)) == "tensor(..., device='meta', size=(2,), requires_grad=True)"
    assert repr(meta(2, requires_grad=True) * 2) == \
        "tensor(..., device='meta', size=(2,), grad_fn=<MulBackward0>)"
    assert repr(nn.Parameter(meta(2))) == "Parameter containing:\ntensor(..., device='meta', size=(2,), " \
                                          "requires_grad=True)"


# ---- loading real models -------------------------------------------------------------------------------------

class Net(nn.Module):
    def __init__(self, device=None):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, device=device)
        self.bn = nn.BatchNorm2d(4, device=device)
        self.fc = nn.Linear(4 * 4 * 4, 3, device=device)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).relu().flatten(1))


def test_meta_build_then_to_empty_then_load_state_dict():
    torch_js.manual_seed(0)
    ref = Net()
    ref.bn.running_mean.add_(0.5)
    with torch_js.device("meta"):
        model = Net()
    assert all(p.is_meta for p in model.parameters())
    model.to_empty(device="cpu")
    assert not any(t.is_meta for t in list(model.parameters()) + list(model.buffers()))
    model.load_state_dict(ref.state_dict())
    x = torch_js.randn(2, 1, 6, 6)
    assert model.eval()(x).tolist() == ref.eval()(x).tolist()


def test_load_state_dict_assign():
    torch_js.manual_seed(0)
    sd = Net().state_dict()
    with torch_js.device("meta"):
        model = Net()
    model.fc.bias.requires_grad_(False)
    model.load_state_dict(sd, assign=True)
    assert model.conv.weight is not sd["conv.weight"] and isinstance(model.conv.weight, nn.Parameter)
    assert model.conv.weight.data_ptr() == sd["conv.weight"].data_ptr()         # the loaded tensor, not a copy
    assert model.conv.weight.requires_grad and not model.fc.bias.requires_grad  # the module's flags kept
    assert model.bn.running_mean is sd["bn.running_mean"]                        # buffers are the loaded tensors
    assert not any(t.is_meta for t in list(model.parameters()) + list(model.buffers()))


def test_copying_into_meta_warns_and_module_to_says_to_empty():
    with torch_js.device("meta"):
        model = nn.Linear(2, 3)
    with pytest.warns(UserWarning, match="copying from a non-meta parameter in the checkpoint to a meta parameter"):
        model.load_state_dict(nn.Linear(2, 3).state_dict())
    assert model.weight.is_meta
    with pytest.raises(NotImplementedError, match=r"Cannot copy out of meta tensor; no data! Please use "
                                                  r"torch.nn.Module.to_empty\(\) instead"):
        model.to("cpu")
    assert model.to(torch_js.float64).weight.dtype is torch_js.float64


def test_skip_init():
    torch_js.manual_seed(0)
    expected = torch_js.rand(3).tolist()
    torch_js.manual_seed(0)
    m = nn.utils.skip_init(nn.Linear, 4, 5)
    assert torch_js.rand(3).tolist() == expected                # the initialisation drew nothing
    assert m.weight.shape == (5, 4) and m.weight.device.type == "cpu" and isinstance(m.weight, nn.Parameter)
    assert nn.utils.skip_init(nn.Linear, 4, 5, device="meta").weight.is_meta
    with torch_js.device("meta"):
        assert nn.utils.skip_init(nn.Linear, 2, 2).weight.device.type == "cpu"


def test_save_and_load_meta():
    import io
    buf = io.BytesIO()
    torch_js.save({"m": meta(2, 5).t(), "p": nn.Parameter(meta(3))}, buf)
    o = torch_js.load(io.BytesIO(buf.getvalue()))
    assert o["m"].is_meta and o["m"].shape == (5, 2) and o["m"].stride() == (1, 5)
    assert isinstance(o["p"], nn.Parameter) and o["p"].is_meta and o["p"].requires_grad
    import pickle
    assert pickle.loads(pickle.dumps(meta(2, dtype=torch_js.int16))).dtype is torch_js.int16


# ---- against torch ----------------------------------------------------------------------------------------------

@needs_torch
def test_reprs_and_errors_as_in_torch():
    for fn in (lambda m: m.empty(3, 4, device="meta"), lambda m: m.empty((), device="meta"),
               lambda m: m.empty(0, device="meta"), lambda m: m.empty(2, dtype=m.int64, device="meta"),
               lambda m: m.empty(2, dtype=m.bool, device="meta"), lambda m: m.empty(2, device="meta") * 2,
               lambda m: m.empty(2, dtype=m.float64, device="meta", requires_grad=True),
               lambda m: m.nn.Parameter(m.empty(2, device="meta"))):
        assert repr(fn(torch_js)) == repr(fn(torch))
    for read in (lambda m: m.empty((), device="meta").item(), lambda m: m.empty(2, device="meta").tolist(),
                 lambda m: m.empty(2, device="meta").cpu(), lambda m: float(m.empty((), device="meta")),
                 lambda m: m.nn.Linear(2, 2, device="meta").to("cpu")):
        with pytest.raises(Exception) as pt:
            read(torch)
        with pytest.raises(Exception) as js:
            read(torch_js)
        assert type(js.value) is type(pt.value) and str(js.value) == str(pt.value)


@needs_torch
def test_load_state_dict_warnings_as_in_torch():
    def run(m):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            model = m.nn.Linear(2, 3, device="meta")
            model.load_state_dict(m.nn.Linear(2, 3).state_dict())
        return [str(x.message) for x in w]
    assert run(torch_js) == run(torch)


@needs_torch
def test_loaded_meta_model_computes_as_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    sd = {k: torch_js.tensor(v.tolist()) for k, v in ref.state_dict().items()}
    with torch_js.device("meta"):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    model.load_state_dict(sd, assign=True)
    x = [[0.5, -1.0, 2.0]]
    got = model(torch_js.tensor(x)).tolist()[0]
    want = ref(torch.tensor(x)).tolist()[0]
    assert got == pytest.approx(want, rel=1e-6, abs=1e-6)
