"""Tensor core against PyTorch: views and storage sharing, strides, in-place ops and version counters, type
promotion, repr, conversions, creation ops, error types/messages, half precision.

Tests written as `fn(T)` run once with T=torch_js and, where torch is importable, once with T=torch, and the
two results are compared; the torch_js half always runs (Pyodide too), and many tests also pin expected values
inline so they check something without torch.
"""
import math
import pickle  # noqa: F401  (kept for parity with torch's pickling tests)

import pytest

import torch_js
from oracle import assert_same, dtype_name, values

try:
    import torch
except ImportError:  # Pyodide
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="compares against torch (not importable here)")

DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")


def both(fn, rtol=0.0, atol=0.0, check_stride=False):
    """Run fn(torch_js) and, if available, fn(torch); compare; return the torch_js result."""
    js = fn(torch_js)
    if torch is not None:
        assert_same(js, fn(torch), rtol=rtol, atol=atol, check_stride=check_stride)
    return js


def raises_like(fn, exc=None, match_torch_message=True):
    """fn(T) raises in torch_js with the exception type torch raises (and the same message, by default).

    Without torch, `exc` (the expected type) is checked."""
    with pytest.raises(Exception) as ei:
        fn(torch_js)
    if torch is not None:
        with pytest.raises(Exception) as et:
            fn(torch)
        expected = et.value
        assert isinstance(ei.value, _builtin_type(expected)), \
            f"torch_js raised {type(ei.value).__name__}({ei.value}); torch raised {type(expected).__name__}({expected})"
        if match_torch_message:
            assert _first_line(ei.value) == _first_line(expected), \
                f"message differs:\n  torch_js: {ei.value}\n  torch:    {expected}"
    if exc is not None:
        assert isinstance(ei.value, exc), f"expected {exc.__name__}, got {type(ei.value).__name__}: {ei.value}"
    return ei.value


def _first_line(e):
    return str(e).strip().splitlines()[0] if str(e).strip() else ""


def _builtin_type(e):
    import builtins
    for klass in type(e).__mro__:
        if getattr(builtins, klass.__name__, None) is klass:
            return klass
    return Exception


# ---------------------------------------------------------------------------------------------------------------
# views share storage; writes through views are visible

VIEWS = {
    "view": lambda x: x.view(6, 4),
    "view_-1": lambda x: x.view(-1),
    "reshape_contig": lambda x: x.reshape(4, 6),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2),
    "t_of_2d": lambda x: x[0].t(),
    "expand": lambda x: x[:, :1, :].expand(2, 5, 4),
    "slice_step": lambda x: x[:, ::2, 1::2],
    "slice_neg_start": lambda x: x[-1:, 1:],
    "squeeze": lambda x: x[:, :1].squeeze(1),
    "unsqueeze": lambda x: x.unsqueeze(1),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "select": lambda x: x.select(1, 2),
    "int_index": lambda x: x[1],
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "diagonal_offset": lambda x: x.diagonal(1, 1, 2),
    "unfold": lambda x: x.unfold(2, 2, 1),
    "split": lambda x: x.split(1, 0)[1],
    "chunk": lambda x: x.chunk(2, 2)[1],
    "unbind": lambda x: x.unbind(1)[2],
    "movedim": lambda x: x.movedim(0, -1),
    "flatten_contig": lambda x: x.flatten(),
    "none_ellipsis": lambda x: x[None, ..., 1],
    "as_strided": lambda x: x.as_strided((3, 3), (4, 1), 2),
    "detach": lambda x: x.detach(),
    "view_as": lambda x: x.view_as(x.new_empty(4, 6) if hasattr(x, "new_empty") else x.reshape(4, 6)),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_storage(name):
    make = VIEWS[name]

    def fn(T):
        base = T.arange(24, dtype=T.float32).reshape(2, 3, 4)
        v = make(base)
        meta = (tuple(v.shape), tuple(v.stride()), v.storage_offset())
        v.fill_(-1.0) if name != "expand" else v.select(1, 0).fill_(-1.0)
        return base, meta, v.is_contiguous()
    base, meta, _ = both(fn)
    assert -1.0 in values(base), "write through the view did not reach the base"


def test_write_through_chain_of_views():
    def fn(T):
        x = T.zeros(4, 6)
        v = x.t()[1:5:2]          # (2, 4) view with strides (2, 6)... of a transposed view
        v[:, 1] = 7.0
        w = x.view(2, 12)[1]
        w.add_(1.0)
        return x, v.stride(), w.storage_offset()
    x, _, _ = both(fn)
    assert values(x).count(7.0) == 2


def test_reshape_of_noncontiguous_copies():
    def fn(T):
        x = T.arange(6.0).reshape(2, 3)
        y = x.t().reshape(6)
        y[0] = 100.0
        return x, y, y.is_contiguous()
    x, y, _ = both(fn)
    assert values(x)[0] == 0.0 and values(y)[0] == 100.0


def test_view_of_noncontiguous_raises():
    e = raises_like(lambda T: T.arange(6.0).reshape(2, 3).t().view(6), RuntimeError)
    assert "view size is not compatible" in str(e)


