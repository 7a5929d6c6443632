"""torch.nn.utils: PackedSequence and the rnn helpers (and RNN/LSTM/GRU on packed input), parametrize and the
parametrizations (orthogonal, weight_norm, spectral_norm), the older weight_norm / spectral_norm hooks,
skip_init and fusion, against live PyTorch where it is installed, plus self-checks that need none."""
import math

import pytest

import torch_js
import torch_js.nn as jnn
from torch_js.nn.utils import parametrize as JP
from torch_js.nn.utils import rnn as JR
from optional_torch import needs_torch, torch

if torch is not None:
    from torch.nn.utils import parametrize as TP
    from torch.nn.utils import rnn as TR


def J(t):
    """A torch tensor as a torch_js tensor (same dtype and values)."""
    return torch_js.tensor(t.detach().tolist(), dtype=getattr(torch_js, str(t.dtype).split(".")[1]))


def T(t):
    return torch.tensor(t.detach().tolist(), dtype=getattr(torch, str(t.dtype).split(".")[1]))


def close(a, b, tol=1e-5):
    return torch.allclose(a.detach() if hasattr(a, "detach") else a, T(b), rtol=tol, atol=tol)


def copy_state(src, dst):
    dst.load_state_dict({k: J(v) for k, v in src.state_dict().items()})


# ---- packing ---------------------------------------------------------------------------------------------------

_PACK_CASES = {
    "sorted": lambda R, t: R.pack_padded_sequence(t.arange(24.0).reshape(4, 3, 2), [4, 4, 3]),
    "unsorted": lambda R, t: R.pack_padded_sequence(t.arange(24.0).reshape(4, 3, 2), [2, 4, 3], enforce_sorted=False),
    "batch_first": lambda R, t: R.pack_padded_sequence(t.arange(24.0).reshape(3, 4, 2), t.tensor([4, 1, 3]),
                                                       batch_first=True, enforce_sorted=False),
    "pack_sequence": lambda R, t: R.pack_sequence([t.ones(3), t.zeros(1), 2 * t.ones(2)], enforce_sorted=False),
    "unsorted_refused": lambda R, t: R.pack_padded_sequence(t.zeros(4, 3), [1, 4, 3]),
    "zero_length": lambda R, t: R.pack_padded_sequence(t.zeros(4, 3), [4, 3, 0]),
    "zero_length_unsorted": lambda R, t: R.pack_padded_sequence(t.zeros(4, 3), [4, 0, 1], enforce_sorted=False),
    "wrong_count": lambda R, t: R.pack_padded_sequence(t.zeros(4, 3), [4, 3]),
    "lengths_2d": lambda R, t: R.pack_padded_sequence(t.zeros(4, 3), t.tensor([[4, 3, 1]])),
    "float_lengths": lambda R, t: R.pack_padded_sequence(t.zeros(4, 3), t.tensor([4.0, 3, 1])),
}


def _packed_outcome(fn, R, t):
    try:
        p = fn(R, t)
    except Exception as e:  # noqa: BLE001  (the outcome is compared)
        return ("raise", type(e).__name__, str(e))
    ix = [None if x is None else x.tolist() for x in (p.sorted_indices, p.unsorted_indices)]
    return ("ok", p.data.tolist(), p.batch_sizes.tolist(), str(p.batch_sizes.dtype), ix)


@needs_torch
@pytest.mark.parametrize("case", sorted(_PACK_CASES))
def test_pack_matches_torch(case):
    fn = _PACK_CASES[case]
    assert _packed_outcome(fn, JR, torch_js) == _packed_outcome(fn, TR, torch)


