"""dtypes and PyTorch's type promotion rules."""
import struct

__all__ = ["dtype", "promote_types", "get_default_dtype", "set_default_dtype"]


class dtype:
    __slots__ = ("name", "code", "itemsize", "is_floating_point", "is_signed", "fmt", "_rank", "is_complex", "_real",
                 "_complex")

    def __init__(self, name, code, itemsize, is_floating_point, is_signed, fmt, rank, real=None):
        self.name = name
        self.code = code              # wasm_ext/tjs.h dtype code (complex dtypes have none there: see below)
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.fmt = fmt                # struct / memoryview format ('' where Python has none: bfloat16, complex)
        self._rank = rank             # order within its category, for promotion
        self.is_complex = real is not None
        self._real = real or self     # a complex dtype's part dtype (complex64 -> float32); itself otherwise
        self._complex = None          # a float dtype's complex counterpart, set below

    def __repr__(self):
        return "torch." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return self._real

    def to_complex(self):
        if self.is_complex:
            return self
        if self._complex is None:
            raise RuntimeError(f"torch_js has no complex dtype with {self.name} parts (PyTorch's complex32 is not "
                               "supported)")
        return self._complex

    @property
    def itemsize_bits(self):
        return self.itemsize * 8


bool_ = dtype("bool", 0, 1, False, False, "?", 0)
uint8 = dtype("uint8", 1, 1, False, False, "B", 1)
int8 = dtype("int8", 2, 1, False, True, "b", 1)
int16 = dtype("int16", 3, 2, False, True, "h", 2)
int32 = dtype("int32", 4, 4, False, True, "i", 3)
int64 = dtype("int64", 5, 8, False, True, "q", 4)
float16 = dtype("float16", 6, 2, True, True, "e", 1)
bfloat16 = dtype("bfloat16", 7, 2, True, True, "", 1)
float32 = dtype("float32", 8, 4, True, True, "f", 2)
float64 = dtype("float64", 9, 8, True, True, "d", 3)
# A complex tensor's storage holds (real, imaginary) pairs of its part dtype; no kernel takes a complex dtype
# (their codes are unknown to wasm_ext, which answers TJS_ERR_DTYPE): backends move complex data through the
# float view (backends/complex_data.py) and ops/complex.py computes on it.
complex64 = dtype("complex64", 10, 8, False, True, "", 2, real=float32)
complex128 = dtype("complex128", 11, 16, False, True, "", 3, real=float64)
float32._complex = complex64
float64._complex = complex128
bfloat16._complex = complex64   # PyTorch's promotion of bfloat16 with a complex scalar gives complex64

ALL_DTYPES = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
BY_CODE = {d.code: d for d in ALL_DTYPES}
ALIASES = {"bool": bool_, "uint8": uint8, "int8": int8, "int16": int16, "short": int16, "int32": int32,
           "int": int32, "int64": int64, "long": int64, "float16": float16, "half": float16,
           "bfloat16": bfloat16, "float32": float32, "float": float32, "float64": float64, "double": float64,
           "complex64": complex64, "cfloat": complex64, "complex128": complex128, "cdouble": complex128}
FLOATING = (float16, bfloat16, float32, float64)
COMPLEX = (complex64, complex128)
INTEGRAL = (uint8, int8, int16, int32, int64)


def _dtype_by_name(name):
    return ALIASES[name]


_SCALAR_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
                      "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "bool": "Bool", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def scalar_type_name(d):
    """PyTorch's ScalarType name (Float, Long, ...), as its error messages spell dtypes."""
    return _SCALAR_TYPE_NAMES[d.name]


# the torch dtypes PyTorch reads Python's number types as, given for a dtype (torch.zeros(2, dtype=float) is float64)
PYTHON_TYPE_DTYPES = {float: float64, int: int64, bool: bool_, complex: complex128}

_C_TYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "bool": "bool",
                 "float16": "c10::Half", "bfloat16": "c10::BFloat16", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def c_type_name(d):
    """The C++ type name some PyTorch errors use for a dtype ("long int" for int64): out= dtypes, assigned grads."""
    return _C_TYPE_NAMES[d.name]


def _category(d):
    return 3 if d.is_complex else 2 if d.is_floating_point else (0 if d is bool_ else 1)


