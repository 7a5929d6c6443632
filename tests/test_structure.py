"""The architecture's rules, checked from the source (tools/structure.py reads it): imports go one way with no
cycle, function-level imports say why, files stay small, every op declaration names real primitives and its
derivative, and `make test-webgpu` names every test that needs the webgpu bridge. That every backend implements
every primitive, with the interface's signature, is checked in tests/test_kernel_abi.py beside the argument
layouts. CPython only (it reads the git checkout)."""
import ast
import glob
import os
import re
import sys

import pytest

if sys.platform == "emscripten":
    pytest.skip("structure checks read the git checkout; CPython only", allow_module_level=True)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import structure  # noqa: E402

import torch_js  # noqa: E402,F401
import torch_js.nn  # noqa: E402,F401  (declares nn.functional)
from torch_js.backends import interface  # noqa: E402
from torch_js.ops._registry import REGISTRY, Derivative  # noqa: E402

MAX_SOURCE_LINES = 800
MAX_TRACKED_BYTES = 1_000_000


@pytest.fixture(scope="module")
def edges():
    return structure.imports()


def test_no_import_cycle(edges):
    assert structure.cycles(edges) == [], "modules that import each other (counting imports inside functions)"


def test_imports_go_down_the_layers(edges):
    up = [f"{e} ({structure.layer_of(e.src)[0]} -> {structure.layer_of(e.dst)[0]})"
          for e in structure.upward_imports(edges)]
    assert up == []


def test_function_level_imports_say_why(edges):
    silent = [repr(e) for e in edges if e.function_level and not e.comment]
    assert silent == [], "a function-level import needs a comment saying why it cannot be at the top"


def test_no_source_file_over_800_lines():
    counts = structure.line_counts(structure.tracked_files())
    assert {p: n for p, n in counts.items() if n > MAX_SOURCE_LINES} == {}


def test_no_tracked_file_over_1mb():
    big = {p: os.path.getsize(os.path.join(ROOT, p)) for p in structure.tracked_files()
           if os.path.exists(os.path.join(ROOT, p)) and os.path.getsize(os.path.join(ROOT, p)) > MAX_TRACKED_BYTES}
    assert big == {}


def test_declared_primitives_exist():
    unknown = {f"{ns}.{name}": op.primitive for (ns, name), op in REGISTRY.items()
               if any(p not in interface.PRIMITIVES for p in op.primitives)}
    assert unknown == {}


def test_primitive_ops_name_their_derivative():
    # a primitive op's gradient is a formula, a named backward, or none; "composite" is for decompositions
    vague = sorted(f"{ns}.{name}" for (ns, name), op in REGISTRY.items()
                   if op.primitives and op.derivative.kind == Derivative.BACKWARD and not op.derivative.fns)
    assert vague == []


def test_every_op_declares_its_dtype_rule():
    assert sorted(f"{ns}.{name}" for (ns, name), op in REGISTRY.items() if op.dtype is None) == []


_RULE_RESULT = {   # rule -> result dtype for one input dtype, where the rule fixes it
    "same": lambda d: d,
    "float": lambda d: d if d.is_floating_point else torch_js.get_default_dtype(),
    "bool": lambda d: torch_js.bool,
    "compare": lambda d: torch_js.bool,
    "logical": lambda d: torch_js.bool,
}


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_elementwise_results_follow_their_declared_rule(dtype):
    d = getattr(torch_js, dtype)
    x = torch_js.tensor([1, 0, 1], dtype=d)
    wrong = {}
    for (ns, name), op in REGISTRY.items():
        if op.kind not in ("unary", "binary") or op.dtype not in _RULE_RESULT or not op.function:
            continue
        try:
            r = op.fn(x) if op.kind == "unary" else op.fn(x, x)
        except (RuntimeError, TypeError, NotImplementedError):
            continue   # the op rejects this dtype, as PyTorch does
        if r.dtype is not _RULE_RESULT[op.dtype](d):
            wrong[f"{ns}.{name}"] = (op.dtype, str(r.dtype))
    assert wrong == {}


def test_ops_doc_is_generated_from_the_declarations():
    import gen_ops_doc
    with open(os.path.join(ROOT, "docs", "ops.md"), encoding="utf-8") as f:
        rows = [line.strip().strip("|").split(" | ") for line in f if line.startswith("| ") and "`" in line]
    documented = {(cells[0].strip(), cells[1].strip()): [c.strip() for c in cells[:8]] for cells in rows}
    declared = {key: [c.strip() for c in gen_ops_doc.declaration_cells(key, op)] for key, op in REGISTRY.items()}
    stale = sorted(k for k in set(declared) | {(ns, n.strip("`")) for ns, n in documented}
                   if documented.get((k[0], f"`{k[1]}`")) != declared.get(k))
    assert stale == [], "docs/ops.md is stale: run `make docs`"


def test_elementwise_ops_record_what_their_derivative_declares():
    # a declared formula/backward records a node for a float input that requires grad; "none" records none, or
    # PyTorch's NotImplemented node that raises at backward
    x = torch_js.tensor([0.5, 0.25, 0.75], requires_grad=True)
    wrong = {}
    for (ns, name), op in REGISTRY.items():
        if op.kind not in ("unary", "binary") or not op.function or op.derivative.kind == Derivative.COMPOSITE:
            continue
        try:
            r = op.fn(x) if op.kind == "unary" else op.fn(x, x)
        except (RuntimeError, TypeError, NotImplementedError):
            continue
        if not isinstance(r, torch_js.Tensor) or not r.dtype.is_floating_point:
            continue   # a bool or Python result has no gradient whatever the declaration says
        differentiable = r.grad_fn is not None and r.grad_fn.name() != "NotImplemented"
        if differentiable != op.has_derivative:
            wrong[f"{ns}.{name}"] = (op.derivative.kind, type(r.grad_fn).__name__)
    assert wrong == {}


def _webgpu_tests_in_makefile():
    """The Makefile's WEBGPU_TESTS (what `make test-webgpu` runs), its wildcard expanded."""
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
        text = f.read()
    value = re.search(r"^WEBGPU_TESTS :=((?:.*\\\n)*.*)$", text, re.M).group(1).replace("\\\n", " ")
    for pattern in re.findall(r"\$\(wildcard ([^)]*)\)", value):
        value = value.replace(f"$(wildcard {pattern})", " ".join(os.path.relpath(p, ROOT) for p in
                                                                 glob.glob(os.path.join(ROOT, pattern))))
    return set(re.sub(r"\$\(sort ([^)]*)\)", r"\1", value).split())


def test_make_test_webgpu_runs_every_test_that_needs_the_bridge():
    # a test that skips without the webgpu bridge runs nowhere else: a file that skips as a whole is named, a test
    # with its own skipif is named or its file is (three files ran nowhere until this was checked)
    listed = _webgpu_tests_in_makefile()
    missing = []
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "test_*.py"))):
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as f:
            source = f.read()
        tree = ast.parse(source)
        whole = any(isinstance(node, ast.Import) and node.names[0].name == "webgpu_only" for node in tree.body)
        if whole:
            if rel not in listed:
                missing.append(rel)
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and any(
                    "skipif" in ast.get_source_segment(source, d) and "webgpu" in ast.get_source_segment(source, d)
                    for d in node.decorator_list):
                if rel not in listed and f"{rel}::{node.name}" not in listed:
                    missing.append(f"{rel}::{node.name}")
    assert missing == [], "add these to WEBGPU_TESTS in the Makefile"
