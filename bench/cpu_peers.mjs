#!/usr/bin/env node
// CPU peers (issue 19): torch_js's wasm kernels in Pyodide at N threads beside ONNX Runtime Web's wasm backend at
// N threads, both in this Node process, and PyTorch native at N threads (a python process run first), on the same
// workloads with the same weights and inputs (bench/cpu_peers_workloads.py: matmul 256-2048, a MiniLM-shaped encoder
// forward; an MLP and a CNN training step, which ORT-Web cannot run: torch_js and PyTorch only).
//
//   node bench/cpu_peers.mjs [--threads 1,2,4,8,16] [--sizes 256,512,1024,2048] [--rounds 5] [--out FILE]
//                            [--no-torch] [--python PATH] [--wheel PATH]
//
// Threads above the machine's cores are dropped. Writes bench/results/cpu_peers.json and prints a table (ms per
// call, best of --rounds; within a round the two wasm engines take turns, so they share the machine's load alike);
// the minilm rows also say where one torch_js forward's time went (pool kernels, copies, top ops: "breakdown").
// Each engine's turn starts once the other's pool has stopped using the CPU (ORT-Web's threads spin after a run);
// "ort@tjs" is the cores ORT-Web's threads still used during torch_js's turn (0 on a fair turn).
// Needs: dist/torch_js-*.whl (`make wheel`), node_modules/pyodide, node_modules/onnxruntime-web (+ onnxruntime-common)
// and build/cpu_peers/{minilm,matmul}.onnx + manifest.json (`make cpu-peers-models`). Where node_modules lacks
// onnxruntime-web or build/cpu_peers has no graphs, .devcarry/cpu_peers.tar.xz (bench/pack_cpu_peers.sh) is unpacked
// into build/cpu_peers; where node_modules lacks pyodide, .devcarry/pyodide.tar.xz is unpacked into node_modules.
// PyTorch: --python, else $TORCH_PYTHON, else .venv/bin/python, else python3.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { bootPyodide, ensureNodeFlags } from "../js_bridge/pyodide_env.mjs";

ensureNodeFlags();

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(BENCH, "..");
const MODELS = path.join(REPO, "build", "cpu_peers");
const CARRY = path.join(REPO, ".devcarry");
const ORT_ENTRY = path.join("node_modules", "onnxruntime-web", "dist", "ort.node.min.mjs");
const log = (s) => process.stderr.write(s + "\n");

function untar(archive, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync("tar", ["-xJf", archive, "-C", dir], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`cpu_peers: could not unpack ${archive}`);
  log(`cpu_peers: unpacked ${path.relative(REPO, archive)} into ${path.relative(REPO, dir)}`);
}

// What the device lacks comes from the carried tarballs (before pyodide_env.mjs looks for Pyodide).
function ensureFiles() {
  if (!fs.existsSync(path.join(REPO, "node_modules", "pyodide", "package.json"))
      && fs.existsSync(path.join(CARRY, "pyodide.tar.xz"))) {
    untar(path.join(CARRY, "pyodide.tar.xz"), path.join(REPO, "node_modules"));
  }
  const haveOrt = [REPO, MODELS].some((d) => fs.existsSync(path.join(d, ORT_ENTRY)));
  if ((!haveOrt || !fs.existsSync(path.join(MODELS, "manifest.json")))
      && fs.existsSync(path.join(CARRY, "cpu_peers.tar.xz"))) {
    untar(path.join(CARRY, "cpu_peers.tar.xz"), MODELS);
  }
  const ort = [REPO, MODELS].map((d) => path.join(d, ORT_ENTRY)).find((p) => fs.existsSync(p));
  if (!ort) throw new Error("cpu_peers: no onnxruntime-web: `npm install`, or carry .devcarry/cpu_peers.tar.xz");
  if (!fs.existsSync(path.join(MODELS, "manifest.json"))) {
    throw new Error("cpu_peers: no build/cpu_peers/manifest.json: `make cpu-peers-models` (or carry the tarball)");
  }
  return pathToFileURL(ort).href;
}