def test_base_and_is_view():
    x = torch_js.arange(6.0)
    v = x.view(2, 3)
    assert v._base is x and v.view(3, 2)._base is x
    assert x._base is None
    assert v.data_ptr() == x.data_ptr()
    assert x[2:].data_ptr() == x.data_ptr() + 2 * 4


# ---------------------------------------------------------------------------------------------------------------
# contiguity, strides, clone


STRIDED = {
    "contig": lambda x: x,
    "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(2, 1, 0),
    "step": lambda x: x[:, ::2],
    "expand": lambda x: x[:1].expand(3, 3, 4),
    "size1_dims": lambda x: x[:, :1, :1],
    "empty": lambda x: x[:, 2:2],
    "offset": lambda x: x[1:, 1:, 2:],
    "0d": lambda x: x[1, 1, 1],
}


@pytest.mark.parametrize("name", list(STRIDED))
def test_contiguous_clone_strides(name):
    make = STRIDED[name]

    def fn(T):
        x = T.arange(36, dtype=T.float32).reshape(3, 3, 4)
        v = make(x)
        c = v.contiguous()
        k = v.clone()
        return (v.is_contiguous(), tuple(v.stride()), v.storage_offset(), c.is_contiguous(), tuple(c.stride()),
                tuple(k.stride()), c.data_ptr() == v.data_ptr(), k.data_ptr() == v.data_ptr(), c, k)
    r = both(fn)
    assert r[3] is True
    assert r[7] is False or r[-1].numel() == 0


def test_contiguous_returns_self_when_contiguous():
    x = torch_js.ones(2, 3)
    assert x.contiguous() is x
    y = x.t()
    assert y.contiguous() is not y


def test_clone_preserves_strides_of_dense_permutation():
    def fn(T):
        return tuple(T.zeros(2, 3, 4).permute(2, 0, 1).clone().stride())
    assert both(fn) == (1, 12, 4)


def test_size_stride_dims():
    def fn(T):
        x = T.zeros(2, 3, 4)[:, 1:, ::2]
        return (tuple(x.size()), x.size(-1), x.stride(0), x.stride(-1), x.dim(), x.ndim, x.numel(), len(x),
                x.element_size(), x.nbytes)
    assert both(fn) == ((2, 2, 2), 2, 12, 2, 3, 3, 8, 2, 4, 32)


# ---------------------------------------------------------------------------------------------------------------
# in-place ops, setitem, version counter


def test_inplace_arith_and_version():
    def fn(T):
        x = T.arange(6, dtype=T.float32).reshape(2, 3)
        v0 = x._version
        r = x.add_(1)
        same = r is x
        x.mul_(2.5)
        x.sub_(T.ones(3), alpha=2)
        x.div_(2)
        x.clamp_(max=5.0)
        x.neg_()
        v = x.view(6)
        v.abs_()
        return x, same, x._version - v0, v._version == x._version
    x, same, dv, shared = both(fn)
    assert same and shared and dv == 7


def test_fill_zero_copy_version():
    def fn(T):
        x = T.ones(3, 4)
        x.fill_(2)
        x[1].zero_()
        x[:, 2].copy_(T.tensor([5, 6, 7]))            # int source into float (cast)
        x.t()[0].copy_(T.tensor(9.5))                   # broadcast copy into a strided view
        return x, x._version
    x, ver = both(fn)
    assert values(x)[:4] == [9.5, 2.0, 5.0, 2.0]
    assert ver == 4


def test_copy_between_dtypes_and_overlap():
    def fn(T):
        a = T.tensor([1.7, -2.5, 300.0])
        out = []
        for d in (T.int32, T.uint8, T.int8, T.bool, T.float16, T.bfloat16, T.float64):
            z = T.zeros(3, dtype=d)
            z.copy_(a if d not in (T.uint8, T.int8) else a[:2])  if d not in (T.uint8, T.int8) \
                else z[:2].copy_(a[:2].abs())
            out.append(z)
        return out
    both(fn)


SETITEM = {
    "int": lambda x, T: x.__setitem__(1, 9.0),
    "neg_int": lambda x, T: x.__setitem__(-1, 9.0),
    "slice": lambda x, T: x.__setitem__(slice(1, None), 9.0),
    "slice_step": lambda x, T: x.__setitem__((slice(None), slice(None, None, 2)), 9.0),
    "tuple_int": lambda x, T: x.__setitem__((1, 2), 9.0),
    "none": lambda x, T: x.__setitem__((None, 0), 9.0),
    "ellipsis": lambda x, T: x.__setitem__((Ellipsis, 1), 9.0),
    "bool_mask": lambda x, T: x.__setitem__(x > 4, 0.0),
    "bool_mask_tensor_value": lambda x, T: x.__setitem__(x > 6, T.tensor([1.0, 2.0, 3.0, 4.0, 5.0])),
    "bool_row_mask": lambda x, T: x.__setitem__(T.tensor([True, False, True]), -1.0),
    "int_tensor": lambda x, T: x.__setitem__(T.tensor([0, 2]), 5.0),
    "int_tensor_dup_last_wins": lambda x, T: x.__setitem__((T.tensor([1, 1]), T.tensor([0, 3])), T.tensor([1., 2.])),
    "int_list": lambda x, T: x.__setitem__([2, 0], T.arange(8.0).reshape(2, 4)),
    "two_tensors": lambda x, T: x.__setitem__((T.tensor([0, 2]), T.tensor([1, 3])), T.tensor([7.0, 8.0])),
    "slice_and_tensor": lambda x, T: x.__setitem__((slice(1, 3), T.tensor([0, 3])), 4.0),
    "broadcast_row": lambda x, T: x.__setitem__(slice(None), T.tensor([1.0, 2.0, 3.0, 4.0])),
    "tensor_value_cast": lambda x, T: x.__setitem__(0, T.tensor([1, 2, 3, 4])),
    "0d_index_tensor": lambda x, T: x.__setitem__(T.tensor(1), 3.0),
    "empty_mask": lambda x, T: x.__setitem__(x > 100, 3.0),
}


