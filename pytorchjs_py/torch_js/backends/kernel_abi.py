"""Argument layouts of the wasm_ext kernels, written once.

Every kernel `int tjs_<name>(void)` reads its arguments from the int64 block `tjs_args` (wasm_ext/tjs.h).
KERNELS below names each kernel's slots in order; from it come the CPU backend's struct formats
(`struct_for`), the tables of wasm_ext/ABI.md (tools/gen_abi.py) and the check of the C side
(tests/test_kernel_abi.py reads where each kernel's C code reads its slots). The WebGPU bridge's argument
block uses the same notation (backends/webgpu/bridge_abi.py).

Layout notation, one token per slot: `name` (an int64), `name:f64` (a double stored bit for bit),
`name:u64` (an unsigned value travelling as its int64 bit pattern), `name:ptr` (a byte address), and
`name[len]` (len int64 slots inline; len is a number or a sum of earlier slots' names, e.g. `ndim-nred`).
"""
import functools
import re
import struct

# The kernels' dimension limit (TJS_MAX_DIMS, generated into wasm_ext/tjs_abi.h). 64 holds every tensor that has
# elements: size-1 dims are dropped before a call (backends/strided.py), and 64 dims of size >= 2 would be 2^64
# elements. Structs for ndim <= HOT_DIMS are built at import (the hot paths index a list), the rest on demand.
MAX_DIMS = 64
HOT_DIMS = 16
ARGS_LEN = 1024   # int64 slots of tjs_args (TJS_ARGS_LEN)
# tjs_gemm's default part size (TJS_GEMM_DEFAULT_PART_WORK): weighted multiply-adds per call, ~15 ms natively for f32,
# so that a KeyboardInterrupt lands between parts of a long product (backends/cpu/reduction.py loops over them)
GEMM_DEFAULT_PART_WORK = 1 << 28
_TOKEN = re.compile(r"^(\w+)(?:\[([\w+\-* ]+)\])?(?::(\w+))?$")


class Linear:
    """A sum of integer multiples of named dimensions plus a constant: slot offsets and array lengths."""
    __slots__ = ("terms",)

    def __init__(self, terms):
        self.terms = {k: v for k, v in terms.items() if v}   # "" holds the constant

    @staticmethod
    def parse(text):
        """'10', 'ndim', 'ndim-nred', '2*ndim+1' -> Linear."""
        terms = {}
        for sign, term in re.findall(r"([+-]?)\s*([\w*]+)", text.replace(" ", "")):
            coef, _, name = term.rpartition("*") if "*" in term else ("1", "", term)
            if name.isdigit():
                coef, name = name, ""
            terms[name] = terms.get(name, 0) + (-1 if sign == "-" else 1) * int(coef)
        return Linear(terms)

    def __add__(self, other):
        t = dict(self.terms)
        for k, v in other.terms.items():
            t[k] = t.get(k, 0) + v
        return Linear(t)

    def scaled(self, k):
        return Linear({n: v * k for n, v in self.terms.items()})

    def __call__(self, dims):
        return sum(v * (dims[n] if n else 1) for n, v in self.terms.items())

    def names(self):
        return [n for n in self.terms if n]

    def render(self, rename=None):
        """'9 + 2 * nd' (names through `rename`)."""
        parts = []
        for n, v in sorted(self.terms.items(), key=lambda kv: kv[0] != ""):
            name = rename(n) if rename and n else n
            mag = abs(v)
            text = str(mag) if not n else name if mag == 1 else f"{mag} * {name}"
            parts.append(("- " if v < 0 else "+ ") + text)
        if not parts:
            return "0"
        s = " ".join(parts)
        return s[2:] if s.startswith("+ ") else "-" + s[2:]


class Slot:
    __slots__ = ("name", "kind", "length")

    def __init__(self, name, kind, length):
        self.name, self.kind, self.length = name, kind, length   # length: None for a scalar, else Linear


