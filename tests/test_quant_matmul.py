"""Weight-only quantized products (ops/quant_matmul.py; kernels wasm_ext/quant.c and
js_bridge/webgpu/kernels/quant_matmul.mjs) and torch_js.quant:

- torch._weight_int8pack_mm against live torch (values, PyTorch's errors, its NotImplemented derivative) and, on
  every device, against the float product with the dequantised weight;
- BlockQuantLinear's GGUF block formats (Q8_0, Q4_1) against a dequantiser written here from the format's
  definition, through from_blocks, on every device and on both kernels (skinny rows, tiled);
- the quantisers against llama.cpp's rounding (hand-made ties; the `gguf` package's quantize/dequantize when it is
  installed), quantize_linear_, state_dict round trips, input and bias gradients.

Runs in CPython, Pyodide (CPU) and with TORCH_JS_WEBGPU=1 on the webgpu device too (`make test-webgpu`).
"""
import struct

import pytest

import torch_js as tj
import torch_js.nn as jnn
from optional_torch import needs_torch, torch
from torch_js.quant import BlockQuantLinear, quantize_linear_

DEVICES = ["cpu"]
if tj.webgpu.is_available():
    tj.webgpu._init_sync()
    DEVICES.append("webgpu")


def _rand(shape, seed, dtype=tj.float32, scale=1.0):
    g = tj.Generator().manual_seed(seed)
    return (tj.randn(shape, generator=g) * scale).to(dtype)


def _randint8(shape, seed):
    g = tj.Generator().manual_seed(seed)
    return tj.randint(-128, 128, shape, generator=g).to(tj.int8)


def _close(got, want, tol):
    got, want = got.cpu().double(), want.cpu().double()
    assert got.shape == want.shape
    err = (got - want).abs().max().item() if got.numel() else 0.0
    assert err <= tol * (1 + want.abs().max().item()), f"max error {err}"


# ---- torch._weight_int8pack_mm -----------------------------------------------------------------------------------

SHAPES = [(1, 64, 5), (3, 64, 7), (9, 33, 6), (20, 40, 11), (2, 600, 40)]   # (M, K, N): odd K, past a 256 chunk
TOL = {tj.float32: 1e-5, tj.float16: 4e-3, tj.bfloat16: 2e-2}


def _pack_inputs(m, k, n, dtype, seed):
    return _rand((m, k), seed, dtype), _randint8((n, k), seed + 1), (_rand((n,), seed + 2).abs() * 0.01).to(dtype)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_weight_int8pack_mm_matches_torch(m, k, n, dtype):
    if dtype == "bfloat16" and k % 32:
        pytest.skip("PyTorch 2.13's bfloat16 CPU kernel crashes (segfault) when K is not a multiple of 32")
    x, w, s = _pack_inputs(m, k, n, getattr(tj, dtype), 3 * m + k)
    tx, tw, ts = (torch.tensor(t.float().tolist()).to(t_dt) for t, t_dt in
                  ((x, getattr(torch, dtype)), (w, torch.int8), (s, getattr(torch, dtype))))
    want = torch._weight_int8pack_mm(tx, tw, ts)
    got = tj._weight_int8pack_mm(x, w, s)
    assert got.dtype == x.dtype and tuple(got.shape) == tuple(want.shape)
    _close(got, tj.tensor(want.float().tolist()).reshape(tuple(want.shape)), TOL[x.dtype])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_weight_int8pack_mm_is_the_dequantised_product(m, k, n, dtype, device):
    x, w, s = _pack_inputs(m, k, n, getattr(tj, dtype), 7 * m + k)
    want = x.double() @ (w.double() * s.double()[:, None]).t()
    got = tj._weight_int8pack_mm(x.to(device), w.to(device), s.to(device))
    assert got.device.type == device and got.dtype == x.dtype
    _close(got, want, TOL[x.dtype])


@pytest.mark.parametrize("device", DEVICES)
def test_weight_int8pack_mm_strided_rows_and_empty(device):
    wide = _rand((3, 100), 1).to(device)
    x = wide[:, 10:74]                        # row stride 100, unit column stride: allowed
    w, s = _randint8((5, 64), 2).to(device), _rand((5,), 3).to(device)
    want = x.cpu().double() @ (w.cpu().double() * s.cpu().double()[:, None]).t()
    _close(tj._weight_int8pack_mm(x, w, s), want, 1e-5)
    assert tuple(tj._weight_int8pack_mm(x[:0], w, s).shape) == (0, 5)
    z = tj._weight_int8pack_mm(tj.zeros(3, 0, device=device), tj.zeros(5, 0, dtype=tj.int8, device=device), s)
    assert z.cpu().tolist() == [[0.0] * 5] * 3


