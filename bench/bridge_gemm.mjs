// What the WebGPU matmul benches share: deterministic float32 data, uploads, one GEMM through the bridge's own
// primitive (Bridge._gemm, the call torch.matmul makes) and a float32 readback.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const F32 = 8;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A bridge (js_bridge/webgpu/index.mjs) on npm webgpu (Dawn) from the repository, else from the device kit
 * (.gpukit: node_modules do not travel to the GPU machine); DAWN_OPTS: Dawn's flags, space-separated.
 */
export async function nodeBridge() {
  let req = createRequire(path.join(REPO, 'package.json'));
  try { req.resolve('webgpu'); } catch { req = createRequire(path.join(REPO, '.gpukit', 'package.json')); }
  const webgpu = req('webgpu');
  for (const [k, v] of Object.entries(webgpu.globals)) if (!(k in globalThis)) globalThis[k] = v;
  globalThis.__torchJsDawnGPU ??= webgpu.create((process.env.DAWN_OPTS || '').split(/\s+/).filter(Boolean));
  const { createBridge } = await import(pathToFileURL(path.join(REPO, 'js_bridge/webgpu/index.mjs')).href);
  return createBridge({ gpu: globalThis.__torchJsDawnGPU });
}   // the bridge's dtype code for float32 (js_bridge/webgpu/abi.mjs)

export function benchBridge(bridge) {
  /** n floats in [-1, 1) from a seeded LCG: the same data in every run and every bench. */
  function rand(n, seed) {
    const a = new Float32Array(n);
    let s = seed >>> 0;
    for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 2 ** 31 - 1; }
    return a;
  }
  function upload(arr) {
    const id = bridge.alloc(arr.byteLength);
    bridge.uploadBytes(id, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
    return id;
  }
  /** out (batch x m x n, contiguous) = A @ B, A and B by (batch, row, col) element strides and offsets. */
  function gemm(batch, m, n, k, o, a, b, ast, bst, aoff = 0, boff = 0) {
    bridge._gemm({
      batch, m, n, k, out: { id: o, dt: F32, off: 0 }, a: { id: a, dt: F32, off: aoff }, b: { id: b, dt: F32, off: boff },
      a_st: ast, b_st: bst,
    });
  }
  async function readF32(id, n) {
    const u8 = await bridge.read(id, 0, n * 4);
    return new Float32Array(u8.buffer, u8.byteOffset, n);
  }
  /**
   * ms per call of `run`: `reps` calls back to back, one 4-byte readback of buffer `o`, reps grown until a timing
   * lasts minMs; best of `rounds`.
   */
  async function timeRuns(run, o, minMs, rounds = 1) {
    const sync = () => bridge.read(o, 0, 4);
    run(); await sync(); run(); await sync();
    let reps = 1, best = Infinity;
    for (let round = 0; round < rounds; round++) {
      for (;;) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) run();
        await sync();
        const ms = performance.now() - t0;
        if (ms >= minMs || reps >= 8192) { best = Math.min(best, ms / reps); break; }
        reps = Math.min(8192, Math.max(reps * 2, Math.ceil(reps * minMs / Math.max(ms, 0.01) * 1.2)));
      }
    }
    return best;
  }
  return { rand, upload, gemm, readF32, timeRuns };
}
