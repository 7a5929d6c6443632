"""BlockQuantLinear: a linear layer whose weight stays quantized (int8 per row, llama.cpp's Q8_0 or Q4_1 blocks of
32) and is dequantised inside the matrix product (ops/quant_matmul.py: the CPU and webgpu kernels), so a model keeps
about a quarter (Q8_0) or a sixth (Q4_1) of its float32 weight memory; quantize_linear_ swaps a model's nn.Linear
layers for it in place."""
from .. import _dtype as D
from ..nn.modules.linear import Linear
from ..nn.modules.module import Module
from ..nn.parameter import Parameter
from ..ops.creation import empty, zeros
from ..ops.quant_matmul import dequantize_packed, quantized_linear
from .formats import SCHEMES, check_scheme, from_gguf_blocks, quantize, to_gguf_blocks


class BlockQuantLinear(Module):
    """y = x W^T + b with W (out_features, in_features) held packed as `scheme`. Buffers (state_dict keys):
    `qweight` (int8 (N, K) for int8 and q8_0; uint8 (N, K / 2) Q4_1 nibble bytes in llama.cpp's block order),
    `scales` ((N,) for int8, float16 (N, K / 32) for the block schemes), `mins` (q4_1 only, like scales); the
    parameter `bias` (N,) or None. Differentiable in the input and the bias; the weight is fixed."""
    __constants__ = ["in_features", "out_features", "scheme"]

    def __init__(self, in_features, out_features, bias=True, scheme="q8_0", device=None, dtype=None):
        super().__init__()
        code, group = check_scheme(scheme, in_features)
        n, k = out_features, in_features
        self.in_features, self.out_features, self.scheme = in_features, out_features, scheme
        if code == SCHEMES["q4_1"][0]:
            qweight = zeros((n, k // 2), dtype=D.uint8, device=device)
        else:
            qweight = zeros((n, k), dtype=D.int8, device=device)
        sdt = (dtype or D.get_default_dtype()) if scheme == "int8" else D.float16
        shape = (n,) if scheme == "int8" else (n, k // group)
        self._set_parts(qweight, zeros(shape, dtype=sdt, device=device),
                        zeros(shape, dtype=sdt, device=device) if scheme == "q4_1" else None)
        if bias:
            self.bias = Parameter(empty((n,), dtype=dtype, device=device).zero_())
        else:
            self.register_parameter("bias", None)

    def _set_parts(self, qweight, scales, mins):
        self.register_buffer("qweight", qweight)
        self.register_buffer("scales", scales)
        self.register_buffer("mins", mins)

    @classmethod
    def _from_parts(cls, scheme, parts, out_features, in_features, bias):
        m = cls.__new__(cls)
        Module.__init__(m)
        check_scheme(scheme, in_features)
        m.in_features, m.out_features, m.scheme = in_features, out_features, scheme
        m._set_parts(*parts)
        if bias is not None:
            m.bias = bias if isinstance(bias, Parameter) else Parameter(bias.detach().clone())
        else:
            m.register_parameter("bias", None)
        return m

    @classmethod
    def from_float(cls, linear, scheme="q8_0"):
        """The quantized copy of an nn.Linear (its weight quantized with llama.cpp's rounding on the CPU, then
        placed on the linear's device; its bias copied)."""
        w = linear.weight
        qweight, scales, mins = quantize(w, scheme)
        dev = w.device
        parts = (qweight.to(dev), scales.to(dev), mins.to(dev) if mins is not None else None)
        bias = Parameter(linear.bias.detach().clone()) if linear.bias is not None else None
        return cls._from_parts(scheme, parts, linear.out_features, linear.in_features, bias)

    @classmethod
    def from_blocks(cls, scheme, data, out_features, in_features, bias=None):
        """From GGUF block bytes (bytes-like, or a uint8 tensor whose device the buffers then share) of an
        (out_features, in_features) weight in `scheme` ("q8_0" or "q4_1")."""
        parts = from_gguf_blocks(scheme, data, out_features, in_features)
        return cls._from_parts(scheme, parts, out_features, in_features, bias)

    def to_blocks(self):
        """The weight as GGUF block bytes (a flat uint8 tensor): from_blocks' inverse."""
        return to_gguf_blocks(self.scheme, self.qweight, self.scales, self.mins)

    def _code_group(self):
        return check_scheme(self.scheme, self.in_features)

    def dequantize(self, dtype=None):
        """The float weight (out_features, in_features) the packed one stands for (default dtype float32)."""
        code, group = self._code_group()
        return dequantize_packed(self.qweight, self.scales, self.mins, code, group, dtype or D.float32)

    def forward(self, input):
        code, group = self._code_group()
        return quantized_linear(input, self.qweight, self.scales, self.mins, code, group, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
                f"scheme={self.scheme!r}")


def quantize_linear_(model, scheme="q8_0", filter_fn=None):
    """Replace every nn.Linear inside `model` (not `model` itself) with BlockQuantLinear.from_float(linear, scheme),
    in place, and return `model`. Skipped: layers whose in_features is not a multiple of 32 for the block schemes,
    and those for which filter_fn(qualified_name, linear) is false. Returns the model."""
    check_scheme(scheme, 0)
    block = SCHEMES[scheme][1]
    targets = []
    for name, parent in model.named_modules():
        for child_name, child in parent.named_children():
            if not isinstance(child, Linear) or (block and child.in_features % block):
                continue
            full = f"{name}.{child_name}" if name else child_name
            if filter_fn is None or filter_fn(full, child):
                targets.append((parent, child_name, child))
    done = {}
    for parent, child_name, child in targets:   # a layer shared by several parents is quantized once
        if id(child) not in done:
            done[id(child)] = BlockQuantLinear.from_float(child, scheme)
        setattr(parent, child_name, done[id(child)])
    return model
