// Weight-only quantized products: out (M x N, float32) = X (M x K, float32) @ W^T, W (N x K) kept packed and
// dequantised inside the kernel (the float weight is never stored). Schemes (the op word; kernel_abi's
// quant_matmul gives the same contract to the CPU kernel, wasm_ext/quant.c):
//   0  int8 W (N, K), W[n, k] = w[n, k] * S[n, k / group]: torch._weight_int8pack_mm (group = K) and llama.cpp's
//      Q8_0 (group 32, float16 scales kept apart from the int8 values);
//   1  Q4_1 (group 32): W (N, K / 2) bytes, 16 per block; byte j holds element j (low nibble) and j + 16 (high);
//      W = S * q + Mn.
// Two kernels:
//   skinny (M <= 16: decoding, small batches): a workgroup takes 256 / T columns and R rows of X; T invocations
//     share a column and walk its packed row in units of u32 words (quantSkinnySource: 4 int8 with the row's one
//     scale; a Q8_0 half block with its scale; a Q4_1 block with its scale and min), dequantising in registers
//     (each weight byte read once per row block, coalesced), X read as vec4 where aligned; partial sums meet in
//     workgroup memory (as matvec.mjs 'k'). Rows not at word boundaries go element by element.
//   tiled (larger M): 64 x 64 output tiles, 16-deep K slices of X and of the dequantised W (one packed word per
//     invocation) staged in workgroup memory, a 4 x 4 register tile per invocation (quantTiledSource).
// Header: 0 M, 1 N, 2 K, 3 group, 4 X row stride, 5 O offset, 6 X offset, 7 W offset (bytes), 8 S offset,
// 9 Mn offset, 10 groups per row (ceil(K / group)), 11 column-block grid width, 12 W row bytes.
import { DT, MAX_GROUPS, PRELUDE, aliasOf, declare, isFloat } from './common.mjs';

const WG = 256;
const TILE = 64, TK = 16;     // tiled: output tile and K slice

/** The skinny kernel's rows per workgroup for M rows (0: use the tiled kernel). */
export function quantRows(M) {
  if (M > 16) return 0;
  let r = 1;
  while (r < M && r < 8) r <<= 1;
  return r;
}

/** Operand specs: out, x (bound as vec4 or not), scales, the Q4_1 mins (mdt < 0: none), packed w (last). */
export function quantSpecs(wdt, sdt, mdt, vecX = false) {
  const s = [{ name: 'O', dt: DT.float32, write: true }, { name: 'X', dt: DT.float32, vec4: vecX }, { name: 'S', dt: sdt }];
  if (mdt >= 0) s.push({ name: 'Mn', dt: mdt });
  s.push({ name: 'W', dt: wdt });
  return s;
}

// Layout modes (the pipeline variant): 'row' int8 with one scale per row (group = K, K % 4 == 0), 'blk' blocks of
// 32 (Q8_0, Q4_1), 'e' anything else (element by element, the group a runtime divisor). Word reads need W's rows
// at word boundaries (the bridge checks).
export function quantMode(scheme, K, group, wOff) {
  const wrow = scheme === 0 ? K : K / 2;
  if (wOff % 4 || wrow % 4) return 'e';
  if (scheme === 1 || (group === 32 && K % 32 === 0)) return 'blk';
  return group === K ? 'row' : 'e';
}

// deq(n, k): one weight element, dequantised (mode 'e': both kernels' element path; the group a runtime divisor)
function deqSource(scheme, mode) {
  if (mode !== 'e') return '';
  if (scheme === 0) {
    return `fn deq(n: u32, k: u32) -> f32 {
  return f32(ld_W(pu(7u) + n * pu(12u) + k)) * ld_S(pu(8u) + n * pu(10u) + k / pu(3u));
}
`;
  }
  return `fn deq(n: u32, k: u32) -> f32 {
  let j = k & 31u;
  let byte = raw_W(pu(7u) + n * pu(12u) + (k >> 5u) * 16u + (j & 15u)).x;
  let q = select(byte & 15u, byte >> 4u, j >= 16u);
  let g = n * pu(10u) + (k >> 5u);
  return f32(q) * ld_S(pu(8u) + g) + ld_Mn(pu(9u) + g);
}
`;
}

// xv(i): x's 4 floats i..i+3 (i a multiple of 4 when X is bound as vec4)
const xvSource = (vecX) => (vecX ? 'fn xv(i: u32) -> vec4<f32> { return X4[i >> 2u]; }\n'
  : 'fn xv(i: u32) -> vec4<f32> { return vec4<f32>(ld_X(i), ld_X(i + 1u), ld_X(i + 2u), ld_X(i + 3u)); }\n');
