// Weight-only quantized products: out (M x N, float32) = X (M x K, float32) @ W^T, W (N x K) kept packed and
// dequantised inside the kernel (the float weight is never stored). Schemes (the op word; kernel_abi's
// quant_matmul gives the same contract to the CPU kernel, wasm_ext/quant.c):
//   0  int8 W (N, K), W[n, k] = w[n, k] * S[n, k / group]: torch._weight_int8pack_mm (group = K) and llama.cpp's
//      Q8_0 (group 32, float16 scales kept apart from the int8 values);
//   1  Q4_1 (group 32): W (N, K / 2) bytes, 16 per block; byte j holds element j (low nibble) and j + 16 (high);
//      W = S * q + Mn.
// Two kernels:
//   skinny (M <= 16: decoding, small batches): a workgroup takes C columns and R rows of X; T invocations share a
//     column and walk its packed row one u32 word at a time (4 int8 or 8 nibbles: coalesced, each weight byte read
//     once per row block), dequantising in registers; partial sums meet in workgroup memory (as matvec.mjs 'k').
//     Rows whose bytes are not word-aligned (int8 with K % 4 != 0, an odd offset) go element by element.
//   tiled (larger M): 64 x 64 output tiles, 16-deep K slices of X and of the dequantised W staged in workgroup
//     memory, a 4 x 4 register tile per invocation.
// Header: 0 M, 1 N, 2 K, 3 group, 4 X row stride, 5 O offset, 6 X offset, 7 W offset (bytes), 8 S offset,
// 9 Mn offset, 10 groups per row (ceil(K / group)), 11 column-block grid width, 12 W row bytes.
import { DT, PRELUDE, isFloat } from './common.mjs';

const WG = 256;
const T = 32;                 // skinny: invocations per column
const C = WG / T;             // skinny: columns per workgroup
const TILE = 64, TK = 16;     // tiled: output tile and K slice
const MAX_GROUPS = 65535;

/** The skinny kernel's rows per workgroup for M rows (0: use the tiled kernel). */
export function quantRows(M) {
  if (M > 16) return 0;
  let r = 1;
  while (r < M && r < 8) r <<= 1;
  return r;
}

/** Operand specs: out, x, packed w, scales, and the Q4_1 mins (mdt < 0: none). */
export function quantSpecs(wdt, sdt, mdt) {
  const s = [{ name: 'O', dt: DT.float32, write: true }, { name: 'X', dt: DT.float32 }, { name: 'W', dt: wdt },
    { name: 'S', dt: sdt }];
  if (mdt >= 0) s.push({ name: 'Mn', dt: mdt });
  return s;
}

// deq(n, k): one weight element, dequantised (both kernels' element path)
const DEQ = [
  `fn deq(n: u32, k: u32) -> f32 {
  return f32(ld_W(pu(7u) + n * pu(12u) + k)) * ld_S(pu(8u) + n * pu(10u) + k / pu(3u));
}
`,
  `fn deq(n: u32, k: u32) -> f32 {
  let blk = k / 32u; let j = k % 32u;
  let byte = raw_W(pu(7u) + n * pu(12u) + blk * 16u + j % 16u).x;
  let q = select(byte & 15u, byte >> 4u, j >= 16u);
  let g = pu(8u) + n * pu(10u) + blk;
  return f32(q) * ld_S(g) + ld_Mn(pu(9u) + n * pu(10u) + blk);
}
`,
];

const x4 = (r, k) => `vec4<f32>(ld_X(xb${r} + ${k}), ld_X(xb${r} + ${k} + 1u), ld_X(xb${r} + ${k} + 2u), ld_X(xb${r} + ${k} + 3u))`;

