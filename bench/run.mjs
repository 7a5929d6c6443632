#!/usr/bin/env node
// torch_js benchmark driver (`make bench`): torch_js in Pyodide (this Node process), torch_js in CPython (a
// child .venv python serving one repetition per request) and the wasm peers (bench/peers.mjs, this process),
// case by case, the engines taking turns repetition by repetition so that they share the machine's load.
// Writes bench/results/latest.json and bench/results/<UTC timestamp>.json (git-ignored; headline figures are
// kept by hand in bench/results/SUMMARY.md) and prints a table.
//
//   node bench/run.mjs [--reps N] [--target-ms T] [--cases a,b,...] [--engines e1,e2] [--out DIR] [--quick]
//
// Engines: torch_js-pyodide, torch_js-cpython, tfjs-wasm, jax-wasm. See bench/README.md for how to read it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { bootPyodide, ensureNodeFlags, REPO } from "../js_bridge/pyodide_env.mjs";
import { loadPeers } from "./peers.mjs";

ensureNodeFlags();

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const OURS = "torch_js-pyodide";

function parseArgs(argv) {
  const o = { reps: 11, targetMs: 50, cases: null, engines: null, out: path.join(BENCH, "results") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i];
    if (a === "--reps") o.reps = Number(val());
    else if (a === "--target-ms") o.targetMs = Number(val());
    else if (a === "--cases") o.cases = val().split(",");
    else if (a === "--engines") o.engines = val().split(",");
    else if (a === "--out") o.out = path.resolve(val());
    else if (a === "--quick") { o.reps = 3; o.targetMs = 25; }
    else if (a === "-h" || a === "--help") {
      process.stdout.write(fs.readFileSync(fileURLToPath(import.meta.url), "utf8").split("\nimport ")[0] + "\n");
      process.exit(0);
    } else throw new Error(`bench: unknown argument ${a}`);
  }
  return o;
}

const log = (s) => process.stderr.write(s + "\n");
const load1 = () => Number(os.loadavg()[0].toFixed(2));

// ---- torch_js in CPython: `torch_js_bench.py --serve`, one JSON request/reply line at a time ----------------

function startCPython() {
  const py = path.join(REPO, ".venv", "bin", "python");
  if (!fs.existsSync(py)) throw new Error(`${py} missing: run \`make setup\``);
  const child = spawn(py, [path.join(BENCH, "torch_js_bench.py"), "--serve"], {
    cwd: REPO,
    env: { ...process.env, PYTHONPATH: path.join(REPO, "pytorchjs_py") },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting = [];
  lines.on("line", (l) => waiting.shift()?.resolve(JSON.parse(l)));
  child.on("exit", (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`CPython bench server exited (${code})`));
  });
  const call = (req) => new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    child.stdin.write(JSON.stringify(req) + "\n");
  }).then((r) => {
    if (r.error) throw new Error(`CPython: ${r.error}`);
    return r;
  });
  return {
    name: "torch_js-cpython",
    info: null,
    async init() { this.info = await call({ cmd: "info" }); },
    has: () => true,
    async rep(c, targetS) { return (await call({ cmd: "rep", case: c, target_s: targetS })).sec_per_op; },
    release(c) { return call({ cmd: "release", case: c }); },
    close() { child.stdin.end(); },
  };
}

// ---- torch_js in Pyodide: the same module, imported in this process ----------------------------------------

async function startPyodide() {
  const { pyodide, timings } = await bootPyodide({ install: "unpack", mount: [REPO] });
  pyodide.runPython(`import sys; sys.path.insert(0, ${JSON.stringify(BENCH)})`);
  const mod = pyodide.pyimport("torch_js_bench");
  const info = mod.info().toJs({ dict_converter: Object.fromEntries });
  info.startup_ms = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)]));
  const cases = mod.CASES.toJs({ dict_converter: Object.fromEntries });
  return {
    engine: {
      name: OURS,
      info,
      has: () => true,
      async rep(c, targetS) { return mod.rep(c, targetS); },
      release(c) { mod.release(c); },
    },
    // name -> [kind, work per op]: the one list of cases and their units.
    cases,
  };
}

function figure(kind, work, sec) {
  if (sec == null) return null;
  return kind === "us" ? sec * 1e6 : work / sec / 1e9;
}

