"""The backend interface: every primitive the ops layer calls on a device's backend, with its contract.

A backend computes; the ops layer decides. Before a call the ops layer has checked the arguments, promoted
dtypes, broadcast shapes (passed as stride tuples with 0 on broadcast dims) and allocated every output, so a
primitive trusts its arguments and writes into the tensors it is given. Tensors arrive as torch_js Tensors
(`_storage`, `_offset`, `_shape`, `_stride`, `_dtype`); strides and offsets count elements. Primitive names
(`op`) are the kernel op names (wasm_ext/tjs.h's TJS_UN_*/TJS_BIN_*/TJS_RED_* in lower case).

tests/test_kernel_abi.py checks that each backend overrides every name in PRIMITIVES with this signature.
"""


class KernelIndexError(IndexError):
    """An index a kernel found out of range. Backends raise it with the index and the dimension's size; the ops
    layer, which knows the dimension, words PyTorch's message from them."""

    def __init__(self, index, size):
        super().__init__(f"index {index} is out of bounds for dimension with size {size}")
        self.index = index
        self.size = size


class Backend:
    """Base of the device backends (backends/cpu, backends/webgpu); every primitive raises until overridden."""

    name = None         # the device type, "cpu" or "webgpu"
    device = None       # the torch_js.device the backend's storages live on
    wide_float = None   # the widest float dtype it computes in: what ops widen to for exact-ish comparisons
                        # (searchsorted keys, integer isclose): float64 on CPU, float32 where there is no f64
    # index kernels report an index out of range at the next readback (as CUDA's device-side asserts), not when
    # called: ops then leave bounds to the kernels instead of checking on the host, which would cost a sync per call
    index_errors_deferred = False

    # ---- memory -------------------------------------------------------------------------------------------
    def alloc(self, nbytes):
        """A new uninitialised Storage of nbytes on this device."""
        raise NotImplementedError

    def from_bytes(self, data):
        """A new Storage holding a copy of the bytes `data`."""
        raise NotImplementedError

    def read_bytes(self, storage, byte_offset, nbytes):
        """bytes [byte_offset, byte_offset + nbytes) of storage (waits for pending device work)."""
        raise NotImplementedError

    async def read_bytes_async(self, storage, byte_offset, nbytes):
        """read_bytes without blocking the event loop (devices that compute asynchronously override it)."""
        return self.read_bytes(storage, byte_offset, nbytes)

    def check_dtype(self, dtype):
        """Raise if tensors of dtype cannot live on this device (called at allocation and .to())."""

    # ---- elementwise ---------------------------------------------------------------------------------------
    def copy(self, out, x, x_strides=None):
        """out[...] = x cast to out's dtype; x_strides (default x's own) broadcast x to out's shape."""
        raise NotImplementedError

    def fill(self, out, value):
        """Every element of out = the Python scalar value, cast to out's dtype."""
        raise NotImplementedError

    def unary(self, op, out, x, p0=0.0, p1=0.0, p2=0.0):
        """out = op(x) elementwise, same shape; p0..p2 are the op's scalar parameters (clamp bounds, slopes)."""
        raise NotImplementedError

    def binary(self, op, out, a, a_strides, b, b_strides, alpha=1.0):
        """out = op(a, b) over out's shape, a and b (one dtype) read through the given broadcast strides;
        alpha scales b for add/sub."""
        raise NotImplementedError

    def where(self, out, cond, c_strides, a, a_strides, b, b_strides):
        """out = cond ? a : b over out's shape (cond bool; each input read through its broadcast strides)."""
        raise NotImplementedError

    # ---- reductions and scans ------------------------------------------------------------------------------
    def reduce(self, op, out, x, nred, out2=None):
        """Reduce x's last nred dims into out (shape: x's leading dims); max_index/min_index also write int64
        indices to out2."""
        raise NotImplementedError

    def softmax(self, out, x, log):
        """Row-wise softmax (log-softmax if log) over the last dim of contiguous x into contiguous out."""
        raise NotImplementedError

    def cumulative(self, op, out, x, outer, n, inner):
        """cumsum (op "sum") / cumprod ("prod") of contiguous x viewed as [outer, n, inner] over n."""
        raise NotImplementedError

    # ---- matrix product ------------------------------------------------------------------------------------
    def gemm(self, out, a, b, batch, m, n, k, a_strides, b_strides):
        """out (contiguous batch×m×n) = a @ b, a and b given by (batch, row, col) strides."""
        raise NotImplementedError

    # ---- indexing ------------------------------------------------------------------------------------------
    def index_offsets(self, offs, idx, idx_strides, dim_size, dim_stride, accumulate, wrap_negative=True):
        """offs (int64, offs' shape) = (offs + if accumulate) wrapped idx · dim_stride; an index outside
        [-dim_size, dim_size) — [0, dim_size) without wrap_negative — raises KernelIndexError."""
        raise NotImplementedError

    def take(self, out, src, offs, src_strides, offs_strides):
        """out[i] = src[offs[i] + Σ i_d·src_strides_d] (a gather by element offsets)."""
        raise NotImplementedError

    def put(self, dst, val, offs, shape, val_strides, dst_strides, offs_strides, accumulate):
        """dst[offs[i] + Σ i_d·dst_strides_d] = (or += if accumulate) val[i] over shape, in index order."""
        raise NotImplementedError

    # ---- nn: convolution columns and pooling ---------------------------------------------------------------
    def im2col(self, out, x, geom):
        """out[n, ((c·KD+kd)·KH+kh)·KW+kw, (od·OH+oh)·OW+ow] = x[n, c, id, ih, iw] (0 in the padding); x
        (N, C, D, H, W) and out (N, C·KD·KH·KW, OD·OH·OW) with any strides; geom = (KD, KH, KW, SD, SH, SW, PD, PH,
        PW, DD, DH, DW, OD, OH, OW)."""
        raise NotImplementedError

    def col2im(self, out, cols, geom):
        """The adjoint of im2col: out (contiguous N, C, D, H, W) = sum of the cols entries reading each voxel."""
        raise NotImplementedError

    def pool(self, out, x, idx, mode, adaptive, geom, count_include_pad=True, divisor_override=0):
        """Max (mode 0; argmax flat indices into idx, or idx None) or average (mode 1) pooling of contiguous x
        (planes, D, H, W) into contiguous out (planes, OD, OH, OW); geom = (KD, KH, KW, SD, SH, SW, PD, PH, PW, DD,
        DH, DW)."""
        raise NotImplementedError

    def pool_backward(self, grad_in, grad_out, idx, mode, adaptive, geom, count_include_pad=True,
                      divisor_override=0):
        """grad_in (contiguous planes, D, H, W) = the adjoint of pool applied to grad_out (planes, OD, OH, OW)."""
        raise NotImplementedError

    # ---- sorting and scans with indices --------------------------------------------------------------------
    def sort_rows(self, op, values, indices, x, n, descending=False, sorted=True, k=0):
        """Rows of contiguous x ([outer, n]) -> contiguous values/indices ([outer, kout]): kout = n for
        "stable"/"sort", k for "topk", 1 for "kthvalue"/"mode" (k 1-based there); PyTorch's tie/NaN order."""
        raise NotImplementedError

    def cumext(self, op, values, indices, x, outer, n, inner):
        """cummax (op "max") / cummin ("min") of contiguous x viewed as [outer, n, inner] over n, with indices."""
        raise NotImplementedError

    def logcumsumexp(self, out, x, outer, n, inner):
        """log(cumsum(exp(x))) of contiguous x viewed as [outer, n, inner] over n, computed stably."""
        raise NotImplementedError

    def searchsorted(self, out, boundaries, values, rows, nb, nv, right, shared):
        """out (int64 [rows, nv]) = insertion points of values in sorted boundary rows of nb (one row for
        all if shared); boundaries and values contiguous, one dtype (wide_float or int64)."""
        raise NotImplementedError

    # ---- dense factorizations (matrices contiguous (batch, rows, cols), overwritten in place) ---------------
    def lu(self, a, piv, info, batch, m, n):
        """a (batch, m, n) -> packed L\\U; piv int64 (batch, min(m, n)) 1-based; info int64 (batch,) LAPACK's."""
        raise NotImplementedError

    def lu_solve(self, lu, piv, b, batch, n, k):
        """b (batch, n, k) <- A^{-1} b from lu/piv as written by lu."""
        raise NotImplementedError

    def cholesky(self, a, info, batch, n):
        """a (batch, n, n) -> L (reads the lower triangle, zeros the upper); info as LAPACK's potrf."""
        raise NotImplementedError

    def geqrf(self, a, tau, batch, m, n):
        """a (batch, m, n) -> R and Householder vectors (LAPACK geqrf layout); tau (batch, min(m, n))."""
        raise NotImplementedError

    def orgqr(self, a, tau, batch, m, nc, k):
        """a (batch, m, nc) whose first k columns hold reflectors -> Q's first nc columns; tau (batch, k)."""
        raise NotImplementedError

    def trsm(self, a, a_strides, b, batch, n, k, upper, unit):
        """b (contiguous batch, n, k) <- A^{-1} b, A triangular given by (batch, row, col) strides."""
        raise NotImplementedError

    def svd_jacobi(self, a, v, s, batch, m, n):
        """a (batch, m, n), m >= n -> U·S (columns unnormalised); v (batch, n, n) = V; s (batch, n) singular
        values in column order (unsorted)."""
        raise NotImplementedError

    def eigh_jacobi(self, a, w, batch, n):
        """a (batch, n, n) symmetric -> eigenvectors as columns; w (batch, n) eigenvalues in column order
        (unsorted)."""
        raise NotImplementedError


# What every backend must override (read_bytes_async and check_dtype have working defaults).
PRIMITIVES = (
    "alloc", "from_bytes", "read_bytes",
    "copy", "fill", "unary", "binary", "where",
    "reduce", "softmax", "cumulative", "gemm",
    "index_offsets", "take", "put",
    "im2col", "col2im", "pool", "pool_backward",
    "sort_rows", "cumext", "logcumsumexp", "searchsorted",
    "lu", "lu_solve", "cholesky", "geqrf", "orgqr", "trsm", "svd_jacobi", "eigh_jacobi",
)
ATTRIBUTES = ("name", "device", "wide_float", "index_errors_deferred")