// wword(i) / wquad(i): W's 32-bit word i / words i..i+3 (i a multiple of 4), from the word binding `wv` or, where
// W's rows sit at 16-byte boundaries, from W4 (array<vec4<u32>>: one 16-byte load per invocation, coalesced)
const wordSource = (wv) => (wv
  ? `fn wword(i: u32) -> u32 { return ${wv}[i]; }
fn wquad(i: u32) -> vec4<u32> { return vec4<u32>(${wv}[i], ${wv}[i + 1u], ${wv}[i + 2u], ${wv}[i + 3u]); }
`
  : `fn wword(i: u32) -> u32 { return W4[i >> 2u][i & 3u]; }
fn wquad(i: u32) -> vec4<u32> { return W4[i >> 2u]; }
`);
const I8 = (w) => `vec4<f32>(f32(bitcast<i32>(${w} << 24u) >> 24u), f32(bitcast<i32>(${w} << 16u) >> 24u), f32(bitcast<i32>(${w} << 8u) >> 24u), f32(bitcast<i32>(${w}) >> 24u))`;
// Nibbles to floats without integer-to-float conversions (quarter-rate on NVIDIA GPUs; the int8 path converts at
// bandwidth already): a value v < 2^23 in the mantissa under 2^23's exponent is the float 2^23 + v exactly.
const nib = (w, shifts) => `(bitcast<vec4<f32>>(((vec4<u32>(${w}) >> vec4<u32>(${shifts})) & vec4<u32>(15u)) | vec4<u32>(0x4B000000u)) - vec4<f32>(8388608.0))`;
const LO = (w) => nib(w, '0u, 8u, 16u, 24u');
const HI = (w) => nib(w, '4u, 12u, 20u, 28u');

/**
 * Invocations per column by the units of work in a row (words, 16-element chunks or blocks). Few per column and
 * more columns per workgroup measured best on an H100 for K = 576 (bench/quant_matmul_bench.mjs: T = 8 against 32
 * gave int8 4 rows 2x faster, the rest equal or better).
 */
export function quantThreads(scheme, mode, K) {
  const units = mode === 'row' ? K / 4 : mode === 'e' ? K : scheme === 1 ? K / 32 : K / 16;
  return units >= 768 ? 32 : units >= 192 ? 16 : 8;
}

/**
 * WGSL of the skinny kernel: scheme, mode (quantMode), R rows per workgroup, T invocations per column, X bound as
 * vec4 or not; b: binding code, wv: W's variable. Each invocation walks its column's packed row in units:
 * 'row' one word (4 int8), 'blk' Q8_0 a 16-element half block (4 words, one scale), Q4_1 a whole block (4 words:
 * low nibbles of bytes 0..15 are elements 0..15, high ones 16..31; one scale, one min); 'e' one element.
 */
