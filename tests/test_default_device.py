"""The default device: `with torch.device(d):` blocks, torch.set_default_device / get_default_device, which
factories follow it (PyTorch's list: empty, zeros, ones, full, rand, randn, randint, randperm, arange, linspace,
logspace, eye, empty_strided, tensor, as_tensor, asarray, scalar_tensor, and so nn modules' parameters) and which
do not (the *_like and new_* forms, torch.normal, from_numpy, the legacy torch.Tensor constructor); its interplay
with set_default_dtype; and torch.Tensor() itself.

Against live torch the same calls run under the same blocks and must land on the same device types; the
torch-free checks use the meta device, which every runtime has."""
import pytest

import torch_js
import torch_js.nn as nn
from optional_torch import needs_torch, torch


@pytest.fixture(autouse=True)
def _reset_default_device():
    yield
    torch_js.set_default_device(None)


# the factory calls of each library, as (name, fn(module)); the device each one lands on is compared with torch's
CALLS = [
    ("empty", lambda m: m.empty(2, 3)), ("zeros", lambda m: m.zeros(2)), ("ones", lambda m: m.ones((2, 2))),
    ("full", lambda m: m.full((2,), 3.0)), ("rand", lambda m: m.rand(2)), ("randn", lambda m: m.randn(2)),
    ("randint", lambda m: m.randint(0, 5, (3,))), ("randperm", lambda m: m.randperm(4)),
    ("arange", lambda m: m.arange(5)), ("arange_float", lambda m: m.arange(0.0, 1.0, 0.25)),
    ("linspace", lambda m: m.linspace(0, 1, 5)), ("logspace", lambda m: m.logspace(0, 1, 3)),
    ("eye", lambda m: m.eye(3)), ("empty_strided", lambda m: m.empty_strided((2, 2), (1, 2))),
    ("tensor", lambda m: m.tensor([1.0, 2.0])), ("tensor_of_tensor", lambda m: m.tensor(m.ones(2, device="cpu"))),
    ("as_tensor_list", lambda m: m.as_tensor([1, 2])), ("as_tensor_tensor", lambda m: m.as_tensor(m.ones(2, device="cpu"))),
    ("asarray", lambda m: m.asarray([1.5])), ("scalar_tensor", lambda m: m.scalar_tensor(1.0)),
    ("explicit_cpu", lambda m: m.zeros(2, device="cpu")),
    ("zeros_like", lambda m: m.zeros_like(m.ones(2, device="cpu"))),
    ("empty_like", lambda m: m.empty_like(m.ones(2, device="cpu"))),
    ("rand_like", lambda m: m.rand_like(m.ones(2, device="cpu"))),
    ("new_zeros", lambda m: m.ones(2, device="cpu").new_zeros(3)),
    ("new_tensor", lambda m: m.ones(2, device="cpu").new_tensor([1.0])),
    ("normal_sized", lambda m: m.normal(0.0, 1.0, (3,))),
    ("normal_tensor", lambda m: m.normal(m.zeros(2, device="cpu"), 1.0)),
    ("cpu_op", lambda m: m.ones(2, device="cpu") + 1),
    ("Tensor_empty", lambda m: m.Tensor()), ("Tensor_sizes", lambda m: m.Tensor(2, 3)),
    ("Tensor_data", lambda m: m.Tensor([1, 2])), ("FloatTensor", lambda m: m.FloatTensor(2)),
    ("linear_weight", lambda m: m.nn.Linear(2, 3).weight), ("linear_bias", lambda m: m.nn.Linear(2, 3).bias),
    ("batchnorm_buffer", lambda m: m.nn.BatchNorm1d(3).num_batches_tracked),
    ("embedding", lambda m: m.nn.Embedding(4, 2).weight),
]
# where the default device is meta, these land on meta; the rest stay on the CPU
FOLLOWING = {"empty", "zeros", "ones", "full", "rand", "randn", "randint", "randperm", "arange", "arange_float",
             "linspace", "logspace", "eye", "empty_strided", "tensor", "tensor_of_tensor", "as_tensor_list",
             "as_tensor_tensor", "asarray", "scalar_tensor", "linear_weight", "linear_bias", "batchnorm_buffer",
             "embedding"}


def _types(m):
    return {name: fn(m).device.type for name, fn in CALLS}


# ---- torch-free --------------------------------------------------------------------------------------------

def test_cpu_is_the_default():
    assert torch_js.get_default_device() == torch_js.device("cpu")
    assert set(_types(torch_js).values()) == {"cpu"}


def test_meta_block_moves_exactly_the_factories():
    with torch_js.device("meta") as d:
        assert d == torch_js.device("meta") and torch_js.get_default_device().type == "meta"
        got = _types(torch_js)
    assert {n for n, t in got.items() if t == "meta"} == FOLLOWING
    assert {t for n, t in got.items() if n not in FOLLOWING} == {"cpu"}
    assert torch_js.get_default_device().type == "cpu" and torch_js.zeros(1).device.type == "cpu"


def test_blocks_nest_and_restore():
    with torch_js.device("meta"):
        with torch_js.device("cpu"):
            assert torch_js.zeros(1).device.type == "cpu"
        assert torch_js.zeros(1).device.type == "meta"
        with torch_js.device("meta"):       # the same device object entered twice
            assert torch_js.zeros(1).is_meta
        assert torch_js.zeros(1).is_meta
    assert torch_js.zeros(1).device.type == "cpu"