def _promote_uncached(a, b):
    if a is b:
        return a
    if a.is_complex or b.is_complex:
        # complex with integral/bool: the complex dtype; with float or complex: the complex dtype of the promoted
        # part dtypes (float64 + complex64 -> complex128, float16 + complex64 -> complex64)
        ra, rb = a.to_real(), b.to_real()
        if not (ra.is_floating_point and rb.is_floating_point):
            return a if a.is_complex else b
        return _promote_uncached(ra, rb).to_complex()
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    if ca == 0:
        return bool_
    if ca == 1:
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if a._rank > b._rank else b


_PROMOTE = {(a, b): _promote_uncached(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(type1, type2):
    return _PROMOTE[(type1, type2)]


_default_dtype = [float32]


def get_default_dtype():
    return _default_dtype[0]


def set_default_dtype(d):
    if d not in (float32, float64, float16, bfloat16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype[0] = d


def default_complex_dtype():
    """The dtype of a Python complex made a tensor: complex128 under a float64 default, else complex64 (PyTorch's
    complex32 for a float16 default is not supported)."""
    return complex128 if _default_dtype[0] is float64 else complex64


def scalar_dtype(value):
    """The dtype a Python scalar takes when it becomes a tensor on its own."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_dtype[0]
    if isinstance(value, complex):
        return default_complex_dtype()
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _combine(higher, lower):
    # PyTorch's combine_categories: a lower-priority operand only matters if its category is higher.
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        # a float keeps its precision with a lower-priority complex operand (float64 tensor * 1j -> complex128)
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool_ or lower.is_floating_point:
        return _PROMOTE[(higher, lower)]
    return higher


def result_type_of(dim_dtypes, zero_dim_dtypes, scalar_values):
    """PyTorch's result_type: dimensioned tensors > zero-dim tensors > Python scalars, by category.
    (torch.result_type, which sorts its tensor arguments into these, is in _functions.py.)"""
    dim = zero = wrapped = None
    for d in dim_dtypes:
        dim = d if dim is None else _PROMOTE[(dim, d)]
    for d in zero_dim_dtypes:
        zero = d if zero is None else _PROMOTE[(zero, d)]
    for v in scalar_values:
        d = scalar_dtype(v)
        wrapped = d if wrapped is None else _PROMOTE[(wrapped, d)]
    return _combine(dim, _combine(zero, wrapped))


class finfo:
    _TABLE = {
        "float16": (16, 5.960464477539063e-08, 0.0009765625, 65504.0, 6.103515625e-05, 0.001, 3),
        "bfloat16": (16, 9.183549615799121e-41, 0.0078125, 3.3895313892515355e+38, 1.1754943508222875e-38, 0.01, 2),
        "float32": (32, 1.401298464324817e-45, 1.1920928955078125e-07, 3.4028234663852886e+38,
                    1.1754943508222875e-38, 1e-06, 6),
        "float64": (64, 5e-324, 2.220446049250313e-16, 1.7976931348623157e+308, 2.2250738585072014e-308, 1e-15, 15),
    }

    def __init__(self, type=None):
        type = (type or get_default_dtype()).to_real()   # a complex dtype's finfo is its parts' (PyTorch's)
        if not type.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type.")
        self.dtype = type.name
        self.bits, self.smallest_subnormal, self.eps, self.max, self.tiny, self.resolution, _ = self._TABLE[type.name]
        self.min = -self.max
        self.smallest_normal = self.tiny

    def __repr__(self):
        # C's %g, as PyTorch prints them (six significant digits)
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    def __init__(self, type):
        if type.is_floating_point or type.is_complex:
            raise TypeError("torch.iinfo() requires an integer input type.")
        self.dtype = type.name
        self.bits = type.itemsize * 8
        if type is bool_:
            self.min, self.max = 0, 1
        elif type.is_signed:
            self.min, self.max = -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        else:
            self.min, self.max = 0, (1 << self.bits) - 1

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def round_float32(x):
    """The float32 nearest to the Python float x, as a Python float (where a kernel computes in C's float)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def pack_scalar(d, value):
    """Bytes of one element of dtype d holding value (used for fills and tensor construction)."""
    if d.is_complex:
        value = complex(value)
        return struct.pack("<2" + d.to_real().fmt, value.real, value.imag)
    if d is bfloat16:
        bits = struct.unpack("<I", struct.pack("<f", value))[0]
        if (bits & 0x7F800000) == 0x7F800000 and bits & 0x7FFFFF:
            return struct.pack("<H", 0x7FC0)
        bits += 0x7FFF + ((bits >> 16) & 1)
        return struct.pack("<H", (bits >> 16) & 0xFFFF)
    return struct.pack("<" + d.fmt, value)