@pytest.mark.parametrize("name", list(SETITEM))
def test_setitem(name):
    def fn(T):
        x = T.arange(12, dtype=T.float32).reshape(3, 4)
        v = x._version
        SETITEM[name](x, T)
        return x, x._version > v
    x, bumped = both(fn)
    assert bumped


GETITEM = {
    "int": lambda x, T: x[1],
    "neg": lambda x, T: x[-1, -2],
    "slices": lambda x, T: x[1:, ::2],
    "slice_past_end": lambda x, T: x[5:10],
    "neg_step_free_slice": lambda x, T: x[-2:],
    "none": lambda x, T: x[None, :, None],
    "ellipsis": lambda x, T: x[..., 1],
    "bool_mask": lambda x, T: x[x > 4],
    "bool_row": lambda x, T: x[T.tensor([True, False, True])],
    "int_tensor": lambda x, T: x[T.tensor([[0, 2], [1, 1]])],
    "int_list": lambda x, T: x[[0, 2]],
    "two_tensors": lambda x, T: x[T.tensor([0, 2]), T.tensor([1, 3])],
    "adv_separated": lambda x, T: x.reshape(3, 2, 2)[T.tensor([0, 1]), :, T.tensor([1, 0])],
    "adv_with_slice": lambda x, T: x[1:, T.tensor([0, 0, 3])],
    "0d_tensor": lambda x, T: x[T.tensor(2)],
    "bool_scalar_true": lambda x, T: x[True],
    "bool_scalar_false": lambda x, T: x[False],
}


@pytest.mark.parametrize("name", list(GETITEM))
def test_getitem(name):
    both(lambda T: GETITEM[name](T.arange(12, dtype=T.float32).reshape(3, 4), T))


def test_getitem_basic_is_view_advanced_is_copy():
    x = torch_js.zeros(3, 4)
    assert x[1:, ::2]._base is x
    assert x[1:][:, ::2]._base is x, "a view of a view has the root as its _base"
    y = x[torch_js.tensor([0, 1])]
    y.fill_(-1.0)
    assert -1.0 not in values(x)


def test_index_put_accumulate():
    def fn(T):
        x = T.zeros(5)
        idx = T.tensor([0, 1, 1, 3, 1])
        x.index_put_((idx,), T.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), accumulate=True)
        y = T.zeros(2, 3, dtype=T.int64)
        y.index_put_((T.tensor([0, 0, 1]), T.tensor([2, 2, 0])), T.tensor(5), accumulate=True)
        z = T.zeros(3)
        z.index_put_((T.tensor([2, 0]),), T.tensor([7.0, 8.0]))
        return x, y, z, x._version
    x, y, z, _ = both(fn)
    assert values(x) == [1.0, 10.0, 0.0, 4.0, 0.0]
    assert values(y) == [0, 0, 10, 5, 0, 0]


def test_inplace_dtype_rules():
    # int tensor += float scalar: result type Float can't be cast to Long
    e = raises_like(lambda T: T.ones(3, dtype=T.int64).add_(1.5), RuntimeError)
    assert "can't be cast to the desired output type" in str(e)
    raises_like(lambda T: T.ones(3, dtype=T.int64).mul_(T.ones(3)), RuntimeError)
    raises_like(lambda T: T.ones(3, dtype=T.bool).add_(1), RuntimeError)
    # float tensor, int operand: fine
    both(lambda T: T.ones(3).add_(T.ones(3, dtype=T.int64)))
    # in-place broadcast of the input's own shape is an error
    raises_like(lambda T: T.ones(3).add_(T.ones(2, 3)), RuntimeError)


def test_inplace_partial_overlap_raises():
    # torch refuses in-place ops whose input partially overlaps the written-to tensor
    raises_like(lambda T: (lambda x: x[1:].add_(x[:-1]))(T.arange(5.0)), RuntimeError)
    # full overlap (the same elements) is fine
    both(lambda T: (lambda x: x.add_(x))(T.arange(5.0)))


# ---------------------------------------------------------------------------------------------------------------
# type promotion

