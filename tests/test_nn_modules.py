"""torch_js.nn modules against PyTorch: state_dict names, bit-identical default init, repr, Module API.

The fixture tests/fixtures/nn_modules_torch.json (tools/gen_nn_fixtures.py) holds what torch 2.13 builds for every
spec in tests/_nn_specs.py, so the init/name/repr checks run without torch (Pyodide). Forward checks against live
torch run where torch imports and where torch_js.nn.functional already has the function."""
import copy
import hashlib
import json
import os
import pickle
import warnings

import pytest

import torch_js
import torch_js.nn as nn
import torch_js.nn.functional as F
from _nn_specs import SPECS
from optional_torch import HAVE_TORCH, needs_torch, torch

if HAVE_TORCH:
    import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = json.load(open(os.path.join(HERE, "fixtures", "nn_modules_torch.json")))["modules"]


def needs_f(*names):
    missing = [n for n in names if not hasattr(F, n)]
    if missing:
        pytest.skip(f"torch_js.nn.functional lacks {missing}")


def build(spec, lib_nn, seed=0):
    lib = torch_js if lib_nn is nn else torch
    lib.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval(spec, {"nn": lib_nn})


# ---- construction: names, shapes, bit-identical init, repr ---------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
def test_state_dict_init_and_repr_match_torch(spec):
    m = build(spec, nn)
    exp = FIXTURE[spec]
    got = [[k, list(v.shape), v.dtype.name, hashlib.sha256(v.detach().contiguous()._raw_bytes()).hexdigest()]
           for k, v in m.state_dict().items()]
    assert [g[:3] for g in got] == [e[:3] for e in exp["state"]]
    for g, e in zip(got, exp["state"]):
        assert g[3] == e[3], f"{spec}: default init of {g[0]} differs from torch"
    assert repr(m) == exp["repr"]


# ---- forward parity with live torch ---------------------------------------------------------------------------

def _to_torch(t):
    return torch.from_numpy(np.array(t.detach().numpy()))


def _copy_weights(js_mod, spec):
    tm = build(spec, torch.nn)
    tm.load_state_dict({k: _to_torch(v) for k, v in js_mod.state_dict().items()})
    return tm


def _close(a, b, tol=2e-5):
    a = a.detach().numpy() if hasattr(a, "numpy") and not isinstance(a, torch.Tensor) else a
    b = b.detach().numpy()
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


FORWARD = [
    ("nn.Linear(5, 3)", [(4, 5)], ("linear",)),
    ("nn.Bilinear(3, 4, 2)", [(5, 3), (5, 4)], ("bilinear",)),
    ("nn.Conv2d(3, 8, 3, stride=2, padding=1)", [(2, 3, 7, 7)], ("conv2d",)),
    ("nn.RNN(3, 4, num_layers=2)", [(5, 2, 3)], ("linear",)),
    ("nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)", [(2, 6, 3)], ("linear",)),
    ("nn.LSTM(4, 6, proj_size=3)", [(5, 4)], ("linear",)),
    ("nn.GRU(3, 4)", [(5, 2, 3)], ("linear",)),
    ("nn.GRUCell(3, 4)", [(2, 3)], ("linear",)),
    ("nn.LSTMCell(3, 4)", [(2, 3)], ("linear",)),
    ("nn.LayerNorm([4, 5])", [(3, 4, 5)], ("layer_norm",)),
    ("nn.GroupNorm(2, 4)", [(3, 4, 5)], ("group_norm",)),
    ("nn.Embedding(10, 4, padding_idx=1)", ["idx"], ("embedding",)),
    ("nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)", [(5, 2, 8)],
     ("linear", "layer_norm", "multi_head_attention_forward")),
]


@needs_torch
@pytest.mark.parametrize("spec,shapes,fns", FORWARD, ids=[f[0] for f in FORWARD])
def test_forward_matches_torch(spec, shapes, fns):
    needs_f(*fns)
    m = build(spec, nn)
    tm = _copy_weights(m, spec)
    m.eval()
    tm.eval()
    torch_js.manual_seed(1)
    args = [torch_js.randint(0, 10, (3, 4)) if s == "idx" else torch_js.randn(*s) for s in shapes]
    out = m(*args)
    tout = tm(*[_to_torch(a) for a in args])
    flat = lambda o: [x for y in o for x in (flat(y) if isinstance(y, tuple) else [y])] \
        if isinstance(o, tuple) else [o]  # noqa: E731
    for a, b in zip(flat(out), flat(tout)):
        _close(a, b)


