"""Top-level names real programs use: the legacy tensor types (torch.FloatTensor & co.), Tensor.type(),
broadcast_tensors, torch.__version__ (a TorchVersion) and torch.version."""
import io

import pytest

import torch_js
from optional_torch import needs_torch, torch

TYPE_NAMES = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
              "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


def _outcome(fn, mod):
    """What fn(mod) gives: ("ok", dtype name, shape, values or None) or ("raise", type, message)."""
    try:
        r = fn(mod)
    except Exception as e:  # noqa: BLE001  (the outcome is what is compared)
        return ("raise", type(e).__name__, str(e))
    if hasattr(r, "shape") and hasattr(r, "dtype"):
        vals = r.tolist() if r.numel() and not _uninitialised(fn) else None
        return ("ok", str(r.dtype), tuple(r.shape), vals)
    return ("ok", r)


def _uninitialised(fn):
    return getattr(fn, "uninit", False)


def _u(fn):
    fn.uninit = True    # sized constructors: the memory is uninitialised in PyTorch, only dtype and shape compare
    return fn


_CONSTRUCTOR_CASES = {
    "sizes": _u(lambda t: t.FloatTensor(2, 3)),
    "one_size": _u(lambda t: t.LongTensor(4)),
    "Size": _u(lambda t: t.DoubleTensor(t.Size([2, 1]))),
    "nothing": lambda t: t.IntTensor(),
    "data": lambda t: t.FloatTensor([[1, 2], [3, 4]]),
    "tuple_is_data": lambda t: t.FloatTensor((2, 3)),
    "long_truncates": lambda t: t.LongTensor([1.7, -2.2]),
    "bool_data": lambda t: t.BoolTensor([0, 1, 2]),
    "byte_data": lambda t: t.ByteTensor([1, 255]),
    "half": lambda t: t.HalfTensor([1.5]),
    "bf16": lambda t: t.BFloat16Tensor([1.5]),
    "char": lambda t: t.CharTensor([-3]),
    "short": lambda t: t.ShortTensor([7]),
    "device_kw": lambda t: t.FloatTensor([1.0], device="cpu"),
    "same_type_tensor": lambda t: t.FloatTensor(t.zeros(2)),
    "other_type_tensor": lambda t: t.LongTensor(t.zeros(2)),
    "float_arg": lambda t: t.FloatTensor(2.5),
    "str_arg": lambda t: t.FloatTensor("a"),
    "negative": lambda t: t.FloatTensor(-1),
    "bad_size": lambda t: t.FloatTensor(2, "a"),
    "bad_kw": lambda t: t.FloatTensor(2, requires_grad=True),
    "cuda_type": lambda t: t.cuda.FloatTensor(2),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(_CONSTRUCTOR_CASES))
def test_legacy_constructor_matches_torch(case):
    fn = _CONSTRUCTOR_CASES[case]
    assert _outcome(fn, torch_js) == _outcome(fn, torch)


_TYPE_CASES = {
    "isinstance_float": lambda t: isinstance(t.zeros(2), t.FloatTensor),
    "isinstance_long_no": lambda t: isinstance(t.zeros(2), t.LongTensor),
    "isinstance_long": lambda t: isinstance(t.arange(3), t.LongTensor),
    "isinstance_param": lambda t: isinstance(t.nn.Parameter(t.zeros(2)), t.FloatTensor),
    "isinstance_int": lambda t: isinstance(3, t.FloatTensor),
    "isinstance_cuda": lambda t: isinstance(t.zeros(2), t.cuda.FloatTensor),
    "issubclass": lambda t: issubclass(t.FloatTensor, t.Tensor),
    "class_dtype": lambda t: str(t.LongTensor.dtype),
    "class_flags": lambda t: (t.FloatTensor.is_cuda, t.FloatTensor.is_sparse, t.cuda.IntTensor.is_cuda),
    "class_repr": lambda t: (repr(t.FloatTensor), repr(t.cuda.ByteTensor)),
    "type_strings": lambda t: [t.zeros(1, dtype=getattr(t, d)).type() for d in
                               ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8",
                                "uint8", "bool")],
    "type_to_class": lambda t: t.tensor([1.7, -2.5]).type(t.LongTensor),
    "type_to_name": lambda t: t.tensor([1.7, 0.0]).type("torch.BoolTensor"),
    "type_to_dtype": lambda t: t.tensor([3]).type(t.float64),
    "type_same_is_self": lambda t: [(lambda x: x.type(k) is x)(t.zeros(2)) for k in
                                    (t.FloatTensor, "torch.FloatTensor", t.float32)],
    "type_bad_name": lambda t: t.zeros(2).type("torch.Foo"),
    "type_bad_object": lambda t: t.zeros(2).type(3),
    "type_cuda_class": lambda t: t.zeros(2).type(t.cuda.FloatTensor),
    "type_cuda_name": lambda t: t.zeros(2).type("torch.cuda.LongTensor"),
    "names_exist": lambda t: sorted(n for n in TYPE_NAMES if isinstance(getattr(t, n, None), type)),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(_TYPE_CASES))
