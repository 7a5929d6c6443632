"""torch.Generator for torch_js: PyTorch's CPU mt19937 generator, bit for bit.

The state lives in a 5056-byte ctypes buffer laid out exactly like the bytes of torch's
`Generator.get_state()` (CPUGeneratorImplState), so get_state/set_state are byte copies and a state
saved by real torch can be loaded here (and the reverse). The kernels in wasm_ext/random.c advance it.

This module works at the raw-buffer level: the fill_* methods take the byte address of a contiguous
buffer owned by the caller, an element count and a dtype code (wasm_ext/tjs.h). The tensor layer
builds torch.rand/randn/randint/randperm/bernoulli/dropout/exponential_ on top of them.
"""
import ctypes
import math
import os
import random
import struct

from .backends import kernel_abi
from .backends.cpu import library
from .backends.cpu.library import Kernel

STATE_SIZE = 5056          # sizeof(CPUGeneratorImplState)
LEGACY_STATE_SIZE = 5048   # sizeof(CPUGeneratorImplStateLegacy): accepted by set_state, like torch
DEFAULT_SEED = 67280421310721   # seed of a fresh torch.Generator()
_U64 = 1 << 64

# dtype codes (wasm_ext/tjs.h)
BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64 = range(10)
_FLOAT_CODES = (F16, BF16, F32, F64)

# the tjs_rng_* kernels, bound to their layouts in backends/kernel_abi.py
_RNG_KERNELS = {k.name: Kernel(k.name) for k in kernel_abi.KERNELS if k.section == "random"}
_ITEMSIZE = {F16: 2, BF16: 2, F32: 4, F64: 8}


def _chunks(n, align):
    """[start, count) pieces of about library.PIECE elements, starts multiples of `align`; the last piece takes the
    remainder (so a normal_ fill's tail block is drawn by the last call, after all the others, as in one call)."""
    step = max(align, library.PIECE // align * align)
    start = 0
    while n - start > step + align:   # the last piece is never shorter than `align`
        yield start, step
        start += step
    yield start, n - start


def _run(name, what, *args):
    _RNG_KERNELS[name](what, *args)

# state struct: seed u64, left i32, seeded i32, next u64, state u64[624], normal_x/y/rho f64,
# normal_is_valid i32 (+4 pad), next_float_normal_sample f32, float valid u8 (+3 pad)
_HEAD = struct.Struct("<QiiQ")
_WORDS = struct.Struct("<624Q")
_TAIL = struct.Struct("<dddii")     # at offset _TAIL_AT: the double normal cache (x, y, rho, valid)
_TAIL_AT = 5016
_FTAIL = struct.Struct("<fB3x")     # at offset 5048


def _i64(v):
    """An unsigned 64-bit value as the signed int64 a 'q' slot takes."""
    v &= _U64 - 1
    return v - _U64 if v >> 63 else v


def _unpack_seed(seed):
    """torch's unpack_uint64: ints in [-2^63, 2^64) are accepted; negative ones wrap mod 2^64."""
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}") from None
    if seed < -(1 << 63) or seed >= _U64:
        raise RuntimeError("Overflow when unpacking long long")
    return seed & (_U64 - 1)


def _pack_normal_cache(buf, value):
    """Write the double normal cache into state bytes buf: value (a float) or None, canonically (torch keeps only
    the cached y, and a cleared value is 0)."""
    _TAIL.pack_into(buf, _TAIL_AT, 0.0, 0.0 if value is None else value, 0.0, value is not None, 0)