def _bad_cases():
    x, w, s = tj.randn(3, 64), tj.zeros(5, 64, dtype=tj.int8), tj.rand(5)
    return {
        "x 1-d": (tj.randn(64), w, s), "x 0-d": (tj.tensor(1.0), w, s), "x 3-d": (tj.randn(2, 3, 64), w, s),
        "x int": (tj.ones(3, 64, dtype=tj.int32), w, s), "x float64": (x.double(), w, s),
        "x column-strided": (tj.randn(64, 3).t(), w, s), "x every other column": (tj.randn(3, 128)[:, ::2], w, s),
        "w uint8": (x, w.to(tj.uint8), s), "w float": (x, w.float(), s),
        "w transposed": (x, tj.zeros(64, 5, dtype=tj.int8).t(), s), "w K mismatch": (x, w[:, :32].contiguous(), s),
        "w 1-d": (x, w[0], s), "w 3-d": (x, w[None], s), "scales N mismatch": (x, w, tj.rand(4)),
        "scales 2-d": (x, w, tj.rand(5, 1)), "scales float64": (x, w, s.double()),
        "scales half, x float": (x, w, s.half()), "scales float, x bfloat16": (x.bfloat16(), w, s),
    }


@needs_torch
@pytest.mark.parametrize("case", list(_bad_cases()))
def test_weight_int8pack_mm_errors_match_torch(case):
    args = _bad_cases()[case]
    targs = [torch.tensor(a.float().tolist(), dtype=getattr(torch, str(a.dtype).split(".")[1])).as_strided(
        tuple(a.shape), tuple(a.stride())) if a.is_contiguous() else None for a in args]
    # non-contiguous operands: rebuild them with torch's own view of the same layout
    for i, a in enumerate(args):
        if targs[i] is None:
            base = torch.zeros(a._storage.nbytes // a.element_size(), dtype=getattr(torch, str(a.dtype).split(".")[1]))
            targs[i] = base.as_strided(tuple(a.shape), tuple(a.stride()), a.storage_offset())
    with pytest.raises(Exception) as t_err:
        torch._weight_int8pack_mm(*targs)
    with pytest.raises(type(t_err.value)) as j_err:
        tj._weight_int8pack_mm(*args)
    assert str(j_err.value).split("\n")[0] == str(t_err.value).split("\n")[0]


def test_weight_int8pack_mm_has_no_derivative():
    x = tj.randn(2, 32, requires_grad=True)
    y = tj._weight_int8pack_mm(x, tj.ones(4, 32, dtype=tj.int8), tj.rand(4))
    assert y.requires_grad and type(y.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::_weight_int8pack_mm is not implemented"):
        y.sum().backward()
    with tj.no_grad():
        assert tj._weight_int8pack_mm(x, tj.ones(4, 32, dtype=tj.int8), tj.rand(4)).grad_fn is None


@needs_torch
def test_weight_int8pack_mm_derivative_like_torch():
    tx = torch.randn(2, 32, requires_grad=True)
    ty = torch._weight_int8pack_mm(tx, torch.ones(4, 32, dtype=torch.int8), torch.rand(4))
    assert type(ty.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError, match="derivative for aten::_weight_int8pack_mm is not implemented"):
        ty.sum().backward()


# ---- GGUF blocks: a dequantiser from the format's definition -------------------------------------------------------

BLOCK_BYTES = {"q8_0": 34, "q4_1": 20}


def _gguf_bytes(scheme, n, k, seed):
    """Random GGUF blocks of an (n, k) weight: float16 scales (and mins) of moderate size, random quants."""
    g = tj.Generator().manual_seed(seed)
    nblk = n * k // 32
    quants = tj.randint(0, 256, (nblk, BLOCK_BYTES[scheme] - (2 if scheme == "q8_0" else 4)), generator=g).tolist()
    d = (tj.rand(nblk, generator=g) * 0.05 + 0.001).tolist()
    m = (tj.randn(nblk, generator=g) * 0.1).tolist()
    out = bytearray()
    for i in range(nblk):
        out += struct.pack("<e", d[i])
        if scheme == "q4_1":
            out += struct.pack("<e", m[i])
        out += bytes(quants[i])
    return bytes(out)


def _reference_dequant(scheme, data, n, k):
    """Q8_0: w = d·q, q int8; Q4_1: w = d·q + m, byte j holding elements j (low nibble) and j + 16 (high)."""
    bs, vals = BLOCK_BYTES[scheme], []
    for at in range(0, len(data), bs):
        blk = data[at:at + bs]
        d = struct.unpack("<e", blk[:2])[0]
        if scheme == "q8_0":
            vals += [d * q for q in struct.unpack("32b", blk[2:])]
        else:
            m, qs = struct.unpack("<e", blk[2:4])[0], blk[4:]
            vals += [d * (b & 15) + m for b in qs] + [d * (b >> 4) + m for b in qs]
    return tj.tensor(vals, dtype=tj.float64).reshape(n, k)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme", ["q8_0", "q4_1"])
@pytest.mark.parametrize("m", [1, 3, 9, 20])
def test_from_blocks_forward_matches_reference(scheme, m, device):
    n, k = 24, 96
    data = _gguf_bytes(scheme, n, k, seed=m)
    bias = _rand((n,), 5)
    layer = BlockQuantLinear.from_blocks(scheme, data, n, k, bias=bias).to(device)
    w = _reference_dequant(scheme, data, n, k)
    _close(layer.dequantize(), w, 1e-6)
    x = _rand((2, m, k), 6 + m)
    y = layer(x.to(device))
    assert y.device.type == device and tuple(y.shape) == (2, m, n)
    _close(y, x.double() @ w.t() + bias.double(), 1e-5)


def test_from_blocks_accepts_a_uint8_tensor_and_round_trips():
    data = _gguf_bytes("q4_1", 4, 64, seed=1)
    raw = tj.tensor(list(data), dtype=tj.uint8)
    layer = BlockQuantLinear.from_blocks("q4_1", raw, 4, 64)
    assert layer.bias is None and bytes(layer.to_blocks().tolist()) == data
    assert layer.mins.dtype == tj.float16 and tuple(layer.qweight.shape) == (4, 32)


def test_from_blocks_errors():
    with pytest.raises(ValueError, match="3400 bytes"):
        BlockQuantLinear.from_blocks("q8_0", b"\0" * 100, 10, 320)
    with pytest.raises(ValueError, match="no GGUF block format"):
        BlockQuantLinear.from_blocks("int8", b"\0" * 64, 1, 64)
    with pytest.raises(ValueError, match="multiple of 32"):
        BlockQuantLinear.from_blocks("q4_1", b"\0" * 20, 1, 48)
    with pytest.raises(ValueError, match="unknown scheme"):
        BlockQuantLinear(64, 4, scheme="q5_k")
    with pytest.raises(TypeError, match="uint8"):
        BlockQuantLinear.from_blocks("q8_0", tj.zeros(34), 1, 32)


# ---- quantisers: llama.cpp's rounding ------------------------------------------------------------------------------

def test_q8_0_rounds_half_away_from_zero():
    row = [127.0, 2.5, -3.5, 0.5, -0.5, 1.49, 0.0] + [0.0] * 25 + [0.0] * 32   # 2nd block all zero: d = 0
    lin = jnn.Linear(64, 1, bias=False)
    with tj.no_grad():
        lin.weight.copy_(tj.tensor([row]))
    q = BlockQuantLinear.from_float(lin, "q8_0")
    assert q.qweight[0, :7].tolist() == [127, 3, -4, 1, -1, 1, 0]
    assert q.scales.tolist() == [[1.0, 0.0]] and q.qweight[0, 32:].abs().sum().item() == 0


def test_q4_1_levels_and_nibble_order():
    block = [float(i % 16) for i in range(32)]     # min 0, max 15: d = 1, q = the values themselves
    lin = jnn.Linear(32, 1, bias=False)
    with tj.no_grad():
        lin.weight.copy_(tj.tensor([block]))
    q = BlockQuantLinear.from_float(lin, "q4_1")
    assert q.qweight[0].tolist() == [(i % 16) | ((i + 16) % 16) << 4 for i in range(16)]
    assert q.scales.tolist() == [[1.0]] and q.mins.tolist() == [[0.0]]
    assert q.dequantize().tolist() == [block]


@pytest.mark.parametrize("scheme,step", [("int8", 1 / 127), ("q8_0", 1 / 127), ("q4_1", 1 / 15)])
def test_quantisation_error_is_half_a_step(scheme, step):
    lin = jnn.Linear(96, 8)
    q = BlockQuantLinear.from_float(lin, scheme)
    err = (q.dequantize() - lin.weight).abs()
    w = lin.weight.detach().reshape(8, -1, 96 if scheme == "int8" else 32)
    spread = (w.amax(-1) - w.amin(-1)) if scheme == "q4_1" else w.abs().amax(-1)
    bound = (spread * step * 0.5 * 1.01 + 1e-3 * spread).repeat_interleave(w.shape[-1], -1).reshape(8, 96)
    assert bool((err <= bound).all())


def test_quantisers_match_gguf_package():
    np = pytest.importorskip("numpy")
    gguf = pytest.importorskip("gguf")
    rs = np.random.RandomState(0)
    w = rs.randn(6, 128).astype(np.float32)
    w[0, :32] = 0.0                 # d = 0 blocks
    w[1, 32:64] = 0.75              # a constant block (Q4_1: max == min)
    w[2, :32] = np.arange(32) - 16.0
    lin = jnn.Linear(128, 6, bias=False)
    with tj.no_grad():
        lin.weight.copy_(tj.tensor(w.tolist()))
    for scheme, qtype in (("q8_0", gguf.GGMLQuantizationType.Q8_0), ("q4_1", gguf.GGMLQuantizationType.Q4_1)):
        want = gguf.quants.quantize(w, qtype)
        q = BlockQuantLinear.from_float(lin, scheme)
        assert bytes(q.to_blocks().tolist()) == want.tobytes(), scheme
        deq = gguf.quants.dequantize(want, qtype)
        _close(q.dequantize(), tj.tensor(deq.tolist()), 1e-6)


# ---- modules ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme", ["int8", "q8_0", "q4_1"])
def test_quantize_linear_in_place(scheme, device):
    tj.manual_seed(0)
    model = jnn.Sequential(jnn.Linear(64, 64), jnn.ReLU(), jnn.Linear(64, 40), jnn.Linear(40, 8))
    x = _rand((5, 64), 9)
    want = model(x).detach()
    assert quantize_linear_(model, scheme) is model
    kinds = [type(model[i]).__name__ for i in (0, 2, 3)]
    # in_features 40 is not whole blocks of 32: left as it is for the block schemes
    assert kinds == ["BlockQuantLinear", "BlockQuantLinear", "BlockQuantLinear" if scheme == "int8" else "Linear"]
    model.to(device)
    got = model(x.to(device))
    _close(got, want, 0.05 if scheme == "q4_1" else 0.01)
    ref = x.double()
    for i in (0, 2, 3):
        layer = model[i]
        w = layer.dequantize().cpu() if isinstance(layer, BlockQuantLinear) else layer.weight.detach().cpu()
        ref = ref @ w.double().t() + layer.bias.detach().cpu().double()
        if i == 0:
            ref = ref.relu()
    _close(got, ref, 1e-5)


def test_quantize_linear_filter_and_state_dict():
    model = jnn.Sequential(jnn.Linear(32, 32), jnn.Linear(32, 32, bias=False))
    quantize_linear_(model, "q4_1", filter_fn=lambda name, lin: name == "1")
    assert isinstance(model[0], jnn.Linear) and isinstance(model[1], BlockQuantLinear)
    sd = model[1].state_dict()
    assert list(sd) == ["qweight", "scales", "mins"]
    fresh = BlockQuantLinear(32, 32, bias=False, scheme="q4_1")
    fresh.load_state_dict(sd)
    assert fresh.dequantize().tolist() == model[1].dequantize().tolist()
    assert repr(fresh) == "BlockQuantLinear(in_features=32, out_features=32, bias=False, scheme='q4_1')"
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        fresh(tj.randn(2, 31))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme", ["q8_0", "q4_1"])
def test_gradients_through_the_quantized_layer(scheme, device):
    layer = BlockQuantLinear.from_float(jnn.Linear(64, 16), scheme).to(device)
    x = _rand((3, 64), 4).to(device).requires_grad_()
    g = _rand((3, 16), 5).to(device)
    (layer(x) * g).sum().backward()
    w = layer.dequantize().cpu().double()
    _close(x.grad, g.cpu().double() @ w, 1e-5)
    _close(layer.bias.grad, g.cpu().double().sum(0), 1e-5)
    assert layer.qweight.grad is None and not layer.qweight.requires_grad


@pytest.mark.skipif("webgpu" not in DEVICES, reason="needs the webgpu device (make test-webgpu)")
@pytest.mark.parametrize("scheme,m", [("q8_0", 1), ("q4_1", 1), ("q4_1", 40), ("int8", 3)])
def test_webgpu_dequantises_inside_one_kernel(scheme, m):
    """The packed weight goes straight into one kernel: no float copy of it is made on the device."""
    layer = BlockQuantLinear.from_float(jnn.Linear(64, 48, bias=False), scheme).to("webgpu")
    x = _rand((m, 64), 11).to("webgpu")
    with tj.webgpu.counter(kernels=True) as c:
        y = layer(x)
    assert c["dispatches"] == 1 and c.kernels[0].startswith("quant_matmul:"), c.kernels
    _close(y, x.cpu().double() @ layer.dequantize().cpu().double().t(), 1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme,shift", [("q8_0", 4), ("q8_0", 1), ("q4_1", 4)])
def test_packed_weight_at_an_offset(scheme, shift, device):
    """A packed weight that is a view at some byte offset (word-aligned or not) gives the same product."""
    layer = BlockQuantLinear.from_float(jnn.Linear(64, 24), scheme).to(device)
    x = _rand((3, 64), 12).to(device)
    want = layer(x).cpu()
    q = layer.qweight
    big = tj.zeros(q.numel() + shift, dtype=q.dtype, device=device)
    big[shift:] = q.reshape(-1)
    layer.qweight = big[shift:].view(q.shape)
    assert layer.qweight.storage_offset() == shift
    _close(layer(x), want, 1e-6)
