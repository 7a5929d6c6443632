// Shared Node loader for torch_js under Pyodide: boot the interpreter, install the torch_js wheel (and any
// extra pure-Python wheels, e.g. pytest), wire stdout/stderr, and hand back the pyodide object.
//
//   import { bootPyodide, ensureNodeFlags } from "./pyodide_env.mjs";
//   ensureNodeFlags();                       // relaunch node with the wasm flags below if they are missing
//   const { pyodide, timings } = await bootPyodide();
//
// Install modes (opts.install):
//   "unpack"   (default) pyodide.unpackArchive(wheel, "wheel") straight into site-packages: no network, no
//              resolver, no dynlib preloading; torch_js opens its kernel library itself through ctypes.
//   "micropip" micropip.install("emfs:/tmp/wheels/<wheel>") -- the path a browser user takes. Needs the micropip
//              wheel in build/pyodide-wheels (`make pyodide-deps`).
//   "source"   no wheel: mount the checkout's pytorchjs_py/ and put it on sys.path (needs `make build` only).
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WHEEL_DIR = path.join(REPO, "dist");
export const DEPS_DIR = path.join(REPO, "build", "pyodide-wheels");

// What Pyodide needs from V8 beyond the defaults: JSPI (pyodide.ffi.run_sync, run_until_complete: the webgpu
// device's readbacks) and relaxed SIMD (so torch_js picks libtjs_wasm32_relaxed.wasm). Node 20 has both behind
// flags, JSPI in its first, slow form (a run_sync round trip ~0.9 ms, against ~0.1 ms on Node 24's
// --experimental-wasm-jspi); Node 22-24 ship relaxed SIMD; Node 25 ships both. A flag this Node does not know
// stops it at start ("bad option"), so the flags are chosen from what the engine has and what `--v8-options` lists.
const RELAXED_SIMD_PROBE = new Uint8Array([   // () -> (): three v128.const, f32x4.relaxed_madd, drop (library.py)
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 0x0a, 0x3e, 1, 0x3c, 0,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]), 0xfd, 0x85, 2, 0x1a, 0x0b]);

/** The V8 flags this Node needs for JSPI and relaxed SIMD ([] where it has both already). */
export function nodeWasmFlags() {
  const jspi = typeof WebAssembly.Suspending === "function" || typeof WebAssembly.Suspender === "function";
  const relaxed = WebAssembly.validate(RELAXED_SIMD_PROBE);
  if (jspi && relaxed) return [];
  const known = spawnSync(process.execPath, ["--v8-options"], { encoding: "utf8" }).stdout ?? "";
  const listed = (f) => known.includes(`${f} `) || known.includes(`${f}\n`);
  const flags = [];
  if (!jspi) flags.push(["--experimental-wasm-jspi", "--experimental-wasm-stack-switching"].find(listed));
  if (!relaxed && listed("--experimental-wasm-relaxed-simd")) flags.push("--experimental-wasm-relaxed-simd");
  return flags.filter(Boolean);
}

/** Re-exec this script under `node <nodeWasmFlags()> ...` when this process lacks JSPI or relaxed SIMD; never
 *  returns in that case. Set TORCH_JS_NO_RELAUNCH=1 to run with whatever flags node was given (e.g. to test the
 *  non-relaxed path). */
export function ensureNodeFlags(flags = null) {
  if (process.env.TORCH_JS_NO_RELAUNCH === "1") return;
  const have = new Set([...process.execArgv, ...(process.env.NODE_OPTIONS || "").split(/\s+/)]);
  const missing = (flags ?? nodeWasmFlags()).filter((f) => !have.has(f));
  if (missing.length === 0) return;
  const r = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, TORCH_JS_NO_RELAUNCH: "1" },
  });
  if (r.error) throw r.error;
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}

/** The newest dist/torch_js-*.whl (by mtime), or a clear error. */
export function findWheel(dir = WHEEL_DIR) {
  const whls = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^torch_js-.*\.whl$/.test(f)) : [];
  if (whls.length === 0) throw new Error(`no torch_js wheel in ${dir}: run \`make wheel\` first`);
  whls.sort((a, b) => fs.statSync(path.join(dir, b)).mtimeMs - fs.statSync(path.join(dir, a)).mtimeMs);
  return path.join(dir, whls[0]);
}

/** The first package file (pytorchjs_py/torch_js/**) newer than `wheel`, or null: a stale wheel hides edits. */
export function newerThanWheel(wheel) {
  const t = fs.statSync(wheel).mtimeMs;
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === "__pycache__") continue;
        const hit = walk(p);
        if (hit) return hit;
      } else if (/\.(py|so|h)$/.test(e.name) && fs.statSync(p).mtimeMs > t) {
        return p;
      }
    }
    return null;
  };
  const pkg = path.join(REPO, "pytorchjs_py", "torch_js");
  return fs.existsSync(pkg) ? walk(pkg) : null;
}

/** Wheels in build/pyodide-wheels whose distribution name is in `names` (e.g. ["pytest", "pluggy"]). */
export function findDeps(names, dir = DEPS_DIR) {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".whl")) : [];
  return names.map((n) => {
    const norm = n.toLowerCase().replace(/[-_.]+/g, "_");
    const f = files.find((x) => x.split("-")[0].toLowerCase().replace(/[-_.]+/g, "_") === norm);
    if (!f) throw new Error(`wheel for ${n} not in ${dir}: run \`make pyodide-deps\``);
    return path.join(dir, f);
  });
}

