// Weight-only quantized products on WebGPU against the float32 product: x (M x K) @ W^T for SmolLM2-135M's
// projection shapes (d 576 -> MLP 1536, 1536 -> 576, 576 -> vocabulary 49152), through the bridge's own calls
// (no Pyodide): float32 W via Bridge._gemm (the kernel torch.matmul gets for x @ W.T, chosen by shape), and
// js_bridge/webgpu/kernels/quant_matmul.mjs (runQuantMatmul, what torch_js.quant.BlockQuantLinear dispatches) for
// int8 per row (torch._weight_int8pack_mm), Q8_0 and Q4_1. Prints ms per product, the weight's bytes and the
// weight-read bandwidth (GB/s) each implies, and each quantized result's largest error against the float product
// of its dequantised weight (computed on the GPU from a dequantised copy made here).
//
//   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json QUICK=1 node bench/quant_matmul_bench.mjs
//   (on the GPU machine: as bench/webgpu_matmul_shapes.mjs, with .gpukit carried for npm webgpu)
// env: QUICK=1 (small shapes, short timings: SwiftShader), MINMS (per timing, default 30; QUICK 10),
//      RESULT_JSON=path (default bench/results/quant_matmul.json), M=list (rows, default 1,4,16,64),
//      NK=list of NxK (shapes, e.g. 49152x576,1536x576).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchBridge, nodeBridge } from './bridge_gemm.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const QUICK = process.env.QUICK === '1';
const MINMS = Number(process.env.MINMS || (QUICK ? 10 : 30));
const MS = (process.env.M || (QUICK ? '1,4,20' : '1,4,16,64')).split(',').map(Number);
const SHAPES = process.env.NK ? process.env.NK.split(',').map((t) => t.split('x').map(Number))   // (N, K)
  : QUICK ? [[256, 64], [384, 96]] : [[1536, 576], [576, 1536], [49152, 576]];
const DT = { uint8: 1, int8: 2, float16: 6, float32: 8 };
const log = (...a) => console.log(...a);

const { runQuantMatmul } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/kernels/quant_matmul.mjs')).href);
const bridge = await nodeBridge();
const { rand, upload, gemm, readF32 } = benchBridge(bridge);
const info = JSON.parse(bridge.info());
log('adapter', JSON.stringify(info));

/** float16 bits -> number */
function h2f(h) {
  const e = (h >> 10) & 31, f = h & 1023, s = h & 0x8000 ? -1 : 1;
  return s * (e ? 2 ** (e - 15) * (1 + f / 1024) : 2 ** -14 * (f / 1024));
}

/** Packed parts of a random (N, K) weight in `scheme`, and the float32 weight they stand for. */
function makeWeight(scheme, n, k, seed) {
  let s = seed >>> 0;
  const next = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s; };
  const groups = scheme === 'int8' ? 1 : k / 32;
  const wf = new Float32Array(n * k);
  const q = new Uint8Array(scheme === 'q4_1' ? n * k / 2 : n * k);
  for (let i = 0; i < q.length; i++) q[i] = next() >>> 24;
  let scales, mins = null;
  if (scheme === 'int8') {
    scales = new Float32Array(n);
    for (let i = 0; i < n; i++) scales[i] = 0.001 + (next() >>> 8) / 2 ** 24 * 0.01;
  } else {
    scales = new Uint16Array(n * groups);
    for (let i = 0; i < scales.length; i++) scales[i] = 0x1c00 + (next() >>> 22);   // ~0.004 .. 0.008
    if (scheme === 'q4_1') {
      mins = new Uint16Array(n * groups);
      for (let i = 0; i < mins.length; i++) mins[i] = (next() & 0x8000) | (0x2000 + (next() >>> 22));
    }
  }
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const g = scheme === 'int8' ? r : r * groups + (c >> 5);
      const d = scheme === 'int8' ? scales[r] : h2f(scales[g]);
      if (scheme === 'q4_1') {
        const j = c & 31, byte = q[r * k / 2 + (c >> 5) * 16 + (j & 15)];
        wf[r * k + c] = d * (j < 16 ? byte & 15 : byte >> 4) + h2f(mins[g]);
      } else {
        wf[r * k + c] = d * ((q[r * k + c] << 24) >> 24);
      }
    }
  }
  const bytes = q.byteLength + scales.byteLength + (mins ? mins.byteLength : 0);
  return { q, scales, mins, wf, bytes, groups };
}

async function time(run, o) {
  const sync = () => bridge.read(o, 0, 4);
  run(); await sync();
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) run();
    await sync();
    const ms = performance.now() - t0;
    if (ms >= MINMS || reps >= 4096) return ms / reps;
    reps = Math.min(4096, Math.max(reps * 2, Math.ceil(reps * MINMS / Math.max(ms, 0.01) * 1.2)));
  }
}

const results = [];
for (const [n, k] of SHAPES) {
  for (const m of MS) {
    const X = rand(m * k, 7), x = upload(X), o = bridge.alloc(m * n * 4), ref = bridge.alloc(m * n * 4);
    const wfloat = upload(rand(n * k, 9));
    const floatMs = await time(() => gemm(1, m, n, k, o, x, wfloat, [0, k, 1], [0, 1, k]), o);
    const row = { m, n, k, float32: { ms: floatMs, bytes: n * k * 4 } };
    for (const scheme of ['int8', 'q8_0', 'q4_1']) {
      const W = makeWeight(scheme, n, k, 11);
      const ids = [upload(W.q), upload(W.scales), W.mins ? upload(W.mins) : 0];
      const args = {
        op: scheme === 'q4_1' ? 1 : 0, M: m, N: n, K: k, group: scheme === 'int8' ? k : 32, x_rs: k,
        out: { id: o, dt: DT.float32, off: 0 }, x: { id: x, dt: DT.float32, off: 0 },
        w: { id: ids[0], dt: scheme === 'q4_1' ? DT.uint8 : DT.int8, off: 0 },
        scales: { id: ids[1], dt: scheme === 'int8' ? DT.float32 : DT.float16, off: 0 },
        mins: { id: ids[2], dt: DT.float16, off: 0 },
      };
      const ms = await time(() => runQuantMatmul(bridge, args), o);
      const wdeq = upload(W.wf);
      gemm(1, m, n, k, ref, x, wdeq, [0, k, 1], [0, 1, k]);
      runQuantMatmul(bridge, args);
      const [got, want] = [await readF32(o, m * n), await readF32(ref, m * n)];
      let err = 0, scale = 0;
      for (let i = 0; i < got.length; i++) { err = Math.max(err, Math.abs(got[i] - want[i])); scale = Math.max(scale, Math.abs(want[i])); }
      row[scheme] = { ms, bytes: W.bytes, rel_err: err / (scale || 1) };
      for (const id of [...ids, wdeq]) if (id) bridge.release(id);
    }
    results.push(row);
    const cells = ['float32', 'int8', 'q8_0', 'q4_1'].map((s) => {
      const r = row[s];
      return `${s} ${r.ms.toFixed(4)} ms ${(r.bytes / r.ms / 1e6).toFixed(1)} GB/s${r.rel_err !== undefined ? ` err ${r.rel_err.toExponential(1)}` : ''}`;
    });
    log(`M=${m} N=${n} K=${k}: ${cells.join(' | ')}`);
    for (const id of [x, o, ref, wfloat]) bridge.release(id);
  }
}
const file = process.env.RESULT_JSON || path.join(REPO, 'bench/results/quant_matmul.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(file, JSON.stringify({ adapter: info, minms: MINMS, results }, null, 1));
log('wrote', file);
