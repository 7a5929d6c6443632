// torch.mjs's per-op overhead from JavaScript (js_bridge/torch.mjs), in Node:
//
//   node --experimental-wasm-stack-switching --experimental-wasm-relaxed-simd bench/torch_mjs_bench.mjs [--ops N]
//
// queue_us_per_op   main-thread cost of one op call (x.add(y) on a 4-element tensor): encoding, the handle, the
//                   captured call site; what the page's thread pays.
// e2e_us_per_op     N such ops then `await data()`: the op through the worker and torch_js (batched, one
//                   postMessage per microtask), divided by N.
// python_us_per_op  the same op called from Python in the same Pyodide (torch_js alone), for comparison;
//                   python_keeping_results_us_per_op keeps every result alive, as the JS loop's handles do.
// roundtrip_ms      one op and its `await data()` (the latency of a single readback).
// *_without_call_sites  the same with init({callSiteFrames: 0}) (errors then name the op but not the JS line).
// Writes bench/results/torch_mjs.json (git-ignored, as other bench outputs) and prints it.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as torch from "../js_bridge/torch.mjs";
import { callFn } from "../js_bridge/torch_api.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argN = process.argv.indexOf("--ops");
const N = argN > 0 ? Number(process.argv[argN + 1]) : 20000;

const info = await torch.init();
const x = torch.ones(4), y = torch.ones(4);
await x.data();

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// warm-up (JIT on both sides)
for (let i = 0; i < 2000; i++) x.add(y);
await torch.sync();

function measure() {
  return (async () => {
    const queueUs = [], e2eUs = [];
    for (let rep = 0; rep < 5; rep++) {
      let last;
      const t0 = performance.now();
      for (let i = 0; i < N; i++) last = x.add(y);
      const t1 = performance.now();
      await last.data();
      const t2 = performance.now();
      queueUs.push(((t1 - t0) * 1000) / N);
      e2eUs.push(((t2 - t0) * 1000) / N);
    }
    return [median(queueUs), median(e2eUs)];
  })();
}
const [queueUs, e2eUs] = await measure();
await torch.init({ callSiteFrames: 0 });
const [queueUsNoSites, e2eUsNoSites] = await measure();
await torch.init({ callSiteFrames: 4 });

const rt = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  await x.add(y).data();
  rt.push(performance.now() - t0);
}

// the same op from Python in the same engine: torch.utils.benchmark.Timer, called through the API by name
const timer = callFn("utils.benchmark.Timer", [{ stmt: "x.add(y)", globals: { x, y } }]);
const pythonUs = (await timer.method("timeit", N).attr("mean").value()) * 1e6;
// ... keeping every result alive, as the JS loop's handles keep theirs until JavaScript's GC frees them
const keeping = callFn("utils.benchmark.Timer", [{ stmt: "out.append(x.add(y))", globals: { x, y, out: [] } }]);
const pythonKeptUs = (await keeping.method("timeit", N).attr("mean").value()) * 1e6;

const result = {
  date: new Date().toISOString(), node: process.version, torch_js: info.version, ops: N,
  queue_us_per_op: queueUs, e2e_us_per_op: e2eUs, python_us_per_op: pythonUs,
  python_keeping_results_us_per_op: pythonKeptUs,
  queue_us_per_op_without_call_sites: queueUsNoSites, e2e_us_per_op_without_call_sites: e2eUsNoSites,
  roundtrip_ms: median(rt),
};
fs.mkdirSync(path.join(HERE, "results"), { recursive: true });
fs.writeFileSync(path.join(HERE, "results", "torch_mjs.json"), JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result, null, 2));