@needs_torch
def test_multihead_attention_forward_matches_torch():
    needs_f("linear", "multi_head_attention_forward")
    spec = "nn.MultiheadAttention(8, 2, batch_first=True)"
    m = build(spec, nn)
    tm = _copy_weights(m, spec)
    torch_js.manual_seed(2)
    q, k = torch_js.randn(2, 3, 8), torch_js.randn(2, 5, 8)
    out, _ = m(q, k, k, need_weights=False)
    tout, _ = tm(_to_torch(q), _to_torch(k), _to_torch(k), need_weights=False)
    _close(out, tout)


# ---- Module API ----------------------------------------------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 4)
        self.b = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))
        self.register_buffer("steps", torch_js.zeros(1))
        self.register_buffer("scratch", torch_js.zeros(2), persistent=False)
        self.scale = nn.Parameter(torch_js.ones(1))

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


def test_registration_and_traversal():
    m = Net()
    assert list(m.state_dict().keys()) == ["scale", "steps", "a.weight", "a.bias", "b.1.weight", "b.1.bias"]
    assert [n for n, _ in m.named_parameters()] == ["scale", "a.weight", "a.bias", "b.1.weight", "b.1.bias"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in m.named_modules()] == ["", "a", "b", "b.0", "b.1"]
    assert [n for n, _ in m.named_children()] == ["a", "b"]
    assert [n for n, _ in m.named_parameters(prefix="net", recurse=False)] == ["net.scale"]
    assert m.get_submodule("b.1") is m.b[1]
    assert m.get_parameter("b.1.bias") is m.b[1].bias
    assert m.get_buffer("steps") is m.steps
    with pytest.raises(AttributeError):
        m.get_submodule("b.7")
    assert "a" in dir(m) and "steps" in dir(m) and "scale" in dir(m)
    # shared parameters are reported once unless remove_duplicate=False
    m.b[1].weight = m.b[1].weight
    shared = nn.Sequential(m.a, m.a)
    assert len(list(shared.parameters())) == 2
    assert len(list(shared.named_parameters(remove_duplicate=False))) == 4
    del m.scale
    assert "scale" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'weight'"):
        m.a.weight = torch_js.zeros(4, 3)
    with pytest.raises(KeyError, match="attribute 'a' already exists"):
        m.register_buffer("a", torch_js.zeros(1))


def test_train_eval_zero_grad_requires_grad():
    m = Net()
    assert m.training and m.b[1].training
    m.eval()
    assert not m.training and not m.b[1].training
    m.train()
    out = m(torch_js.randn(5, 3)).sum()
    out.backward()
    assert m.a.weight.grad is not None
    m.zero_grad(set_to_none=False)
    assert float(m.a.weight.grad.abs().sum()) == 0.0
    m.zero_grad()
    assert m.a.weight.grad is None
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_to_keeps_parameter_identity():
    m = Net()
    w = m.a.weight
    m(torch_js.randn(2, 3)).sum().backward()
    m.double()
    assert m.a.weight is w and w.dtype is torch_js.float64 and w.grad.dtype is torch_js.float64
    assert m.steps.dtype is torch_js.float64
    m.to(torch_js.float32)
    assert m.a.weight is w and w.dtype is torch_js.float32
    m.half().float()
    assert isinstance(m.a.weight, nn.Parameter) and m.a.weight.requires_grad


def test_apply_deepcopy_pickle_parameter():
    m = Net()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Net"]
    m2 = copy.deepcopy(m)
    assert m2.a.weight is not m.a.weight and isinstance(m2.a.weight, nn.Parameter)
    assert m2.a.weight.tolist() == m.a.weight.tolist()
    p = nn.Parameter(torch_js.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, nn.Parameter) and q.requires_grad and q.tolist() == [1.0, 2.0]
    t = torch_js.arange(3.0)
    shared = nn.Parameter(t, requires_grad=False)
    with torch_js.no_grad():
        shared.add_(1)
    assert t.tolist() == [1.0, 2.0, 3.0] and not shared.requires_grad
    assert isinstance(shared * 2, torch_js.Tensor) and not isinstance(shared * 2, nn.Parameter)