class Layout:
    """A parsed slot list. `units` gives each scalar kind's width in block units; `codes` its struct codes."""

    def __init__(self, spec, units, codes, array_kind):
        self.spec = spec
        self.slots = []
        self._units, self._codes, self._array_kind = units, codes, array_kind
        for tok in spec.split():
            m = _TOKEN.match(tok)
            if not m:
                raise ValueError(f"bad slot {tok!r} in {spec!r}")
            name, length, kind = m.group(1), m.group(2), m.group(3) or array_kind
            if kind not in units:
                raise ValueError(f"unknown kind {kind!r} in {spec!r}")
            if length is not None and kind != array_kind:
                raise ValueError(f"arrays hold {array_kind} only: {tok!r}")
            lin = Linear.parse(length) if length is not None else None
            known = {s.name for s in self.slots}
            if lin is not None and not set(lin.names()) <= known:
                raise ValueError(f"{tok!r}: the length must name earlier slots of {spec!r}")
            self.slots.append(Slot(name, kind, lin))

    def dims(self):
        """Names the layout's arrays are sized by (the arguments struct_for needs)."""
        out = []
        for s in self.slots:
            for n in (s.length.names() if s.length else ()):
                if n not in out:
                    out.append(n)
        return out

    def offsets(self):
        """[(slot, offset as Linear)] in block units."""
        out, at = [], Linear({})
        for s in self.slots:
            out.append((s, at))
            at = at + self._width(s)
        return out

    def size(self):
        """Total length in block units, as a Linear."""
        at = Linear({})
        for s in self.slots:
            at = at + self._width(s)
        return at

    def _width(self, s):
        return s.length.scaled(self._units[s.kind]) if s.length is not None else Linear({"": self._units[s.kind]})

    def format(self, **dims):
        """struct codes (no byte-order prefix) for the given dimensions."""
        missing = set(self.dims()) - set(dims)
        if missing:
            raise TypeError(f"layout {self.spec!r} needs {sorted(missing)}")
        return "".join(self._codes[s.kind] * (s.length(dims) if s.length else 1) for s in self.slots)

    def render(self):
        """'dtype, ndim, out ptr, shape[ndim], value f64' (ABI.md's notation)."""
        out = []
        for s in self.slots:
            if s.length is not None:
                out.append(f"{s.name}[{s.length.render()}]")
            elif s.kind == self._array_kind:
                out.append(s.name)
            else:
                out.append(f"{s.name} {s.kind}")
        return ", ".join(out)


C_UNITS = {"i64": 1, "u64": 1, "ptr": 1, "f64": 1}
C_CODES = {"i64": "q", "u64": "q", "ptr": "q", "f64": "d"}


class Kernel:
    """One C kernel: `tjs_<name>` in wasm_ext/<source>, its slots and its contract (ABI.md's table row)."""

    def __init__(self, name, source, section, spec, doc):
        self.name, self.source, self.section, self.doc = name, source, section, doc
        self.layout = Layout(spec, C_UNITS, C_CODES, "i64")