def test_block_left_by_an_exception_restores():
    with pytest.raises(ValueError):
        with torch_js.device("meta"):
            raise ValueError
    assert torch_js.get_default_device().type == "cpu"


def test_set_default_device():
    torch_js.set_default_device("meta")
    assert torch_js.get_default_device().type == "meta" and torch_js.ones(2).is_meta
    with torch_js.device("cpu"):
        assert not torch_js.ones(2).is_meta
    assert torch_js.ones(2).is_meta                       # the block gave the set default back
    torch_js.set_default_device(torch_js.device("cpu"))
    assert not torch_js.ones(2).is_meta
    torch_js.set_default_device("meta")
    torch_js.set_default_device(None)
    assert torch_js.get_default_device().type == "cpu"
    with torch_js.device("cpu"):
        torch_js.set_default_device("meta")               # inside a block: gone when the block ends, as in PyTorch
    assert torch_js.get_default_device().type == "cpu"


def test_default_dtype_applies_inside_the_block():
    torch_js.set_default_dtype(torch_js.float64)
    with torch_js.device("meta"):
        assert torch_js.zeros(2).dtype is torch_js.float64 and torch_js.zeros(2).is_meta
        assert torch_js.arange(2.0).dtype is torch_js.float64
        assert nn.Linear(2, 2).weight.dtype is torch_js.float64
        assert torch_js.Tensor(2).dtype is torch_js.float64 and not torch_js.Tensor(2).is_meta
        assert torch_js.zeros(2, dtype=torch_js.float16).dtype is torch_js.float16


def test_module_built_in_a_meta_block_has_no_data():
    with torch_js.device("meta"):
        m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4),
                          nn.LayerNorm(4), nn.Embedding(5, 4), nn.LSTM(4, 3))
    assert all(p.is_meta for p in m.parameters()) and all(b.is_meta for b in m.buffers())


def test_explicit_device_wins():
    with torch_js.device("meta"):
        assert torch_js.zeros(2, device="cpu").device.type == "cpu"
        assert nn.Linear(2, 2, device="cpu").weight.device.type == "cpu"


@pytest.mark.skipif(not torch_js.webgpu.is_available(), reason="no WebGPU in this runtime")
def test_webgpu_block():
    with torch_js.device("webgpu"):
        assert torch_js.zeros(2).device.type == "webgpu" and torch_js.tensor([1.0]).device.type == "webgpu"
    assert torch_js.zeros(2).device.type == "cpu"


def test_legacy_constructor():
    assert repr(torch_js.Tensor()) == "tensor([])" and torch_js.Tensor().dtype is torch_js.float32
    assert torch_js.Tensor(2, 3).shape == (2, 3) and torch_js.Tensor(torch_js.Size([2, 3])).shape == (2, 3)
    assert torch_js.Tensor([1, 2]).tolist() == [1.0, 2.0] and torch_js.Tensor((2, 3)).tolist() == [2.0, 3.0]
    assert torch_js.Tensor(device="cpu").shape == (0,)
    x = torch_js.ones(2, dtype=torch_js.int64)
    y = torch_js.Tensor(x)
    assert y.dtype is torch_js.int64 and y.data_ptr() == x.data_ptr()
    with pytest.raises(TypeError, match=r"data must be a sequence \(got float\)"):
        torch_js.Tensor(2.5)
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but device type: meta"):
        torch_js.Tensor(2, device="meta")
    with pytest.raises(TypeError, match=r"got \(int, dtype=torch.dtype\)"):
        torch_js.Tensor(2, dtype=torch_js.float64)

    class Sub(torch_js.Tensor):
        pass
    assert type(Sub()) is Sub and Sub().shape == (0,)


# ---- against torch -----------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.filterwarnings("ignore:To copy construct from a tensor")
def test_factories_follow_the_default_as_in_torch():
    for dev in ("meta", "cpu"):
        with torch.device(dev):
            want = _types(torch)
        with torch_js.device(dev):
            got = _types(torch_js)
        assert got == want, dev


@needs_torch
def test_set_default_device_sequence_as_in_torch():
    def run(m):
        seen = []

        def note():
            seen.append((m.get_default_device().type, m.zeros(1).device.type))
        note()
        m.set_default_device("meta")
        note()
        with m.device("cpu"):
            note()
        note()
        m.set_default_device(None)
        note()
        return seen
    try:
        want = run(torch)
    finally:
        torch.set_default_device(None)
    assert run(torch_js) == want


@needs_torch
def test_legacy_constructor_as_in_torch():
    for args in [(), (2, 3), ([1, 2],), ((2, 3),), ([],)]:
        a, b = torch_js.Tensor(*args), torch.Tensor(*args)
        assert tuple(a.shape) == tuple(b.shape) and str(a.dtype) == str(b.dtype), args
        if args and args[0] != 2:
            assert a.tolist() == b.tolist()
    assert repr(torch_js.Tensor()) == repr(torch.Tensor())
    for args in [(2.5,), (True,), ("x",), (2, 2.0)]:
        with pytest.raises(TypeError) as pt:
            torch.Tensor(*args)
        with pytest.raises(TypeError) as js:
            torch_js.Tensor(*args)
        assert str(js.value).splitlines()[0] == str(pt.value).splitlines()[0], args