const UNIT = { gflops: "GFLOP/s", gbs: "GB/s", us: "µs/op" };

function fmt(v) {
  if (v == null) return "—";
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function table(doc) {
  const engines = doc.engine_order;
  const peers = engines.filter((e) => e !== OURS && e !== "torch_js-cpython");
  const head = ["case", "unit", ...engines, ...peers.map((p) => `×${p}`)];
  const rows = [head];
  for (const [c, r] of Object.entries(doc.results)) {
    rows.push([c, UNIT[r.kind], ...engines.map((e) => fmt(r[e])), ...peers.map((p) => fmt(r.ratio[p]))]);
  }
  const w = head.map((_, j) => Math.max(...rows.map((row) => String(row[j]).length)));
  const line = (row) => row.map((x, j) => (j < 2 ? String(x).padEnd(w[j]) : String(x).padStart(w[j]))).join("  ");
  return [line(rows[0]), w.map((n) => "-".repeat(n)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  const loadStart = os.loadavg();

  log("bench: booting Pyodide ...");
  const { engine: ours, cases: specs } = await startPyodide();
  const engines = [ours];
  let cpy = null;
  if (!opts.engines || opts.engines.includes("torch_js-cpython")) try {
    cpy = startCPython();
    await cpy.init();
    engines.push(cpy);
  } catch (e) {
    log(`bench: CPython side unavailable: ${e.message ?? e}`);
    cpy?.close();
    cpy = null;
  }
  const { peers, errors: peerErrors } = await loadPeers(log);
  engines.push(...peers);
  const active = opts.engines ? engines.filter((e) => opts.engines.includes(e.name)) : engines;
  if (!active.includes(ours)) active.unshift(ours);
  const caseNames = opts.cases ?? Object.keys(specs);
  for (const c of caseNames) if (!(c in specs)) throw new Error(`bench: unknown case ${c}`);

  // Rounds outside, cases inside, engines innermost: each case's repetitions are spread over the whole run, so
  // a burst of load from another process spoils one repetition of many cases, not every repetition of one.
  const targetS = opts.targetMs / 1e3;
  const samples = Object.fromEntries(caseNames.map((c) => [c, Object.fromEntries(active.map((e) => [e.name, []]))]));
  const loads = Object.fromEntries(caseNames.map((c) => [c, []]));
  const failed = new Set();
  for (let r = 0; r < opts.reps; r++) {
    const tr = performance.now();
    for (const c of caseNames) {
      loads[c].push(load1());
      // Rotate who goes first, so no engine always runs right after the same neighbour.
      const order = active.map((_, i) => active[(i + r) % active.length]);
      for (const e of order) {
        const key = `${e.name}/${c}`;
        if (failed.has(key)) continue;
        try {
          const s = await e.rep(c, targetS);
          if (s == null) failed.add(key);
          else samples[c][e.name].push(s);
        } catch (err) {
          log(`bench: ${key}: ${err.message ?? err}`);
          failed.add(key);
        }
      }
    }
    log(`bench: round ${r + 1}/${opts.reps} done (${((performance.now() - tr) / 1e3).toFixed(1)} s, load ${load1()})`);
  }
  for (const c of caseNames) for (const e of active) await e.release(c);

  const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a[Math.floor((a.length - 1) / 2)]; };
  const results = {};
  for (const c of caseNames) {
    const [kind, work] = specs[c];
    const row = { kind, unit: UNIT[kind] };
    const med = {};
    for (const e of active) {
      const xs = samples[c][e.name];
      row[e.name] = xs.length ? figure(kind, work, Math.min(...xs)) : null;
      if (xs.length) med[e.name] = figure(kind, work, median(xs));
    }
    // ratio > 1: torch_js (Pyodide) is faster than that engine, whatever the unit.
    row.ratio = {};
    for (const e of active) {
      if (e === ours || row[e.name] == null || row[OURS] == null) continue;
      row.ratio[e.name] = kind === "us" ? row[e.name] / row[OURS] : row[OURS] / row[e.name];
    }
    row.median = med;
    row.loadavg_1m = [Math.min(...loads[c]), Math.max(...loads[c])];
    results[c] = row;
  }
  cpy?.close();

  const R = (c, p) => results[c]?.ratio?.[p];
  const V = (c) => results[c]?.[OURS];
  const check = (ok, detail) => ({ pass: ok == null ? null : Boolean(ok), ...detail });
  const targets = {
    "dispatch <= 5 µs/op in Pyodide (tiny add, tiny matmul, with and without autograd)": Object.fromEntries(
      ["tiny_add", "tiny_add_grad", "tiny_matmul", "tiny_matmul_grad"].filter((c) => V(c) != null)
        .map((c) => [c, check(V(c) <= 5, { us: V(c) })])),
    "matmul >= 1.3x tfjs-wasm at 512 and 1024": Object.fromEntries(["matmul_512", "matmul_1024"]
      .filter((c) => R(c, "tfjs-wasm") != null).map((c) => [c, check(R(c, "tfjs-wasm") >= 1.3, { ratio: R(c, "tfjs-wasm") })])),
    "matmul ahead of jax-wasm at 512 and 1024": Object.fromEntries(["matmul_512", "matmul_1024"]
      .filter((c) => R(c, "jax-wasm") != null).map((c) => [c, check(R(c, "jax-wasm") > 1, { ratio: R(c, "jax-wasm") })])),
  };

  const cpu = os.cpus();
  const doc = {
    schema: 1,
    timestamp: new Date().toISOString(),
    wall_s: Number(((performance.now() - t0) / 1e3).toFixed(1)),
    machine: {
      cpus: cpu.length,
      cpu_model: cpu[0]?.model,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      loadavg_start: loadStart.map((x) => Number(x.toFixed(2))),
      loadavg_end: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    // More runnable processes than cores for most of the run: every figure is suspect (see README).
    busy: Math.max(loadStart[0], os.loadavg()[0]) > cpu.length * 1.5,
    node: process.version,
    node_flags: process.execArgv,
    pyodide: ours.info.pyodide,
    torch_js_wasm_lib: ours.info.kernel_lib,
    torch_js_relaxed_simd: ours.info.relaxed_simd,
    method: {
      reps: opts.reps,
      target_ms_per_rep: opts.targetMs,
      statistic: "best repetition (median beside it); rounds of all cases, engines interleaved within each, one run",
      ratio: "torch_js-pyodide vs the engine: >1 means torch_js (Pyodide) is faster",
    },
    engine_order: active.map((e) => e.name),
    engines: Object.fromEntries(active.map((e) => [e.name, e.info])),
    peer_errors: peerErrors,
    results,
    targets,
  };

  fs.mkdirSync(opts.out, { recursive: true });
  const json = JSON.stringify(doc, null, 1) + "\n";
  const stamp = doc.timestamp.replace(/[:.]/g, "-");
  fs.writeFileSync(path.join(opts.out, "latest.json"), json);
  fs.writeFileSync(path.join(opts.out, `${stamp}.json`), json);

  const out = [];
  out.push("");
  out.push(`torch_js benchmark — node ${process.version}, pyodide ${doc.pyodide}, torch_js wasm lib ` +
    `${doc.torch_js_wasm_lib}; ${doc.machine.cpus} cpus, load ${doc.machine.loadavg_start[0]} → ` +
    `${doc.machine.loadavg_end[0]}; best of ${opts.reps} × ~${opts.targetMs} ms`);
  out.push("");
  out.push(table(doc));
  out.push("");
  out.push("×peer: torch_js (Pyodide) speed over the peer (>1 = torch_js faster). Targets:");
  for (const [name, t] of Object.entries(targets)) {
    const parts = Object.entries(t).map(([c, v]) => `${c} ${v.pass ? "ok" : "MISS"} (${fmt(v.us ?? v.ratio)})`);
    out.push(`  ${name}: ${parts.join(", ") || "n/a"}`);
  }
  if (doc.busy) {
    out.push(`WARNING: load average reached ${Math.max(doc.machine.loadavg_start[0], doc.machine.loadavg_end[0])} ` +
      `on ${doc.machine.cpus} cpus: other processes took much of the machine; rerun when it is quieter ` +
      `(ratios between engines hold better than absolute figures).`);
  }
  out.push(`wrote ${path.relative(REPO, path.join(opts.out, "latest.json"))} and ${stamp}.json ` +
    `(${doc.wall_s} s)`);
  process.stdout.write(out.join("\n") + "\n");
}

try {
  await main();
  process.exit(0);
} catch (e) {
  log(`bench: ${e.stack ?? e}`);
  process.exit(1);
}
