"""The package's structure, read from its source: import graph (module- and function-level), cycles, file
sizes, op registration sites. tests/test_structure.py holds the rules; `python tools/structure.py` prints
the figures (the closing notes' before/after tables come from it).
"""
import ast
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PKG_DIR = os.path.join(ROOT, "pytorchjs_py")
PKG = "torch_js"


def package_modules():
    """{module name: path} for every .py file of torch_js."""
    mods = {}
    base = os.path.join(PKG_DIR, PKG)
    for dirpath, _, files in os.walk(base):
        for f in files:
            if not f.endswith(".py"):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, PKG_DIR)[:-3].split(os.sep)
            if rel[-1] == "__init__":
                rel = rel[:-1]
            mods[".".join(rel)] = path
    return mods


def _resolve(mod, is_pkg, level, name):
    if level == 0:
        return name
    parts = mod.split(".")
    if not is_pkg:
        parts = parts[:-1]
    if level > 1:
        parts = parts[:len(parts) - (level - 1)]
    return ".".join(parts + ([name] if name else []))


class Import:
    __slots__ = ("src", "dst", "line", "function_level", "comment")

    def __init__(self, src, dst, line, function_level, comment):
        self.src, self.dst, self.line, self.function_level, self.comment = src, dst, line, function_level, comment

    def __repr__(self):
        return f"{self.src}:{self.line} -> {self.dst}{' (in a function)' if self.function_level else ''}"


def imports(mods=None):
    """Every import of a torch_js module by a torch_js module: Import(src, dst, line, function_level, comment)."""
    mods = mods or package_modules()
    out = []
    for mod, path in mods.items():
        with open(path) as f:
            src = f.read()
        lines = src.splitlines()
        tree = ast.parse(src, path)
        is_pkg = path.endswith("__init__.py")
        parents = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node

        def in_function(node):
            while node in parents:
                node = parents[node]
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    return True
            return False

        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node.level, node.module or "")
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in mods else base)
            else:
                continue
            line = lines[node.lineno - 1]
            comment = line.split("#", 1)[1].strip() if "#" in line else ""   # the why, on the import's line
            for t in dict.fromkeys(targets):
                if t in mods and t != mod:
                    out.append(Import(mod, t, node.lineno, in_function(node), comment))
                    # importing a.b.c first runs a.b's __init__: an import of that package too, unless the importer
                    # lives inside it (then it is already running)
                    parts = t.split(".")
                    for k in range(2, len(parts)):
                        pkg = ".".join(parts[:k])
                        if pkg in mods and pkg != mod and not mod.startswith(pkg + "."):
                            out.append(Import(mod, pkg, node.lineno, in_function(node), comment))
    return out


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph = {}
    for e in edges:
        graph.setdefault(e.src, set()).add(e.dst)
        graph.setdefault(e.dst, set())
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        work = [(v, iter(sorted(graph[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


# Layers, low to high: a module imports only modules of its own layer or lower (docs/architecture.md draws them).
# The first matching prefix decides; a package's modules share its layer.
LAYERS = (
    ("core", 1, ("torch_js._dtype", "torch_js._storage", "torch_js._grad_mode", "torch_js._memory_format",
                 "torch_js._tensor")),
    ("backends", 2, ("torch_js.backends",)),
    ("autograd graph", 3, ("torch_js._graph",)),
    ("ops", 4, ("torch_js.ops", "torch_js._generator", "torch_js._printing")),
    ("autograd", 5, ("torch_js.autograd",)),
    ("front", 6, ("torch_js.nn", "torch_js.optim", "torch_js.utils", "torch_js.serialization", "torch_js.linalg",
                  "torch_js.webgpu", "torch_js")),
)


def layer_of(module):
    for name, level, prefixes in LAYERS:
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                return name, level
    raise KeyError(module)


def upward_imports(edges):
    """Imports from a lower layer to a higher one."""
    return [e for e in edges if layer_of(e.src)[1] < layer_of(e.dst)[1]]


def tracked_files():
    res = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [p for p in res.stdout.decode().split("\0") if p]


SOURCE_EXT = (".py", ".mjs", ".js", ".c", ".h")


def line_counts(paths):
    counts = {}
    for p in paths:
        if p.endswith(SOURCE_EXT) and os.path.exists(os.path.join(ROOT, p)):
            with open(os.path.join(ROOT, p), errors="replace") as f:
                counts[p] = sum(1 for _ in f)
    return counts


def register_sites(mods=None):
    """Call sites that put an op into the registry (calls of register/declare-style functions)."""
    mods = mods or package_modules()
    names = {"register", "reg"}
    sites = []
    for mod, path in mods.items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
                if name in names:
                    sites.append((mod, node.lineno))
    return sites


def report():
    mods = package_modules()
    edges = imports(mods)
    module_level = [e for e in edges if not e.function_level]
    fn_level = [e for e in edges if e.function_level]
    files = tracked_files()
    counts = line_counts(files)
    pkg_lines = sum(n for p, n in counts.items() if p.startswith("pytorchjs_py/") and p.endswith(".py"))
    print(f"package: {len(mods)} modules, {pkg_lines} lines of Python")
    print(f"imports between package modules: {len(module_level)} module-level, {len(fn_level)} function-level")
    print(f"  function-level without a comment saying why: {sum(1 for e in fn_level if not e.comment)}")
    cyc_all = cycles(edges)
    cyc_mod = cycles(module_level)
    print(f"cycles counting function-level imports: {len(cyc_all)} "
          f"({', '.join(str(len(c)) + ' modules' for c in cyc_all) or 'none'})")
    for c in cyc_all:
        print("   ", " ".join(c))
    print(f"cycles of module-level imports: {len(cyc_mod)}")
    print(f"imports that go up a layer: {len(upward_imports(edges))}")
    print(f"register sites: {len(register_sites(mods))}")
    print("largest source files:")
    for p, n in sorted(counts.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {n:6d}  {p}")
    big = [(os.path.getsize(os.path.join(ROOT, p)), p) for p in files if os.path.exists(os.path.join(ROOT, p))]
    print("largest tracked files:")
    for size, p in sorted(big, reverse=True)[:4]:
        print(f"  {size / 1e6:6.2f} MB  {p}")


if __name__ == "__main__":
    sys.exit(report())
