#!/usr/bin/env node
// Run a Python file under Pyodide (in Node) with torch_js installed: the `python FILE.py args` of the wasm side.
//
//   node js_bridge/pyrun.mjs FILE.py [args...]
//
// `import torch` gives torch_js (torch_js.install_as_torch()), so PyTorch scripts run unchanged.
// sys.argv = [FILE.py, args...]; sys.path[0] = FILE.py's folder; cwd = the caller's cwd. stdout/stderr go
// byte for byte to the host's. A Python exception prints its traceback and exits 1; sys.exit(n) exits n.
// The checkout (and the script's folder, and the cwd) are NODEFS-mounted at their host paths, so the script
// reads and writes real files. Node is re-launched with the V8 flags it needs for JSPI (pyodide.ffi.run_sync) and
// relaxed SIMD when they are missing (pyodide_env.mjs nodeWasmFlags).
//
// Environment:
//   TORCH_JS_INSTALL=unpack|micropip|source   how torch_js gets in (default unpack: dist/torch_js-*.whl)
//   TORCH_JS_TIMINGS=1                        print start-up timings to stderr
//   TORCH_JS_NO_RELAUNCH=1                    keep node's flags as given (e.g. to try the non-relaxed build)
//   TORCH_JS_IMPORT_TORCH=0                   leave `import torch` alone (default: it gives torch_js)
//   TORCH_JS_*, PYTEST_*, PYTHON*, COLUMNS    passed through to os.environ
import path from "node:path";
import fs from "node:fs";
import { bootPyodide, ensureNodeFlags, passEnv, REPO } from "./pyodide_env.mjs";

ensureNodeFlags();

const [file, ...args] = process.argv.slice(2);
if (!file) {
  process.stderr.write("usage: node js_bridge/pyrun.mjs FILE.py [args...]\n");
  process.exit(2);
}
const script = path.resolve(file);
if (!fs.existsSync(script)) {
  process.stderr.write(`pyrun: no such file: ${script}\n`);
  process.exit(2);
}

// Mount the checkout plus any host folder the script needs that is not inside it (NODEFS, same paths).
function mounts(...dirs) {
  const out = [REPO];
  for (const d of dirs) {
    if (!out.some((m) => d === m || d.startsWith(m + path.sep))) out.push(d);
  }
  return out;
}

let pyodide, timings;
try {
  ({ pyodide, timings } = await bootPyodide({
    install: process.env.TORCH_JS_INSTALL ?? "unpack",
    mount: mounts(path.dirname(script), process.cwd()),
    env: passEnv(),
  }));
} catch (e) {
  process.stderr.write(`pyrun: could not start Pyodide with torch_js: ${e.message ?? e}\n`);
  process.exit(1);
}
if (process.env.TORCH_JS_TIMINGS === "1") {
  const ms = Object.entries(timings).map(([k, v]) => `${k} ${Math.round(v)} ms`).join(", ");
  process.stderr.write(`pyrun: ${ms}\n`);
}

// The runner lives in Python so tracebacks are Python's own (no JS PythonError wrapper).
const runner = pyodide.runPython(`
def _pyrun(script, argv, cwd, import_torch):
    import os, runpy, sys, traceback
    if import_torch:
        import torch_js
        torch_js.install_as_torch()
    sys.argv = [script, *argv]
    sys.path.insert(0, os.path.dirname(script))
    os.chdir(cwd)
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        # Drop runpy's own frames so the traceback starts at the script.
        etype, value, tb = sys.exc_info()
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        traceback.print_exception(etype, value, tb if tb is not None else value.__traceback__)
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code
_pyrun
`);
// callPromising: the JSPI entry point, so pyodide.ffi.run_sync works inside the script.
let code;
try {
  const importTorch = process.env.TORCH_JS_IMPORT_TORCH !== "0";
  code = await runner.callPromising(script, pyodide.toPy(args), process.cwd(), importTorch);
} catch (e) {
  process.stderr.write(`pyrun: ${e.message ?? e}\n`);
  code = 1;
}
process.exit(code);
