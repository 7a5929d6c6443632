#!/usr/bin/env node
// Add Python 3.14 bytecode to pure-Python wheels, compiled by the site's own Pyodide (node_modules/pyodide), so that
// the site's kernel imports them without compiling every module at each start (Pyodide's own package builds ship
// bytecode for the same reason; the PyPI wheels the site uses do not):
//
//   node tools/compile_wheels.mjs OUT_DIR WHEEL...     -> OUT_DIR/<same file name> for each WHEEL
//
// Each module's source stays (tracebacks show its lines); beside it goes __pycache__/<mod>.cpython-314.pyc as an
// unchecked hash-based pyc (PEP 552: used without reading the source's mtime, which unpacking a wheel does not keep),
// listed in RECORD. Entries keep their zip timestamps: the same input gives the same bytes. tools/build_site.py runs
// this and caches the results by the input's hash.
//
// A .zip that is not a wheel (the core's python_stdlib.zip, which holds sources only) is an archive Python imports
// from in place (zipimport): each <mod>.py gets <mod>.pyc beside it, the name zipimport looks for first. Without
// it, every start compiles each standard-library module it imports (Pyodide's own start, IPython's, torch_js's).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [outDir, ...wheels] = process.argv.slice(2);
if (!outDir || !wheels.length) {
  process.stderr.write("usage: node tools/compile_wheels.mjs OUT_DIR WHEEL...\n");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const indexURL = path.dirname(require.resolve("pyodide/package.json", { paths: [REPO] })) + path.sep;
const { loadPyodide } = await import(path.join(indexURL, "pyodide.mjs"));
const pyodide = await loadPyodide({ indexURL });
pyodide.runPython(`
import base64, hashlib, importlib.util, posixpath, sys, zipfile
from importlib._bootstrap_external import _code_to_hash_pyc

def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"

def _pyc(data, filename):
    """An unchecked hash-based pyc of a module's source, or None where it is not Python (a template named .py)."""
    try:
        code = compile(data, filename, "exec", dont_inherit=True)
    except SyntaxError:
        return None
    return bytes(_code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False))

def add_bytecode_zipimport(src, dst):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        added = 0
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, data)
            pyc = _pyc(data, info.filename) if info.filename.endswith(".py") else None
            if pyc is None:
                continue
            entry = zipfile.ZipInfo(info.filename + "c", date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            zout.writestr(entry, pyc)
            added += 1
    return added

def add_bytecode(src, dst):
    if not src.endswith(".whl"):
        return add_bytecode_zipimport(src, dst)
    tag = sys.implementation.cache_tag
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        record_name = next(n for n in zin.namelist() if n.endswith(".dist-info/RECORD"))
        added = []
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == record_name:
                record = data.decode()
                continue
            zout.writestr(info, data)
            pyc = _pyc(data, info.filename) if info.filename.endswith(".py") else None
            if pyc is None:
                continue
            folder, base = posixpath.split(info.filename)
            name = posixpath.join(folder, "__pycache__", f"{base[:-3]}.{tag}.pyc")
            entry = zipfile.ZipInfo(name, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            zout.writestr(entry, pyc)
            added.append(_record_line(name, pyc))
        entry = zin.getinfo(record_name)
        zout.writestr(entry, record.rstrip("\\n") + "\\n" + "".join(line + "\\n" for line in added))
    return len(added)
`);
const addBytecode = pyodide.globals.get("add_bytecode");
fs.mkdirSync(outDir, { recursive: true });
pyodide.FS.mkdirTree("/wheels/in");
pyodide.FS.mkdirTree("/wheels/out");
for (const whl of wheels) {
  const name = path.basename(whl);
  pyodide.FS.writeFile(`/wheels/in/${name}`, fs.readFileSync(whl));
  const n = addBytecode(`/wheels/in/${name}`, `/wheels/out/${name}`);
  fs.writeFileSync(path.join(outDir, name), pyodide.FS.readFile(`/wheels/out/${name}`));
  process.stdout.write(`${name}: ${n} modules compiled\n`);
}
