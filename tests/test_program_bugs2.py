"""Bugs that third-party PyTorch programs (pytorch/examples, lucidrains' vit-pytorch, karpathy's repos, ...) met
under torch_js, each pinned against PyTorch's behaviour: the dim a broadcast error names, setitem's value with
leading size-1 dims."""
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