# torch.promote_types for DTYPE_NAMES x DTYPE_NAMES (row = first argument), generated from torch 2.13
PROMOTE_TABLE = """
bool     uint8    int8     int16    int32    int64    float16  bfloat16 float32  float64
uint8    uint8    int16    int16    int32    int64    float16  bfloat16 float32  float64
int8     int16    int8     int16    int32    int64    float16  bfloat16 float32  float64
int16    int16    int16    int16    int32    int64    float16  bfloat16 float32  float64
int32    int32    int32    int32    int32    int64    float16  bfloat16 float32  float64
int64    int64    int64    int64    int64    int64    float16  bfloat16 float32  float64
float16  float16  float16  float16  float16  float16  float16  float32  float32  float64
bfloat16 bfloat16 bfloat16 bfloat16 bfloat16 bfloat16 float32  bfloat16 float32  float64
float32  float32  float32  float32  float32  float32  float32  float32  float32  float64
float64  float64  float64  float64  float64  float64  float64  float64  float64  float64
"""


def _table():
    rows = [r.split() for r in PROMOTE_TABLE.strip().splitlines()]
    return {(a, b): rows[i][j] for i, a in enumerate(DTYPE_NAMES) for j, b in enumerate(DTYPE_NAMES)}


@needs_torch
def test_promote_table_literal_matches_torch():
    t = _table()
    for (a, b), r in t.items():
        assert dtype_name(torch.promote_types(getattr(torch, a), getattr(torch, b))) == r, (a, b)


@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_promote_types(a):
    t = _table()
    for b in DTYPE_NAMES:
        got = dtype_name(torch_js.promote_types(getattr(torch_js, a), getattr(torch_js, b)))
        assert got == t[(a, b)], f"promote_types({a}, {b}) = {got}, torch: {t[(a, b)]}"


def _mk(T, d, shape):
    if d == "bool":
        return T.ones(shape, dtype=T.bool)
    return T.ones(shape, dtype=getattr(T, d))


@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_add_result_dtype_tensor_tensor_and_0dim(a):
    for b in DTYPE_NAMES:
        for shape_b in ((3,), ()):
            def fn(T):
                if a == "bool" and b == "bool":
                    return (_mk(T, a, (3,)) + _mk(T, b, shape_b)).dtype
                return (_mk(T, a, (3,)) + _mk(T, b, shape_b)).dtype
            got = dtype_name(fn(torch_js))
            if shape_b == (3,):
                assert got == _table()[(a, b)], (a, b, got)
            if torch is not None:
                assert got == dtype_name(fn(torch)), (a, b, shape_b)


@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_result_dtype_tensor_scalar(a):
    for s in (True, 2, 2.5, -1):
        def fn(T):
            x = _mk(T, a, (2,))
            return [(x + s).dtype, (s * x).dtype, (x - s).dtype if a != "bool" and s is not True else None,
                    T.result_type(x, s)]
        js = [dtype_name(d) if d is not None else None for d in fn(torch_js)]
        if torch is not None:
            pt = [dtype_name(d) if d is not None else None for d in fn(torch)]
            assert js == pt, (a, s)
        if isinstance(s, float) and a not in ("float16", "bfloat16", "float64"):
            assert js[0] == "float32"


def test_true_division_and_bool_add():
    def fn(T):
        i = T.tensor([1, 2, 3])
        return (i / 2, i / T.tensor([2, 2, 2]), T.tensor([True, False]) + T.tensor([True, True]),
                T.tensor([True]) + 1, T.tensor([3], dtype=T.uint8) // 2, T.tensor([7, -7]) // 2,
                T.tensor([7, -7]) % 3, T.tensor([1, 2], dtype=T.int8) * 100)
    r = both(fn)
    assert dtype_name(r[0].dtype) == "float32" and values(r[0]) == [0.5, 1.0, 1.5]
    assert dtype_name(r[2].dtype) == "bool" and values(r[2]) == [True, True]
    assert values(r[5]) == [3, -4] and values(r[6]) == [1, 2]
    assert values(r[7]) == [100, -56]


def test_default_dtype_affects_promotion():
    def fn(T):
        T.set_default_dtype(T.float64)
        try:
            return (T.tensor([1, 2]) * 0.5, T.tensor(1.5), T.arange(0, 1, 0.5), T.ones(1) + 1)
        finally:
            T.set_default_dtype(T.float32)
    r = both(fn)
    assert dtype_name(r[0].dtype) == "float64"


def test_dtype_names_do_not_shadow_builtins():
    # torch.bool/float/int are dtypes, yet the package's own functions still call the builtins
    def fn(T):
        return (T.is_nonzero(T.tensor([2])), T.is_nonzero(T.tensor(0.0)), T.bool, T.float, T.int)
    js = fn(torch_js)
    assert js[0] is True and js[1] is False
    assert [dtype_name(d) for d in js[2:]] == ["bool", "float32", "int32"]
    if torch is not None:
        pt = fn(torch)
        assert pt[:2] == js[:2] and [dtype_name(d) for d in pt[2:]] == [dtype_name(d) for d in js[2:]]


# ---------------------------------------------------------------------------------------------------------------
# repr

