// Skinny products: out (M x N) = A (M x K) @ B (K x N) for a few rows M (decoding: M = 1, a matrix-vector
// product; small batches: M <= 16). The tiled GEMM (matmul.mjs) wastes most of a 64-row tile there and runs
// too few workgroups to cover the GPU; these kernels give each workgroup a few output columns and the whole
// row block, and split K across the workgroup's invocations instead, reducing partial sums in workgroup memory.
// A product with few columns instead (N small, M large) runs here transposed: out^T = B^T A^T, written
// through the output strides (matmul.mjs chooseGemm).
//
// Two layouts of B, by its contiguous dimension (B is the weight: reading it once, coalesced, is the cost):
//   'k'  B contiguous along k (x @ W.T, nn.Linear's weight [N, K]): `tpc` invocations share a column, each
//        reading every tpc-th 4-element group of the column along k (one coalesced stretch per column), the
//        `rows` rows of A alongside; then the tpc partial sums of each (row, column) are added up.
//   'n'  B contiguous along n (x @ W, W [K, N]; also the backward's g @ W): `ct` invocations each own 4
//        adjacent columns and `ks` k-slices split K (row k of B is one coalesced read across the ct invocations);
//        the ks partial vec4 are added up.
// A's `rows` rows are read alongside (broadcast: every invocation of a column block reads the same A entries).
// Rows past M read row M - 1 (no divergence in the loop) and are not stored.
// vec4: A / B bound as array<vec4<f32>> when the 4-element groups are aligned (the bridge checks, as for GEMM).
//
// Header as GEMM's (matmul.mjs), plus 13 out row stride, 14 out column stride, 15 out batch stride.
//
// A pair ('k' mode): two products of one A by two weights of one shape and strides, B and B2 (offset: word 16),
// as a SiLU-gated MLP's gate and up projections of one input. Each invocation takes both dot products of its
// column, and the store is st_O(offset, A·B, A·B2): only an epilogue (fused.mjs gemmEpilogue, both results in
// registers) takes it.
import { PRELUDE } from './common.mjs';

/** Variants: mode 'k' (tpc invocations per column) or 'n' (ct column quads x ks k-slices); rows per workgroup. */
export const MATVEC_CONFIGS = {};
for (const rows of [1, 2, 4, 8, 16]) {
  for (const tpc of [16, 32, 64]) MATVEC_CONFIGS[`vk${tpc}r${rows}`] = { mode: 'k', rows, tpc };
  for (const [ct, ks] of [[64, 4], [32, 8], [16, 16]]) MATVEC_CONFIGS[`vn${ct}r${rows}`] = { mode: 'n', rows, ct, ks };
}
for (const [k, c] of Object.entries(MATVEC_CONFIGS)) {
  c.name = k;
  c.cols = c.mode === 'k' ? 256 / c.tpc : c.ct * 4;   // output columns per workgroup
}

const WG = 256;
const CHUNK_K = 16;   // 'k' mode: (row, invocation) partial sums reduced 16 rows at a time (16 KiB)
const CHUNK_N = 4;    // 'n' mode: vec4 partials, 4 rows at a time (16 KiB)

/**
 * WGSL for a matvec variant. b: binding code from declare(); vecA / vecB: A / B bound as vec4 (4-element
 * groups along k for A; along B's contiguous dimension for B).
 */