_K = Kernel
# tjs_gemm's slots; tjs_addmm's begin with them (gemm.c reads both through TJS_GEMM_*)
_GEMM_SLOTS = "dtype batch M N K out:ptr a:ptr b:ptr a_bs a_rs a_cs b_bs b_rs b_cs part part_work"
KERNELS = (
    # ---- core: elementwise.c, reduce.c, gemm.c, index.c ----------------------------------------------------
    _K("copy", "elementwise.c", "core",
       "dtype_out dtype_in ndim out:ptr in:ptr shape[ndim] out_strides[ndim] in_strides[ndim]",
       "casts any dtype to any dtype (float→int truncates toward zero and otherwise matches PyTorch CPU on x86: "
       "NaN or out-of-range gives INT_MIN for int32/int64, and 8/16-bit targets convert through int32 then wrap, "
       "so -1.0→uint8 255, 300.0→uint8 44, NaN→0; never traps; →bool is `!= 0`; f16/bf16 round to nearest even, "
       "NaN stays NaN; f64→f16/bf16 goes through f32 as PyTorch does)"),
    _K("fill", "elementwise.c", "core",
       "dtype ndim out:ptr shape[ndim] out_strides[ndim] value:f64 value_i64",
       "ints take value_i64, floats take value"),
    _K("unary", "elementwise.c", "core",
       "op dtype ndim out:ptr in:ptr shape[ndim] out_strides[ndim] in_strides[ndim] p0:f64 p1:f64 p2:f64",
       "op is a TJS_UN_* code; dtype is the input's; output dtype equals it except ISNAN ISINF ISFINITE ISPOSINF "
       "ISNEGINF SIGNBIT LOGICAL_NOT which write bool"),
    _K("binary", "elementwise.c", "core",
       "op dtype ndim out:ptr a:ptr b:ptr shape[ndim] out_strides[ndim] a_strides[ndim] b_strides[ndim] alpha:f64",
       "op is a TJS_BIN_* code; a and b have `dtype`; output has it too except comparisons and logical ops, "
       "which write bool"),
    _K("where", "elementwise.c", "core",
       "dtype ndim out:ptr cond:ptr a:ptr b:ptr shape[ndim] out_strides[ndim] cond_strides[ndim] a_strides[ndim] "
       "b_strides[ndim]",
       "cond is bool"),
    _K("reduce", "reduce.c", "core",
       "op dtype_in dtype_out ndim nred out:ptr out2:ptr in:ptr shape[ndim] in_strides[ndim] "
       "out_strides[ndim-nred]",
       "op is a TJS_RED_* code; reduces the last `nred` dims; out has the first ndim-nred dims. "
       "MAX_INDEX/MIN_INDEX write values to out and int64 indices to out2 (same strides)."),
    _K("softmax", "reduce.c", "core",
       "log dtype outer n out:ptr in:ptr",
       "log 0/1; contiguous rows of n"),
    _K("layer_norm", "norm.c", "core",
       "outer n out:ptr mean:ptr rstd:ptr x:ptr weight:ptr bias:ptr eps:f64",
       "float32, contiguous rows of n; out (outer×n), mean and rstd (outer) written, weight and bias (n) optional "
       "(0: none); the bits of nn.functional.layer_norm's composite at any thread count"),
    _K("attention", "attention.c", "core",
       "batch heads l s e ev rep causal mask_kind out:ptr q:ptr k:ptr v:ptr mask:ptr q_strides[4] k_strides[4] "
       "v_strides[4] mask_strides[4] out_strides[3] scale:f64",
       "float32 softmax(q k^T · scale, masked) v over (batch, head) pairs, the composite's bits where its two products "
       "take gemm.c's blocked path in one k block (e, ev, s ≤ 256); q, k, v, mask: (batch, head, row, column) strides "
       "in elements, k's and v's head h / rep; mask_kind 0 none, 1 bool bytes (false: −inf), 2 float32 added; causal "
       "1: −inf above the diagonal; out's (batch, head, row) strides, its columns contiguous"),
    _K("cumulative", "reduce.c", "core",
       "op dtype outer n inner out:ptr in:ptr",
       "op 0 sum, 1 prod; contiguous [outer, n, inner], scan over n"),
    _K("gemm", "gemm.c", "core", _GEMM_SLOTS,
       "out[bt] (contiguous M×N) = a[bt] (M×K, strided) @ b[bt] (K×N, strided); computes part `part` of about "
       "part_work weighted multiply-adds (≤ 0: TJS_GEMM_DEFAULT_PART_WORK) and returns TJS_MORE while parts remain; "
       "parts give the same bits as one call"),
    _K("addmm", "gemm.c", "core", _GEMM_SLOTS + " bias:ptr",
       "gemm's product and parts (its slots first), then bias (float32, N elements; 0: none) added to every row by "
       "the tile that computes it: linear's `mm` then `add_(bias)` in one call, with their bits"),
    _K("index_offsets", "index.c", "core",
       "ndim offs:ptr idx:ptr shape[ndim] offs_strides[ndim] idx_strides[ndim] dim_size dim_stride flags",
       "offs (int64) (+)= wrap(idx)·dim_stride; flags: bit 0 accumulate (+=), bit 1 refuse negative indices (gather, "
       "index_select: PyTorch does not wrap them); an index outside [-dim_size, dim_size) (or [0, dim_size)) returns "
       "TJS_ERR_INDEX with tjs_err = {index, dim_size}"),
    _K("take", "index.c", "core",
       "dtype ndim out:ptr src:ptr offs:ptr shape[ndim] out_strides[ndim] src_strides[ndim] offs_strides[ndim] "
       "src_start:ptr src_end:ptr",
       "out[i] = src[offs[i] + Σ i_d·src_strides_d]; [src_start, src_end): the bytes of src's storage (TJS_DEBUG "
       "builds check every element read against it before writing anything)"),
    _K("put", "index.c", "core",
       "dtype accumulate ndim dst:ptr val:ptr offs:ptr shape[ndim] val_strides[ndim] dst_strides[ndim] "
       "offs_strides[ndim] dst_start:ptr dst_end:ptr",
       "dst[offs[i] + Σ i_d·dst_strides_d] (+)= val[i]; writes go in index order (last write wins, as PyTorch CPU); "
       "[dst_start, dst_end) as take's src_start/src_end"),
    # ---- random.c ------------------------------------------------------------------------------------------
    _K("rng_seed", "random.c", "random", "state:ptr seed:u64",
       "manual_seed: whole buffer rewritten (caches cleared)"),
    _K("rng_uniform", "random.c", "random", "state:ptr out:ptr n dtype from:f64 to:f64",
       "rand/uniform_; dtype F32 (fused `x*(to-from)+from`, one u32 draw), F64 (random64, fused), F16/BF16 "
       "(the F32 computation rounded to the type)"),
    _K("rng_normal", "random.c", "random", "state:ptr out:ptr n dtype mean:f64 std:f64 vectorized",
       "randn/normal_; vectorized=1 for a contiguous tensor: n ≥ 16 takes torch's 16-wide block path (F32: "
       "avx_mathfun float math; F64: libm; F16/BF16: F32 block math, each block drawing its own 16 uniforms); "
       "otherwise the scalar double Box–Muller with the cache in the state. dtype F32 F64 F16 BF16"),
    _K("rng_randint", "random.c", "random", "state:ptr out:ptr n low range:u64",
       "out int64; `(draw mod range) + low`, draw = random64 if range ≥ 2^28 else u32; range 0 means 2^64: "
       "out = random64 as int64 (torch's full-range random_)"),
    _K("rng_random_bits", "random.c", "random", "state:ptr out:ptr n dtype",
       "random_() with no arguments, every dtype (bool: u32&1, u8: mod 256, i8: mod 2^7, i16: mod 2^15, "
       "i32: mod 2^31, i64: random64 mod 2^63, f16: u32 mod 2049, bf16: u32 mod 257, f32: u32 mod 2^24+1, "
       "f64: random64 mod 2^53+1)"),
    _K("rng_randperm", "random.c", "random", "state:ptr out:ptr n",
       "out int64; swap shuffle with u32 draws for n < 214748364, inside-out Fisher–Yates with random64 above"),
    _K("rng_bernoulli_tensor", "random.c", "random", "state:ptr out:ptr p:ptr n p_dtype out_dtype",
       "p F32/F16/BF16: one u32 draw, float uniform < p; p F64: random64, double uniform < p; writes 0/1 as "
       "out_dtype (any dtype)"),
    _K("rng_bernoulli_scalar", "random.c", "random", "state:ptr out:ptr n p:f64 out_dtype",
       "random64 per element, double uniform < p, 0/1 as out_dtype (any dtype)"),
    _K("rng_exponential", "random.c", "random", "state:ptr out:ptr n lambd:f64 dtype",
       "`(-1/lambd) * log1p(-u)` in double, u from random64; dtype F32 F64 F16 BF16 (half types via float, "
       "like static_cast)"),
    # ---- conv.c, pool.c ------------------------------------------------------------------------------------
    _K("im2col", "conv.c", "nn",
       "dtype N C D H W KD KH KW SD SH SW PD PH PW DD DH DW OD OH OW in:ptr in_strides[5] out:ptr out_strides[3]",
       "in_strides (n, c, d, h, w), out_strides (n, r, l): `out[n, ((c·KD+kd)·KH+kh)·KW+kw, (od·OH+oh)·OW+ow] = "
       "in[n, c, od·SD−PD+kd·DD, oh·SH−PH+kh·DH, ow·SW−PW+kw·DW]`, 0 outside; any dtype (moves bytes). Strided "
       "out serves F.unfold's (N, R, L) and conv's (R, N, L) layouts"),
    _K("col2im", "conv.c", "nn",
       "dtype N C D H W KD KH KW SD SH SW PD PH PW DD DH DW OD OH OW cols:ptr cols_strides[3] out:ptr",
       "the adjoint: out (contiguous N, C, D, H, W) zeroed, then every cols entry (strides n, r, l) added at the "
       "voxel it reads; F32 F64 I64"),
    _K("pool", "pool.c", "nn",
       "mode adaptive dtype planes D H W OD OH OW KD KH KW SD SH SW PD PH PW DD DH DW count_include_pad "
       "divisor_override in:ptr out:ptr idx:ptr",
       "mode 0 max, 1 avg; in/out contiguous (planes, D, H, W)/(planes, OD, OH, OW); max writes int64 flat "
       "indices (id·H+ih)·W+iw to idx (0: none; NaN wins, ties keep the first); avg: ATen's window/divisor rules "
       "(adaptive: sum / kd / kh / kw; divisor_override 0: none); F32 F64 I64 (integer avg truncates)"),
    _K("pool_backward", "pool.c", "nn",
       "mode adaptive dtype planes D H W OD OH OW KD KH KW SD SH SW PD PH PW DD DH DW count_include_pad "
       "divisor_override grad_in:ptr grad_out:ptr idx:ptr",
       "grad_in contiguous, zeroed by the kernel; max scatters grad_out at idx (idx required), avg spreads "
       "grad_out / divisor over each window; F32 F64"),
    # ---- linalg.c ------------------------------------------------------------------------------------------
    _K("lu", "linalg.c", "linalg", "dtype batch m n a:ptr piv:ptr info:ptr",
       "dgetf2: a ← L\\U (unit L strictly below the diagonal); piv int64 (batch, min(m, n)) 1-based row swaps "
       "(first largest \\|pivot\\|); info = first zero pivot"),
    _K("lu_solve", "linalg.c", "linalg", "dtype batch n k lu:ptr piv:ptr b:ptr",
       "b (batch, n, k) ← A⁻¹ b from `tjs_lu`'s factors (dgetrs)"),
    _K("cholesky", "linalg.c", "linalg", "dtype batch n a:ptr info:ptr",
       "dpotf2 lower: reads the lower triangle, writes L there and zeros above; info = order of the first "
       "non-positive leading minor (a stops there)"),
    _K("geqrf", "linalg.c", "linalg", "dtype batch m n a:ptr tau:ptr",
       "dgeqr2 + dlarfg: R on/above the diagonal, Householder vectors below, tau (batch, min(m, n)); "
       "β = −sign(α)·‖x‖"),
    _K("orgqr", "linalg.c", "linalg", "dtype batch m nc k a:ptr tau:ptr",
       "dorg2r: a (batch, m, nc) holding k reflectors in its first k columns ← Q's first nc columns "
       "(k ≤ nc ≤ m, else TJS_ERR_ARG)"),
    _K("trsm", "linalg.c", "linalg", "dtype batch n k a:ptr a_bs a_rs a_cs b:ptr upper unit",
       "b (contiguous batch, n, k) ← A⁻¹ b for triangular A given by strides (a_bs may be 0)"),
    _K("svd", "linalg.c", "linalg", "dtype batch m n a:ptr v:ptr s:ptr scratch:ptr part p_step",
       "one-sided Jacobi, m ≥ n (else TJS_ERR_ARG): a ← U·S (columns unnormalised), v (batch, n, n) ← V, "
       "s (batch, n) ← singular values in column order (unsorted); scratch: f64 × (m·n + n·n + 1). part < 0: "
       "all of it; part ≥ 0 (batch 1): p_step rows of a Jacobi sweep per call, the state in scratch, TJS_MORE "
       "until the call that converges writes the results"),
    _K("eigh", "linalg.c", "linalg", "dtype batch n a:ptr w:ptr scratch:ptr part p_step",
       "cyclic Jacobi on a symmetric a (batch, n, n; both triangles read): a ← eigenvectors as columns, "
       "w (batch, n) ← eigenvalues in column order (unsorted); scratch: f64 × (2·n·n); part, p_step as svd's"),
    # ---- sort.c --------------------------------------------------------------------------------------------
    _K("sort", "sort.c", "sort",
       "dtype outer n op descending sorted k in:ptr out_values:ptr out_indices:ptr scratch:ptr",
       "op (SORT_OPS) 0 stable sort, 1 sort, 2 topk, 3 kthvalue, 4 mode; descending is `largest` for topk; "
       "input contiguous [outer, n]; outputs contiguous [outer, kout] with kout = n, k or 1; scratch 32·n bytes; "
       "every dtype; ties and NaN ordered as PyTorch CPU"),
    _K("cumext", "sort.c", "sort", "dtype outer n inner op in:ptr out_values:ptr out_indices:ptr",
       "op 0 max, 1 min; contiguous [outer, n, inner], scan over n"),
    _K("logcumsumexp", "sort.c", "sort", "dtype outer n inner in:ptr out:ptr",
       "dtype F32/F64; contiguous [outer, n, inner], scan over n"),
    _K("searchsorted", "sort.c", "sort", "dtype rows nb nv right bnd_row_stride bnd:ptr vals:ptr out:ptr",
       "dtype F64/I64; bnd_row_stride 0: one boundary row shared by all rows; out int64 [rows, nv]"),
    # ---- quant.c -------------------------------------------------------------------------------------------
    _K("quant_matmul", "quant.c", "quant",
       "scheme M N K group sdtype out:ptr out_rs x:ptr x_rs w:ptr scales:ptr mins:ptr",
       "out[m, n] (f32, row stride out_rs) = Σ_k x[m, k] (f32, row stride x_rs) · w[n, k], w dequantised block by "
       "block inside the dot product: scheme 0 int8 w (N, K) times scales[n, k / group]; scheme 1 Q4_1 (group 32): "
       "w (N, K / 2) bytes, byte j of a block's 16 holds elements j (low nibble) and j + 16 (high), "
       "w = scales·q + mins; scales/mins (N, K / group) of sdtype F32/F16/BF16 (else TJS_ERR_DTYPE)"),
)
KERNEL = {k.name: k for k in KERNELS}

# tjs_sort's op codes (also the WebGPU bridge's SORT op word)
SORT_OPS = {"stable": 0, "sort": 1, "topk": 2, "kthvalue": 3, "mode": 4}
INDEX_ACCUMULATE, INDEX_NO_NEGATIVE = 1, 2   # index_offsets' flags (TJS_INDEX_* in wasm_ext/tjs.h)


def index_flags(accumulate, wrap_negative):
    return (INDEX_ACCUMULATE if accumulate else 0) | (0 if wrap_negative else INDEX_NO_NEGATIVE)


def struct_for(name, **dims):
    """The little-endian struct that packs kernel `name`'s arguments for the given array dimensions."""
    return struct.Struct("<" + KERNEL[name].layout.format(**dims))


def structs_by_ndim(name):
    """struct_for(name, ndim=n) for n = 0..HOT_DIMS, built once (the hot path indexes by ndim)."""
    return [struct_for(name, ndim=n) for n in range(HOT_DIMS + 1)]


@functools.lru_cache(maxsize=512)
def struct_cached(name, **dims):
    """struct_for, kept: for the rank-general paths (ndim up to MAX_DIMS)."""
    return struct_for(name, **dims)