def test_forward_hooks():
    m = nn.Identity()
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 10)
    h3 = m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(kwargs), with_kwargs=True)
    x = torch_js.ones(2)
    assert m(x).tolist() == [20.0, 20.0]
    assert calls == [{}]
    h1.remove()
    assert m(x).tolist() == [10.0, 10.0]
    h2.remove()
    h3.remove()
    assert m(x).tolist() == [1.0, 1.0]
    first = []
    m.register_forward_pre_hook(lambda mod, a: first.append("b"))
    m.register_forward_pre_hook(lambda mod, a: first.append("a"), prepend=True)
    m(x)
    assert first == ["a", "b"]


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, str(e)
    return None


def test_load_state_dict_strict_errors_and_result():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = m.state_dict()
    r = m.load_state_dict(sd)
    assert repr(r) == "<All keys matched successfully>"
    bad = dict(sd)
    bad.pop("0.bias")
    bad["extra"] = torch_js.zeros(1)
    bad["0.weight"] = torch_js.zeros(2, 2)
    name, msg = _error(lambda: m.load_state_dict(bad))
    assert name == "RuntimeError"
    assert msg == ('Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: "0.bias". \n\t'
                   'Unexpected key(s) in state_dict: "extra". \n\tsize mismatch for 0.weight: copying a param with '
                   'shape torch.Size([2, 2]) from checkpoint, the shape in current model is torch.Size([4, 3]).')
    del bad["0.weight"]
    r = m.load_state_dict(bad, strict=False)
    assert r.missing_keys == ["0.weight", "0.bias"] and r.unexpected_keys == ["extra"]
    # assign=True swaps in the checkpoint's tensors (as Parameters), keeping requires_grad
    new = {k: v.clone() + 1 for k, v in sd.items()}
    m.load_state_dict(new, assign=True)
    assert isinstance(m[0].weight, nn.Parameter) and m[0].weight.requires_grad
    assert m[0].weight.tolist() == new["0.weight"].tolist()


@needs_torch
def test_load_state_dict_error_text_equals_torch():
    msgs = []
    for lib in (torch_js, torch):
        lnn = lib.nn
        m = lnn.Sequential(lnn.Linear(3, 4), lnn.ReLU())
        sd = {"0.weight": lib.zeros(4, 2), "1.foo": lib.zeros(1)}
        msgs.append(_error(lambda: m.load_state_dict(sd)))
    assert msgs[0] == msgs[1]


def test_containers():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[1], nn.ReLU)
    assert isinstance(s[-1], nn.Linear) and s[-1] is s[2]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is s[1]
    s.append(nn.Sigmoid())
    assert [type(x).__name__ for x in s] == ["Linear", "ReLU", "Linear", "Sigmoid"]
    del s[0]
    assert list(s.state_dict().keys()) == ["1.weight", "1.bias"]
    ml = nn.ModuleList([nn.ReLU()])
    ml.extend([nn.Tanh()])
    ml.insert(0, nn.Identity())
    assert [type(x).__name__ for x in ml] == ["Identity", "ReLU", "Tanh"]
    md = nn.ModuleDict({"x": nn.ReLU()})
    md["y"] = nn.Linear(1, 1)
    assert list(md.keys()) == ["x", "y"] and "y" in md and len(md) == 2
    pl = nn.ParameterList([nn.Parameter(torch_js.ones(2)), torch_js.zeros(3)])
    assert isinstance(pl[1], nn.Parameter) and len(list(pl.parameters())) == 2
    assert repr(pl) == ("ParameterList(\n    (0): Parameter containing: [torch.float32 of size 2]\n"
                        "    (1): Parameter containing: [torch.float32 of size 3]\n)")
    pd = nn.ParameterDict({"a": nn.Parameter(torch_js.ones(1))})
    pd["b"] = torch_js.zeros(2)
    assert list(pd.keys()) == ["a", "b"] and isinstance(pd["b"], nn.Parameter)