def test_legacy_types_match_torch(case):
    fn = _TYPE_CASES[case]
    assert _outcome(fn, torch_js) == _outcome(fn, torch)


def test_legacy_types_self_check():
    assert torch_js.LongTensor.dtype is torch_js.int64 and torch_js.BoolTensor.dtype is torch_js.bool
    x = torch_js.FloatTensor([[1, 2]])
    assert x.dtype is torch_js.float32 and x.tolist() == [[1.0, 2.0]]
    assert isinstance(x, torch_js.FloatTensor) and not isinstance(x, torch_js.DoubleTensor)
    assert type(x) is torch_js.Tensor
    assert x.type(torch_js.IntTensor).tolist() == [[1, 2]] and x.type() == "torch.FloatTensor"
    assert torch_js.ByteTensor(3).shape == (3,)
    with pytest.raises(TypeError, match="expected TensorOptions"):
        torch_js.IntTensor(x)


# ---- broadcast_tensors -----------------------------------------------------------------------------------------

_BCAST_CASES = {
    "two": lambda t: [tuple(r.shape) for r in t.broadcast_tensors(t.zeros(2, 1), t.zeros(3))],
    "three": lambda t: [tuple(r.shape) for r in t.broadcast_tensors(t.zeros(2, 1), t.zeros(3), t.zeros(1, 1, 1))],
    "none": lambda t: t.broadcast_tensors(),
    "one_is_itself": lambda t: (lambda x: t.broadcast_tensors(x)[0] is x)(t.zeros(2)),
    "same_shape_is_itself": lambda t: (lambda x: t.broadcast_tensors(x, t.ones(2))[0] is x)(t.zeros(2)),
    "values": lambda t: [r.tolist() for r in t.broadcast_tensors(t.tensor([[1], [2]]), t.tensor([10, 20, 30]))],
    "mismatch": lambda t: t.broadcast_tensors(t.zeros(2), t.zeros(3)),
    "not_tensor": lambda t: t.broadcast_tensors([1, 2]),
    "grad_fn": lambda t: type(t.broadcast_tensors(t.zeros(2, requires_grad=True) * 1, t.zeros(3, 1))[0].grad_fn)
    .__name__,
}


@needs_torch
@pytest.mark.parametrize("case", sorted(_BCAST_CASES))
def test_broadcast_tensors_matches_torch(case):
    fn = _BCAST_CASES[case]
    assert _outcome(fn, torch_js) == _outcome(fn, torch)


def test_broadcast_tensors_views_share_memory():
    a = torch_js.tensor([[1.0], [2.0]])
    ra, rb = torch_js.broadcast_tensors(a, torch_js.zeros(3))
    assert ra.tolist() == [[1.0] * 3, [2.0] * 3] and rb.shape == (2, 3)
    assert ra.data_ptr() == a.data_ptr()


# ---- torch.__version__ / torch.version -------------------------------------------------------------------------

def test_version_is_a_comparable_string():
    v = torch_js.__version__
    assert isinstance(v, str) and v == torch_js.version.__version__
    assert v.split("+")[0] == torch_js.version.torch_semantics
    assert v.split("+")[1] == "torchjs." + torch_js.version.torchjs
    assert v > "2.0" and v >= (2, 1) and v < "3" and not v < "1.13.1"
    assert v > torch_js.version.torch_semantics      # a local label sorts after the bare release
    assert torch_js.version.cuda is None and torch_js.version.hip is None and torch_js.version.debug is False


_VERSIONS = ["2.13.0+cpu", "2.13.0", "2.13", "2.13.0a0", "2.13.0.dev20240101", "2.13.0rc1", "2.13.0.post1", "1.9",
             "2.13.0+torchjs.0.1.0", "2.13.0+cu121", "parrot", "1!0.1", "2.13.0-1", "2.13.0.dev1+cpu",
             "2.13.0a1.dev2", "v2.13.0"]


@needs_torch
def test_torch_version_compares_like_torchs():
    from torch.torch_version import TorchVersion as Ref
    from torch_js.torch_version import TorchVersion as Mine
    others = _VERSIONS + [(2, 13), (2,), (2, 13, 1), 3]
    for a in _VERSIONS:
        for b in others:
            for op in ("__gt__", "__lt__", "__eq__", "__ge__", "__le__", "__ne__"):
                assert getattr(Mine(a), op)(b) == getattr(Ref(a), op)(b), (a, b, op)


@needs_torch
def test_version_in_a_checkpoint_loads_in_torch():
    buf = io.BytesIO()
    torch_js.save({"v": torch_js.__version__}, buf)
    back = torch.load(io.BytesIO(buf.getvalue()), weights_only=False)["v"]
    assert type(back) is type(torch.__version__) and back == str(torch_js.__version__)
    assert torch_js.load(io.BytesIO(buf.getvalue()))["v"] == str(torch_js.__version__)