function parseArgs(argv) {
  const o = { threads: [1, 2, 4, 8, 16], sizes: [256, 512, 1024, 2048], rounds: 5, torch: true, python: null,
    out: path.join(BENCH, "results", "cpu_peers.json") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], val = () => argv[++i];
    if (a === "--threads") o.threads = val().split(",").map(Number);
    else if (a === "--sizes") o.sizes = val().split(",").map(Number);
    else if (a === "--rounds") o.rounds = Number(val());
    else if (a === "--out") o.out = path.resolve(val());
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--python") o.python = val();
    else if (a === "--wheel") o.wheel = path.resolve(val());   // another build of torch_js (before/after runs)
    else throw new Error(`cpu_peers: unknown argument ${a}`);
  }
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  o.dropped = o.threads.filter((t) => t > cores);
  o.threads = o.threads.filter((t) => t <= cores);
  o.cores = cores;
  return o;
}

function pythonPath(opt) {
  if (opt) return opt;
  if (process.env.TORCH_PYTHON) return process.env.TORCH_PYTHON;
  const venv = path.join(REPO, ".venv", "bin", "python");
  return fs.existsSync(venv) ? venv : "python3";
}

/** PyTorch native at each thread count (cpu_peers_workloads.py), or {error}. */
function runTorch(o, minilmOut) {
  const py = pythonPath(o.python);
  log(`cpu_peers: PyTorch native (${py})`);
  const r = spawnSync(py, [path.join(BENCH, "cpu_peers_workloads.py"), "--threads", o.threads.join(","),
    "--sizes", o.sizes.join(","), "--rounds", String(o.rounds), "--minilm-out", minilmOut], {
    cwd: REPO, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 1 << 26,
  });
  const last = (r.stdout ?? "").trim().split("\n").pop();
  try {
    return { python: py, ...JSON.parse(last) };
  } catch {
    return { python: py, error: `exit ${r.status}${r.error ? `: ${r.error.message}` : ""}` };
  }
}

/** A worker running ORT-Web at `threads` threads; call(op, fields) -> its answer. */
async function ortWorker(ortModule, threads) {
  const w = new Worker(new URL("./cpu_peers_ort.mjs", import.meta.url), { workerData: { ortModule, threads } });
  const waiting = new Map();
  let next = 0;
  await new Promise((resolve, reject) => {
    w.once("message", resolve);
    w.once("error", reject);
  });
  w.on("message", (m) => {
    const p = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.value);
  });
  w.on("error", (e) => { for (const p of waiting.values()) p.reject(e); });
  return {
    call: (op, fields = {}, transfer = []) => new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      w.postMessage({ id, op, ...fields }, transfer);
    }),
    close: () => w.terminate(),
  };
}

const PY_SIDE = `
import sys, json
sys.path.insert(0, ${JSON.stringify(BENCH)})
import torch_js
import cpu_peers_workloads as W
from torch_js.backends.cpu import library, threads as cpu_threads, wasm_threads

work = W.Workloads(torch_js)

def pool(n):
    info = {"kernels": library.LIB_PATH.rsplit("/", 1)[-1], "available": wasm_threads.available(),
            "reason": wasm_threads.unavailable_reason(), "cores": cpu_threads.machine_cores()}
    if info["available"]:
        info["workers_ready"] = wasm_threads.start_workers(n, wait_ms=30000)
    return json.dumps(info)

def set_threads(n):
    torch_js.set_num_threads(n)
    return torch_js.get_num_threads()

def joined():
    return wasm_threads.joined()

def raw(t):
    return t.contiguous()._raw_bytes()

def matmul_inputs(n):
    return [raw(t) for t in work.matmul_inputs(n)]

def minilm_external(layout_json, total):
    state = work.encoder.state_dict()
    buf = bytearray(total)
    for key, offset, length in json.loads(layout_json):
        b = raw(state[key])
        assert len(b) == length, key
        buf[offset:offset + length] = b
    return bytes(buf)

def last(case):
    return raw(work.last[case])

def first_loss(case):
    return work.first_loss[case]

def minilm_breakdown():
    from cpu_threads_bench import minilm_breakdown as split
    with torch_js.no_grad():
        return json.dumps(split(work.encoder, work.minilm_x))
`;