class Generator:
    """Mirror of torch.Generator (CPU). A fresh one has seed 67280421310721, like torch."""

    __slots__ = ("_state", "_addr", "device", "__weakref__")

    def __init__(self, device="cpu"):
        dev = str(device)
        if dev.split(":")[0] != "cpu":
            raise RuntimeError(f"torch_js: Generator only supports the 'cpu' device, got {dev!r}")
        self.device = "cpu"
        self._state = (ctypes.c_char * STATE_SIZE)()   # malloc'd, so at least 8-byte aligned
        self._addr = ctypes.addressof(self._state)
        self._seed_raw(DEFAULT_SEED)

    def _seed_raw(self, seed_u64):
        _run("rng_seed", "manual_seed", self._addr, _i64(seed_u64))

    # -- torch.Generator API ------------------------------------------------------------------------
    def manual_seed(self, seed):
        """Seed with `seed` mod 2^64 (negative seeds wrap); clears the normal caches. Returns self."""
        self._seed_raw(_unpack_seed(seed))
        return self

    def seed(self):
        """Seed from os.urandom (53 bits, like c10's getNonDeterministicRandom) and return the seed."""
        s = int.from_bytes(os.urandom(8), "little") & ((1 << 53) - 1)
        self._seed_raw(s)
        return s

    def initial_seed(self):
        return _HEAD.unpack_from(self._state, 0)[0]

    def get_state(self):
        """The 5056 state bytes, identical to torch's Generator.get_state() bytes."""
        return bytes(self._state)

    def set_state(self, new_state):
        """Load state bytes (5056, or torch's legacy 5048). Raises RuntimeError like torch on bad input."""
        if hasattr(new_state, "tobytes") and not isinstance(new_state, (bytes, bytearray, memoryview)):
            new_state = new_state.tobytes()
        data = bytes(new_state)
        size = len(data)
        if size not in (STATE_SIZE, LEGACY_STATE_SIZE):
            raise RuntimeError(
                f"Expected either a CPUGeneratorImplStateLegacy of size {LEGACY_STATE_SIZE} or a "
                f"CPUGeneratorImplState of size {STATE_SIZE} but found the input RNG state size to be {size}")
        seed, left, seeded, nxt = _HEAD.unpack_from(data, 0)
        words = _WORDS.unpack_from(data, 24)
        nx, ny, nrho, nvalid, _pad = _TAIL.unpack_from(data, _TAIL_AT)
        fsample, fvalid = 0.0, 0
        if size == STATE_SIZE:
            fsample, fvalid = _FTAIL.unpack_from(data, 5048)
            normal_y = ny if nvalid else 0.0
        else:
            # legacy states kept Box-Muller's intermediates: the cached sample is rho * sin(2 pi x)
            normal_y = nrho * math.sin(2.0 * math.pi * nx) if nvalid else 0.0
        nxt &= 0xFFFFFFFF      # torch copies `next` into a uint32 before validating it
        if not (seeded and 0 < left <= 624 and nxt <= 624):
            raise RuntimeError("Invalid mt19937 state")
        if not fvalid:
            fsample = 0.0
        out = bytearray(STATE_SIZE)
        _HEAD.pack_into(out, 0, seed, left, 1, nxt)
        _WORDS.pack_into(out, 24, *[w & 0xFFFFFFFF for w in words])
        _pack_normal_cache(out, normal_y if nvalid else None)
        _FTAIL.pack_into(out, 5048, fsample, 1 if fvalid else 0)
        ctypes.memmove(self._addr, bytes(out), STATE_SIZE)
        return self

    def __repr__(self):
        return f"<torch_js.Generator object at {id(self):#x}>"

    # -- the stream as a Python random.Random -------------------------------------------------------
    def python_stream(self):
        """A random.Random at this generator's position: CPython's Random is the same mt19937 (its words and
        index are torch's words and 625 - left), so getrandbits(32) continues torch's stream. For samplers that
        draw a data-dependent number of values per element (torch.poisson, torch.binomial). `resume` writes the
        stream's position back."""
        left = _HEAD.unpack_from(self._state, 0)[1]
        words = _WORDS.unpack_from(self._state, 24)
        stream = random.Random()
        stream.setstate((3, tuple(words) + (625 - left,), None))
        return stream

    def resume(self, stream):
        """Continue from where `stream` (from python_stream) stopped; the normal caches stay as they were."""
        state = stream.getstate()[1]
        index = state[624]
        seed, left, seeded, _ = _HEAD.unpack_from(self._state, 0)
        if index == 625 - left and state[:624] == _WORDS.unpack_from(self._state, 24):
            return      # nothing drawn (torch keeps `next` at 0 until the first draw after seeding)
        _HEAD.pack_into(self._state, 0, seed, 625 - index, seeded, index)
        _WORDS.pack_into(self._state, 24, *state[:624])

    def normal_cache(self):
        """The cached second value of torch's double Box-Muller (at::normal_distribution<double>), or None."""
        _, y, _, valid, _ = _TAIL.unpack_from(self._state, _TAIL_AT)
        return y if valid else None

    def set_normal_cache(self, value):
        """Set (a float) or clear (None) that cache."""
        _pack_normal_cache(self._state, value)

    # -- raw fills (contiguous caller-owned buffers; addr = byte address) --------------------------
    def fill_uniform(self, addr, n, dtype_code=F32, low=0.0, high=1.0):
        """uniform_(low, high) / rand: F32 (fused multiply-add, as torch's AVX2 build), F64, F16, BF16. One draw per
        element, in order: a long fill goes in pieces (signals are checked between them), the same draws."""
        isz = _ITEMSIZE.get(dtype_code, 0)
        for k, (start, count) in enumerate(_chunks(n, 1) if isz else [(0, n)]):
            if k:
                library.check_signals()
            _run("rng_uniform", "uniform_", self._addr, addr + start * isz, count, dtype_code, float(low),
                 float(high))

    def fill_normal(self, addr, n, dtype_code=F32, mean=0.0, std=1.0, vectorized=True):
        """normal_(mean, std) / randn. vectorized=True for a contiguous tensor (n >= 16 then takes torch's
        16-wide block path); False for torch's scalar path (non-contiguous), which uses the cache.
        F16/BF16 work only on the scalar path (vectorized and n >= 16 raises).
        The block path goes in pieces of whole 16-blocks, the last piece with the tail (same draws as one call)."""
        isz = _ITEMSIZE.get(dtype_code, 0)
        pieces = _chunks(n, 16) if vectorized and isz and n >= 16 else [(0, n)]
        for k, (start, count) in enumerate(pieces):
            if k:
                library.check_signals()
            _run("rng_normal", "normal_", self._addr, addr + start * isz, count, dtype_code, float(mean),
                 float(std), 1 if vectorized else 0)

    def fill_randint(self, addr, n, low, high):
        """int64 values in [low, high): random_(low, high) / randint. A range of 2^64 (low = -2^63,
        high = 2^63) is torch's full 64-bit random_ (value = random64 as int64)."""
        rng = int(high) - int(low)
        if rng <= 0 or rng > _U64:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        _run("rng_randint", "random_", self._addr, addr, n, _i64(low), _i64(rng))   # range 2^64 travels as 0

    def fill_random_bits(self, addr, n, dtype_code):
        """random_() with no arguments, any dtype (int64: random64 mod 2^63, float32: u32 mod 2^24+1, ...)."""
        _run("rng_random_bits", "random_", self._addr, addr, n, dtype_code)

    def randperm(self, addr, n):
        """A permutation of 0..n-1 into an int64 buffer (torch.randperm)."""
        _run("rng_randperm", "randperm", self._addr, addr, n)

    def fill_bernoulli_tensor(self, out_addr, p_addr, n, dtype_code, out_dtype_code=None):
        """torch.bernoulli(p): F32/F16/BF16 p take one u32 draw per element, F64 p one random64.
        0/1 written as out_dtype_code (default: p's dtype)."""
        od = dtype_code if out_dtype_code is None else out_dtype_code
        _run("rng_bernoulli_tensor", "bernoulli", self._addr, out_addr, p_addr, n, dtype_code, od)

    def fill_bernoulli_scalar(self, out_addr, n, p, dtype_code):
        """bernoulli_(p) for a float p: one random64 per element, 0/1 as dtype_code (any dtype)."""
        _run("rng_bernoulli_scalar", "bernoulli_", self._addr, out_addr, n, float(p), dtype_code)

    def fill_exponential(self, addr, n, lambd, dtype_code=F32):
        """exponential_(lambd): (-1/lambd) * log1p(-u) in double, u from random64."""
        _run("rng_exponential", "exponential_", self._addr, addr, n, float(lambd), dtype_code)


default_generator = Generator()
default_generator.seed()
