// What the WebGPU matmul benches share: deterministic float32 data, uploads, one GEMM through the bridge's own
// primitive (Bridge._gemm, the call torch.matmul makes) and a float32 readback.
const F32 = 8;   // the bridge's dtype code for float32 (js_bridge/webgpu/abi.mjs)

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
  return { rand, upload, gemm, readF32 };
}