export function quantSkinnySource(scheme, mode, R, T, vecX, b, wv) {   // wv: W's word variable, or null: W4
  const C = WG / T;
  const rows = [...Array(R).keys()];
  const perRow = (f) => rows.map(f).join('');
  let body;
  if (mode === 'e') {
    body = `  for (var k = t; k < K; k += ${T}u) {
    let wq = deq(n, k);
${perRow((r) => `    acc${r} += ld_X(xb${r} + k) * wq;\n`)}  }
`;
  } else if (mode === 'row') {
    body = `  let words = pu(12u) / 4u; let wb = pu(7u) / 4u + n * words;
  let s = ld_S(pu(8u) + n);
  for (var u = t; u < words; u += ${T}u) {
    let q = ${I8('wword(wb + u)')};
${perRow((r) => `    acc${r} += dot(xv(xb${r} + u * 4u), q);\n`)}  }
${perRow((r) => `  acc${r} *= s;\n`)}`;
  } else if (scheme === 0) {
    body = `  let units = pu(2u) / 16u; let wb = pu(7u) / 4u + n * (pu(12u) / 4u);
  let sb = pu(8u) + n * pu(10u);
  for (var u = t; u < units; u += ${T}u) {
    let wq = wquad(wb + u * 4u); let w0 = wq.x; let w1 = wq.y; let w2 = wq.z; let w3 = wq.w;
    let q0 = ${I8('w0')}; let q1 = ${I8('w1')}; let q2 = ${I8('w2')}; let q3 = ${I8('w3')};
    let s = ld_S(sb + (u >> 1u)); let k = u * 16u;
${perRow((r) => `    acc${r} += s * (dot(xv(xb${r} + k), q0) + dot(xv(xb${r} + k + 4u), q1) + dot(xv(xb${r} + k + 8u), q2) + dot(xv(xb${r} + k + 12u), q3));\n`)}  }
`;
  } else {
    body = `  let units = pu(2u) / 32u; let wb = pu(7u) / 4u + n * (pu(12u) / 4u);
  let sb = pu(8u) + n * pu(10u); let mb = pu(9u) + n * pu(10u);
  for (var u = t; u < units; u += ${T}u) {
    let wq = wquad(wb + u * 4u); let w0 = wq.x; let w1 = wq.y; let w2 = wq.z; let w3 = wq.w;
    let d = ld_S(sb + u); let mn = ld_Mn(mb + u); let k = u * 32u;
    let one = vec4<f32>(1.0);
${perRow((r) => `    {
      let x0 = xv(xb${r} + k); let x1 = xv(xb${r} + k + 4u); let x2 = xv(xb${r} + k + 8u); let x3 = xv(xb${r} + k + 12u);
      let x4 = xv(xb${r} + k + 16u); let x5 = xv(xb${r} + k + 20u); let x6 = xv(xb${r} + k + 24u); let x7 = xv(xb${r} + k + 28u);
      let qx = dot(x0, ${LO('w0')}) + dot(x1, ${LO('w1')}) + dot(x2, ${LO('w2')}) + dot(x3, ${LO('w3')})
             + dot(x4, ${HI('w0')}) + dot(x5, ${HI('w1')}) + dot(x6, ${HI('w2')}) + dot(x7, ${HI('w3')});
      acc${r} += d * qx + mn * dot((x0 + x1) + (x2 + x3) + (x4 + x5) + (x6 + x7), one);
    }
`)}  }
`;
  }
  return `${PRELUDE}${b}${deqSource(scheme, mode)}${xvSource(vecX)}${wordSource(wv)}
var<workgroup> red: array<f32, ${R * WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let cb = wg.y * pu(11u) + wg.x; let m0 = wg.z * ${R}u;
  let t = lid.x % ${T}u; let n = min(cb * ${C}u + lid.x / ${T}u, N - 1u);   // columns past N read column N - 1
${perRow((r) => `  let xb${r} = pu(6u) + min(m0 + ${r}u, M - 1u) * pu(4u);\n  var acc${r} = 0.0;\n`)}${body}
${perRow((r) => `  red[${r * WG}u + lid.x] = acc${r};\n`)}  workgroupBarrier();
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

/**
 * WGSL of the tiled kernel (M > 16): 64 x 64 output tiles; per 16-deep K slice each invocation stages 4 floats of X
 * (one row) and 4 dequantised weights (one packed word, or element by element in mode 'e') into workgroup memory,
 * both stored k-major as vec4 over 4 rows / columns, then accumulates a 4 x 4 register tile.
 */
export function quantTiledSource(scheme, mode, vecX, b, wv) {
  const xload = vecX
    ? 'select(vec4<f32>(0.0), X4[(xrow + k) >> 2u], k < K)'
    : 'vec4<f32>(select(0.0, ld_X(xrow + min(k, K - 1u)), k < K), select(0.0, ld_X(xrow + min(k + 1u, K - 1u)), k + 1u < K), '
      + 'select(0.0, ld_X(xrow + min(k + 2u, K - 1u)), k + 2u < K), select(0.0, ld_X(xrow + min(k + 3u, K - 1u)), k + 3u < K))';
  let wload;
  if (mode === 'e') {
    wload = 'vec4<f32>(select(0.0, deq(n, min(k, K - 1u)), k < K), select(0.0, deq(n, min(k + 1u, K - 1u)), k + 1u < K), '
      + 'select(0.0, deq(n, min(k + 2u, K - 1u)), k + 2u < K), select(0.0, deq(n, min(k + 3u, K - 1u)), k + 3u < K))';
  } else if (scheme === 0) {
    const sidx = mode === 'row' ? 'n' : 'n * pu(10u) + (min(k, K - 4u) >> 5u)';
    wload = `select(vec4<f32>(0.0), ${I8('wword(pu(7u) / 4u + n * (pu(12u) / 4u) + min(k, K - 4u) / 4u)')} * ld_S(pu(8u) + ${sidx}), k < K)`;
  } else {   // k0 is 16-aligned: the slice is the low (k % 32 < 16) or high nibbles of its block's 4 words
    wload = `q4(wword(pu(7u) / 4u + n * (pu(12u) / 4u) + (k >> 5u) * 4u + ((k & 15u) >> 2u)), (k & 16u) != 0u, n * pu(10u) + (k >> 5u))`;
  }
  const q4fn = scheme === 1 && mode !== 'e' ? `fn q4(w: u32, high: bool, g: u32) -> vec4<f32> {
  let q = select(${LO('w')}, ${HI('w')}, high);
  return q * ld_S(pu(8u) + g) + vec4<f32>(ld_Mn(pu(9u) + g));
}
` : '';
  return `${PRELUDE}${b}${deqSource(scheme, mode)}${wordSource(wv)}${q4fn}
var<workgroup> Xs: array<vec4<f32>, ${TK * TILE / 4}>;   // [k][rows / 4]
var<workgroup> Ws: array<vec4<f32>, ${TK * TILE / 4}>;   // [k][columns / 4]
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = pu(0u); let N = pu(1u); let K = pu(2u);
  let n0 = (wg.y * pu(11u) + wg.x) * ${TILE}u; let m0 = wg.z * ${TILE}u;
  let tx = lid.x % 16u; let ty = lid.x / 16u;
  let sr = lid.x >> 2u; let sk = (lid.x & 3u) * 4u;   // staging: row / column sr, k offset sk of the slice
  let xrow = pu(6u) + min(m0 + sr, M - 1u) * pu(4u);
  let n = min(n0 + sr, N - 1u);
  var acc0 = vec4<f32>(0.0); var acc1 = vec4<f32>(0.0); var acc2 = vec4<f32>(0.0); var acc3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < K; k0 += ${TK}u) {
    let k = k0 + sk;
    let xq = ${xload};
    let wq = ${wload};
    for (var i = 0u; i < 4u; i++) {
      Xs[(sk + i) * 16u + (sr >> 2u)][sr & 3u] = xq[i];
      Ws[(sk + i) * 16u + (sr >> 2u)][sr & 3u] = wq[i];
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      let a = Xs[kk * 16u + ty]; let bv = Ws[kk * 16u + tx];
      acc0 = fma(vec4<f32>(a.x), bv, acc0); acc1 = fma(vec4<f32>(a.y), bv, acc1);
      acc2 = fma(vec4<f32>(a.z), bv, acc2); acc3 = fma(vec4<f32>(a.w), bv, acc3);
    }
    workgroupBarrier();
  }
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let row = m0 + ty * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let col = n0 + tx * 4u + j;
      if (row < M && col < N) { st_O(pu(5u) + row * N + col, accs[i][j]); }
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
  const mode = quantMode(scheme, K, group, w.off);
  const R = quantRows(M);
  const T = R ? quantThreads(scheme, mode, K) : 0;
  const vecX = mode !== 'e' && x.off % 4 === 0 && (M === 1 || xrs % 4 === 0);
  const w4 = mode === 'blk' && w.off % 16 === 0;
  const base = withMins ? [out.id, x.id, scales.id, mins.id] : [out.id, x.id, scales.id];
  const ids = [...base, w.id];
  const variant = `${R ? `r${R}t${T}` : 'tile'}${vecX ? 'v' : ''}${w4 ? 'w4' : ''}`;
  const source = (b, wv) => (R ? quantSkinnySource(scheme, mode, R, T, vecX, b, wv) : quantTiledSource(scheme, mode, vecX, b, wv));
  const specs = quantSpecs(w.dt, scales.dt, withMins ? mins.dt : -1, vecX);
  // W4 is bound here, after declare()'s bindings (declare binds vec4 operands as vec4<f32> only); read-only, so
  // it may share a buffer with another read-only operand
  const alias = aliasOf(w4 ? base : ids);
  const p = br.disp.pipeline(`quant_matmul:${scheme}:${mode}:${w.dt}:${scales.dt}:${variant}|${alias}`, () => {
    const dec = declare(w4 ? specs.slice(0, -1) : specs, alias);
    if (!w4) return { code: source(dec.code, dec.varOf[ids.length - 1]), sig: dec.sig, slots: dec.slots };
    const wb = `@group(0) @binding(${dec.slots.length + 1}) var<storage, read> W4: array<vec4<u32>>;\n`;
    return { code: source(dec.code + wb, null), sig: dec.sig + 'r', slots: [...dec.slots, ids.length - 1] };
  });
  const blocks = Math.ceil(N / (R ? WG / T : TILE));
  const gx = Math.min(blocks, MAX_GROUPS), gy = Math.ceil(blocks / gx), gz = Math.ceil(M / (R || TILE));
  if (gz > MAX_GROUPS) throw new UnsupportedError('quant_matmul: too many rows');
  const d = br.disp;
  const wo = d.slot();
  d.u32.set([M, N, K, group, xrs, out.off, x.off, w.off, scales.off, withMins ? mins.off : 0,
    Math.ceil(K / group), gx, wrow], wo);
  d.dispatch(p, ids, wo, gx, gy, gz);
}