def test_init_functions_match_torch_streams():
    # generator consumption and formulas: compare against fixtures recorded with torch where cheap to compute
    torch_js.manual_seed(0)
    w = torch_js.empty(3, 5)
    nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("tanh"))
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert nn.init.calculate_gain("leaky_relu", 0.2) == (2.0 / (1 + 0.2 ** 2)) ** 0.5
    assert nn.init._calculate_fan_in_and_fan_out(torch_js.empty(4, 3, 2, 2)) == (12, 16)
    e = nn.init.eye_(torch_js.empty(2, 3))
    assert e.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    d = nn.init.dirac_(torch_js.empty(2, 2, 3))
    assert d[0, 0].tolist() == [0.0, 1.0, 0.0] and d[0, 1].tolist() == [0.0, 0.0, 0.0]
    o = nn.init.orthogonal_(torch_js.empty(4, 6))
    prod = o.matmul(o.t())
    assert (prod - torch_js.eye(4)).abs().max().item() < 1e-5
    t = nn.init.trunc_normal_(torch_js.empty(1000), std=0.5, a=-1.0, b=1.0)
    assert t.min().item() >= -1.0 and t.max().item() <= 1.0
    t = nn.init.trunc_normal_(torch_js.empty(1000), mean=0.0, std=1.0, a=2.0, b=3.0)   # uniform-proposal path
    assert t.min().item() >= 2.0 and t.max().item() <= 3.0


@needs_torch
@pytest.mark.parametrize("name,args", [
    ("uniform_", (-0.5, 2.0)), ("normal_", (0.3, 2.0)), ("xavier_uniform_", ()), ("xavier_normal_", (0.5,)),
    ("kaiming_uniform_", ()), ("kaiming_normal_", (0, "fan_out")), ("orthogonal_", ()), ("trunc_normal_", ()),
    ("constant_", (0.25,)), ("ones_", ()), ("zeros_", ())])
def test_init_vs_torch(name, args):
    torch_js.manual_seed(3)
    torch.manual_seed(3)
    a = getattr(nn.init, name)(torch_js.empty(6, 4, 3), *args)
    b = getattr(torch.nn.init, name)(torch.empty(6, 4, 3), *args)
    tol = 0 if name != "orthogonal_" else 1e-5   # QR: not bit-exact (Gram-Schmidt in float64 vs LAPACK)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=tol, atol=tol)
    assert torch_js.rand(1).item() == torch.rand(1).item()   # the generator advanced by the same amount


def test_clip_grad_and_vector_utils():
    ps = [nn.Parameter(torch_js.tensor([3.0, 4.0])), nn.Parameter(torch_js.tensor([[12.0]]))]
    for p in ps:
        p.grad = p.detach().clone()
    total = nn.utils.clip_grad_norm_(ps, 1.0)
    assert abs(total.item() - 13.0) < 1e-5
    assert abs(ps[0].grad[0].item() - 3.0 / (13.0 + 1e-6)) < 1e-6
    nn.utils.clip_grad_value_(ps, 0.1)
    assert abs(ps[1].grad.item() - 0.1) < 1e-7
    v = nn.utils.parameters_to_vector(ps)
    assert v.tolist() == [3.0, 4.0, 12.0]
    nn.utils.vector_to_parameters(v * 2, ps)
    assert ps[1].tolist() == [[24.0]]
    padded = nn.utils.rnn.pad_sequence([torch_js.ones(2), torch_js.ones(3)], batch_first=True)
    assert padded.tolist() == [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]


@needs_torch
def test_clip_grad_norm_matches_torch():
    vals = []
    for lib in (torch_js, torch):
        lib.manual_seed(0)
        ps = [lib.nn.Parameter(lib.randn(7, 5)), lib.nn.Parameter(lib.randn(3))]
        for p in ps:
            p.grad = lib.randn(p.shape) * 3
        tn = lib.nn.utils.clip_grad_norm_(ps, 0.5, norm_type=2.0)
        tinf = lib.nn.utils.clip_grad_norm_(ps, 0.5, norm_type=float("inf"))
        vals.append((tn.item(), tinf.item(), ps[0].grad.numpy().copy()))
    assert abs(vals[0][0] - vals[1][0]) <= 1e-6 * vals[1][0]
    assert abs(vals[0][1] - vals[1][1]) <= 1e-6 * vals[1][1]
    np.testing.assert_allclose(vals[0][2], vals[1][2], rtol=1e-6)


@needs_torch
def test_trunc_normal_narrow_window_vs_torch():
    torch_js.manual_seed(5)
    torch.manual_seed(5)
    a = nn.init.trunc_normal_(torch_js.empty(40), mean=0.5, std=1.0, a=2.0, b=2.5)
    b = torch.nn.init.trunc_normal_(torch.empty(40), mean=0.5, std=1.0, a=2.0, b=2.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