_PAD_CASES = {
    "pad_packed": lambda R, t: R.pad_packed_sequence(
        R.pack_padded_sequence(t.arange(24.0).reshape(4, 3, 2), [2, 4, 3], enforce_sorted=False)),
    "pad_packed_batch_first_total": lambda R, t: R.pad_packed_sequence(
        R.pack_padded_sequence(t.arange(12.0).reshape(4, 3), [4, 2, 1]), batch_first=True, padding_value=-1.0,
        total_length=6),
    "total_too_short": lambda R, t: R.pad_packed_sequence(R.pack_padded_sequence(t.zeros(4, 3), [4, 2, 1]),
                                                          total_length=2),
    "pad_sequence": lambda R, t: (R.pad_sequence([t.ones(3, 2), t.zeros(1, 2)], padding_value=5.0),),
    "pad_sequence_left_bf": lambda R, t: (R.pad_sequence([t.ones(3), 2 * t.ones(1)], batch_first=True,
                                                         padding_side="left"),),
    "pad_sequence_empty": lambda R, t: R.pad_sequence([]),
    "pad_sequence_bad_side": lambda R, t: R.pad_sequence([t.ones(1)], padding_side="middle"),
    "unpack": lambda R, t: R.unpack_sequence(R.pack_sequence([t.ones(3), t.zeros(1), 2 * t.ones(2)],
                                                              enforce_sorted=False)),
    "unpad": lambda R, t: R.unpad_sequence(t.arange(6.0).reshape(3, 2), t.tensor([3, 1])),
}


def _tensors_outcome(fn, R, t):
    try:
        out = fn(R, t)
    except Exception as e:  # noqa: BLE001
        return ("raise", type(e).__name__, str(e))
    return ("ok", [(x.tolist(), str(x.dtype)) for x in out])


@needs_torch
@pytest.mark.parametrize("case", sorted(_PAD_CASES))
def test_pad_and_unpack_match_torch(case):
    fn = _PAD_CASES[case]
    assert _tensors_outcome(fn, JR, torch_js) == _tensors_outcome(fn, TR, torch)


def test_pack_round_trip_self_check():
    seqs = [torch_js.tensor([1.0, 2.0]), torch_js.tensor([3.0, 4.0, 5.0]), torch_js.tensor([6.0])]
    p = JR.pack_sequence(seqs, enforce_sorted=False)
    assert p.batch_sizes.tolist() == [3, 2, 1] and p.data.tolist() == [3.0, 1.0, 6.0, 4.0, 2.0, 5.0]
    assert p.sorted_indices.tolist() == [1, 0, 2] and p.unsorted_indices.tolist() == [1, 0, 2]
    assert [s.tolist() for s in JR.unpack_sequence(p)] == [s.tolist() for s in seqs]
    padded, lengths = JR.pad_packed_sequence(p, batch_first=True)
    assert padded.tolist() == [[1.0, 2.0, 0.0], [3.0, 4.0, 5.0], [6.0, 0.0, 0.0]] and lengths.tolist() == [2, 3, 1]
    assert p.double().data.dtype is torch_js.float64 and p.to(torch_js.float32) is p
    assert JR.PackedSequence((p.data, p.batch_sizes)).batch_sizes is p.batch_sizes


# ---- RNNs on packed input --------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("mode,bidirectional,proj", [("LSTM", False, 0), ("LSTM", True, 2), ("GRU", True, 0),
                                                     ("RNN", False, 0)])
def test_rnn_on_packed_input_matches_torch(mode, bidirectional, proj):
    torch.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=bidirectional)
    if proj:
        kw["proj_size"] = proj
    ref = getattr(torch.nn, mode)(3, 4, **kw)
    mine = getattr(jnn, mode)(3, 4, **kw)
    copy_state(ref, mine)
    x = torch.randn(5, 3, 3, requires_grad=True)
    xj = J(x).requires_grad_()
    lengths = [2, 5, 3]
    p = TR.pack_padded_sequence(x, lengths, enforce_sorted=False)
    pj = JR.pack_padded_sequence(xj, lengths, enforce_sorted=False)
    n = 2 * (2 if bidirectional else 1)
    h0 = torch.randn(n, 3, proj or 4)
    if mode == "LSTM":
        c0 = torch.randn(n, 3, 4)
        out, (h, c) = ref(p, (h0, c0))
        outj, (hj, cj) = mine(pj, (J(h0), J(c0)))
        assert close(c, cj)
    else:
        out, h = ref(p, h0)
        outj, hj = mine(pj, J(h0))
    assert isinstance(outj, JR.PackedSequence)
    assert outj.batch_sizes.tolist() == out.batch_sizes.tolist()
    assert outj.unsorted_indices.tolist() == out.unsorted_indices.tolist()
    assert close(out.data, outj.data) and close(h, hj)
    padded, _ = TR.pad_packed_sequence(out, batch_first=True)
    paddedj, _ = JR.pad_packed_sequence(outj, batch_first=True)
    (padded.square().sum() + h.sum()).backward()
    (paddedj.square().sum() + hj.sum()).backward()
    assert close(x.grad, xj.grad)
    for a, b in zip(ref.parameters(), mine.parameters()):
        assert close(a.grad, b.grad, 1e-4)


