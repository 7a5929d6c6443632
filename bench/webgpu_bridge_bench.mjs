// Node-only cost of one bridge.run() (binary add, 64 elements) and of the Dawn calls under it; no Pyodide.
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node bench/webgpu_bridge_bench.mjs
import { createBridge, FAMILY, OPS } from '../js_bridge/webgpu/index.mjs';
const b = await createBridge();
const heap = new Uint8Array(1 << 16);
b.attach({ HEAPU8: heap });
b.setArgBlock(0, 8192);
const f64 = new Float64Array(heap.buffer, 0, 4), i32 = new Int32Array(heap.buffer, 32, 100);
const a = b.alloc(256), c = b.alloc(256), o = b.alloc(256);
function pack() { f64[3] = 1; i32.set([FAMILY.BINARY, OPS.binary.indexOf('add'), 1, o, 8, 0, a, 8, 0, c, 8, 0, 64, 1, 1, 1]); }
pack();
for (let i = 0; i < 200; i++) if (b.run()) throw new Error(b.lastError);
await b.synchronize();
let t = 0; const N = 60, R = 50;
for (let r = 0; r < R; r++) { await b.synchronize(); const t0 = performance.now(); for (let i = 0; i < N; i++) { b.run(); } t += performance.now() - t0; }
console.log('bridge.run binary add (JS only):', (t / (N * R) * 1000).toFixed(1), 'us');
t = 0;
for (let r = 0; r < R; r++) { await b.synchronize(); const t0 = performance.now(); for (let i = 0; i < N; i++) { const id = b.alloc(256); b.release(id); } t += performance.now() - t0; }
console.log('alloc+release:', (t / (N * R) * 1000).toFixed(1), 'us');

// raw Dawn encode cost
const d = b.disp; const p = [...d.pipelines.values()][0];
t = 0;
for (let r = 0; r < R; r++) { await b.synchronize(); const t0 = performance.now(); for (let i = 0; i < N; i++) { const w = d.slot(); d.dispatch(p, [o, a, c], w, 1, 1); } t += performance.now() - t0; }
console.log('slot+dispatch only:', (t / (N * R) * 1000).toFixed(1), 'us');
const enc = b.device.createCommandEncoder(); const pass = enc.beginComputePass();
const bg = [...d.bindGroups.values()][0];
let t0 = performance.now();
for (let i = 0; i < 3000; i++) { pass.setPipeline(p.pipeline); pass.setBindGroup(0, bg, [0]); pass.dispatchWorkgroups(1, 1, 1); }
console.log('3 Dawn calls:', ((performance.now() - t0) / 3000 * 1000).toFixed(1), 'us');
t0 = performance.now();
for (let i = 0; i < 3000; i++) { pass.setBindGroup(0, bg, [0]); }
console.log('setBindGroup w/ dyn offset:', ((performance.now() - t0) / 3000 * 1000).toFixed(1), 'us');
t0 = performance.now();
for (let i = 0; i < 3000; i++) { pass.dispatchWorkgroups(1, 1, 1); }
console.log('dispatchWorkgroups:', ((performance.now() - t0) / 3000 * 1000).toFixed(1), 'us');
pass.end();
process.exit(0);
