// ONNX Runtime Web (wasm backend) for bench/cpu_peers.mjs, in a worker thread of the bench's Node process: ORT's
// wasm module takes its thread count once, when it starts (env.wasm.numThreads), so each thread count gets its own
// worker with its own module (and ORT's own pthread workers under it). Timing is done here, around session.run, so
// the messages to and from the bench cost nothing.
//
// Requests (postMessage {id, op, ...}), each answered {id, value} or {id, error}:
//   load   {graphs: {name: {model: Uint8Array, external?: [{path, data: Uint8Array}]}}} -> sessions' input names
//   feeds  {case, session, inputs: {name: {data: Float32Array, dims}}}  the inputs a case runs with
//   time   {case, calls} -> [ms per session.run over `calls` runs back to back, the process's CPU ms over them]
//   output {case} -> the first output of the case's latest run (Float32Array)
import { parentPort, workerData } from "node:worker_threads";

const ort = await import(workerData.ortModule);
ort.env.wasm.numThreads = workerData.threads;
ort.env.wasm.simd = true;
ort.env.logLevel = "error";

const sessions = {};
const cases = {};

async function handle(msg) {
  if (msg.op === "load") {
    const names = {};
    for (const [name, g] of Object.entries(msg.graphs)) {
      sessions[name] = await ort.InferenceSession.create(g.model, {
        executionProviders: ["wasm"], graphOptimizationLevel: "all", externalData: g.external,
      });
      names[name] = sessions[name].inputNames;
    }
    return { inputs: names, numThreads: ort.env.wasm.numThreads, version: ort.env.versions };
  }
  if (msg.op === "feeds") {
    const feeds = {};
    for (const [k, v] of Object.entries(msg.inputs)) feeds[k] = new ort.Tensor("float32", v.data, v.dims);
    cases[msg.case] = { session: sessions[msg.session], feeds, last: null };
    return true;
  }
  const c = cases[msg.case];
  if (!c) throw new Error(`cpu_peers_ort: no feeds for ${msg.case}`);
  if (msg.op === "time") {
    const t0 = performance.now(), cpu0 = process.cpuUsage();
    for (let i = 0; i < msg.calls; i++) c.last = await c.session.run(c.feeds);
    const cpu = process.cpuUsage(cpu0);
    return [(performance.now() - t0) / msg.calls, (cpu.user + cpu.system) / 1e3 / msg.calls];
  }
  if (msg.op === "output") {
    const out = c.last ?? await c.session.run(c.feeds);
    return out[c.session.outputNames[0]].data;
  }
  throw new Error(`cpu_peers_ort: unknown request ${msg.op}`);
}

parentPort.on("message", async (msg) => {
  try {
    parentPort.postMessage({ id: msg.id, value: await handle(msg) });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: String(e?.stack ?? e) });
  }
});
parentPort.postMessage({ ready: true });
