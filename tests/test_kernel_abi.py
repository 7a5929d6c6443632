"""The backend interface and the kernel argument layouts: every backend implements every primitive, and every
place that reads or writes an argument block agrees with the one table (torch_js/backends/kernel_abi.py for the
C kernels, torch_js/backends/webgpu/bridge_abi.py for the WebGPU bridge).

CPython only: it reads wasm_ext/*.c, runs node on js_bridge/webgpu/abi.mjs, and imports tools/gen_abi.py.
"""
import importlib.util
import inspect
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

if sys.platform == "emscripten":
    pytest.skip("reads the checkout's C and JS sources (CPython only)", allow_module_level=True)

import torch_js  # noqa: E402,F401
from torch_js.backends import interface, kernel_abi  # noqa: E402
from torch_js.backends.cpu import CPUBackend  # noqa: E402
from torch_js.backends.webgpu import WebGPUBackend, bridge_abi  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASM_EXT = os.path.join(ROOT, "wasm_ext")
PKG = os.path.join(ROOT, "pytorchjs_py", "torch_js")


def _gen_abi():
    spec = importlib.util.spec_from_file_location("gen_abi", os.path.join(ROOT, "tools", "gen_abi.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---- the interface ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [CPUBackend, WebGPUBackend], ids=["cpu", "webgpu"])
def test_backend_implements_every_primitive(cls):
    assert issubclass(cls, interface.Backend)
    missing = [p for p in interface.PRIMITIVES if getattr(cls, p) is getattr(interface.Backend, p)]
    assert not missing, f"{cls.__name__} does not implement {missing}"
    for p in interface.PRIMITIVES:
        want = list(inspect.signature(getattr(interface.Backend, p)).parameters)
        got = list(inspect.signature(getattr(cls, p)).parameters)
        assert got == want, f"{cls.__name__}.{p}{tuple(got)} differs from the interface's {tuple(want)}"
    for a in interface.ATTRIBUTES:
        assert getattr(cls, a) is not None, f"{cls.__name__}.{a} unset"


def test_primitives_are_the_interface_methods():
    methods = {n for n, v in vars(interface.Backend).items() if callable(v) and not n.startswith("_")}
    assert set(interface.PRIMITIVES) == methods - {"read_bytes_async", "check_dtype"}


def test_webgpu_backend_imports_in_cpython():
    # torch_js imports it (torch_js.webgpu); nothing Pyodide-only may come with it
    assert "torch_js.backends.webgpu.backend" in sys.modules
    assert not {"js", "pyodide", "pyodide_js"} & set(sys.modules)


_CALL = re.compile(r"(?:_storage\.backend|\bbackend|\bbe|_backend\([A-Za-z_]*\))\.([a-z_0-9]+)\b")


def test_ops_call_only_interface_members():
    """What ops/, nn/ and the rest call on a backend is in the interface."""
    allowed = set(interface.PRIMITIVES) | set(interface.ATTRIBUTES) | {"read_bytes_async", "check_dtype"}
    seen = {}
    for dirpath, _, files in os.walk(PKG):
        if os.sep + "backends" in dirpath:
            continue
        for f in files:
            if f.endswith(".py"):
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    for name in _CALL.findall(fh.read()):
                        seen.setdefault(name, f)
    assert seen, "the pattern found no backend calls"
    extra = {n: f for n, f in seen.items() if n not in allowed}
    assert not extra, f"backend members used outside the interface: {extra}"


# ---- generated files ----------------------------------------------------------------------------------------

def test_generated_files_current():
    """wasm_ext/ABI.md's tables and js_bridge/webgpu/abi.mjs match the tables (python tools/gen_abi.py)."""
    stale = _gen_abi().stale()
    assert not stale, f"stale: {stale}; run python tools/gen_abi.py"


def test_abi_md_lists_every_kernel():
    with open(os.path.join(WASM_EXT, "ABI.md"), encoding="utf-8") as f:
        text = f.read()
    for k in kernel_abi.KERNELS:
        assert f"| `tjs_{k.name}` |" in text


# ---- the C side ---------------------------------------------------------------------------------------------

_FUNC = re.compile(r"(?:TJS_EXPORT\s+int\s+tjs_(\w+)\s*\(\s*void\s*\)"
                   r"|\bstatic\b[^;{}()]*?\b(\w+)\s*\([^;{}()]*\))\s*\{")
_READ_F64 = re.compile(r"\btjs_arg_f64\s*\(((?:[^()]|\([^()]*\))*)\)")
_READ_SLOT = re.compile(r"\b(?:A|tjs_args)\s*\[([^\]]+)\]")
_READ_ARRAY = re.compile(r"\btjs_args\s*\+\s*((?:[^,;{}()]|\([^()]*\))+)")
_SAMPLES = ({"ndim": 7, "nred": 3}, {"ndim": 11, "nred": 5})


def _strip_comments(src):
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", src, flags=re.S))


def _bodies(src):
    """{(kind, name): body} for exported kernels ("kernel") and static functions ("static")."""
    out = {}
    for m in _FUNC.finditer(src):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(src[i], 0)
            i += 1
        if m.group(1):
            out[("kernel", m.group(1))] = src[m.end():i]
        else:
            out[("static", m.group(2))] = src[m.end():i]
    return out


def _macros():
    """{name: (params, body)} of wasm_ext/tjs_abi.h."""
    with open(os.path.join(WASM_EXT, "tjs_abi.h"), encoding="utf-8") as f:
        text = f.read()
    out = {}
    for m in re.finditer(r"^#define (TJS_\w+)(?:\(([\w, ]*)\))? (.+)$", text, re.M):
        out[m.group(1)] = ([p.strip() for p in m.group(2).split(",")] if m.group(2) else None, m.group(3))
    return out


_MACROS = _macros()


def _expand(expr):
    def call(m):
        params, body = _MACROS[m.group(1)]
        args = [a.strip() for a in m.group(2).split(",")]
        for p, a in zip(params, args):
            body = re.sub(rf"\b{p}\b", a, body)
        return f"({body})"
    expr = re.sub(r"\b(TJS_\w+)\(([^()]*)\)", lambda m: call(m) if _MACROS.get(m.group(1), (None,))[0] else m.group(0),
                  expr)
    return re.sub(r"\b(TJS_\w+)\b", lambda m: f"({_MACROS[m.group(1)][1]})" if m.group(1) in _MACROS else m.group(0),
                  expr)


def _value(expr, dims):
    e = re.sub(r"\b(?:nd|ndim)\b", str(dims["ndim"]), _expand(expr))
    e = re.sub(r"\bnred\b", str(dims["nred"]), e)
    if not re.fullmatch(r"[\d\s+\-*()]+", e):
        raise AssertionError(f"cannot read the slot expression {expr!r}")
    return eval(e)  # noqa: S307  (digits and + - * only, checked above)


def _reads(body, statics, seen=()):
    """(f64 slot expressions, int64 slot expressions) a kernel body reads, through the static helpers it calls
    (and those they call: tjs_addmm's addmm_call reads the bias, then gemm_call the product's slots)."""
    f64, ints = [], []
    for m in _READ_F64.finditer(body):
        f64.append(m.group(1))
    body_wo_f64 = _READ_F64.sub(";", body)
    ints += _READ_SLOT.findall(body_wo_f64) + _READ_ARRAY.findall(body_wo_f64)
    for name, helper in statics.items():
        if name not in seen and re.search(rf"\b{name}\s*\(", body) and re.search(r"\b(?:A|tjs_args)\b", helper):
            hf, hi = _reads(helper, statics, (*seen, name))
            f64 += hf
            ints += hi
    return f64, ints


def _c_kernels():
    out = {}
    for f in sorted(os.listdir(WASM_EXT)):
        if f.endswith(".c"):
            with open(os.path.join(WASM_EXT, f), encoding="utf-8") as fh:
                bodies = _bodies(_strip_comments(fh.read()))
            statics = {n: b for (kind, n), b in bodies.items() if kind == "static"}
            for (kind, name), body in bodies.items():
                if kind == "kernel":
                    out[name] = (f, _reads(body, statics))
    return out


def test_every_c_kernel_is_in_the_table():
    c = _c_kernels()
    assert set(c) == set(kernel_abi.KERNEL), (sorted(set(c) - set(kernel_abi.KERNEL)),
                                               sorted(set(kernel_abi.KERNEL) - set(c)))
    for name, (source, _) in c.items():
        assert kernel_abi.KERNEL[name].source == source, name


@pytest.mark.parametrize("name", [k.name for k in kernel_abi.KERNELS])
def test_c_kernel_reads_the_table_slots(name):
    """The C kernel reads each slot where the table puts it and nothing else: every scalar slot (f64 ones through
    tjs_arg_f64, the others as int64), every array from its first slot (fixed-size ones may be read element by
    element), no slot beyond the layout."""
    source, (f64, ints) = _c_kernels()[name]
    layout = kernel_abi.KERNEL[name].layout
    gen = _gen_abi()
    # by name: every read goes through a slot macro of this kernel, or of one whose layout has the same kinds
    # at the same places (pool.c reads pool2d and pool2d_backward with one function), or is where this one's
    # begins (tjs_addmm's product is tjs_gemm's, read through TJS_GEMM_*)
    def shape(k):
        return [(s.kind, s.length.render() if s.length else None) for s in k.layout.slots]
    mine = shape(kernel_abi.KERNEL[name])
    own = {m for k in kernel_abi.KERNELS if shape(k) == mine[:len(shape(k))]
           for m, _, _ in gen.slot_macros(k)}
    for expr in f64 + ints:
        used = re.findall(r"\bTJS_\w+", expr)
        assert used, f"{source}: tjs_{name} reads slot {expr!r} by number, not by its tjs_abi.h name"
        assert set(used) <= own, f"{source}: tjs_{name} reads {expr!r}: not its own slots"
    for dims in _SAMPLES:
        got_f64 = {_value(e, dims) for e in f64}
        got_int = {_value(e, dims) for e in ints}
        want_f64 = {at(dims) for s, at in layout.offsets() if s.kind == "f64"}
        assert got_f64 == want_f64, f"{source}: tjs_{name} reads f64 at {sorted(got_f64)}, the table {sorted(want_f64)}"
        covered = set()
        for s, at in layout.offsets():
            start = at(dims)
            if s.kind == "f64":
                continue
            assert start in got_int, f"{source}: tjs_{name} does not read {s.name} (slot {start})"
            covered.update(range(start, start + (s.length(dims) if s.length is not None else 1)))
        stray = sorted(got_int - covered)
        assert not stray, f"{source}: tjs_{name} reads int64 slots {stray} that the table does not give it"


def test_generator_packs_with_the_table():
    """_generator.py runs every RNG kernel through the table's layouts, and only those."""
    from torch_js import _generator
    assert set(_generator._RNG_KERNELS) == {k.name for k in kernel_abi.KERNELS if k.section == "random"}
    with open(os.path.join(PKG, "_generator.py"), encoding="utf-8") as f:
        assert not re.search(r"""\bpack(_into)?\(\s*["']<""", f.read()), "a literal pack format in _generator.py"


def test_struct_formats():
    assert kernel_abi.struct_for("binary", ndim=2).format == "<" + "q" * 14 + "d"
    assert kernel_abi.struct_for("reduce", ndim=3, nred=1).format == "<" + "q" * 16
    assert kernel_abi.KERNEL["reduce"].layout.dims() == ["ndim", "nred"]
    with pytest.raises(TypeError):
        kernel_abi.struct_for("copy")
    assert bridge_abi.struct_for("COPY", nd=2).format == "<4d" + "i" * 15
    assert bridge_abi.struct_for("LINALG", noperands=3, nwords=5).format == "<4d" + "i" * 13


def test_layouts_fit_the_argument_blocks():
    from torch_js.backends.cpu import library
    from torch_js.backends.webgpu import runtime
    widest = {"ndim": kernel_abi.MAX_DIMS, "nd": kernel_abi.MAX_DIMS, "nred": 0, "noperands": 3, "nwords": 16}
    for k in kernel_abi.KERNELS:
        assert k.layout.size()(widest) <= library.ARGS_LEN, k.name
    for f in bridge_abi.FAMILIES:
        assert 32 + 4 * f.layout.size()(widest) <= runtime.ARG_BYTES, f.name


# ---- the WebGPU bridge ----------------------------------------------------------------------------------------

def test_index_mjs_takes_its_layout_from_abi_mjs():
    with open(os.path.join(ROOT, "js_bridge", "webgpu", "index.mjs"), encoding="utf-8") as f:
        src = f.read()
    assert re.search(r"import \{ ARGS, FAMILY \} from '\./abi\.mjs';", src)
    assert "FAMILY = {" not in src, "index.mjs defines its own FAMILY table"
    assert "subarray(" not in src.replace("HEAPU8.subarray(", ""), "index.mjs reads words by offset"
    used = set(re.findall(r"ARGS\.(\w+)\(", src))
    # the families recorded as opaque lazy nodes (lazy_opaque.mjs's OPAQUE) are decoded by name: ARGS[FAMILY_NAME[fam]]
    assert "ARGS[FAMILY_NAME[fam]](I)" in src
    with open(os.path.join(ROOT, "js_bridge", "webgpu", "lazy_opaque.mjs"), encoding="utf-8") as f:
        used |= set(re.findall(r"^  \[FAMILY\.(\w+)\]:", f.read(), re.M))
    assert used == set(bridge_abi.FAMILY), sorted(set(bridge_abi.FAMILY) ^ used)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_bridge_decoders_read_what_python_packs():
    """Pack every family with bridge_abi's struct (each word a distinct value), decode it with abi.mjs."""
    cases = []
    for fam in bridge_abi.FAMILIES:
        dims = {n: 2 for n in fam.layout.dims()}
        if "nred" in dims:
            dims["nred"] = 1
        expect, words, nxt = {}, [], 100
        for s, at in fam.layout.offsets():
            if s.name == "family":
                words.append(fam.number)
            elif s.name in dims:
                words.append(dims[s.name])
                expect[s.name] = dims[s.name]
            elif s.length is not None:
                vals = list(range(nxt, nxt + s.length(dims)))
                nxt += len(vals)
                words += vals
                expect[s.name] = vals
            elif s.kind == "operand":
                words += [nxt, nxt + 1, nxt + 2]
                expect[s.name] = {"id": nxt, "dt": nxt + 1, "off": nxt + 2}
                nxt += 3
            else:
                words.append(nxt)
                expect[s.name] = nxt
                nxt += 1
        block = bridge_abi.struct_for(fam.name, **dims).pack(0.0, 0.0, 0.0, 0.0, *words)
        cases.append({"family": fam.name, "number": fam.number, "hex": block.hex(), "expect": expect})
    script = """
import { ARGS, FAMILY } from %s;
const cases = JSON.parse(process.argv[1]);
const out = cases.map((c) => {
  const bytes = Uint8Array.from(Buffer.from(c.hex, 'hex'));
  const I = new Int32Array(bytes.buffer, 32, (bytes.length - 32) >> 2);
  return { family: c.family, number: FAMILY[c.family], got: ARGS[c.family](I) };
});
console.log(JSON.stringify(out));
""" % json.dumps("file://" + os.path.join(ROOT, "js_bridge", "webgpu", "abi.mjs"))
    res = subprocess.run(["node", "--input-type=module", "-e", script, json.dumps(cases)], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    for case, got in zip(cases, json.loads(res.stdout)):
        assert got["number"] == case["number"], case["family"]
        assert got["got"] == case["expect"], case["family"]


# ---- TJS_DEBUG bounds checks ----------------------------------------------------------------------------------

_DEBUG_SCRIPT = r"""
import torch_js as T
from torch_js._tensor import _make
from torch_js.backends.cpu import library
assert library.DEBUG_FAULT is not None, "not the debug build"
be = T.zeros(1)._storage.backend

def bounds_error(fn):
    try:
        fn()
    except RuntimeError as e:
        assert "bounds check failed" in str(e), e
        return True
    return False

# ordinary work passes the checks
x = T.arange(24.0).reshape(2, 3, 4)
assert x.permute(2, 0, 1).contiguous().sum().item() == 276.0
assert x[:, T.tensor([2, 0])].sum().item() == 184.0
y = x.clone(); y[T.tensor([1, 1])] = 5.0; assert y.sum().item() == 66 + 60
y.index_put_((T.tensor([0, 0]),), T.ones(3, 4), accumulate=True); assert y.sum().item() == 126 + 24
assert (x @ x.transpose(1, 2)).shape == (2, 3, 3)

# take: an element offset past the storage (1 past the end) -> error, out untouched
src, out = T.arange(10.0), T.full((2,), -1.0)
assert bounds_error(lambda: be.take(out, src, T.tensor([0, 10]), (0,), (1,)))
assert out.tolist() == [-1.0, -1.0]
assert bounds_error(lambda: be.take(out, src[5:], T.tensor([0, -6]), (0,), (1,)))
be.take(out, src[5:], T.tensor([4, -5]), (0,), (1,)); assert out.tolist() == [9.0, 0.0]

# put: one target out of range -> nothing written, not even the valid first one
dst = T.zeros(10)
assert bounds_error(lambda: be.put(dst, T.ones(2), T.tensor([3, -1]), (2,), (1,), (0,), (1,), False))
assert bounds_error(lambda: be.put(dst, T.ones(2), T.tensor([3, 10]), (2,), (1,), (0,), (1,), True))
assert dst.sum().item() == 0.0

# the strided iterator: offsets whose extent overflows int64 -> error before any row is touched
big = _make(src._storage, (4,), (2 ** 62,), 0, src.dtype)
out4 = T.full((4,), -1.0)
assert bounds_error(lambda: be.copy(out4, big))
assert bounds_error(lambda: be.binary("add", out4, big, (2 ** 62,), src, (1,), 1.0))
assert out4.tolist() == [-1.0] * 4
print("debug-ok")
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_debug_build_checks_bounds(tmp_path):
    """The TJS_DEBUG build (make build-debug) passes ordinary work and turns an address outside what the arguments
    allow into RuntimeError with nothing written (take/put against their storage, iter.h against the strides)."""
    lib = tmp_path / "libtjs_debug.so"
    srcs = sorted(os.path.join(WASM_EXT, f) for f in os.listdir(WASM_EXT) if f.endswith(".c"))
    subprocess.run(["gcc", "-std=gnu11", "-ffreestanding", "-ffp-contract=off", "-fno-math-errno", "-O0",
                    "-DTJS_DEBUG", "-fPIC", "-shared", "-o", str(lib), *srcs, "-lm"], check=True)
    env = dict(os.environ, TORCH_JS_NATIVE_LIB=str(lib), PYTHONPATH=os.path.join(ROOT, "pytorchjs_py"))
    r = subprocess.run([sys.executable, "-c", _DEBUG_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "debug-ok" in r.stdout, r.stdout + r.stderr