REPRS = {
    "2d": lambda T: T.tensor([[1.5, -2.25], [3.0, 4.125]]),
    "3d": lambda T: T.arange(24.0).reshape(2, 3, 4) / 7,
    "ints": lambda T: T.tensor([[1, -20, 300]]),
    "int_big": lambda T: T.tensor([1, 2 ** 40]),
    "negative_float": lambda T: T.tensor([-1.0, -0.5]),
    "integral_float": lambda T: T.tensor([1.0, 2.0, -3.0]),
    "sci": lambda T: T.tensor([1e-8, 1.0, 1e6]),
    "sci_big": lambda T: T.tensor([1e10, 2.0]),
    "nan_inf": lambda T: T.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    "bools": lambda T: T.tensor([True, False]),
    "empty": lambda T: T.zeros(0),
    "empty_2d": lambda T: T.zeros(2, 0),
    "scalar": lambda T: T.tensor(3.5),
    "scalar_int": lambda T: T.tensor(7),
    "large": lambda T: T.arange(2000.0),
    "large_2d": lambda T: T.arange(1200).reshape(30, 40),
    "float64": lambda T: T.tensor([1.0, 2.5], dtype=T.float64),
    "int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "uint8": lambda T: T.tensor([1, 255], dtype=T.uint8),
    "float16": lambda T: T.tensor([1.0, 2.5], dtype=T.float16),
    "bfloat16": lambda T: T.tensor([1.0, 2.5], dtype=T.bfloat16),
    "requires_grad": lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    "grad_fn": lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_sum": lambda T: (T.tensor([1.0, 2.0], requires_grad=True) + 1).sum(),
    "long_row": lambda T: T.arange(30.0) * 1.5,
    "precision": lambda T: T.tensor([1 / 3, 2 / 3]),
    "neg_zero": lambda T: T.tensor([-0.0, 0.0]),
    "noncontig": lambda T: T.arange(6.0).reshape(2, 3).t(),
}


@needs_torch
@pytest.mark.parametrize("name", list(REPRS))
def test_repr_matches_torch(name):
    js = repr(REPRS[name](torch_js))
    pt = repr(REPRS[name](torch))
    assert js == pt, f"\ntorch_js:\n{js}\ntorch:\n{pt}"


def test_repr_inline_examples():
    assert repr(torch_js.tensor([[1.5, -2.25], [3.0, 4.125]])) == \
        "tensor([[ 1.5000, -2.2500],\n        [ 3.0000,  4.1250]])"
    assert repr(torch_js.tensor([1, 2], dtype=torch_js.int32)) == "tensor([1, 2], dtype=torch.int32)"
    assert repr(torch_js.tensor([True, False])) == "tensor([ True, False])"
    assert repr(torch_js.zeros(0)) == "tensor([])"
    assert repr(torch_js.tensor([1.0, 2.0], requires_grad=True) * 2) == \
        "tensor([2., 4.], grad_fn=<MulBackward0>)"
    assert str(torch_js.tensor(3.5)) == "tensor(3.5000)"


# ---------------------------------------------------------------------------------------------------------------
# item / tolist / numpy


def test_item_tolist():
    def fn(T):
        return (T.tensor(2.5).item(), T.tensor([7]).item(), T.tensor(True).item(),
                T.tensor([[1, 2], [3, 4]]).tolist(), T.tensor([[1.5], [2.5]]).t().tolist(), T.zeros(2, 0).tolist(),
                T.zeros(0, 3).tolist(), T.tensor(1.25).tolist(), T.tensor([1.0, 2.0], dtype=T.float16).tolist(),
                T.tensor([1.1], dtype=T.bfloat16).tolist(), T.tensor([True, False]).tolist(),
                T.tensor([255], dtype=T.uint8).tolist(), T.arange(6).reshape(2, 3)[:, 1:].tolist())
    r = fn(torch_js)
    assert r[:4] == (2.5, 7, True, [[1, 2], [3, 4]])
    assert type(r[1]) is int and type(r[2]) is bool
    assert r[5] == [[], []] and r[6] == []
    assert r[12] == [[1, 2], [4, 5]]
    if torch is not None:
        assert r == fn(torch)


def test_item_errors():
    raises_like(lambda T: T.ones(2).item(), RuntimeError)
    raises_like(lambda T: bool(T.ones(2)), RuntimeError)
    raises_like(lambda T: float(T.zeros(3)), (RuntimeError, TypeError, ValueError))


def test_numpy_from_numpy_share_memory():
    np = pytest.importorskip("numpy")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = torch_js.from_numpy(a)
    assert dtype_name(t.dtype) == "float32" and tuple(t.shape) == (2, 3)
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0, "from_numpy must share memory with the array"
    t[1, 2] = -1.0
    assert a[1, 2] == -1.0
    n = t.numpy()
    n[0, 1] = 7.0
    assert t[0, 1].item() == 7.0, "Tensor.numpy() must share memory with the tensor"
    # non-contiguous arrays keep their strides
    b = np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2]
    tb = torch_js.from_numpy(b)
    assert values(tb) == b.ravel().tolist()
    assert tuple(tb.stride()) == (4, 2)
    for dt, name in ((np.float64, "float64"), (np.int32, "int32"), (np.int16, "int16"), (np.uint8, "uint8"),
                     (np.int8, "int8"), (np.bool_, "bool"), (np.float16, "float16")):
        assert dtype_name(torch_js.from_numpy(np.zeros(2, dtype=dt)).dtype) == name
    # numpy of a tensor requiring grad raises (as in torch)
    raises_like(lambda T: T.ones(2, requires_grad=True).numpy(), RuntimeError)


