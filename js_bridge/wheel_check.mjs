#!/usr/bin/env node
// Checks the built wheel the way a Pyodide user gets it (part of `make test-pyodide`):
//   1. micropip.install("emfs:/.../torch_js-*.whl") in a fresh Pyodide, import torch_js, run an op and a
//      backward pass, and check that the relaxed-SIMD kernels were picked (node runs with relaxed SIMD on).
//   2. The same through micropip in a child node WITHOUT --experimental-wasm-relaxed-simd (Node 20; later Node
//      ships relaxed SIMD, and the child then checks the relaxed kernels again): the probe in
//      backends/cpu/library.py must say no and the plain libtjs_wasm32.wasm must be loaded. (The kernel libraries are named
//      *.wasm, not *.so, so that micropip does not dlopen both of them up front: the relaxed one does not even
//      compile on an engine without relaxed SIMD.)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { bootPyodide, ensureNodeFlags, findWheel } from "./pyodide_env.mjs";

const child = process.argv[2] === "--no-relaxed-child";
if (!child) ensureNodeFlags();

const CHECK = `
import os, torch_js, torch_js.backends.cpu.library as native
lib = os.path.basename(native.LIB_PATH)
relaxed = native._relaxed_simd_supported()
assert lib == ("libtjs_wasm32_relaxed.wasm" if relaxed else "libtjs_wasm32.wasm"), (lib, relaxed)
assert os.path.exists(os.path.join(os.path.dirname(native.LIB_PATH), "tjs.h"))
x = torch_js.arange(6, dtype=torch_js.float32).reshape(2, 3).requires_grad_()
y = (x * x).sum()
y.backward()
assert y.item() == 55.0, y
assert x.grad.tolist() == [[0.0, 2.0, 4.0], [6.0, 8.0, 10.0]], x.grad
f"{lib} (relaxed SIMD {'on' if relaxed else 'off'})"
`;

const mode = "micropip";
const wheel = findWheel();
let pyodide, timings, what;
try {
  ({ pyodide, timings } = await bootPyodide({ install: mode, wheel, mount: [] }));
  what = pyodide.runPython(CHECK);
} catch (e) {
  // e.message of a PythonError is the Python traceback; printing e itself would dump minified pyodide.asm.mjs.
  process.stderr.write(`wheel_check (${mode}, relaxed SIMD flag ${child ? "off" : "on"}) FAILED:\n${e.message ?? e}\n`);
  process.exit(1);
}
console.log(`wheel_check: ${wheel.split("/").pop()} via ${mode}: import torch_js in ${Math.round(timings.ready)} ms ` +
  `(boot ${Math.round(timings.boot)}, install ${Math.round(timings.install)}, import ${Math.round(timings.import)}); ` +
  `kernels ${what}`);
if (!child) {
  const flags = process.execArgv.filter((f) => f !== "--experimental-wasm-relaxed-simd");
  const r = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), "--no-relaxed-child"], {
    stdio: "inherit", env: { ...process.env, TORCH_JS_NO_RELAUNCH: "1" },
  });
  process.exit(r.status ?? 1);
}