def test_gru_packed_equals_running_each_sequence_alone():
    torch_js.manual_seed(0)
    gru = jnn.GRU(2, 3, bidirectional=True)
    seqs = [torch_js.randn(3, 2), torch_js.randn(1, 2), torch_js.randn(2, 2)]
    out, h = gru(JR.pack_sequence(seqs, enforce_sorted=False))
    for i, (s, o) in enumerate(zip(seqs, JR.unpack_sequence(out))):
        alone, h_alone = gru(s)
        assert torch_js.allclose(o, alone, atol=1e-6) and torch_js.allclose(h[:, i], h_alone, atol=1e-6)


# ---- parametrize -----------------------------------------------------------------------------------------------

def _symmetric(nn):
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()
    return Symmetric


def test_parametrize_self_check():
    m = jnn.Linear(3, 3)
    w = m.weight
    JP.register_parametrization(m, "weight", _symmetric(jnn)())
    assert type(m).__name__ == "ParametrizedLinear" and JP.type_before_parametrizations(m) is jnn.Linear
    assert JP.is_parametrized(m) and JP.is_parametrized(m, "weight") and not JP.is_parametrized(m, "bias")
    assert m.parametrizations.weight.original is w          # the same Parameter (an optimizer keeps working)
    assert sorted(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert torch_js.equal(m.weight, m.weight.T)
    A = torch_js.rand(3, 3)
    A = A + A.T
    m.weight = A
    assert torch_js.allclose(m.weight, A)
    with JP.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    m(torch_js.randn(2, 3)).sum().backward()
    assert w.grad is not None and w.grad.tril(-1).abs().sum().item() == 0
    JP.remove_parametrizations(m, "weight")
    assert type(m) is jnn.Linear and not hasattr(m, "parametrizations") and m.weight is w
    assert torch_js.allclose(m.weight, A)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        JP.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        JP.register_parametrization(m, "nothing", _symmetric(jnn)())


@needs_torch
def test_parametrize_matches_torch():
    torch.manual_seed(0)
    ref, mine = torch.nn.Linear(4, 4), jnn.Linear(4, 4)
    copy_state(ref, mine)
    TP.register_parametrization(ref, "weight", _symmetric(torch.nn)())
    JP.register_parametrization(mine, "weight", _symmetric(jnn)())
    assert repr(mine) == repr(ref) and list(mine.state_dict()) == list(ref.state_dict())
    assert close(ref.weight, mine.weight)
    x = torch.randn(2, 4)
    ref(x).pow(2).sum().backward()
    mine(J(x)).pow(2).sum().backward()
    assert close(ref.parametrizations.weight.original.grad, mine.parametrizations.weight.original.grad)

    class Double(torch.nn.Module):
        def forward(self, X):
            return X.repeat(2, 1)

    class JDouble(jnn.Module):
        def forward(self, X):
            return X.repeat(2, 1)

    for mod, P, D in ((ref, TP, Double), (mine, JP, JDouble)):
        with pytest.raises(ValueError) as e:
            P.register_parametrization(mod, "bias", D())
        mod.err = str(e.value)
    assert mine.err == ref.err
    TP.remove_parametrizations(ref, "weight", leave_parametrized=False)
    JP.remove_parametrizations(mine, "weight", leave_parametrized=False)
    assert close(ref.weight, mine.weight) and type(mine) is jnn.Linear


# ---- parametrizations ------------------------------------------------------------------------------------------

@needs_torch
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_parametrization_matches_torch(dim):
    torch.manual_seed(0)
    ref, mine = torch.nn.Conv1d(3, 4, 2), jnn.Conv1d(3, 4, 2)
    copy_state(ref, mine)
    torch.nn.utils.parametrizations.weight_norm(ref, dim=dim)
    jnn.utils.parametrizations.weight_norm(mine, dim=dim)
    assert list(mine.state_dict()) == list(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert close(v, mine.state_dict()[k]), k
    x = torch.randn(2, 3, 5)
    ref(x).sum().backward()
    mine(J(x)).sum().backward()
    pr, pm = ref.parametrizations.weight, mine.parametrizations.weight
    assert close(pr.original0.grad, pm.original0.grad, 1e-4) and close(pr.original1.grad, pm.original1.grad, 1e-4)


def test_weight_norm_loads_the_older_hooks_checkpoint():
    with pytest.warns(FutureWarning):
        old = jnn.utils.weight_norm(jnn.Linear(3, 2))
    new = jnn.utils.parametrizations.weight_norm(jnn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    assert torch_js.allclose(new.weight, old.weight)


@needs_torch
@pytest.mark.parametrize("make", ["linear", "conv_transpose", "bias_1d"])
def test_spectral_norm_parametrization_matches_torch(make):
    def build(nn):
        return {"linear": lambda: nn.Linear(5, 3), "conv_transpose": lambda: nn.ConvTranspose2d(2, 3, 2),
                "bias_1d": lambda: nn.Linear(3, 4)}[make]()
    torch.manual_seed(3)
    torch_js.manual_seed(3)
    ref, mine = build(torch.nn), build(jnn)
    copy_state(ref, mine)
    name = "bias" if make == "bias_1d" else "weight"
    torch.nn.utils.parametrizations.spectral_norm(ref, name)
    jnn.utils.parametrizations.spectral_norm(mine, name)
    for k, v in ref.state_dict().items():
        assert close(v, mine.state_dict()[k]), k        # _u / _v: the same draws and power iterations
    for _ in range(2):
        assert close(getattr(ref, name), getattr(mine, name))
    ref.eval()
    mine.eval()
    assert close(getattr(ref, name), getattr(mine, name))


@needs_torch
@pytest.mark.parametrize("shape,orth_map", [((4, 4), None), ((5, 3), None), ((3, 5), "householder"),
                                            ((4, 4), "cayley"), ((3, 5), "matrix_exp")])
def test_orthogonal_matches_torch(shape, orth_map):
    torch.manual_seed(1)
    torch_js.manual_seed(1)
    ref, mine = torch.nn.Linear(shape[1], shape[0]), jnn.Linear(shape[1], shape[0])
    copy_state(ref, mine)
    torch.nn.utils.parametrizations.orthogonal(ref, orthogonal_map=orth_map)
    jnn.utils.parametrizations.orthogonal(mine, orthogonal_map=orth_map)
    assert close(ref.weight, mine.weight, 1e-4)
    x = torch.randn(2, shape[1])
    ref(x).sum().backward()
    mine(J(x)).sum().backward()
    assert close(ref.parametrizations.weight.original.grad, mine.parametrizations.weight.original.grad, 1e-4)


def test_orthogonal_self_check():
    m = jnn.utils.parametrizations.orthogonal(jnn.Linear(4, 4))
    q = m.weight
    assert torch_js.allclose(q @ q.T, torch_js.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices"):
        jnn.utils.parametrizations.orthogonal(jnn.Linear(4, 4), "bias")


# ---- the older hooks -------------------------------------------------------------------------------------------

@needs_torch
def test_old_weight_norm_matches_torch():
    torch.manual_seed(0)
    ref, mine = torch.nn.Linear(3, 4), jnn.Linear(3, 4)
    copy_state(ref, mine)
    with pytest.warns(FutureWarning, match="torch.nn.utils.parametrizations.weight_norm"):
        jnn.utils.weight_norm(mine)
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(ref)
    assert list(mine.state_dict()) == list(ref.state_dict()) == ["bias", "weight_g", "weight_v"]
    x = torch.randn(2, 3)
    ref(x).sum().backward()
    mine(J(x)).sum().backward()
    assert close(ref.weight_g.grad, mine.weight_g.grad) and close(ref.weight_v.grad, mine.weight_v.grad)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), pytest.warns(FutureWarning):
        jnn.utils.weight_norm(mine)
    torch.nn.utils.remove_weight_norm(ref)
    jnn.utils.remove_weight_norm(mine)
    assert list(mine.state_dict()) == list(ref.state_dict()) and close(ref.weight, mine.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        jnn.utils.remove_weight_norm(mine)


@needs_torch
def test_old_spectral_norm_matches_torch():
    torch.manual_seed(2)
    torch_js.manual_seed(2)
    ref, mine = torch.nn.Conv2d(2, 3, 3), jnn.Conv2d(2, 3, 3)
    copy_state(ref, mine)
    torch.nn.utils.spectral_norm(ref)
    jnn.utils.spectral_norm(mine)
    sd_ref, sd_mine = ref.state_dict(), mine.state_dict()
    assert list(sd_mine) == list(sd_ref) and sd_mine._metadata[""]["spectral_norm"] == {"weight.version": 1}
    x = torch.randn(1, 2, 4, 4)
    for _ in range(3):
        assert close(ref(x), mine(J(x)))
    for k, v in ref.state_dict().items():
        assert close(v, mine.state_dict()[k]), k
    torch.nn.utils.remove_spectral_norm(ref)
    jnn.utils.remove_spectral_norm(mine)
    assert list(mine.state_dict()) == list(ref.state_dict()) and close(ref.weight, mine.weight)


# ---- skip_init / fusion ----------------------------------------------------------------------------------------

@needs_torch
def test_skip_init_leaves_the_random_stream_as_torch():
    torch.manual_seed(5)
    torch_js.manual_seed(5)
    m = jnn.utils.skip_init(jnn.Linear, 3, 4)
    torch.nn.utils.skip_init(torch.nn.Linear, 3, 4)
    assert m.weight.shape == (4, 3) and close(torch.randn(4), torch_js.randn(4))
    with pytest.raises(RuntimeError, match="Expected a Module"):
        jnn.utils.skip_init(int)


@needs_torch
def test_fusion_matches_torch():
    torch.manual_seed(0)
    conv, bn = torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3)
    jconv, jbn = jnn.Conv2d(2, 3, 3), jnn.BatchNorm2d(3)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    copy_state(conv, jconv)
    copy_state(bn, jbn)
    for m in (conv, bn, jconv, jbn):
        m.eval()
    fused = torch.nn.utils.fuse_conv_bn_eval(conv, bn)
    jfused = jnn.utils.fuse_conv_bn_eval(jconv, jbn)
    assert close(fused.weight, jfused.weight) and close(fused.bias, jfused.bias)
    x = torch.randn(1, 2, 5, 5)
    assert close(bn(conv(x)), jfused(J(x)), 1e-4)
    lin, bn1 = torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2).eval()
    jlin, jbn1 = jnn.Linear(3, 2), jnn.BatchNorm1d(2).eval()
    copy_state(lin, jlin)
    lin.eval()
    jlin.eval()
    f = torch.nn.utils.fuse_linear_bn_eval(lin, bn1)
    jf = jnn.utils.fuse_linear_bn_eval(jlin, jbn1)
    assert close(f.weight, jf.weight) and close(f.bias, jf.bias)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        jnn.utils.fuse_linear_bn_eval(jnn.Linear(3, 2), jbn1)


def test_norm_except_dim_self_check():
    from torch_js.nn.utils._norms import norm_except_dim
    v = torch_js.tensor([[3.0, 4.0], [6.0, 8.0]])
    assert norm_except_dim(v, 2, 0).tolist() == [[5.0], [10.0]]
    assert torch_js.allclose(norm_except_dim(v, 2, 1), torch_js.tensor([[math.sqrt(45), math.sqrt(80)]]))
    assert math.isclose(norm_except_dim(v, 2, -1).item(), math.sqrt(125), rel_tol=1e-6)
