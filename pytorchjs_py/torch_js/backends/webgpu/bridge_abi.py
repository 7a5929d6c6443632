"""The WebGPU bridge's argument block, written once: family numbers and each family's word layout.

Python packs one primitive into the block and calls bridge.run() with no arguments (backend.py). Bytes 0..31
hold four f64 (p0, p1, p2, alpha); int32 words follow from byte 32: word 0 the family number, word 1 the op
(an index into the bridge's op-name lists, or the family's own code), then the family's words below.
Notation as in backends/kernel_abi.py, with `name:operand` = three words (buffer id, dtype code, element
offset) and every other slot one int32 word. tools/gen_abi.py writes js_bridge/webgpu/abi.mjs from this table
(FAMILY and a decoder per family, which js_bridge/webgpu/index.mjs uses); tests/test_kernel_abi.py checks that
abi.mjs is current.
"""
import struct

from ..kernel_abi import Layout

# Dims a family's arrays hold: the bridge's params slot has room for 6 arrays of 16 words (MAX_DIMS in
# js_bridge/webgpu/kernels/common.mjs; tests/test_kernel_abi.py checks they agree). The backend coalesces a
# higher-rank call first (backends/strided.py) and raises if it still does not fit.
MAX_DIMS = 16

UNITS = {"i32": 1, "operand": 3}
CODES = {"i32": "i", "operand": "iii"}
FLOATS = ("p0", "p1", "p2", "alpha")   # the four f64 ahead of the words
HEADER = "family op"


class Family:
    def __init__(self, name, number, spec, doc):
        self.name, self.number, self.doc = name, number, doc
        self.layout = Layout(f"{HEADER} {spec}", UNITS, CODES, "i32")


_SPECS = (
    ("COPY", "nd out:operand x:operand shape[nd] out_st[nd] x_st[nd]", "out = x cast to out's dtype"),
    ("FILL", "nd out:operand bits_lo bits_hi shape[nd] out_st[nd]", "the value's bit pattern in out's dtype"),
    ("UNARY", "nd out:operand x:operand shape[nd] out_st[nd] x_st[nd]", "op: OPS.unary index; p0..p2"),
    ("BINARY", "nd out:operand a:operand b:operand shape[nd] out_st[nd] a_st[nd] b_st[nd]",
     "op: OPS.binary index; alpha"),
    ("WHERE", "nd out:operand cond:operand a:operand b:operand shape[nd] out_st[nd] cond_st[nd] a_st[nd] b_st[nd]",
     ""),
    ("REDUCE", "nd nred out:operand out2:operand x:operand shape[nd] x_st[nd] out_st[nd-nred]",
     "op: OPS.reduce index; out2 id 0: none"),
    ("SOFTMAX", "log outer n out:operand x:operand", "contiguous rows"),
    ("CUMUL", "outer n inner out:operand x:operand", "op 0 sum, 1 prod; contiguous"),
    ("GEMM", "batch m n k out:operand a:operand b:operand a_st[3] b_st[3]", "strides (batch, row, col)"),
    ("INDEX_OFFSETS", "nd offs:operand idx:operand dim_size dim_stride flags shape[nd] offs_st[nd] idx_st[nd]",
     ""),
    ("TAKE", "nd out:operand src:operand offs:operand shape[nd] out_st[nd] src_st[nd] offs_st[nd]", ""),
    ("PUT", "nd accumulate dst:operand val:operand offs:operand shape[nd] val_st[nd] dst_st[nd] offs_st[nd]", ""),
    ("IM2COL", "N C D H W geom[15] out:operand x:operand x_st[5] out_st[3]",
     "geom KD KH KW SD SH SW PD PH PW DD DH DW OD OH OW"),
    ("COL2IM", "N C D H W geom[15] out:operand cols:operand cols_st[3]", "out contiguous"),
    ("POOL", "mode adaptive planes D H W OD OH OW geom[12] count_include_pad divisor_override out:operand "
             "x:operand idx:operand", "geom KD KH KW SD SH SW PD PH PW DD DH DW; idx id 0: none; contiguous planes"),
    ("POOL_BWD", "mode adaptive planes D H W OD OH OW geom[12] count_include_pad divisor_override grad_in:operand "
                 "grad_out:operand idx:operand", "as POOL"),
    ("SORT", "outer n descending k values:operand indices:operand x:operand",
     "op: kernel_abi.SORT_OPS; contiguous"),
    ("CUMEXT", "outer n inner values:operand indices:operand x:operand", "op 0 max, 1 min; contiguous"),
    ("LOGCUMSUMEXP", "outer n inner out:operand x:operand", "contiguous"),
    ("SEARCHSORTED", "rows nb nv right bnd_stride out:operand boundaries:operand values:operand",
     "bnd_stride 0: one boundary row shared"),
    ("LINALG", "count noperands nwords ids[noperands] words[nwords]",
     "op: OPS.linalg index; count invocations; words go to the kernel header from word 3 (kernels/linalg.mjs)"),
    ("ATTENTION", "B H L S E Ev rep flags out:operand q:operand k:operand v:operand mask:operand q_st[4] k_st[4] "
                  "v_st[4] m_st[4]",
     "p0: scale; flags 1 causal, 2 mask (mask id 0: none); strides (batch, head, row, col); out contiguous "
     "(B, H, L, Ev)"),
    ("ROW_NORM", "outer n flags out:operand mean:operand rstd:operand x:operand w:operand b:operand",
     "layer norm / RMS norm over contiguous rows of n (kernels/norm.mjs); p0: eps; flags 1 rms (no mean), 2 weight, "
     "4 bias, 8 mean and rstd stored (one per row); absent operands id 0"),
    ("QUANT_MATMUL", "M N K group x_rs out:operand x:operand w:operand scales:operand mins:operand",
     "op: scheme (0 int8 w times scales[n, k / group], 1 Q4_1 nibbles with mins; kernel_abi's quant_matmul); "
     "out f32 contiguous (M, N), x f32 rows of stride x_rs; mins id 0: none (kernels/quant_matmul.mjs)"),
)
FAMILIES = tuple(Family(name, i + 1, spec, doc) for i, (name, spec, doc) in enumerate(_SPECS))
FAMILY = {f.name: f.number for f in FAMILIES}
_BY_NAME = {f.name: f for f in FAMILIES}


def struct_for(name, **dims):
    """The struct that packs family `name`'s block: the four f64, then its int32 words."""
    return struct.Struct("<4d" + _BY_NAME[name].layout.format(**dims))


def structs_by_nd(name):
    """struct_for(name, nd=n) for n = 0..MAX_DIMS, built once."""
    return [struct_for(name, nd=n) for n in range(MAX_DIMS + 1)]