/** WGSL of the skinny kernel: scheme, R rows per workgroup, word-aligned rows or not; b, wv: bindings, W's variable. */
export function quantSkinnySource(scheme, R, aligned, b, wv) {
  const rows = [...Array(R).keys()];
  let body;
  if (!aligned) {
    body = `  for (var k = t; k < K; k += ${T}u) {
    let wv = deq(n, k);
${rows.map((r) => `    acc${r} += ld_X(xb${r} + k) * wv;\n`).join('')}  }
`;
  } else if (scheme === 0) {
    // 4 int8 per word, one scale per word (group % 4 == 0)
    body = `  let words = pu(12u) / 4u; let wb = pu(7u) / 4u + n * words;
  for (var wi = t; wi < words; wi += ${T}u) {
    let w = ${wv}[wb + wi];
    let k = wi * 4u;
    let s = ld_S(sb + k / pu(3u));
    let q = vec4<f32>(f32(bitcast<i32>(w << 24u) >> 24u), f32(bitcast<i32>(w << 16u) >> 24u),
                      f32(bitcast<i32>(w << 8u) >> 24u), f32(bitcast<i32>(w) >> 24u)) * s;
${rows.map((r) => `    acc${r} += dot(${x4(r, 'k')}, q);\n`).join('')}  }
`;
  } else {
    // Q4_1: word j of a block's 4 holds elements 4j..4j+3 (low nibbles) and 16+4j..16+4j+3 (high)
    body = `  let words = pu(12u) / 4u; let wb = pu(7u) / 4u + n * words;
  let mb = pu(9u) + n * pu(10u);
  for (var wi = t; wi < words; wi += ${T}u) {
    let w = ${wv}[wb + wi];
    let blk = wi / 4u; let k = blk * 32u + (wi % 4u) * 4u;
    let d = ld_S(sb + blk); let mn = ld_Mn(mb + blk);
    let lo = vec4<f32>(f32(w & 15u), f32((w >> 8u) & 15u), f32((w >> 16u) & 15u), f32((w >> 24u) & 15u));
    let hi = vec4<f32>(f32((w >> 4u) & 15u), f32((w >> 12u) & 15u), f32((w >> 20u) & 15u), f32(w >> 28u));
${rows.map((r) => `    { let xl = ${x4(r, 'k')}; let xh = ${x4(r, 'k + 16u')};
      acc${r} += d * (dot(xl, lo) + dot(xh, hi)) + mn * dot(xl + xh, vec4<f32>(1.0)); }\n`).join('')}  }
`;
  }
  return `${PRELUDE}${b}${DEQ[scheme]}
var<workgroup> red: array<f32, ${R * WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let cb = wg.y * pu(11u) + wg.x; let m0 = wg.z * ${R}u;
  let t = lid.x % ${T}u; let n = min(cb * ${C}u + lid.x / ${T}u, N - 1u);   // columns past N read column N - 1
  let sb = pu(8u) + n * pu(10u);
${rows.map((r) => `  let xb${r} = pu(6u) + min(m0 + ${r}u, M - 1u) * pu(4u);\n  var acc${r} = 0.0;\n`).join('')}${body}
${rows.map((r) => `  red[${r * WG}u + lid.x] = acc${r};\n`).join('')}  workgroupBarrier();
  for (var i = lid.x; i < ${R * C}u; i += ${WG}u) {
    let r = i / ${C}u; let c = i % ${C}u;
    var sum = 0.0;
    for (var q = 0u; q < ${T}u; q++) { sum += red[r * ${WG}u + c * ${T}u + q]; }
    let col = cb * ${C}u + c; let row = m0 + r;
    if (row < M && col < N) { st_O(pu(5u) + row * N + col, sum); }
  }
}
`;
}