/** Host environment variables worth passing to Python (TORCH_JS_*, PYTEST_*, PYTHON*, terminal size/colour). */
export function passEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TORCH_JS_|PYTEST_|PYTHON|COLUMNS$|LINES$|NO_COLOR$|FORCE_COLOR$)/.test(k)) env[k] = v;
  }
  if (!env.COLUMNS && process.stdout.isTTY) env.COLUMNS = String(process.stdout.columns);
  return env;
}

// Pyodide's type checks want a plain Uint8Array, not a Node Buffer (its subclass).
function readBytes(file) {
  const b = fs.readFileSync(file);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// A Pyodide stdout/stderr device that writes raw bytes to a host fd: no line re-splitting, no UTF-8 decoding
// of partial characters, no lost trailing newline.
function fdWriter(fd) {
  return {
    isatty: Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY),
    write(buf) {
      let off = 0;
      while (off < buf.length) {
        try {
          off += fs.writeSync(fd, buf, off, buf.length - off);
        } catch (e) {
          if (e.code !== "EAGAIN") throw e; // non-blocking pipe is full: spin until the reader catches up
        }
      }
      return buf.length;
    },
  };
}

/**
 * Boot Pyodide in Node with torch_js installed.
 * opts.install  "unpack" | "micropip" | "source"  (see top of file)
 * opts.wheel    path of the torch_js wheel (default: newest in dist/)
 * opts.deps     extra pure-Python wheel paths to unpack into site-packages first
 * opts.mount    host directories to NODEFS-mount at the same absolute path (default: [REPO])
 * opts.env      environment for Python's os.environ
 * opts.importTorch  import torch_js once (default true) so timings.ready means "import torch_js done"
 * opts.webgpu  make the "webgpu" device available (js_bridge/webgpu; default: env TORCH_JS_WEBGPU=1)
 * Returns { pyodide, timings: {boot, install, import, ready} (ms), sitePackages }.
 */
export async function bootPyodide(opts = {}) {
  const t0 = performance.now();
  const install = opts.install ?? "unpack";
  const require = createRequire(import.meta.url);
  const indexURL = path.dirname(require.resolve("pyodide/package.json", { paths: [REPO] })) + path.sep;
  const { loadPyodide } = await import(path.join(indexURL, "pyodide.mjs"));
  const pyodide = await loadPyodide({ indexURL, env: { HOME: "/home/pyodide", ...(opts.env ?? {}) } });
  pyodide.setStdout(fdWriter(1));
  pyodide.setStderr(fdWriter(2));
  const tBoot = performance.now();

  const FS = pyodide.FS;
  for (const dir of opts.mount ?? [REPO]) {
    try {
      FS.mkdirTree(dir);
      pyodide.mountNodeFS(dir, dir);
    } catch (e) {
      // e.g. "/" or a folder Pyodide already fills (/lib, /home/pyodide): not mountable at the same path.
      process.stderr.write(`pyodide_env: not mounting ${dir}: ${e.message ?? e}\n`);
    }
  }
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  for (const whl of opts.deps ?? []) pyodide.unpackArchive(readBytes(whl), "wheel", { extractDir: sitePackages });

  if ((install === "unpack" || install === "micropip") && !opts.wheel) {
    const newer = newerThanWheel(findWheel());
    if (newer) {
      process.stderr.write(`pyodide_env: warning: ${path.relative(REPO, newer)} is newer than ` +
        `${path.relative(REPO, findWheel())}; run \`make wheel\` (or TORCH_JS_INSTALL=source) to test your edits\n`);
    }
  }
  if (install === "unpack") {
    pyodide.unpackArchive(readBytes(opts.wheel ?? findWheel()), "wheel", { extractDir: sitePackages });
  } else if (install === "micropip") {
    const whl = opts.wheel ?? findWheel();
    const [mp] = findDeps(["micropip"]);
    pyodide.unpackArchive(readBytes(mp), "wheel", { extractDir: sitePackages });
    FS.mkdirTree("/torch_js_wheels"); // not /tmp: a host /tmp may be mounted there
    const dst = "/torch_js_wheels/" + path.basename(whl);
    FS.writeFile(dst, fs.readFileSync(whl));
    await pyodide.runPythonAsync(`import micropip\nawait micropip.install(${JSON.stringify("emfs:" + dst)}, deps=False)`);
  } else if (install === "source") {
    const src = path.join(REPO, "pytorchjs_py");
    if (!(opts.mount ?? [REPO]).some((d) => src.startsWith(d))) {
      FS.mkdirTree(src);
      pyodide.mountNodeFS(src, src);
    }
    pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(src)})`);
  } else {
    throw new Error(`bootPyodide: unknown install mode ${install}`);
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  const tInstall = performance.now();
  // WebGPU (opts.webgpu or TORCH_JS_WEBGPU=1): define globalThis.torchJsWebGPUInit before torch_js is imported, so
  // torch_js registers the "webgpu" device. No adapter is requested (and Dawn's globals are not installed) until
  // Python first uses the device, which is after loadPyodide, as Dawn in Node needs.
  if (opts.webgpu ?? process.env.TORCH_JS_WEBGPU === "1") {
    const { installWebGPU } = await import("./webgpu/index.mjs");
    await installWebGPU({ eager: true });
  }
  if (opts.importTorch ?? true) pyodide.runPython("import torch_js");
  const tImport = performance.now();
  const timings = {
    boot: tBoot - t0, install: tInstall - tBoot, import: tImport - tInstall, ready: tImport - t0,
  };
  return { pyodide, timings, sitePackages };
}