const f32 = (u8) => new Float32Array(u8.buffer, u8.byteOffset, u8.byteLength / 4);
const bytesOf = (pyBytes) => {
  const u8 = pyBytes.toJs();
  pyBytes.destroy?.();
  return u8;
};

function maxAbsDiff(a, b, rowLen = 0, rowStep = 1) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  const rows = rowLen ? a.length / rowLen : 1, len = rowLen || a.length;
  for (let r = 0; r < rows; r += rowStep) {
    for (let i = r * len; i < (r + 1) * len; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

/** {thread id: CPU ticks} of this process's threads (Linux /proc; {} elsewhere). */
function threadTicks() {
  try {
    return Object.fromEntries(fs.readdirSync("/proc/self/task").map((tid) => {
      const f = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1].split(" ");
      return [tid, Number(f[11]) + Number(f[12])];
    }));
  } catch {
    return {};
  }
}

/** Adds the CPU ticks each thread spent since `before` into `into`. */
function addTicks(into, before) {
  for (const [tid, ticks] of Object.entries(threadTicks())) into[tid] = (into[tid] ?? 0) + ticks - (before[tid] ?? 0);
}

/** Threads that did at least a tenth of the work (the split's evidence, whatever the machine's load); null under
 *  20 ticks (0.2 s), too few to tell. */
const busyThreads = (ticks) => {
  const v = Object.values(ticks), total = v.reduce((a, b) => a + b, 0);
  return total >= 20 ? v.filter((x) => x >= total / 10).length : null;
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const taskIds = () => { try { return fs.readdirSync("/proc/self/task"); } catch { return []; } };

/** CPU ticks (1/100 s) of the threads `tids`, all together. */
function ticksOf(tids) {
  const t = threadTicks();
  return tids.reduce((sum, tid) => sum + (t[tid] ?? 0), 0);
}

/** Waits until the threads `tids` (the other engine's pool) stop using the CPU: a pool that spins after its work
 *  (ORT's intra-op threads do, for a while) would otherwise run beside the next engine's turn, taking cores from it
 *  and counting as its CPU. At most 2 s; where /proc is missing, a fixed 20 ms. */
async function quiesce(tids) {
  if (!tids.length) return sleep(20);
  for (let t0 = performance.now(), last = ticksOf(tids); performance.now() - t0 < 2000;) {
    await sleep(20);
    const now = ticksOf(tids);
    if (now === last) return;
    last = now;
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const ortModule = ensureFiles();
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, "manifest.json"), "utf8"));
  const matmuls = o.sizes.map((n) => `matmul_${n}`);
  const cases = [...matmuls, "minilm", "mlp_train", "cnn_train"];
  const result = {
    machine: { cores: o.cores, cpus: os.cpus()[0]?.model, platform: `${os.platform()} ${os.release()}`,
      loadavg_start: os.loadavg() },
    node: process.version, threads: o.threads, threads_dropped: o.dropped, rounds: o.rounds, cases,
    unit: "ms per call (best of rounds)", engines: {}, results: {}, checks: {},
  };
  if (o.dropped.length) log(`cpu_peers: ${o.dropped.join(",")} thread(s) dropped: ${o.cores} cores`);

  const torchRef = path.join(MODELS, "minilm_y_torch.f32");
  fs.rmSync(torchRef, { force: true });
  const torch = o.torch ? runTorch(o, torchRef) : { skipped: true };
  result.engines.torch = { python: torch.python, version: torch.torch, error: torch.error, skipped: torch.skipped };

  const { pyodide, timings } = await bootPyodide({ mount: [REPO], wheel: o.wheel });
  pyodide.runPython(PY_SIDE);
  const py = (name) => pyodide.globals.get(name);
  const poolInfo = JSON.parse(py("pool")(Math.max(...o.threads)));
  result.engines["torch_js-pyodide"] = { pyodide: pyodide.version, startup_ms: Math.round(timings.ready), ...poolInfo };
  log(`cpu_peers: torch_js in Pyodide ${pyodide.version}: ${JSON.stringify(poolInfo)}`);

  const external = bytesOf(py("minilm_external")(JSON.stringify(manifest.minilm_external),
    manifest.minilm_external_bytes));
  const graphs = {
    minilm: { model: fs.readFileSync(path.join(MODELS, "minilm.onnx")),
      external: [{ path: "minilm.onnx.data", data: external }] },
    matmul: { model: fs.readFileSync(path.join(MODELS, "matmul.onnx")) },
  };
  const minilmX = bytesOf(pyodide.runPython("raw(work.minilm_x)"));
  const xDims = [manifest.minilm.batch, manifest.minilm.tokens, manifest.minilm.d_model];
  const feeds = { minilm: { session: "minilm", inputs: { x: { data: f32(minilmX), dims: xDims } } } };
  for (const n of o.sizes) {
    const [a, b] = py("matmul_inputs")(n).toJs().map((x) => f32(x));
    feeds[`matmul_${n}`] = { session: "matmul", inputs: { a: { data: a, dims: [n, n] }, b: { data: b, dims: [n, n] } },
    };
  }
  const timeJs = py("work").time_ms, callsFor = py("W").calls_for;
  const ref = fs.existsSync(torchRef) ? new Float32Array(fs.readFileSync(torchRef).buffer.slice(0)) : null;

  for (const kase of cases) result.results[kase] = {};
  for (const t of o.threads) {
    const got = py("set_threads")(t);
    const preOrt = new Set(taskIds());   // (the threads that come with ORT-Web's worker are ORT's)
    const ort = await ortWorker(ortModule, t);
    const info = await ort.call("load", { graphs });
    result.engines["ort-web"] ??= { version: info.version, backend: "wasm (ort.node.min.mjs, SIMD, threaded)" };
    for (const [kase, f] of Object.entries(feeds)) await ort.call("feeds", { case: kase, ...f });
    // ORT-Web's module is new at each count, and V8 compiles its hot functions again (the optimizing tier, on
    // background threads) during its first runs: that is over before either engine is timed
    for (const kase of Object.keys(feeds)) await ort.call("time", { case: kase, calls: 2 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ortTids = taskIds().filter((tid) => !preOrt.has(tid)), ourTids = [...preOrt];
    log(`cpu_peers: ${t} thread(s): torch_js get_num_threads() = ${got}, ORT-Web numThreads = ${info.numThreads}` +
      ` (${ortTids.length} threads of its own)`);
    for (const kase of cases) {
      const hasOrt = kase in feeds, calls = callsFor(kase);
      const tasks0 = py("joined")();
      // warm-up: V8 compiles hot wasm functions again (optimized) in the background during the first calls
      for (let i = 0, t0 = performance.now(); i < 1 || (i < 3 && performance.now() - t0 < 1000); i++) timeJs(kase, 1);
      for (let i = 0, t0 = performance.now(); hasOrt && (i < 1 || (i < 3 && performance.now() - t0 < 1000)); i++) {
        await ort.call("time", { case: kase, calls: 1 });
      }
      let mineBest = [Infinity, 0], theirs = [Infinity, 0], foreign = 0;
      const ticks = { ours: {}, theirs: {} };
      for (let r = 0; r < o.rounds; r++) {
        await quiesce(ortTids);   // each engine's turn starts once the other's pool has gone back to waiting
        let before = threadTicks();
        const ortTicks0 = ticksOf(ortTids), cpu0 = process.cpuUsage(), w0 = performance.now();
        const ms = timeJs(kase, calls), cpu = process.cpuUsage(cpu0);
        // ORT-Web's threads' CPU during this turn, in cores (nothing on a fair turn)
        foreign = Math.max(foreign, (ticksOf(ortTids) - ortTicks0) * 10 / (performance.now() - w0));
        addTicks(ticks.ours, before);
        if (ms < mineBest[0]) mineBest = [ms, (cpu.user + cpu.system) / 1e3 / calls];
        if (hasOrt) {
          await quiesce(ourTids);
          before = threadTicks();
          const got = await ort.call("time", { case: kase, calls });
          addTicks(ticks.theirs, before);
          if (got[0] < theirs[0]) theirs = got;
        }
      }
      const ours = mineBest;
      // cpu_per_wall: the process's CPU time over the wall time of the best round (~ the threads that worked, on an
      // idle machine); busy_threads: the threads that did >= 1/10 of an engine's CPU time over all its rounds
      const row = result.results[kase][t] = {
        "torch_js-pyodide": +ours[0].toFixed(3), "ort-web": hasOrt ? +theirs[0].toFixed(3) : null,
        torch: torch.results?.[kase]?.[t] ?? null, worker_tasks: py("joined")() - tasks0,
        ort_threads_during_ours: +foreign.toFixed(2),
        cpu_per_wall: { "torch_js-pyodide": +(ours[1] / ours[0]).toFixed(2),
          "ort-web": hasOrt ? +(theirs[1] / theirs[0]).toFixed(2) : null },
        busy_threads: { "torch_js-pyodide": busyThreads(ticks.ours),
          "ort-web": hasOrt ? busyThreads(ticks.theirs) : null },
      };
      // where torch_js's forward goes here, beside ORT-Web's idle pool (bench/cpu_threads_bench.py --breakdown's)
      if (kase === "minilm") row.breakdown = JSON.parse(py("minilm_breakdown")());
      if (hasOrt) {   // the two engines' latest outputs, and the encoder's against PyTorch's
        const mine = f32(bytesOf(py("last")(kase)));
        const theirsOut = await ort.call("output", { case: kase });
        const n = kase === "minilm" ? 0 : Number(kase.split("_")[1]);
        row.max_abs_diff_ort = +maxAbsDiff(mine, theirsOut, n, n ? 7 : 1).toExponential(2);
        if (kase === "minilm" && ref) row.max_abs_diff_torch = +maxAbsDiff(mine, ref).toExponential(2);
      }
      log(`  ${kase}: ${JSON.stringify(row)}`);
    }
    await ort.close();
  }
  for (const kase of ["mlp_train", "cnn_train"]) {
    result.checks[`${kase}_first_loss`] = { "torch_js-pyodide": py("first_loss")(kase),
      torch: torch.first_loss?.[kase] ?? null };
  }
  const diffs = cases.flatMap((c) => o.threads.map((t) => result.results[c][t]))
    .flatMap((r) => [r.max_abs_diff_ort, r.max_abs_diff_torch]).filter((d) => d !== undefined);
  const losses = Object.values(result.checks).filter((c) => c.torch !== null)
    .map((c) => Math.abs(c["torch_js-pyodide"] - c.torch));
  result.checks.max_abs_diff = Math.max(...diffs);
  result.checks.ok = diffs.every((d) => d < 1e-2) && losses.every((d) => d < 1e-4);
  result.machine.loadavg_end = os.loadavg();
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(result, null, 1));
  printTable(result);
  log(`cpu_peers: wrote ${path.relative(process.cwd(), o.out)}`);
  process.exit(result.checks.ok ? 0 : 1);
}

function printTable(r) {
  const cell = (v) => (v === null || v === undefined ? "-" : String(v)).padStart(9);
  const head = ["case", "threads", "torch_js", "ort-web", "torch", "ort/tjs", "torch/tjs", "tasks", "cpu tjs",
    "cpu ort", "thr tjs", "thr ort", "ort@tjs"];
  const lines = [head.map((h, i) => (i ? h.padStart(9) : h.padEnd(11))).join(" ")];
  for (const c of r.cases) {
    for (const t of r.threads) {
      const x = r.results[c][t], ours = x["torch_js-pyodide"];
      const ratio = (v) => (v ? (v / ours).toFixed(2) : null);
      lines.push([c.padEnd(11), cell(t), cell(ours), cell(x["ort-web"]), cell(x.torch), cell(ratio(x["ort-web"])),
        cell(ratio(x.torch)), cell(x.worker_tasks), cell(x.cpu_per_wall["torch_js-pyodide"]),
        cell(x.cpu_per_wall["ort-web"]), cell(x.busy_threads["torch_js-pyodide"]),
        cell(x.busy_threads["ort-web"]), cell(x.ort_threads_during_ours)].join(" "));
    }
  }
  process.stdout.write(`ms per call (best of ${r.rounds}); ratios > 1: torch_js faster\n${lines.join("\n")}\n` +
    `checks: ${JSON.stringify(r.checks)}\n`);
}

await main();