/** WGSL of the tiled kernel (M > 16). */
export function quantTiledSource(scheme, b) {
  return `${PRELUDE}${b}${DEQ[scheme]}
var<workgroup> Xs: array<f32, ${TILE * TK}>;
var<workgroup> Ws: array<f32, ${TILE * TK}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let n0 = (wg.y * pu(11u) + wg.x) * ${TILE}u; let m0 = wg.z * ${TILE}u;
  let tx = lid.x % 16u; let ty = lid.x / 16u;
  var acc: array<array<f32, 4>, 4>;
  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
    for (var e = 0u; e < ${(TILE * TK) / WG}u; e++) {
      let idx = lid.x + e * ${WG}u; let rr = idx / ${TK}u; let gk = k0 + idx % ${TK}u;
      let gm = m0 + rr; let gn = n0 + rr;
      let xv = ld_X(pu(6u) + min(gm, M - 1u) * pu(4u) + min(gk, K - 1u));
      Xs[idx] = select(0.0, xv, gm < M && gk < K);
      let wv = deq(min(gn, N - 1u), min(gk, K - 1u));
      Ws[idx] = select(0.0, wv, gn < N && gk < K);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      var a: array<f32, 4>; var bw: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = Xs[(ty * 4u + i) * ${TK}u + kk]; bw[i] = Ws[(tx * 4u + i) * ${TK}u + kk]; }
      for (var i = 0u; i < 4u; i++) { for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(a[i], bw[j], acc[i][j]); } }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let row = m0 + ty * 4u + i; let col = n0 + tx * 4u + j;
      if (row < M && col < N) { st_O(pu(5u) + row * N + col, acc[i][j]); }
    }
  }
}
`;
}

class UnsupportedError extends Error { constructor(m) { super(m); this.code = 1; } }

/** Run a decoded QUANT_MATMUL block (abi.mjs) on bridge `br` (index.mjs's Bridge). */
export function runQuantMatmul(br, a) {
  const { op: scheme, M, N, K, group, x_rs: xrs } = a;
  const { out, x, w, scales, mins } = a;
  if (!M || !N) return;
  const withMins = scheme === 1;
  br._checkDtypes(withMins ? [out.dt, x.dt, w.dt, scales.dt, mins.dt] : [out.dt, x.dt, w.dt, scales.dt]);
  if (scheme !== 0 && scheme !== 1) throw Object.assign(new Error(`quant_matmul: unknown scheme ${scheme}`), { code: 2 });
  if (out.dt !== DT.float32 || x.dt !== DT.float32 || !isFloat(scales.dt) || (withMins && mins.dt !== scales.dt)) {
    throw new UnsupportedError('quant_matmul: float32 x and out, float scales');
  }
  if (scheme === 1 && (group !== 32 || K % 32)) throw new UnsupportedError('quant_matmul: Q4_1 takes blocks of 32');
  const wrow = scheme === 0 ? K : K / 2;
  const aligned = w.off % 4 === 0 && wrow % 4 === 0 && (scheme === 1 || group % 4 === 0);
  const R = quantRows(M);
  const ids = withMins ? [out.id, x.id, w.id, scales.id, mins.id] : [out.id, x.id, w.id, scales.id];
  const variant = R ? `v${R}${aligned ? 'a' : 'e'}` : 'tile';
  const p = br._pipe(`quant_matmul:${scheme}:${w.dt}:${scales.dt}:${variant}`, ids,
    () => quantSpecs(w.dt, scales.dt, withMins ? mins.dt : -1),
    (b, varOf) => (R ? quantSkinnySource(scheme, R, aligned, b, varOf[2]) : quantTiledSource(scheme, b)));
  const blocks = Math.ceil(N / (R ? C : TILE));
  const gx = Math.min(blocks, MAX_GROUPS), gy = Math.ceil(blocks / gx), gz = Math.ceil(M / (R || TILE));
  if (gz > MAX_GROUPS) throw new UnsupportedError('quant_matmul: too many rows');
  const d = br.disp;
  const wo = d.slot();
  d.u32.set([M, N, K, group, xrs, out.off, x.off, w.off, scales.off, withMins ? mins.off : 0,
    Math.ceil(K / group), gx, wrow], wo);
  d.dispatch(p, ids, wo, gx, gy, gz);
}