# ---------------------------------------------------------------------------------------------------------------
# creation ops

CREATION = {
    "zeros": lambda T: T.zeros(2, 3),
    "zeros_tuple": lambda T: T.zeros((2, 3), dtype=T.int32),
    "ones": lambda T: T.ones([4], dtype=T.bool),
    "full_float": lambda T: T.full((2, 2), 1.5),
    "full_int": lambda T: T.full((2,), 3),
    "full_bool": lambda T: T.full((2,), True),
    "empty_shape": lambda T: T.empty(2, 0, 3).shape,
    "arange_int": lambda T: T.arange(5),
    "arange_start_end": lambda T: T.arange(2, 9, 3),
    "arange_neg_step": lambda T: T.arange(5, 0, -2),
    "arange_float": lambda T: T.arange(0, 1, 0.1),
    "arange_float_end": lambda T: T.arange(1.5),
    "arange_float_step_int_bounds": lambda T: T.arange(0, 3, 0.5),
    "arange_dtype": lambda T: T.arange(0, 5, dtype=T.float64),
    "arange_awkward": lambda T: T.arange(-1.0, 1.0, 0.3),
    "linspace": lambda T: T.linspace(0, 1, 5),
    "linspace_1": lambda T: T.linspace(2, 3, 1),
    "linspace_int": lambda T: T.linspace(0, 10, 4, dtype=T.int64),
    "linspace_long": lambda T: T.linspace(-3.7, 11.2, 33),
    "logspace": lambda T: T.logspace(0, 2, 3),
    "eye": lambda T: T.eye(3),
    "eye_rect": lambda T: T.eye(2, 4, dtype=T.int64),
    "zeros_like": lambda T: T.zeros_like(T.ones(2, 3, dtype=T.int16)),
    "ones_like_dtype": lambda T: T.ones_like(T.ones(2), dtype=T.float64),
    "full_like": lambda T: T.full_like(T.ones(2, dtype=T.int32), 7),
    "empty_like_shape": lambda T: (T.empty_like(T.ones(2, 3)).shape, T.empty_like(T.ones(2, 3)).dtype),
    "like_strides": lambda T: T.zeros_like(T.ones(2, 3).t()).stride(),
    "tensor_nested_int": lambda T: T.tensor([[1, 2], [3, 4]]),
    "tensor_mixed_int_float": lambda T: T.tensor([1, 2.5]),
    "tensor_mixed_bool_int": lambda T: T.tensor([True, 2]),
    "tensor_bool": lambda T: T.tensor([[True], [False]]),
    "tensor_scalar": lambda T: T.tensor(5),
    "tensor_empty": lambda T: T.tensor([]),
    "tensor_empty_nested": lambda T: T.tensor([[], []]),
    "tensor_dtype": lambda T: T.tensor([1.7, -2.7], dtype=T.int32),
    "tensor_of_tensors_0d": lambda T: T.tensor([T.tensor(1.5), T.tensor(2)]),
    "tensor_tuple": lambda T: T.tensor(((1, 2), (3, 4))),
    "tensor_big_int": lambda T: T.tensor([2 ** 40]),
    "tensor_copy": lambda T: T.tensor(T.arange(3)),
    "as_tensor": lambda T: T.as_tensor([1, 2], dtype=T.float32),
    "scalar_tensor": lambda T: T.scalar_tensor(3),
    "new_ones": lambda T: T.ones(2, dtype=T.int8).new_ones(3),
    "new_zeros": lambda T: T.ones(2, dtype=T.float64).new_zeros((2, 2)),
    "new_full": lambda T: T.ones(2).new_full((2,), 4),
    "new_tensor": lambda T: T.ones(2, dtype=T.int32).new_tensor([1, 2]),
}


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor")
@pytest.mark.parametrize("name", list(CREATION))
def test_creation(name):
    both(CREATION[name], rtol=1e-6, atol=1e-6)


def test_creation_inline():
    assert values(torch_js.arange(0, 1, 0.25)) == [0.0, 0.25, 0.5, 0.75]
    assert len(torch_js.arange(0, 1, 0.1)) == 10
    assert values(torch_js.linspace(0, 1, 5)) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert values(torch_js.eye(2)) == [1.0, 0.0, 0.0, 1.0]
    assert dtype_name(torch_js.tensor([1, 2.0]).dtype) == "float32"
    assert dtype_name(torch_js.tensor([1, True]).dtype) == "int64"
    assert dtype_name(torch_js.arange(3).dtype) == "int64"
    assert dtype_name(torch_js.arange(3.0).dtype) == "float32"
    assert dtype_name(torch_js.full((1,), 2).dtype) == "int64"


