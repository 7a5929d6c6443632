"""torch_js.quant: weight-only quantized linear layers for LLM weights (torch_js's own namespace: PyTorch has no
such module). BlockQuantLinear keeps a weight packed as int8 per row or as llama.cpp's Q8_0 / Q4_1 blocks and
dequantises it inside the matrix product (CPU and webgpu kernels); from_blocks takes GGUF block bytes as they sit
in a .gguf file; quantize_linear_ converts a model's nn.Linear layers in place."""
from .formats import SCHEMES, quantize
from .linear import BlockQuantLinear, quantize_linear_

__all__ = ["BlockQuantLinear", "quantize_linear_", "quantize", "SCHEMES"]