export function matvecSource(cfg, vecA, vecB, b, pair = false) {
  const R = cfg.rows;
  const rowsIdx = [...Array(R).keys()];
  // A row bases, clamped to the last row
  let s = PRELUDE + b;
  let pre = `  let M = pu(0u); let N = pu(1u); let K = pu(2u); let bt = wg.z;
  let ab = pu(4u) + bt * pu(7u); let ars = pu(8u); let acs = pu(9u);
  let bb0 = pu(5u) + bt * pu(10u); let brs = pu(11u); let bcs = pu(12u);
  let m0 = wg.y * ${R}u;
`;
  for (const r of rowsIdx) pre += `  let ra${r} = ab + min(m0 + ${r}u, M - 1u) * ars;\n`;
  if (cfg.mode === 'k') {
    const T = cfg.tpc, C = cfg.cols;
    // A's 4 elements k..k+3 of row r
    const a4 = (r) => (vecA ? `A4[(ra${r} + k) / 4u]` : `vec4<f32>(ld_A(ra${r} + k * acs), ld_A(ra${r} + (k + 1u) * acs), ld_A(ra${r} + (k + 2u) * acs), ld_A(ra${r} + (k + 3u) * acs))`);
    const b4 = (B, bb) => (vecB ? `${B}4[(${bb} + k) / 4u]` : `vec4<f32>(ld_${B}(${bb} + k * brs), ld_${B}(${bb} + (k + 1u) * brs), ld_${B}(${bb} + (k + 2u) * brs), ld_${B}(${bb} + (k + 3u) * brs))`);
    let loop = `  let K4 = K & ~3u;
  for (var k = t * 4u; k < K4; k += ${T * 4}u) {
    let bv = ${b4('B', 'bb')};${pair ? ` let bv2 = ${b4('B2', 'bb2')};` : ''}
`;
    for (const r of rowsIdx) loop += pair ? `    { let av = ${a4(r)}; acc${r} += dot(av, bv); acc2_${r} += dot(av, bv2); }\n` : `    acc${r} += dot(${a4(r)}, bv);\n`;
    loop += '  }\n';
    if (!vecA && !vecB) {   // the last K % 4 (vec4 bindings need K % 4 == 0)
      loop += `  for (var k = K4 + t; k < K; k += ${T}u) {
    let bv = ld_B(bb + k * brs);${pair ? ' let bv2 = ld_B2(bb2 + k * brs);' : ''}
`;
      for (const r of rowsIdx) {
        loop += pair ? `    { let av = ld_A(ra${r} + k * acs); acc${r} += av * bv; acc2_${r} += av * bv2; }\n` : `    acc${r} += ld_A(ra${r} + k * acs) * bv;\n`;
      }
      loop += '  }\n';
    }
    let red = '';
    for (let c0 = 0; c0 < R; c0 += CHUNK_K) {
      const n = Math.min(CHUNK_K, R - c0);
      if (c0) red += '  workgroupBarrier();\n';
      for (let r = c0; r < c0 + n; r++) {
        red += `  red[${(r - c0) * WG}u + lid.x] = acc${r};\n`;
        if (pair) red += `  red2[${(r - c0) * WG}u + lid.x] = acc2_${r};\n`;
      }
      red += `  workgroupBarrier();
  for (var i = lid.x; i < ${n * C}u; i += ${WG}u) {
    let r = i / ${C}u; let c = i % ${C}u;
    var sum = 0.0;${pair ? ' var sum2 = 0.0;' : ''}
    let base = r * ${WG}u + c * ${T}u;
    for (var q = 0u; q < ${T}u; q++) { sum += red[base + q];${pair ? ' sum2 += red2[base + q];' : ''} }
    let col = wg.x * ${C}u + c; let rr = r + ${c0}u;
    if (m0 + rr < M && col < N) { st_O(pu(6u) + bt * pu(15u) + (m0 + rr) * pu(13u) + col * pu(14u), sum${pair ? ', sum2' : ''}); }
  }
`;
    }
    s += `
var<workgroup> red: array<f32, ${Math.min(R, CHUNK_K) * WG}>;${pair ? `\nvar<workgroup> red2: array<f32, ${Math.min(R, CHUNK_K) * WG}>;` : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${pre}  let t = lid.x % ${T}u; let j = wg.x * ${C}u + lid.x / ${T}u;
  let bb = bb0 + min(j, N - 1u) * bcs;${pair ? '\n  let bb2 = pu(16u) + bt * pu(10u) + min(j, N - 1u) * bcs;' : ''}
${rowsIdx.map((r) => `  var acc${r} = 0.0;\n${pair ? `  var acc2_${r} = 0.0;\n` : ''}`).join('')}${loop}${red}}
`;
    return s;
  }
  if (pair) throw new Error('matvec: a pair of products runs in mode k only');
  // 'n' mode
  const CT = cfg.ct, KS = cfg.ks;
  const bq = (kk) => (vecB ? `B4[(bb + (${kk}) * brs) / 4u]`
    : `vec4<f32>(ld_B(bb + (${kk}) * brs), ld_B(bb + (${kk}) * brs + c1), ld_B(bb + (${kk}) * brs + c2), ld_B(bb + (${kk}) * brs + c3))`);
  let loop;
  if (vecA) {   // four k at once: A's vec4 along k, four rows of B
    loop = `  let K4 = K & ~3u;
  for (var k = s * 4u; k < K4; k += ${KS * 4}u) {
    let b0 = ${bq('k')}; let b1 = ${bq('k + 1u')}; let b2 = ${bq('k + 2u')}; let b3 = ${bq('k + 3u')};
`;
    for (const r of rowsIdx) loop += `    { let a = A4[(ra${r} + k) / 4u]; acc${r} = fma(vec4<f32>(a.x), b0, fma(vec4<f32>(a.y), b1, fma(vec4<f32>(a.z), b2, fma(vec4<f32>(a.w), b3, acc${r})))); }\n`;
    loop += '  }\n';   // vec4 A: K % 4 == 0
  } else {
    loop = `  for (var k = s; k < K; k += ${KS}u) {
    let bv = ${bq('k')};
`;
    for (const r of rowsIdx) loop += `    acc${r} = fma(vec4<f32>(ld_A(ra${r} + k * acs)), bv, acc${r});\n`;
    loop += '  }\n';
  }
  let red = '';
  for (let c0 = 0; c0 < R; c0 += CHUNK_N) {
    const n = Math.min(CHUNK_N, R - c0);
    if (c0) red += '  workgroupBarrier();\n';
    for (let r = c0; r < c0 + n; r++) red += `  red[${(r - c0) * WG}u + lid.x] = acc${r};\n`;
    red += `  workgroupBarrier();
  for (var i = lid.x; i < ${n * CT}u; i += ${WG}u) {
    let r = i / ${CT}u; let c = i % ${CT}u;
    var sum = vec4<f32>(0.0);
    for (var q = 0u; q < ${KS}u; q++) { sum += red[r * ${WG}u + q * ${CT}u + c]; }
    let col = (wg.x * ${CT}u + c) * 4u; let rr = r + ${c0}u;
    if (m0 + rr < M) {
      let ob = pu(6u) + bt * pu(15u) + (m0 + rr) * pu(13u); let oc = pu(14u);
      if (col < N) { st_O(ob + col * oc, sum.x); }
      if (col + 1u < N) { st_O(ob + (col + 1u) * oc, sum.y); }
      if (col + 2u < N) { st_O(ob + (col + 2u) * oc, sum.z); }
      if (col + 3u < N) { st_O(ob + (col + 3u) * oc, sum.w); }
    }
  }
`;
  }
  s += `
var<workgroup> red: array<vec4<f32>, ${Math.min(R, CHUNK_N) * WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${pre}  let s = lid.x / ${CT}u; let j0 = (wg.x * ${CT}u + lid.x % ${CT}u) * 4u;
  // columns past N read column N - 1 (their sums are not stored)
  let c1 = (min(j0 + 1u, N - 1u) - min(j0, N - 1u)) * bcs; let c2 = (min(j0 + 2u, N - 1u) - min(j0, N - 1u)) * bcs;
  let c3 = (min(j0 + 3u, N - 1u) - min(j0, N - 1u)) * bcs;
  let bb = bb0 + min(j0, N - 1u) * bcs;
${rowsIdx.map((r) => `  var acc${r} = vec4<f32>(0.0);\n`).join('')}${loop}${red}}
`;
  return s;
}