def test_creation_errors():
    raises_like(lambda T: T.tensor([[1, 2], [3]]), ValueError, match_torch_message=False)
    raises_like(lambda T: T.arange(0, 5, 0), RuntimeError)
    raises_like(lambda T: T.arange(5, 0, 1), RuntimeError)
    raises_like(lambda T: T.zeros(-1), RuntimeError)
    raises_like(lambda T: T.linspace(0, 1, -1), RuntimeError)


# ---------------------------------------------------------------------------------------------------------------
# errors: PyTorch's exception types and messages

ERRORS = {
    "add_shape_mismatch": (lambda T: T.ones(2, 3) + T.ones(4), RuntimeError),
    "add_shape_mismatch_3d": (lambda T: T.ones(2, 3, 4) * T.ones(2, 5, 4), RuntimeError),
    "view_bad_size": (lambda T: T.ones(6).view(4), RuntimeError),
    "view_two_minus_one": (lambda T: T.ones(6).view(-1, -1), RuntimeError),
    "reshape_bad": (lambda T: T.ones(2, 3).reshape(5), RuntimeError),
    "index_out_of_range": (lambda T: T.ones(3)[3], IndexError),
    "index_out_of_range_neg": (lambda T: T.ones(3, 2)[-4], IndexError),
    "index_too_many": (lambda T: T.ones(3)[0, 0], IndexError),
    "index_tensor_out_of_range": (lambda T: T.ones(3)[T.tensor([5])], IndexError),
    "index_float_tensor": (lambda T: T.ones(3)[T.tensor([1.0])], IndexError),
    "dim_out_of_range": (lambda T: T.ones(2, 3).sum(2), IndexError),
    "transpose_dim_out_of_range": (lambda T: T.ones(2, 3).transpose(0, 3), IndexError),
    "mm_dtype_mismatch": (lambda T: T.mm(T.ones(2, 2), T.ones(2, 2, dtype=T.float64)), RuntimeError),
    "mm_shape_mismatch": (lambda T: T.mm(T.ones(2, 3), T.ones(2, 3)), RuntimeError),
    "mm_not_2d": (lambda T: T.mm(T.ones(3), T.ones(3, 2)), RuntimeError),
    "matmul_mismatch": (lambda T: T.ones(2, 3) @ T.ones(4, 2), RuntimeError),
    "matmul_0d": (lambda T: T.matmul(T.tensor(1.0), T.ones(2)), RuntimeError),
    "int_div_zero": (lambda T: T.tensor([1]) // T.tensor([0]), RuntimeError),
    "int_remainder_zero": (lambda T: T.tensor([1]) % 0, RuntimeError),
    "requires_grad_int": (lambda T: T.ones(2, dtype=T.int64).requires_grad_(), RuntimeError),
    "tensor_requires_grad_int": (lambda T: T.tensor([1, 2], requires_grad=True), RuntimeError),
    "cat_dim_mismatch": (lambda T: T.cat([T.ones(2, 3), T.ones(2, 4)]), RuntimeError),
    "cat_ndim_mismatch": (lambda T: T.cat([T.ones(2, 3), T.ones(3)]), RuntimeError),
    "stack_shape_mismatch": (lambda T: T.stack([T.ones(2), T.ones(3)]), RuntimeError),
    "expand_bad": (lambda T: T.ones(2, 3).expand(3, 3), RuntimeError),
    "expand_fewer_dims": (lambda T: T.ones(2, 3).expand(3), RuntimeError),
    "permute_bad": (lambda T: T.ones(2, 3).permute(0, 0), RuntimeError),
    "permute_wrong_len": (lambda T: T.ones(2, 3).permute(0), RuntimeError),
    "squeeze_dim_range": (lambda T: T.ones(2).squeeze(3), IndexError),
    "neg_bool": (lambda T: -T.tensor([True]), RuntimeError),
    "bitwise_float": (lambda T: T.ones(2) & T.ones(2), RuntimeError),
    "sub_bool": (lambda T: T.tensor([True]) - T.tensor([False]), RuntimeError),
    "item_many": (lambda T: T.ones(3).item(), RuntimeError),
    "where_cond_not_bool": (lambda T: T.where(T.ones(2), T.ones(2), T.zeros(2)), RuntimeError),
    "gather_index_dtype": (lambda T: T.gather(T.ones(2, 2), 1, T.tensor([[0.0]])), RuntimeError),
    "index_select_dim": (lambda T: T.index_select(T.ones(2, 2), 2, T.tensor([0])), IndexError),
    "narrow_too_long": (lambda T: T.ones(4).narrow(0, 2, 5), RuntimeError),
    "select_out_of_range": (lambda T: T.ones(2, 3).select(1, 5), IndexError),
    "split_bad_sizes": (lambda T: T.ones(5).split([2, 2]), RuntimeError),
    "setitem_shape_mismatch": (lambda T: T.ones(3).__setitem__(slice(None), T.ones(2)), RuntimeError),
    "mean_int": (lambda T: T.ones(3, dtype=T.int64).mean(), RuntimeError),
    "backward_nonscalar": (lambda T: (T.ones(2, requires_grad=True) * 2).backward(), RuntimeError),
    "backward_no_grad": (lambda T: T.ones(2).sum().backward(), RuntimeError),
    "len_0d": (lambda T: len(T.tensor(1.0)), TypeError),
    "iter_0d": (lambda T: iter(T.tensor(1.0)), TypeError),
    "bool_ambiguous": (lambda T: bool(T.ones(2)), RuntimeError),
    "add_str": (lambda T: T.ones(2) + "a", TypeError),
    "zeros_bad_arg": (lambda T: T.zeros("a"), TypeError),
    "reshape_two_neg": (lambda T: T.ones(4).reshape(-1, -1), RuntimeError),
    "max_empty": (lambda T: T.ones(0).max(), RuntimeError),
    "argmax_empty": (lambda T: T.ones(0).argmax(), IndexError),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_type_and_message(name):
    fn, exc = ERRORS[name]
    raises_like(fn, exc)


def test_error_messages_inline():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                           r"non-singleton dimension 1"):
        torch_js.ones(2, 3) + torch_js.ones(4)
    with pytest.raises(RuntimeError, match=r"shape '\[4\]' is invalid for input of size 6"):
        torch_js.ones(6).view(4)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        torch_js.ones(3)[3]
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        torch_js.ones(2, dtype=torch_js.int64).requires_grad_()
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        torch_js.tensor([1], requires_grad=True)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        torch_js.tensor([1]) // torch_js.tensor([0])


# ---------------------------------------------------------------------------------------------------------------
# float16 / bfloat16


HALF_VALUES = [0.0, -0.0, 1.0, -2.5, 0.1, 1 / 3, 65504.0, 70000.0, 1e-5, 6e-8, 3.0e38, float("inf"), -float("inf"),
               float("nan"), 1.00048828125, 257.0, 1.0e-40]


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_roundtrip_and_rounding(half):
    def fn(T):
        d = getattr(T, half)
        x = T.tensor(HALF_VALUES, dtype=T.float64)
        h = x.to(d)
        return h, h.to(T.float32), h.to(T.float64), T.tensor(HALF_VALUES, dtype=d), h.to(T.int32)[:11]
    r = both(fn)
    back = values(r[1])
    assert back[2] == 1.0 and back[0] == 0.0
    assert math.isnan(back[13])


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_arithmetic_matches_torch(half):
    def fn(T):
        d = getattr(T, half)
        a = T.tensor([0.1, 1 / 3, 2.0, 1000.5, -7.25, 3.0e4], dtype=d)
        b = T.tensor([0.2, 3.0, 1e-3, 0.5, 2.0, 3.0e4], dtype=d)
        return (a + b, a * b, a / b, a - b, a.exp(), a.sin(), a.sqrt(), a.sum(), a.mean(), a @ b, a.cumsum(0),
                a + 1, a * 0.1, a.to(T.float32) + b, a.max(), (a > b), a.half().float(), a.sigmoid(),
                a.reshape(2, 3).softmax(1), a.tanh())
    both(fn)


def test_half_promotion_and_storage():
    def fn(T):
        h = T.ones(3, dtype=T.float16)
        b = T.ones(3, dtype=T.bfloat16)
        return ((h + b).dtype, (h + 1.5).dtype, (h + T.ones(3, dtype=T.int64)).dtype, h.element_size(),
                b.element_size(), (h + T.tensor(1.0, dtype=T.float64)).dtype, h.is_floating_point())
    r = both(fn)
    assert dtype_name(r[0]) == "float32" and r[3] == 2


def test_half_overflow_and_rounding_inline():
    h = torch_js.tensor([65504.0, 65520.0, 1.00048828125, 1.0009765625], dtype=torch_js.float16)
    v = values(h.float())
    assert v[0] == 65504.0 and v[1] == float("inf")
    assert v[2] == 1.0  # ties to even
    assert v[3] == 1.0009765625
    b = torch_js.tensor([1.00390625, 1.01171875], dtype=torch_js.bfloat16)
    assert values(b.float()) == [1.0, 1.015625]  # ties to even


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_prints_as_torch(dtype):
    # six significant digits (C's %g), whatever the field
    got = repr(torch_js.finfo(getattr(torch_js, dtype)))
    if torch is not None:
        assert got == repr(torch.finfo(getattr(torch, dtype)))
    if dtype == "float32":
        assert got == ("finfo(resolution=1e-06, min=-3.40282e+38, max=3.40282e+38, eps=1.19209e-07, "
                       "smallest_normal=1.17549e-38, tiny=1.17549e-38, dtype=float32)")


def test_aminmax_is_a_named_tuple():
    r = torch_js.tensor([[3.0, -1.0], [2.0, 5.0]]).aminmax(dim=1)
    assert isinstance(r, torch_js.return_types.aminmax) and r.min.tolist() == [-1.0, 2.0] and r.max.tolist() == [3, 5]
    assert repr(torch_js.aminmax(torch_js.tensor([1.0, 2.0]))) == ("torch.return_types.aminmax(\nmin=tensor(1.),\n"
                                                                   "max=tensor(2.))")
