// Batched, strided GEMM: out[bt] (contiguous M x N) = A[bt] (M x K) @ B[bt] (K x N), A and B given by
// (batch, row, col) element strides, so transposed operands and broadcast batches cost nothing.
//
// Float kernel (after tfjs's MatMulPackedVec4): a 16 x 16 workgroup computes a 64 x 64 tile of out, each
// invocation a 4 x 4 register block; K advances in steps of TK through workgroup memory, where A is kept
// k-major so an invocation reads its 4 rows and 4 columns as two vec4 and does 4 vec4 FMAs per k.
// When an operand is float32 with unit stride along its fast dimension and 16-byte aligned rows, a variant
// binds it as array<vec4<f32>> and loads 4 elements per read (vecA / vecB).
// Integer dtypes take a plain one-invocation-per-output kernel in i32.
//
// Header: 0 M, 1 N, 2 K, 3 batch, 4 a offset, 5 b offset, 6 out offset, 7..9 a strides (batch, row, col),
// 10..12 b strides.
import { DT, PRELUDE, isFloat, isSubword, kindOf } from './common.mjs';

export const TM = 64, TN = 64, TK = 16;

/** Operand specs: out, A, B (vec4: bound as array<vec4<f32>>, read as A4 / B4). */
export function gemmSpecs(ad, od, vecA, vecB) {
  return [{ name: 'O', dt: od, write: true, atomic: isSubword(od) }, { name: 'A', dt: ad, vec4: vecA }, { name: 'B', dt: ad, vec4: vecB }];
}

export function gemmSource(ad, od, vecA, vecB, b) {
  const oat = isSubword(od);
  if (!isFloat(ad)) {
    return PRELUDE + b + `
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let bt = g.z;
  if (g.x >= N || g.y >= M) { return; }
  let ab = pu(4u) + bt * pu(7u) + g.y * pu(8u); let bb = pu(5u) + bt * pu(10u) + g.x * pu(12u);
  var acc = 0;
  for (var k = 0u; k < K; k++) { acc += ld_A(ab + k * pu(9u)) * ld_B(bb + k * pu(11u)); }
  st_O(pu(6u) + (bt * M + g.y) * N + g.x, acc);
}
`;
  }
  // A tile: TM rows x TK, stored k-major as vec4 over rows: As[kk * 16 + r4][r % 4].
  const loadA = vecA ? `
    { // one vec4 along k per invocation: row = li / 4, k quad = li % 4
      let r = li / 4u; let kq = (li % 4u) * 4u; let gr = m0 + r;
      var v = vec4<f32>(0.0);
      if (gr < M) { v = A4[(ab + gr * ars + k0 + kq) / 4u]; }
      As[(kq + 0u) * 16u + r / 4u][r % 4u] = v.x; As[(kq + 1u) * 16u + r / 4u][r % 4u] = v.y;
      As[(kq + 2u) * 16u + r / 4u][r % 4u] = v.z; As[(kq + 3u) * 16u + r / 4u][r % 4u] = v.w;
    }` : `
    for (var q = 0u; q < 4u; q++) {
      let e = li + q * 256u; let kk = e % ${TK}u; let r = e / ${TK}u;
      let gr = m0 + r; let gk = k0 + kk;
      var v = 0.0;
      if (gr < M && gk < K) { v = ld_A(ab + gr * ars + gk * acs); }
      As[kk * 16u + r / 4u][r % 4u] = v;
    }`;
  const loadB = vecB ? `
    { let kk = li / 16u; let c4 = li % 16u; let gk = k0 + kk;
      var v = vec4<f32>(0.0);
      if (gk < K && n0 + c4 * 4u < N) { v = B4[(bb + gk * brs + n0 + c4 * 4u) / 4u]; }
      Bs[kk * 16u + c4] = v;
    }` : `
    for (var q = 0u; q < 4u; q++) {
      let e = li + q * 256u; let c = e % ${TN}u; let kk = e / ${TN}u;
      let gc = n0 + c; let gk = k0 + kk;
      var v = 0.0;
      if (gc < N && gk < K) { v = ld_B(bb + gk * brs + gc * bcs); }
      Bs[kk * 16u + c / 4u][c % 4u] = v;
    }`;
  const store = 'st_O(oi, acc[r][c]);';
  return PRELUDE + b + `
var<workgroup> As: array<vec4<f32>, ${TK * TM / 4}>;
var<workgroup> Bs: array<vec4<f32>, ${TK * TN / 4}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u); let bt = wg.z;
  let m0 = wg.y * ${TM}u; let n0 = wg.x * ${TN}u;
  let li = lid.y * 16u + lid.x;
  let ab = pu(4u) + bt * pu(7u); let ars = pu(8u); let acs = pu(9u);
  let bb = pu(5u) + bt * pu(10u); let brs = pu(11u); let bcs = pu(12u);
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
${loadA}
${loadB}
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      let a = As[kk * 16u + lid.y];
      let bv = Bs[kk * 16u + lid.x];
      acc[0] = fma(vec4<f32>(a.x), bv, acc[0]);
      acc[1] = fma(vec4<f32>(a.y), bv, acc[1]);
      acc[2] = fma(vec4<f32>(a.z), bv, acc[2]);
      acc[3] = fma(vec4<f32>(a.w), bv, acc[3]);
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let gr = m0 + lid.y * 4u + r;
    if (gr >= M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let gc = n0 + lid.x * 4u + c;
      if (gc < N) { let oi = pu(6u) + (bt * M + gr) * N + gc; ${store} }
    }
  }
}
`;
}

export { kindOf };
