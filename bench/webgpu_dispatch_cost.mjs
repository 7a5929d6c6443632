#!/usr/bin/env node
// The floor under every WebGPU program: what one dispatch, one submit and one readback cost, with no kernel work to
// speak of. A model whose kernels sum to a few ms yet takes 20 ms is paying these; their size says how many
// dispatches a step can afford. Raw WebGPU on the bridge's device (bench/bridge_gemm.mjs nodeBridge), no torch_js
// kernels: a one-workgroup kernel adding 1 to 64 floats, dispatched K times
//   - dependent, one pass: every dispatch reads and writes the same buffer (Dawn puts a barrier between them)
//   - independent, one pass: each dispatch its own buffer
//   - dependent, a pass each
//   - dependent, one pass, on a GPT-2-sized row block (128 x 768 floats, 384 workgroups): a real elementwise op's size
// each timed as encode (host) and submit-to-done (onSubmittedWorkDone), K = 1 and K = 1000, per-dispatch cost = the
// slope; and the round trips: an empty submit's onSubmittedWorkDone, a 4-byte readback after one dispatch.
//   node bench/webgpu_dispatch_cost.mjs            (RESULT_JSON=path writes the figures)
// On the GPU machine: bash bench/webgpu_on_device.sh bench/webgpu_dispatch_cost.mjs
import fs from 'node:fs';
import { nodeBridge } from './bridge_gemm.mjs';

const bridge = await nodeBridge();
const device = bridge.device;
const ROUNDS = Number(process.env.ROUNDS || 5);

const module = device.createShaderModule({
  code: `@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < arrayLength(&x)) { x[g.x] = x[g.x] + 1.0; }
}`,
});
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function target(floats) {
  const buffer = device.createBuffer({ size: floats * 4, usage });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
  return { buffer, group, workgroups: Math.ceil(floats / 64) };
}
const small = target(64);
const row = target(128 * 768);
const many = Array.from({ length: 1000 }, () => target(64));
const staging = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });

/** Encode k dispatches (targets(i) picks the buffer), passPer: a compute pass each; returns the command buffer. */
function encode(k, targets, passPer) {
  const enc = device.createCommandEncoder();
  let pass = passPer ? null : enc.beginComputePass();
  for (let i = 0; i < k; i++) {
    if (passPer) pass = enc.beginComputePass();
    const t = targets(i);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, t.group);
    pass.dispatchWorkgroups(t.workgroups);
    if (passPer) pass.end();
  }
  if (!passPer) pass.end();
  return enc.finish();
}

/** Best-of-ROUNDS host encode ms and submit-to-done ms for k dispatches. */
async function time(k, targets, passPer) {
  let enc = Infinity, gpu = Infinity;
  for (let r = 0; r < ROUNDS + 1; r++) {
    const t0 = performance.now();
    const cb = encode(k, targets, passPer);
    const t1 = performance.now();
    device.queue.submit([cb]);
    await device.queue.onSubmittedWorkDone();
    const t2 = performance.now();
    if (r > 0) { enc = Math.min(enc, t1 - t0); gpu = Math.min(gpu, t2 - t1); }
  }
  return { encode_ms: enc, done_ms: gpu };
}

const cases = {
  dependent_one_pass: [(i) => small, false],
  independent_one_pass: [(i) => many[i % many.length], false],
  dependent_pass_each: [(i) => small, true],
  dependent_rows_one_pass: [(i) => row, false],
};
const result = { adapter: bridge.adapterInfo?.() ?? null, cases: {} };
for (const [name, [targets, passPer]] of Object.entries(cases)) {
  const one = await time(1, targets, passPer);
  const k = await time(1000, targets, passPer);
  result.cases[name] = {
    k1: one, k1000: k,
    host_us_per_dispatch: (k.encode_ms - one.encode_ms) / 999 * 1e3,
    gpu_us_per_dispatch: (k.done_ms - one.done_ms) / 999 * 1e3,
  };
  console.log(name.padEnd(24), `host ${result.cases[name].host_us_per_dispatch.toFixed(2)} us/dispatch`,
    `submit-to-done ${result.cases[name].gpu_us_per_dispatch.toFixed(2)} us/dispatch`, `(k=1: ${one.done_ms.toFixed(3)} ms)`);
}

let empty = Infinity, readback = Infinity;
for (let r = 0; r < 20; r++) {
  let t0 = performance.now();
  device.queue.submit([]);
  await device.queue.onSubmittedWorkDone();
  empty = Math.min(empty, performance.now() - t0);
  t0 = performance.now();
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline); pass.setBindGroup(0, small.group); pass.dispatchWorkgroups(1); pass.end();
  enc.copyBufferToBuffer(small.buffer, 0, staging, 0, 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  readback = Math.min(readback, performance.now() - t0);
}
result.empty_submit_done_us = empty * 1e3;
result.dispatch_readback_us = readback * 1e3;
console.log(`empty submit to done ${(empty * 1e3).toFixed(0)} us; one dispatch + 4-byte readback ${(readback * 1e3).toFixed(0)} us`);
if (process.env.RESULT_JSON) fs.writeFileSync(process.env.RESULT_JSON, JSON.stringify(result, null, 1));
process.exit(0);
